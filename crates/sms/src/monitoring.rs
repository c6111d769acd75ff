//! What a quarantined patient is told by SMS: of every flag (what was seen, when, how to
//! explain — never a fine) and of every decision on it (with how to appeal a sanction).
//!
//! The facts come from `propusk_core::monitoring::case::PatientSms`; times are shown on the
//! clocks of the case's time zone. A flag's text says plainly that it is not a fine and that
//! a person will decide, because the first message a patient gets must not read as a verdict.

use jiff::tz::TimeZone;
use propusk_core::monitoring::case::{PatientSms, Sanction};
use propusk_core::monitoring::FlagKind;

use crate::reply::{moment, window};
use crate::Lang;

fn what(lang: Lang, kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::LeftHome => lang.tr("вне дома", "away from home"),
        FlagKind::NoSignal => lang.tr("нет данных от телефона", "no data from the phone"),
        FlagKind::MissedCheckin => lang.tr("пропущена проверка", "missed check-in"),
    }
}

fn sanction(lang: Lang, s: &Sanction) -> String {
    match s {
        Sanction::Warning => lang.tr("предупреждение", "a warning").to_string(),
        Sanction::Fine { amount_rub } => match lang {
            Lang::Ru => format!("штраф {amount_rub} руб."),
            Lang::En => format!("a fine of {amount_rub} RUB"),
        },
    }
}

/// The text of one patient SMS; a check-in's links to it in the app at `app_url`
/// (`https://…/patient/app/`).
pub fn patient_with_app(lang: Lang, tz: &TimeZone, sms: &PatientSms, app_url: &str) -> String {
    match (sms, lang) {
        (
            PatientSms::CheckinOpen {
                challenge,
                deadline,
                asked: false,
            },
            Lang::Ru,
        ) => format!(
            "Карантин: проверка. Сделайте фото в приложении до {}: {app_url}#checkin={challenge}",
            moment(lang, tz, *deadline)
        ),
        (
            PatientSms::CheckinOpen {
                challenge,
                deadline,
                asked: false,
            },
            Lang::En,
        ) => format!(
            "Quarantine: a check-in. Take a photo in the app by {}: {app_url}#checkin={challenge}",
            moment(lang, tz, *deadline)
        ),
        (
            PatientSms::CheckinOpen {
                challenge,
                deadline,
                asked: true,
            },
            Lang::Ru,
        ) => format!(
            "Карантин: телефон показал место далеко от дома. Если вы дома, сделайте фото в приложении до {}: {app_url}#checkin={challenge} Это не штраф.",
            moment(lang, tz, *deadline)
        ),
        (
            PatientSms::CheckinOpen {
                challenge,
                deadline,
                asked: true,
            },
            Lang::En,
        ) => format!(
            "Quarantine: your phone showed a place far from home. If you are home, take a photo in the app by {}: {app_url}#checkin={challenge} This is not a fine.",
            moment(lang, tz, *deadline)
        ),
        _ => patient(lang, tz, sms),
    }
}

/// The text of one patient SMS (a check-in's without its link: see [`patient_with_app`]).
pub fn patient(lang: Lang, tz: &TimeZone, sms: &PatientSms) -> String {
    match (sms, lang) {
        (
            PatientSms::FlagRaised {
                kind: FlagKind::LeftHome,
                seen_from,
                seen_to,
            },
            Lang::Ru,
        ) => format!(
            "Карантин: по данным телефона вы были вне дома {}. Это не штраф. Если это ошибка или была причина (врач, экстренный случай), объясните в приложении: Пациент. Решение примет врач.",
            window(lang, tz, *seen_from, *seen_to)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::LeftHome,
                seen_from,
                seen_to,
            },
            Lang::En,
        ) => format!(
            "Quarantine: your phone's location was away from home {}. This is not a fine. If it is a mistake or you had a reason (doctor, emergency), explain in the app: Patient. A doctor will decide.",
            window(lang, tz, *seen_from, *seen_to)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::NoSignal,
                seen_from,
                ..
            },
            Lang::Ru,
        ) => format!(
            "Карантин: от вашего телефона нет данных с {}. Это не нарушение и не штраф. Зарядите и включите телефон, откройте приложение.",
            moment(lang, tz, *seen_from)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::NoSignal,
                seen_from,
                ..
            },
            Lang::En,
        ) => format!(
            "Quarantine: no data from your phone since {}. This is not a violation or a fine. Please charge and switch on the phone and open the app.",
            moment(lang, tz, *seen_from)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::MissedCheckin,
                seen_from,
                ..
            },
            Lang::Ru,
        ) => format!(
            "Карантин: нет ответа на проверку от {}. Это не штраф. Объясните в приложении: Пациент. Решение примет врач.",
            moment(lang, tz, *seen_from)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::MissedCheckin,
                seen_from,
                ..
            },
            Lang::En,
        ) => format!(
            "Quarantine: no answer to the check-in of {}. This is not a fine. Explain in the app: Patient. A doctor will decide.",
            moment(lang, tz, *seen_from)
        ),
        (PatientSms::Dismissed { kind }, Lang::Ru) => format!(
            "Карантин: сигнал «{}» проверен врачом, нарушения нет.",
            what(lang, *kind)
        ),
        (PatientSms::Dismissed { kind }, Lang::En) => format!(
            "Quarantine: a doctor reviewed the '{}' report and found no violation.",
            what(lang, *kind)
        ),
        (PatientSms::Confirmed { kind, sanction: s }, Lang::Ru) => format!(
            "Карантин: врач признал нарушение ({}). Мера: {}. Обжаловать можно в приложении: Пациент; жалобу рассмотрит другой врач.",
            what(lang, *kind),
            sanction(lang, s)
        ),
        (PatientSms::Confirmed { kind, sanction: s }, Lang::En) => format!(
            "Quarantine: a doctor found a violation ({}). Measure: {}. You may appeal in the app: Patient; another doctor will review it.",
            what(lang, *kind),
            sanction(lang, s)
        ),
        (PatientSms::AppealUpheld { kind }, Lang::Ru) => format!(
            "Карантин: ваша жалоба ({}) удовлетворена, мера отменена.",
            what(lang, *kind)
        ),
        (PatientSms::AppealUpheld { kind }, Lang::En) => format!(
            "Quarantine: your appeal ({}) was upheld; the measure is lifted.",
            what(lang, *kind)
        ),
        (PatientSms::AppealRejected { kind, sanction: s }, Lang::Ru) => format!(
            "Карантин: жалоба ({}) отклонена другим врачом, мера остаётся: {}.",
            what(lang, *kind),
            sanction(lang, s)
        ),
        (PatientSms::AppealRejected { kind, sanction: s }, Lang::En) => format!(
            "Quarantine: your appeal ({}) was rejected by another doctor; the measure stands: {}.",
            what(lang, *kind),
            sanction(lang, s)
        ),
        (PatientSms::CheckinOpen { deadline, .. }, Lang::Ru) => format!(
            "Карантин: проверка. Сделайте фото в приложении: Пациент, до {}.",
            moment(lang, tz, *deadline)
        ),
        (PatientSms::CheckinOpen { deadline, .. }, Lang::En) => format!(
            "Quarantine: a check-in. Take a photo in the app: Patient, by {}.",
            moment(lang, tz, *deadline)
        ),
    }
}

/// A reminder to return a loaner phone past its due date (`due_at` on the case's clocks).
pub fn loaner_overdue(lang: Lang, tz: &TimeZone, due_at: jiff::Timestamp) -> String {
    match lang {
        Lang::Ru => format!(
            "Карантин: выданный вам телефон нужно было вернуть {}. Пожалуйста, верните его в поликлинику; это не штраф.",
            moment(lang, tz, due_at)
        ),
        Lang::En => format!(
            "Quarantine: the phone lent to you was due back {}. Please return it to the clinic; this is not a fine.",
            moment(lang, tz, due_at)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overdue_loaner_is_asked_back_on_the_cases_clocks() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let due = "2020-04-29T09:00:00Z".parse().unwrap();
        let text = loaner_overdue(Lang::Ru, &tz, due);
        assert!(text.contains("29.04 12:00"), "{text}");
        assert!(loaner_overdue(Lang::En, &tz, due).contains("not a fine"));
    }

    #[test]
    fn a_flag_is_not_a_fine_and_says_when() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let sms = PatientSms::FlagRaised {
            kind: FlagKind::LeftHome,
            seen_from: "2020-04-15T07:00:00Z".parse().unwrap(),
            seen_to: "2020-04-15T07:40:00Z".parse().unwrap(),
        };
        let text = patient(Lang::Ru, &tz, &sms);
        assert!(text.contains("15.04 10:00-10:40"), "{text}");
        assert!(text.contains("не штраф"));
        assert!(patient(Lang::En, &tz, &sms).contains("not a fine"));
    }

    #[test]
    fn a_checkin_links_to_the_app_and_a_question_is_not_a_fine() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let sms = PatientSms::CheckinOpen {
            challenge: "c-1".into(),
            deadline: "2020-04-15T07:20:00Z".parse().unwrap(),
            asked: true,
        };
        let app = "https://propusk.example/patient/app/";
        let text = patient_with_app(Lang::Ru, &tz, &sms, app);
        assert!(text.contains("15.04 10:20"), "{text}");
        assert!(
            text.contains("https://propusk.example/patient/app/#checkin=c-1"),
            "{text}"
        );
        assert!(text.contains("не штраф"), "{text}");
        let text = patient_with_app(Lang::En, &tz, &sms, app);
        assert!(
            text.contains("#checkin=c-1") && text.contains("not a fine"),
            "{text}"
        );
    }

    #[test]
    fn a_sanction_says_how_to_appeal() {
        let sms = PatientSms::Confirmed {
            kind: FlagKind::LeftHome,
            sanction: Sanction::Fine {
                amount_rub: std::num::NonZeroU32::new(4000).unwrap(),
            },
        };
        let text = patient(Lang::Ru, &TimeZone::UTC, &sms);
        assert!(text.contains("штраф 4000 руб."), "{text}");
        assert!(text.contains("Обжаловать"));
    }
}
