//! Refusals: why a pass was not issued, in words a resident understands, with a code a
//! program can rely on.

use std::fmt;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::policy::{AllowedHours, FieldError, FieldKind, Purpose, Quota, Regime};
use crate::Localized;

/// The reason for a refusal: a stable machine code (the snake_case name), for clients and
/// problem+json `code`s. New codes may be added; existing ones never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The resident has not given their name, document and home yet.
    ProfileIncomplete,
    /// The requested start is in the past (beyond the grace period).
    ValidFromInPast,
    /// The requested start is more than [`super::MAX_ADVANCE`] ahead.
    ValidFromTooFarAhead,
    /// No regime governs the requested start.
    NoRegimeInForce,
    /// The regime starts after the requested start.
    RegimeNotYetInForce,
    /// The regime ended before the requested start.
    RegimeEnded,
    /// The regime has no such purpose.
    UnknownPurpose,
    /// A field the purpose requires is absent.
    MissingField,
    /// A field is present but malformed (e.g. an INN with a wrong check digit).
    InvalidField,
    /// The requested duration is zero.
    InvalidDuration,
    /// The requested duration exceeds the purpose's maximum.
    DurationTooLong,
    /// The pass would start outside the purpose's allowed hours.
    OutsideAllowedHours,
    /// The destination is farther from home than the purpose allows.
    TooFarFromHome,
    /// The purpose's quota is used up for the window.
    QuotaExceeded,
    /// The regime-wide cap across purposes is used up for the window.
    RegimeCapExceeded,
}

impl RefusalCode {
    /// Every code, for documents that list them (the OpenAPI document's refusals).
    pub const ALL: [Self; 15] = [
        Self::ProfileIncomplete,
        Self::ValidFromInPast,
        Self::ValidFromTooFarAhead,
        Self::NoRegimeInForce,
        Self::RegimeNotYetInForce,
        Self::RegimeEnded,
        Self::UnknownPurpose,
        Self::MissingField,
        Self::InvalidField,
        Self::InvalidDuration,
        Self::DurationTooLong,
        Self::OutsideAllowedHours,
        Self::TooFarFromHome,
        Self::QuotaExceeded,
        Self::RegimeCapExceeded,
    ];

    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProfileIncomplete => "profile_incomplete",
            Self::ValidFromInPast => "valid_from_in_past",
            Self::ValidFromTooFarAhead => "valid_from_too_far_ahead",
            Self::NoRegimeInForce => "no_regime_in_force",
            Self::RegimeNotYetInForce => "regime_not_yet_in_force",
            Self::RegimeEnded => "regime_ended",
            Self::UnknownPurpose => "unknown_purpose",
            Self::MissingField => "missing_field",
            Self::InvalidField => "invalid_field",
            Self::InvalidDuration => "invalid_duration",
            Self::DurationTooLong => "duration_too_long",
            Self::OutsideAllowedHours => "outside_allowed_hours",
            Self::TooFarFromHome => "too_far_from_home",
            Self::QuotaExceeded => "quota_exceeded",
            Self::RegimeCapExceeded => "regime_cap_exceeded",
        }
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pass request that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {}", message.en)]
pub struct Refusal {
    /// What kind of refusal.
    pub code: RefusalCode,
    /// What was wrong and what is expected, in Russian and English.
    pub message: Localized,
    /// The message without its closing sentence on when the next pass is possible, for
    /// pages that show that moment their own way; the same as `message` when it has none.
    /// (Boxed: a refusal is the error of every issuance step and stays small.)
    #[serde(skip)]
    pub reason: Box<Localized>,
    /// The earliest moment a pass for the same purpose could start, when one can be named:
    /// when the oldest counted pass leaves the window, when the allowed hours open, when the
    /// regime takes effect.
    pub next_possible_at: Option<Timestamp>,
    /// The request field at fault (`employer_inn`, `valid_from`, `duration_minutes`,
    /// `purpose`, `destination`), if one is.
    pub field: Option<String>,
}

/// A moment on the regime's clocks: "16.04.2020 10:00" / "2020-04-16 10:00". The regime's
/// zone is not named (people read their own clocks); only a moment with no regime to give it
/// a zone says "UTC".
pub(crate) struct LocalTime<'a> {
    pub(crate) tz: &'a TimeZone,
    pub(crate) tz_name: &'a str,
}

impl LocalTime<'_> {
    fn show(&self, t: Timestamp, format: &str) -> String {
        let local = t.to_zoned(self.tz.clone()).strftime(format).to_string();
        if self.tz_name == "UTC" {
            format!("{local} UTC")
        } else {
            local
        }
    }

    fn ru(&self, t: Timestamp) -> String {
        self.show(t, "%d.%m.%Y %H:%M")
    }

    fn en(&self, t: Timestamp) -> String {
        self.show(t, "%Y-%m-%d %H:%M")
    }
}

impl<'a> From<&'a Regime> for LocalTime<'a> {
    fn from(r: &'a Regime) -> Self {
        Self {
            tz: r.time_zone(),
            tz_name: r.time_zone_name(),
        }
    }
}

fn refusal(code: RefusalCode, ru: String, en: String) -> Refusal {
    let message = Localized::new(ru, en);
    Refusal {
        code,
        reason: Box::new(message.clone()),
        message,
        next_possible_at: None,
        field: None,
    }
}

impl Refusal {
    fn with_next(mut self, t: Option<Timestamp>) -> Self {
        self.next_possible_at = t;
        self
    }

    /// Sets the next possible start and says it in a closing sentence of the message (the
    /// `reason` stays without it).
    fn with_next_said(mut self, clock: &LocalTime<'_>, t: Option<Timestamp>) -> Self {
        let (ru, en) = next_sentences(clock, t);
        self.message = Localized::new(
            format!("{}{ru}", self.message.ru),
            format!("{}{en}", self.message.en),
        );
        self.with_next(t)
    }

    fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub(crate) fn profile_incomplete() -> Self {
        refusal(
            RefusalCode::ProfileIncomplete,
            "Профиль не заполнен: укажите ФИО, документ, удостоверяющий личность, и домашний адрес с координатами, затем запросите пропуск снова.".into(),
            "Your profile is incomplete: give your full name, identity document and home address with its location, then ask for the pass again.".into(),
        )
    }

    pub(crate) fn valid_from_in_past(clock: &LocalTime<'_>, requested: Timestamp) -> Self {
        refusal(
            RefusalCode::ValidFromInPast,
            format!("Время начала действия пропуска {} уже прошло; укажите время не раньше текущего или не указывайте его, чтобы пропуск начал действовать сразу.", clock.ru(requested)),
            format!("The requested start {} is in the past; give a start no earlier than now, or none for a pass that starts now.", clock.en(requested)),
        )
        .with_field("valid_from")
    }

    pub(crate) fn valid_from_too_far_ahead(
        clock: &LocalTime<'_>,
        requested: Timestamp,
        requestable_at: Timestamp,
    ) -> Self {
        refusal(
            RefusalCode::ValidFromTooFarAhead,
            format!("Пропуск можно оформить не более чем на 7 дней вперёд; запрошено начало {}. Этот пропуск можно будет запросить с {}.", clock.ru(requested), clock.ru(requestable_at)),
            format!("A pass can be requested at most 7 days ahead; the requested start is {}. It can be requested from {}.", clock.en(requested), clock.en(requestable_at)),
        )
        .with_field("valid_from")
    }

    /// No regime governs `at`, and none is loaded to start later.
    pub fn no_regime_in_force(at: Timestamp) -> Self {
        let utc = LocalTime {
            tz: &TimeZone::UTC,
            tz_name: "UTC",
        };
        refusal(
            RefusalCode::NoRegimeInForce,
            format!(
                "На {} не действует ни один режим пропусков; пропуска не выдаются.",
                utc.ru(at)
            ),
            format!(
                "No pass regime is in force at {}; no passes are issued.",
                utc.en(at)
            ),
        )
    }

    pub(crate) fn regime_not_yet_in_force(regime: &Regime) -> Self {
        let clock = LocalTime::from(regime);
        let from = regime.effective_from();
        refusal(
            RefusalCode::RegimeNotYetInForce,
            format!("Режим «{}» вступает в силу {}; пропуск может начинать действовать не раньше этого момента.", regime.name().ru, clock.ru(from)),
            format!("The regime “{}” takes effect at {}; a pass can start no earlier than that.", regime.name().en, clock.en(from)),
        )
        .with_next(Some(from))
    }

    pub(crate) fn regime_ended(regime: &Regime, until: Timestamp) -> Self {
        let clock = LocalTime::from(regime);
        refusal(
            RefusalCode::RegimeEnded,
            format!(
                "Режим «{}» прекратил действие {}; пропуска по нему больше не выдаются.",
                regime.name().ru,
                clock.ru(until)
            ),
            format!(
                "The regime “{}” ended at {}; no more passes are issued under it.",
                regime.name().en,
                clock.en(until)
            ),
        )
    }

    pub(crate) fn unknown_purpose(regime: &Regime, requested: &str) -> Self {
        let list = |ru: bool| {
            regime
                .purposes()
                .iter()
                .map(|p| {
                    let name = if ru { &p.name().ru } else { &p.name().en };
                    format!("{} — {name}", p.sms_code())
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        refusal(
            RefusalCode::UnknownPurpose,
            format!(
                "Цели «{requested}» нет в режиме «{}». Можно выбрать (цифра для SMS — цель): {}.",
                regime.name().ru,
                list(true)
            ),
            format!(
                "The regime “{}” has no purpose “{requested}”. The purposes are (the digit to text, then the purpose): {}.",
                regime.name().en,
                list(false)
            ),
        )
        .with_field("purpose")
    }

    pub(crate) fn missing_field(purpose: &Purpose, field: FieldKind) -> Self {
        let label = field.label();
        refusal(
            RefusalCode::MissingField,
            format!(
                "Для пропуска с целью «{}» нужно указать {}.",
                purpose.name().ru,
                label.ru
            ),
            format!("A pass for “{}” needs the {}.", purpose.name().en, label.en),
        )
        .with_field(field.as_str())
    }

    pub(crate) fn invalid_field(field: FieldKind, error: FieldError) -> Self {
        let label = field.label();
        refusal(
            RefusalCode::InvalidField,
            format!("{}: {}", capitalise(&label.ru), error.message.ru),
            format!("{}: {}", capitalise(&label.en), error.message.en),
        )
        .with_field(field.as_str())
    }

    pub(crate) fn invalid_duration() -> Self {
        refusal(
            RefusalCode::InvalidDuration,
            "Длительность пропуска должна быть не меньше 1 минуты; не указывайте её, чтобы получить наибольшую допустимую.".into(),
            "The duration must be at least 1 minute; leave it out to get the longest allowed.".into(),
        )
        .with_field("duration_minutes")
    }

    pub(crate) fn duration_too_long(purpose: &Purpose, max: u32, requested: u32) -> Self {
        refusal(
            RefusalCode::DurationTooLong,
            format!(
                "Пропуск с целью «{}» выдаётся не более чем на {}, а запрошено {}.",
                purpose.name().ru,
                minutes_ru(max),
                minutes_ru(requested)
            ),
            format!(
                "A pass for “{}” lasts at most {}; {} were asked for.",
                purpose.name().en,
                minutes_en(max),
                minutes_en(requested)
            ),
        )
        .with_field("duration_minutes")
    }

    pub(crate) fn outside_allowed_hours(
        clock: &LocalTime<'_>,
        purpose: &Purpose,
        hours: &AllowedHours,
        next: Option<Timestamp>,
    ) -> Self {
        refusal(
            RefusalCode::OutsideAllowedHours,
            format!(
                "Пропуск с целью «{}» может начинать действовать только в {} по местному времени.",
                purpose.name().ru,
                hours.describe()
            ),
            format!(
                "A pass for “{}” can start only within {} local time.",
                purpose.name().en,
                hours.describe()
            ),
        )
        .with_field("valid_from")
        .with_next_said(clock, next)
    }

    pub(crate) fn too_far_from_home(purpose: &Purpose, max: u32, distance: f64) -> Self {
        let distance = distance.round();
        refusal(
            RefusalCode::TooFarFromHome,
            format!("Пропуск с целью «{}» действует не дальше {max} м от дома; место назначения — в {distance} м.", purpose.name().ru),
            format!("A pass for “{}” is valid at most {max} m from home; the destination is {distance} m away.", purpose.name().en),
        )
        .with_field("destination")
    }

    pub(crate) fn quota_exceeded(
        clock: &LocalTime<'_>,
        purpose: &Purpose,
        quota: &Quota,
        next: Option<Timestamp>,
    ) -> Self {
        let limit = quota.describe();
        refusal(
            RefusalCode::QuotaExceeded,
            format!(
                "Лимит пропусков с целью «{}» исчерпан: {}.",
                purpose.name().ru,
                limit.ru
            ),
            format!(
                "The limit for “{}” is reached: {}.",
                purpose.name().en,
                limit.en
            ),
        )
        .with_next_said(clock, next)
    }

    pub(crate) fn regime_cap_exceeded(
        clock: &LocalTime<'_>,
        cap: &Quota,
        next: Option<Timestamp>,
    ) -> Self {
        Self::overall_limit(
            clock,
            cap,
            next,
            (
                "по всем целям, кроме экстренных",
                "across all purposes except emergencies",
            ),
        )
    }

    /// The regime's ceiling of passes a day, which every purpose meets.
    pub(crate) fn ceiling_reached(
        clock: &LocalTime<'_>,
        ceiling: &Quota,
        next: Option<Timestamp>,
    ) -> Self {
        Self::overall_limit(
            clock,
            ceiling,
            next,
            ("по всем целям", "across all purposes"),
        )
    }

    /// A limit across purposes (`scope`: which ones, in Russian and English) is used up.
    fn overall_limit(
        clock: &LocalTime<'_>,
        limit: &Quota,
        next: Option<Timestamp>,
        (scope_ru, scope_en): (&str, &str),
    ) -> Self {
        let limit = limit.describe();
        refusal(
            RefusalCode::RegimeCapExceeded,
            format!("Исчерпан общий лимит: {} {scope_ru}.", limit.ru),
            format!("The overall limit is reached: {} {scope_en}.", limit.en),
        )
        .with_next_said(clock, next)
    }
}

/// "240 минут", "1 минуту", "22 минуты".
fn minutes_ru(n: u32) -> String {
    let n = u64::from(n);
    format!(
        "{n} {}",
        crate::text::ru_plural(n, "минуту", "минуты", "минут")
    )
}

/// "240 minutes", "1 minute".
fn minutes_en(n: u32) -> String {
    format!("{n} {}", if n == 1 { "minute" } else { "minutes" })
}

/// The text with its first letter in capitals: a label opening a sentence.
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn next_sentences(clock: &LocalTime<'_>, next: Option<Timestamp>) -> (String, String) {
    match next {
        Some(t) => (
            format!(
                " Следующий пропуск может начинать действовать с {}.",
                clock.ru(t)
            ),
            format!(" The next pass can start at {}.", clock.en(t)),
        ),
        None => (
            " До окончания режима такой пропуск больше не выдаётся.".into(),
            " No such pass can be issued before the regime ends.".into(),
        ),
    }
}

#[cfg(test)]
mod every_code {
    use super::RefusalCode;

    /// A new code fails to compile in the match below; add it to `ALL` as well.
    #[test]
    fn all_lists_each_code_once() {
        let listed = |code: RefusalCode| RefusalCode::ALL.iter().filter(|c| **c == code).count();
        for code in RefusalCode::ALL {
            match code {
                RefusalCode::ProfileIncomplete
                | RefusalCode::ValidFromInPast
                | RefusalCode::ValidFromTooFarAhead
                | RefusalCode::NoRegimeInForce
                | RefusalCode::RegimeNotYetInForce
                | RefusalCode::RegimeEnded
                | RefusalCode::UnknownPurpose
                | RefusalCode::MissingField
                | RefusalCode::InvalidField
                | RefusalCode::InvalidDuration
                | RefusalCode::DurationTooLong
                | RefusalCode::OutsideAllowedHours
                | RefusalCode::TooFarFromHome
                | RefusalCode::QuotaExceeded
                | RefusalCode::RegimeCapExceeded => assert_eq!(listed(code), 1, "{code}"),
            }
        }
    }
}
