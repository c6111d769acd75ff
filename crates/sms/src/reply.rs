//! Every text propusk sends in answer to a message, in Russian and English.
//!
//! Russian texts travel as UCS-2, 70 characters to a segment, so the answer to a pass request
//! is built from the richest form that still fits one segment: with the purpose's name and
//! the cancel command, then without the command, then with the name shortened, then with the
//! purpose's code only. The short code and the validity window are always there. Other
//! answers (help, registration instructions) may take two or three segments; they are the
//! ones a person needs to read once.
//!
//! Times are shown on the regime's clocks: `15.04 10:00-13:00` (Russian) or
//! `15 Apr 10:00-13:00` (English), the date repeated only when the pass ends on another day.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_core::issuance::{Refusal, RefusalCode};
use propusk_core::policy::{FieldKind, Purpose, Regime};

use crate::encoding::fits_one;
use crate::registration::Problem;
use crate::Lang;

/// A pass as the answer describes it.
#[derive(Debug, Clone)]
pub struct PassInfo<'a> {
    /// The short code as shown: `7K3-QX9-4MM`.
    pub short_code: String,
    /// The purpose, if the regime in force still knows it.
    pub purpose: Option<&'a Purpose>,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    /// The regime's time zone.
    pub tz: TimeZone,
}

impl PassInfo<'_> {
    fn compact(&self) -> String {
        self.short_code.replace('-', "")
    }

    fn window(&self, lang: Lang) -> String {
        window(lang, &self.tz, self.valid_from, self.valid_until)
    }
}

/// `15.04 10:00-13:00`, `15.04 22:00-16.04 01:00`; `15 Apr 10:00-13:00` in English.
pub fn window(lang: Lang, tz: &TimeZone, from: Timestamp, until: Timestamp) -> String {
    let (from, until) = (from.to_zoned(tz.clone()), until.to_zoned(tz.clone()));
    let day = match lang {
        Lang::Ru => "%d.%m",
        Lang::En => "%-d %b",
    };
    let start = from.strftime(&format!("{day} %H:%M")).to_string();
    let end = if from.date() == until.date() {
        until.strftime("%H:%M").to_string()
    } else {
        until.strftime(&format!("{day} %H:%M")).to_string()
    };
    format!("{start}-{end}")
}

/// A moment on the regime's clocks: `16.04 10:00` / `16 Apr 10:00`.
pub fn moment(lang: Lang, tz: &TimeZone, t: Timestamp) -> String {
    let fmt = match lang {
        Lang::Ru => "%d.%m %H:%M",
        Lang::En => "%-d %b %H:%M",
    };
    t.to_zoned(tz.clone()).strftime(fmt).to_string()
}

/// Shortens `s` to at most `max` characters at a word boundary, marking the cut.
fn shorten(lang: Lang, s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mark = lang.tr("…", "...");
    let budget = max.saturating_sub(mark.chars().count());
    let mut out = String::new();
    for word in s.split_whitespace() {
        let next = if out.is_empty() {
            word.to_string()
        } else {
            format!("{out} {word}")
        };
        if next.chars().count() > budget {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        out = s.chars().take(budget).collect();
    }
    out.trim_end_matches([',', ':', ';', '-']).to_string() + mark
}

/// The answer to a granted request: short code and validity window, in one segment.
pub fn issued(lang: Lang, pass: &PassInfo<'_>) -> String {
    let code = &pass.short_code;
    let window = pass.window(lang);
    let name = pass.purpose.map(|p| lang.pick(p.name()).to_string());
    let (word, cancel) = match lang {
        Lang::Ru => ("Пропуск", format!("Отмена: ОТМЕНА {}", pass.compact())),
        Lang::En => ("Pass", format!("Cancel: CANCEL {}", pass.compact())),
    };
    let mut candidates = Vec::new();
    if let Some(name) = &name {
        candidates.push(format!("{word} {code}: {name}, {window}. {cancel}"));
        candidates.push(format!("{word} {code}: {name}, {window}"));
        let fixed = format!("{word} {code}: , {window}").chars().count();
        let room = if lang == Lang::Ru { 70 } else { 160 };
        if room > fixed + 6 {
            let short = shorten(lang, name, room - fixed);
            candidates.push(format!("{word} {code}: {short}, {window}"));
        }
    }
    if let Some(p) = pass.purpose {
        let goal = lang.tr("цель", "purpose");
        candidates.push(format!("{word} {code}, {goal} {}, {window}", p.sms_code()));
    }
    candidates.push(format!("{word} {code}, {window}"));
    candidates
        .iter()
        .find(|c| fits_one(c))
        .unwrap_or(&candidates[candidates.len() - 1])
        .clone()
}

/// The purpose label in lists: `3 Поход в продуктовый…`.
fn purpose_line(lang: Lang, p: &Purpose) -> String {
    let name = shorten(lang, lang.pick(p.name()), 28);
    let fields: String = p
        .required_fields()
        .iter()
        .map(|f| format!("*{}", field_word(lang, *f)))
        .collect();
    format!("{}{} {}", p.sms_code(), fields, name)
}

fn field_word(lang: Lang, f: FieldKind) -> &'static str {
    match f {
        FieldKind::EmployerInn => lang.tr("ИНН", "INN"),
        FieldKind::EmployerName => lang.tr("РАБОТОДАТЕЛЬ", "EMPLOYER"),
        FieldKind::VehiclePlate => lang.tr("ГОСНОМЕР", "PLATE"),
    }
}

/// The purpose codes of the regime in force and how to use them.
pub fn help(lang: Lang, regime: Option<&Regime>) -> String {
    let Some(regime) = regime else {
        return no_regime(lang);
    };
    let mut codes = codes_list(lang, regime);
    if !codes.ends_with(['…', '.']) {
        codes.push('.');
    }
    match lang {
        Lang::Ru => format!(
            "Пропуск: ПРОПУСК и код цели, напр. ПРОПУСК 3. Коды: {codes} Отмена: ОТМЕНА код. Ваши пропуска: СТАТУС"
        ),
        Lang::En => format!(
            "Pass: PASS and the purpose code, e.g. PASS 3. Codes: {codes} Cancel: CANCEL code. Your passes: STATUS"
        ),
    }
}

/// A pass keyword without a purpose code (or with words naming none or several purposes).
pub fn which_purpose(lang: Lang, regime: Option<&Regime>) -> String {
    let Some(regime) = regime else {
        return no_regime(lang);
    };
    let codes = codes_list(lang, regime);
    match lang {
        Lang::Ru => format!("Укажите код цели: ПРОПУСК 3. Коды: {codes}"),
        Lang::En => format!("Give the purpose code: PASS 3. Codes: {codes}"),
    }
}

fn codes_list(lang: Lang, regime: &Regime) -> String {
    regime
        .purposes()
        .iter()
        .map(|p| purpose_line(lang, p))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A purpose code the regime does not have.
pub fn unknown_purpose(lang: Lang, code: u32, regime: &Regime) -> String {
    let codes: Vec<String> = regime
        .purposes()
        .iter()
        .map(|p| p.sms_code().to_string())
        .collect();
    let range = codes.join(",");
    match lang {
        Lang::Ru => format!("Нет цели с кодом {code}. Коды: {range}. Список: ПОМОЩЬ"),
        Lang::En => format!("There is no purpose {code}. Codes: {range}. List: HELP"),
    }
}

pub fn no_regime(lang: Lang) -> String {
    lang.tr(
        "Сейчас пропуска не выдаются: режим ограничений не действует.",
        "No passes are issued now: no lockdown regime is in force.",
    )
    .to_string()
}

/// The answer to a refused request: why, and when it would be possible.
pub fn refused(lang: Lang, refusal: &Refusal, purpose: Option<&Purpose>, tz: &TimeZone) -> String {
    // The purpose by its code when known: "по цели 3" / "purpose 3", else "this purpose";
    // in a command example, the word "код" / "code" in its place.
    let code = purpose.map(|p| p.sms_code().to_string());
    let (of_ru, of_en) = match &code {
        Some(n) => (format!("по цели {n}"), format!("purpose {n}")),
        None => ("по этой цели".to_string(), "this purpose".to_string()),
    };
    let n = code.unwrap_or_else(|| lang.tr("код", "code").to_string());
    let next = refusal.next_possible_at.map(|t| moment(lang, tz, t));
    let then = |ru: String, en: String| match (lang, &next) {
        (Lang::Ru, Some(t)) => format!("{ru} Можно с {t}."),
        (Lang::En, Some(t)) => format!("{en} Possible from {t}."),
        (Lang::Ru, None) => ru,
        (Lang::En, None) => en,
    };
    let field = refusal.field.as_deref().and_then(FieldKind::from_name);
    match refusal.code {
        RefusalCode::ProfileIncomplete => not_registered(lang),
        RefusalCode::QuotaExceeded => then(
            format!("Отказ: лимит пропусков {of_ru} исчерпан."),
            format!("Refused: the limit for {of_en} is used up."),
        ),
        RefusalCode::RegimeCapExceeded => then(
            "Отказ: лимит пропусков исчерпан.".into(),
            "Refused: your pass limit is used up.".into(),
        ),
        RefusalCode::OutsideAllowedHours => then(
            format!("Отказ: {of_ru} сейчас выход не разрешён."),
            format!("Refused: {of_en} is not allowed at this hour."),
        ),
        RefusalCode::MissingField | RefusalCode::InvalidField => {
            let f = field.unwrap_or(FieldKind::EmployerInn);
            let example = match f {
                FieldKind::EmployerInn => "7707083893",
                FieldKind::EmployerName => lang.tr("ООО Ромашка", "Romashka LLC"),
                FieldKind::VehiclePlate => "А123ВС77",
            };
            let label = lang.pick(&f.label()).to_string();
            let bad = refusal.code == RefusalCode::InvalidField;
            match (lang, bad) {
                (Lang::Ru, false) => {
                    let of = of_ru.replacen("по ", "для ", 1);
                    format!("Укажите {of} {label}: ПРОПУСК*{n}*{example}")
                }
                (Lang::Ru, true) => {
                    format!("Проверьте {label}. Пример: ПРОПУСК*{n}*{example}")
                }
                (Lang::En, false) => {
                    let of = of_en[..1].to_uppercase() + &of_en[1..];
                    format!("{of} needs the {label}: PASS*{n}*{example}")
                }
                (Lang::En, true) => {
                    format!("The {label} is not valid. Example: PASS*{n}*{example}")
                }
            }
        }
        RefusalCode::NoRegimeInForce | RefusalCode::RegimeEnded => no_regime(lang),
        RefusalCode::RegimeNotYetInForce => then(
            "Режим пропусков ещё не начал действовать.".into(),
            "The pass regime is not in force yet.".into(),
        ),
        RefusalCode::ValidFromInPast => lang
            .tr(
                "Отказ: это время уже прошло. Укажите время позже, напр. ПРОПУСК 3 18:30",
                "Refused: that time has passed. Give a later one, e.g. PASS 3 18:30",
            )
            .into(),
        RefusalCode::ValidFromTooFarAhead => lang
            .tr(
                "Отказ: пропуск можно заказать не более чем за 7 дней.",
                "Refused: a pass can be booked at most 7 days ahead.",
            )
            .into(),
        _ => shorten(lang, lang.pick(&refusal.message), 300),
    }
}

/// The sender's phone has no registration.
pub fn not_registered(lang: Lang) -> String {
    lang.tr(
        "Номер не зарегистрирован. Отправьте: РЕГИСТРАЦИЯ#Фамилия Имя Отчество#серия и номер паспорта",
        "This number is not registered. Send: REGISTER#Surname Given names#passport number",
    )
    .to_string()
}

/// A registration was recorded.
pub fn registered(lang: Lang, holder_hint: &str, updated: bool) -> String {
    match (lang, updated) {
        (Lang::Ru, false) => format!("Вы зарегистрированы ({holder_hint}). Пропуск: ПРОПУСК и код цели. Коды: ПОМОЩЬ"),
        (Lang::Ru, true) => format!("Данные обновлены ({holder_hint}). Пропуск: ПРОПУСК и код цели. Коды: ПОМОЩЬ"),
        (Lang::En, false) => format!("You are registered ({holder_hint}). For a pass: PASS and the purpose code. Codes: HELP"),
        (Lang::En, true) => format!("Your details are updated ({holder_hint}). For a pass: PASS and the purpose code. Codes: HELP"),
    }
}

/// What was wrong with a registration message, and the form expected.
pub fn registration_problems(lang: Lang, problems: &[Problem]) -> String {
    let first = problems.first();
    let what = match (lang, first) {
        (Lang::Ru, Some(Problem::MissingName)) => "Не указаны фамилия, имя и отчество.".to_string(),
        (Lang::En, Some(Problem::MissingName)) => "Your full name is missing.".to_string(),
        (Lang::Ru, Some(Problem::MissingDocument)) => "Не указан номер паспорта.".to_string(),
        (Lang::En, Some(Problem::MissingDocument)) => "The document number is missing.".to_string(),
        (_, Some(Problem::BadName(message))) => shorten(lang, lang.pick(message), 80),
        (Lang::Ru, Some(Problem::BadDocument(raw))) => format!(
            "Документ «{raw}» не распознан: паспорт РФ — 10 цифр, загранпаспорт — 9."
        ),
        (Lang::En, Some(Problem::BadDocument(raw))) => format!(
            "Document '{raw}' not recognised: a Russian passport has 10 digits, an international one 9."
        ),
        (_, None) => String::new(),
    };
    let form = lang.tr(
        "Формат: РЕГИСТРАЦИЯ#Иванов Иван Иванович#4510123456",
        "Format: REGISTER#Ivanov Ivan#4510123456",
    );
    format!("{what} {form}").trim().to_string()
}

/// A message that could not be understood.
pub fn unknown(lang: Lang) -> String {
    lang.tr(
        "Не понятно. Пропуск: ПРОПУСК 3 (3 - код цели). Коды: ПОМОЩЬ. Отмена: ОТМЕНА код",
        "Not understood. For a pass: PASS 3 (3 is the purpose code). Codes: HELP. Cancel: CANCEL code",
    )
    .to_string()
}

/// An empty message.
pub fn empty(lang: Lang) -> String {
    lang.tr(
        "Пустое сообщение. Пропуск: ПРОПУСК 3 (3 - код цели). Коды: ПОМОЩЬ",
        "Empty message. For a pass: PASS 3 (3 is the purpose code). Codes: HELP",
    )
    .to_string()
}

pub fn cancelled(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!("Пропуск {code} отменён."),
        Lang::En => format!("Pass {code} is cancelled."),
    }
}

pub fn already_cancelled(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!("Пропуск {code} уже был отменён."),
        Lang::En => format!("Pass {code} was already cancelled."),
    }
}

/// No pass of the sender has this code.
pub fn cancel_not_found(lang: Lang, code: &str) -> String {
    match lang {
        Lang::Ru => format!("У вас нет пропуска {code}. Ваши пропуска: СТАТУС"),
        Lang::En => format!("You have no pass {code}. Your passes: STATUS"),
    }
}

/// The code after ОТМЕНА does not check out.
pub fn cancel_bad_code(lang: Lang, raw: &str) -> String {
    let raw: String = raw.chars().take(20).collect();
    match lang {
        Lang::Ru => {
            format!("Код «{raw}» не распознан, нужен код вида 7K3-QX9-4MM. Ваши пропуска: СТАТУС")
        }
        Lang::En => format!(
            "Code '{raw}' not recognised; expected one like 7K3-QX9-4MM. Your passes: STATUS"
        ),
    }
}

/// ОТМЕНА without a code: which passes could be meant.
pub fn cancel_which(lang: Lang, codes: &[String]) -> String {
    match (lang, codes) {
        (Lang::Ru, []) => "У вас нет действующих пропусков.".into(),
        (Lang::En, []) => "You have no current passes.".into(),
        (Lang::Ru, codes) => format!("Укажите код: ОТМЕНА {}", codes.join(" / ОТМЕНА ")),
        (Lang::En, codes) => format!("Give the code: CANCEL {}", codes.join(" / CANCEL ")),
    }
}

/// The sender's current and upcoming passes.
pub fn status(lang: Lang, passes: &[PassInfo<'_>]) -> String {
    if passes.is_empty() {
        return lang
            .tr(
                "Действующих пропусков нет. Пропуск: ПРОПУСК и код цели",
                "You have no current passes. For a pass: PASS and the purpose code",
            )
            .into();
    }
    let lines: Vec<String> = passes
        .iter()
        .map(|p| {
            let n = p
                .purpose
                .map_or(String::new(), |p| format!(" ({})", p.sms_code()));
            format!("{}{n} {}", p.short_code, p.window(lang))
        })
        .collect();
    format!("{}: {}", lang.tr("Пропуска", "Passes"), lines.join("; "))
}

/// A message that was only a short code.
pub fn about_code(lang: Lang, pass: Option<&PassInfo<'_>>, cancelled: bool) -> String {
    match (lang, pass) {
        (Lang::Ru, Some(p)) if cancelled => format!("Пропуск {} отменён.", p.short_code),
        (Lang::En, Some(p)) if cancelled => format!("Pass {} is cancelled.", p.short_code),
        (Lang::Ru, Some(p)) => format!(
            "Пропуск {} {}. Отмена: ОТМЕНА {}",
            p.short_code,
            p.window(lang),
            p.compact()
        ),
        (Lang::En, Some(p)) => format!(
            "Pass {} {}. Cancel: CANCEL {}",
            p.short_code,
            p.window(lang),
            p.compact()
        ),
        (_, None) => unknown(lang),
    }
}

/// Too many messages from one phone.
pub fn rate_limited(lang: Lang, retry_after_secs: i64) -> String {
    let minutes = (retry_after_secs + 59) / 60;
    match lang {
        Lang::Ru => format!(
            "Слишком много сообщений. Повторите через {} мин.",
            minutes.max(1)
        ),
        Lang::En => format!("Too many messages. Try again in {} min.", minutes.max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::segments;
    use propusk_core::policy::{moscow_2020, tatarstan_2020};

    fn pass<'a>(regime: &'a Regime, code: u8, from: &str, until: &str) -> PassInfo<'a> {
        PassInfo {
            short_code: "7K3-QX9-4MM".into(),
            purpose: regime.purpose_by_sms_code(code),
            valid_from: from.parse().unwrap(),
            valid_until: until.parse().unwrap(),
            tz: regime.time_zone().clone(),
        }
    }

    #[test]
    fn every_pass_answer_fits_one_segment() {
        for regime in [moscow_2020(), tatarstan_2020()] {
            for p in regime.purposes() {
                for lang in [Lang::Ru, Lang::En] {
                    for (from, until) in [
                        ("2020-04-15T07:00:00Z", "2020-04-15T10:00:00Z"),
                        ("2020-04-15T19:00:00Z", "2020-04-15T23:00:00Z"),
                    ] {
                        let text = issued(lang, &pass(&regime, p.sms_code(), from, until));
                        assert_eq!(segments(&text).count, 1, "{text}");
                        assert!(text.contains("7K3-QX9-4MM"), "{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn pass_answers_read_well() {
        let regime = moscow_2020();
        let p = pass(&regime, 4, "2020-04-15T07:00:00Z", "2020-04-15T07:30:00Z");
        assert_eq!(
            issued(Lang::Ru, &p),
            "Пропуск 7K3-QX9-4MM: Вынос мусора, 15.04 10:00-10:30"
        );
        assert_eq!(
            issued(Lang::En, &p),
            "Pass 7K3-QX9-4MM: Taking out the trash, 15 Apr 10:00-10:30. Cancel: CANCEL 7K3QX94MM"
        );
        let shopping = pass(&regime, 3, "2020-04-15T19:00:00Z", "2020-04-15T21:59:00Z");
        let text = issued(Lang::Ru, &shopping);
        assert!(text.starts_with("Пропуск 7K3-QX9-4MM: Поход в"), "{text}");
        assert!(text.ends_with("15.04 22:00-16.04 00:59"), "{text}");
    }

    #[test]
    fn help_lists_every_code() {
        let regime = moscow_2020();
        let text = help(Lang::Ru, Some(&regime));
        for code in 1..=6 {
            assert!(text.contains(&format!("{code}")), "{text}");
        }
        assert!(text.contains("1*ИНН"), "{text}");
        assert!(segments(&text).count <= 6, "{}", segments(&text).count);
        assert!(help(Lang::En, Some(&regime)).contains("1*INN"));
        assert_eq!(help(Lang::Ru, None), no_regime(Lang::Ru));
    }

    #[test]
    fn fixed_answers_are_short() {
        for lang in [Lang::Ru, Lang::En] {
            for text in [
                unknown(lang),
                empty(lang),
                not_registered(lang),
                rate_limited(lang, 61),
            ] {
                assert!(segments(&text).count <= 2, "{text}");
            }
        }
        assert_eq!(
            rate_limited(Lang::Ru, 61),
            "Слишком много сообщений. Повторите через 2 мин."
        );
        assert_eq!(
            shorten(Lang::Ru, "Поход в продуктовый магазин или аптеку", 20),
            "Поход в продуктовый…"
        );
    }
}
