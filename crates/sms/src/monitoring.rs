//! What a quarantined patient is told by SMS: the code that connects their phone, every
//! flag (what was seen, when, where to explain it before the decision — never a fine) and
//! every decision on it (with how to appeal a sanction, and where to read how to pay a fine).
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

/// `4000 рублей` / `4,000 roubles`: plain words, no abbreviation whose full stop could meet
/// the sentence's.
pub fn roubles(lang: Lang, amount: u32) -> String {
    match lang {
        Lang::Ru => {
            let word = match (amount % 10, amount % 100) {
                (_, 11..=14) => "рублей",
                (1, _) => "рубль",
                (2..=4, _) => "рубля",
                _ => "рублей",
            };
            format!("{amount} {word}")
        }
        Lang::En => {
            let digits = amount.to_string();
            let mut grouped = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            let word = if amount == 1 { "rouble" } else { "roubles" };
            format!("{grouped} {word}")
        }
    }
}

/// The enrollment SMS: the one-time code that connects the patient's phone to the case, and
/// the link that opens the app with the code filled in (`https://…/patient/app/#code=…`).
/// The link comes last, so no punctuation can stick to it.
pub fn enrollment(lang: Lang, code: &str, link: &str) -> String {
    match lang {
        Lang::Ru => format!(
            "Карантин: код для подключения телефона к мониторингу: {code}. Никому его не сообщайте. Откройте ссылку на своём телефоне, код подставится сам: {link}"
        ),
        Lang::En => format!(
            "Quarantine: your code to connect your phone to monitoring is {code}. Do not share it. Open this link on your phone and the code is filled in for you: {link}"
        ),
    }
}

/// The text of one patient SMS. Texts that ask the patient to do something in the app end
/// with its address `app_url` (`https://…/patient/app/`); a check-in's with the fragment
/// that opens that check-in.
pub fn patient_with_app(lang: Lang, tz: &TimeZone, sms: &PatientSms, app_url: &str) -> String {
    let at = |t| moment(lang, tz, t);
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
            at(*deadline)
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
            at(*deadline)
        ),
        (
            PatientSms::CheckinOpen {
                challenge,
                deadline,
                asked: true,
            },
            Lang::Ru,
        ) => format!(
            "Карантин: телефон показал место далеко от дома. Это не штраф. Если вы дома, сделайте фото в приложении до {}: {app_url}#checkin={challenge}",
            at(*deadline)
        ),
        (
            PatientSms::CheckinOpen {
                challenge,
                deadline,
                asked: true,
            },
            Lang::En,
        ) => format!(
            "Quarantine: your phone showed a place far from home. This is not a fine. If you are home, take a photo in the app by {}: {app_url}#checkin={challenge}",
            at(*deadline)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::LeftHome,
                seen_from,
                seen_to,
            },
            Lang::Ru,
        ) => format!(
            "Карантин: по данным телефона вы были вне дома {}. Это не штраф, решение примет врач. Если это ошибка или была причина (врач, экстренный случай), объясните до решения в приложении: {app_url}",
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
            "Quarantine: your phone's location was away from home {}. This is not a fine: a doctor will decide. If it is a mistake or you had a reason (doctor, emergency), explain before the decision in the app: {app_url}",
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
            "Карантин: от вашего телефона нет данных с {}. Это не нарушение и не штраф. Зарядите и включите телефон, откройте приложение: {app_url}",
            at(*seen_from)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::NoSignal,
                seen_from,
                ..
            },
            Lang::En,
        ) => format!(
            "Quarantine: no data from your phone since {}. This is not a violation or a fine. Please charge and switch on the phone and open the app: {app_url}",
            at(*seen_from)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::MissedCheckin,
                seen_from,
                ..
            },
            Lang::Ru,
        ) => format!(
            "Карантин: нет ответа на проверку от {}. Это не штраф, решение примет врач. Объясните, что случилось, до решения в приложении: {app_url}",
            at(*seen_from)
        ),
        (
            PatientSms::FlagRaised {
                kind: FlagKind::MissedCheckin,
                seen_from,
                ..
            },
            Lang::En,
        ) => format!(
            "Quarantine: no answer to the check-in of {}. This is not a fine: a doctor will decide. Explain what happened before the decision in the app: {app_url}",
            at(*seen_from)
        ),
        (PatientSms::Dismissed { kind }, Lang::Ru) => format!(
            "Карантин: врач проверил сигнал «{}»: нарушения нет.",
            what(lang, *kind)
        ),
        (PatientSms::Dismissed { kind }, Lang::En) => format!(
            "Quarantine: a doctor reviewed the flag '{}' and found no violation.",
            what(lang, *kind)
        ),
        (
            PatientSms::Confirmed {
                kind,
                sanction: Sanction::Warning,
            },
            Lang::Ru,
        ) => format!(
            "Карантин: врач признал нарушение ({}) и вынес предупреждение. Жалобу рассмотрит другой врач. Причина и как обжаловать — в приложении: {app_url}",
            what(lang, *kind)
        ),
        (
            PatientSms::Confirmed {
                kind,
                sanction: Sanction::Warning,
            },
            Lang::En,
        ) => format!(
            "Quarantine: a doctor found a violation ({}) and issued a warning. Another doctor reviews appeals. The reason and how to appeal are in the app: {app_url}",
            what(lang, *kind)
        ),
        (
            PatientSms::Confirmed {
                kind,
                sanction: Sanction::Fine { amount_rub },
            },
            Lang::Ru,
        ) => format!(
            "Карантин: врач признал нарушение ({}) и назначил штраф {}. Жалобу рассмотрит другой врач. Причина, как оплатить и как обжаловать — в приложении: {app_url}",
            what(lang, *kind),
            roubles(lang, amount_rub.get())
        ),
        (
            PatientSms::Confirmed {
                kind,
                sanction: Sanction::Fine { amount_rub },
            },
            Lang::En,
        ) => format!(
            "Quarantine: a doctor found a violation ({}) and imposed a fine of {}. Another doctor reviews appeals. The reason, how to pay and how to appeal are in the app: {app_url}",
            what(lang, *kind),
            roubles(lang, amount_rub.get())
        ),
        (PatientSms::AppealUpheld { kind }, Lang::Ru) => format!(
            "Карантин: ваша жалоба ({}) удовлетворена, мера отменена.",
            what(lang, *kind)
        ),
        (PatientSms::AppealUpheld { kind }, Lang::En) => format!(
            "Quarantine: your appeal ({}) was upheld, and the measure is lifted.",
            what(lang, *kind)
        ),
        (PatientSms::AppealRejected { kind, sanction: s }, Lang::Ru) => format!(
            "Карантин: другой врач отклонил вашу жалобу ({}), мера остаётся: {}.{}",
            what(lang, *kind),
            sanction(lang, s),
            pay(lang, s, app_url)
        ),
        (PatientSms::AppealRejected { kind, sanction: s }, Lang::En) => format!(
            "Quarantine: another doctor rejected your appeal ({}), and the measure stands: {}.{}",
            what(lang, *kind),
            sanction(lang, s),
            pay(lang, s, app_url)
        ),
    }
}

fn sanction(lang: Lang, s: &Sanction) -> String {
    match s {
        Sanction::Warning => lang.tr("предупреждение", "a warning").to_string(),
        Sanction::Fine { amount_rub } => match lang {
            Lang::Ru => format!("штраф {}", roubles(lang, amount_rub.get())),
            Lang::En => format!("a fine of {}", roubles(lang, amount_rub.get())),
        },
    }
}

/// For a fine: where to read how to pay (a sentence of its own, with its leading space).
fn pay(lang: Lang, s: &Sanction, app_url: &str) -> String {
    match (s, lang) {
        (Sanction::Warning, _) => String::new(),
        (Sanction::Fine { .. }, Lang::Ru) => format!(" Как оплатить — в приложении: {app_url}"),
        (Sanction::Fine { .. }, Lang::En) => format!(" How to pay is in the app: {app_url}"),
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

    const APP: &str = "https://propusk.example/patient/app/";

    #[test]
    fn roubles_are_written_out() {
        assert_eq!(roubles(Lang::Ru, 1), "1 рубль");
        assert_eq!(roubles(Lang::Ru, 3), "3 рубля");
        assert_eq!(roubles(Lang::Ru, 11), "11 рублей");
        assert_eq!(roubles(Lang::Ru, 4000), "4000 рублей");
        assert_eq!(roubles(Lang::Ru, 21), "21 рубль");
        assert_eq!(roubles(Lang::En, 1), "1 rouble");
        assert_eq!(roubles(Lang::En, 4000), "4,000 roubles");
        assert_eq!(roubles(Lang::En, 1234567), "1,234,567 roubles");
    }

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
        let text = patient_with_app(Lang::Ru, &tz, &sms, APP);
        assert!(text.contains("15.04 10:00-10:40"), "{text}");
        assert!(text.contains("не штраф"));
        assert!(patient_with_app(Lang::En, &tz, &sms, APP).contains("not a fine"));
        assert!(text.ends_with(APP), "{text}");
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
        let text = patient_with_app(Lang::Ru, &TimeZone::UTC, &sms, APP);
        assert!(text.contains("штраф 4000 рублей."), "{text}");
        assert!(text.contains("обжаловать"), "{text}");
        let text = patient_with_app(Lang::En, &TimeZone::UTC, &sms, APP);
        assert!(text.contains("a fine of 4,000 roubles."), "{text}");
    }
}
