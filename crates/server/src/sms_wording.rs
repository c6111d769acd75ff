//! Every text message the service sends, rendered with realistic arguments in Russian and
//! English and read for what a proofreader would mark: doubled or misplaced punctuation
//! (`руб..`, `.,`, ` .`), leftover placeholders (`{…}`, `$x`, `%s`), and an English text
//! (or sentence) beginning in lower case. The sign-in code (`app::sign_in`), the answers to
//! residents' messages (`propusk_sms::reply`), and the patient's monitoring texts
//! (`propusk_sms::monitoring`: enrollment, check-ins, flags, decisions, appeals, loaners).

use std::num::NonZeroU32;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_core::issuance::{Refusal, RefusalCode};
use propusk_core::monitoring::case::{PatientSms, Sanction};
use propusk_core::monitoring::FlagKind;
use propusk_core::policy::{moscow_2020, tatarstan_2020, Regime};
use propusk_core::{Lang, Localized};
use propusk_sms::monitoring as patient;
use propusk_sms::registration::Problem;
use propusk_sms::reply::{self, PassInfo};

const APP: &str = "https://propusk.example/patient/app/";

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// What is wrong with one text, if anything.
fn faults(lang: Lang, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    // An ellipsis is one mark, not a doubled full stop.
    let plain = text.replace("...", "…");
    for bad in [
        "..", ".,", ",.", ",,", ";.", ":.", ".:", ".;", "!.", "?.", " .", " ,", " ;", " :", "  ",
        "( ", " )", "«»",
    ] {
        if plain.contains(bad) {
            found.push(format!("{bad:?}"));
        }
    }
    for leftover in ["{", "}", "$", "%s", "%d", "%1", "{{"] {
        if text.contains(leftover) {
            found.push(format!("placeholder {leftover:?}"));
        }
    }
    if text.trim() != text || text.is_empty() {
        found.push("blank at an end".into());
    }
    let starts_low = |s: &str| s.chars().next().is_some_and(char::is_lowercase);
    if lang == Lang::En && starts_low(text) {
        found.push("begins in lower case".into());
    }
    // A sentence after a full stop, '!' or '?' begins with a capital (or a digit, a command).
    for (i, _) in text.match_indices(['.', '!', '?']) {
        let rest = &text[i + 1..];
        if let Some(next) = rest.strip_prefix(' ') {
            if starts_low(next) && !text[..i].ends_with("e.g") && !text[..i].ends_with("напр") {
                found.push(format!(
                    "a sentence in lower case: {:?}",
                    next.chars().take(20).collect::<String>()
                ));
            }
        }
    }
    found
}

fn passes(regime: &Regime) -> Vec<PassInfo<'_>> {
    regime
        .purposes()
        .iter()
        .map(|p| PassInfo {
            short_code: "7K3-QX9-4MM".into(),
            purpose: Some(p),
            valid_from: at("2020-04-15T07:00:00Z"),
            valid_until: at("2020-04-15T10:00:00Z"),
            tz: regime.time_zone().clone(),
        })
        .collect()
}

fn refusals() -> Vec<Refusal> {
    let next = Some(at("2020-04-16T07:00:00Z"));
    RefusalCode::ALL
        .iter()
        .flat_map(|&code| {
            let message = Localized::new(
                "Отказ: пропуск длиннее 3 часов для этой цели не выдаётся.",
                "Refused: a pass for this purpose lasts at most 3 hours.",
            );
            let field = match code {
                RefusalCode::MissingField | RefusalCode::InvalidField => {
                    vec![
                        Some("employer_inn"),
                        Some("employer_name"),
                        Some("vehicle_plate"),
                    ]
                }
                _ => vec![None],
            };
            field.into_iter().flat_map(move |field| {
                [next, None].into_iter().map({
                    let message = message.clone();
                    move |next_possible_at| Refusal {
                        code,
                        reason: Box::new(message.clone()),
                        message: message.clone(),
                        next_possible_at,
                        field: field.map(str::to_string),
                    }
                })
            })
        })
        .collect()
}

fn patient_sms() -> Vec<PatientSms> {
    let fine = Sanction::Fine {
        amount_rub: NonZeroU32::new(4000).unwrap(),
    };
    let mut all = Vec::new();
    for kind in [
        FlagKind::LeftHome,
        FlagKind::NoSignal,
        FlagKind::MissedCheckin,
    ] {
        all.push(PatientSms::FlagRaised {
            kind,
            seen_from: at("2020-04-15T11:05:00Z"),
            seen_to: at("2020-04-15T11:40:00Z"),
        });
        all.push(PatientSms::Dismissed { kind });
        all.push(PatientSms::AppealUpheld { kind });
        for sanction in [Sanction::Warning, fine.clone()] {
            all.push(PatientSms::Confirmed {
                kind,
                sanction: sanction.clone(),
            });
            all.push(PatientSms::AppealRejected { kind, sanction });
        }
    }
    for asked in [false, true] {
        all.push(PatientSms::CheckinOpen {
            challenge: "3f1c2a9e-0000-4000-8000-000000000001".into(),
            deadline: at("2020-04-15T07:20:00Z"),
            asked,
        });
    }
    all
}

/// Every text, in `lang`.
fn every_text(lang: Lang) -> Vec<String> {
    let moscow = moscow_2020();
    let tatarstan = tatarstan_2020();
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    let mut texts = vec![crate::app::sign_in::code_text("042917", lang)];
    for regime in [&moscow, &tatarstan] {
        let infos = passes(regime);
        for p in &infos {
            texts.push(reply::issued(lang, p));
            texts.push(reply::about_code(lang, Some(p), false));
            texts.push(reply::about_code(lang, Some(p), true));
        }
        texts.push(reply::status(lang, &infos));
        texts.push(reply::status(lang, &[]));
        texts.push(reply::help(lang, Some(regime)));
        texts.push(reply::which_purpose(lang, Some(regime)));
        texts.push(reply::unknown_purpose(lang, 9, regime));
        for refusal in refusals() {
            for purpose in [regime.purposes().first(), None] {
                texts.push(reply::refused(lang, &refusal, purpose, regime.time_zone()));
            }
        }
    }
    texts.push(reply::help(lang, None));
    texts.push(reply::which_purpose(lang, None));
    texts.push(reply::no_regime(lang));
    texts.push(reply::not_registered(lang));
    texts.push(reply::registered(lang, "И.И. 3456", false));
    texts.push(reply::registered(lang, "И.И. 3456", true));
    for problems in [
        vec![Problem::MissingName],
        vec![Problem::MissingDocument],
        vec![Problem::BadName(Localized::new(
            "В имени не может быть цифр.",
            "A name cannot contain digits.",
        ))],
        vec![Problem::BadDocument("45 10 12".into())],
        vec![],
    ] {
        texts.push(reply::registration_problems(lang, &problems));
    }
    texts.push(reply::unknown(lang));
    texts.push(reply::empty(lang));
    texts.push(reply::cancelled(lang, "7K3-QX9-4MM"));
    texts.push(reply::already_cancelled(lang, "7K3-QX9-4MM"));
    texts.push(reply::cancel_not_found(lang, "7K3-QX9-4MM"));
    texts.push(reply::cancel_bad_code(lang, "7K3"));
    texts.push(reply::cancel_which(
        lang,
        &["7K3-QX9-4MM".into(), "AB2-CD3-EF4".into()],
    ));
    texts.push(reply::about_code(lang, None, false));
    texts.push(reply::rate_limited(lang, 61));
    texts.push(patient::enrollment(
        lang,
        "ABCD-EFGH-JKLM",
        &format!("{APP}#code=ABCD-EFGH-JKLM"),
    ));
    for sms in patient_sms() {
        texts.push(patient::patient_with_app(lang, &tz, &sms, APP));
    }
    texts.push(patient::loaner_overdue(
        lang,
        &tz,
        at("2020-04-29T09:00:00Z"),
    ));
    texts
}

#[test]
fn every_sms_reads_clean_in_both_languages() {
    let mut bad = Vec::new();
    for lang in [Lang::Ru, Lang::En] {
        let texts = every_text(lang);
        assert!(texts.len() > 100, "{} texts", texts.len());
        for text in texts {
            let found = faults(lang, &text);
            if !found.is_empty() {
                bad.push(format!("{text}\n    {}", found.join(", ")));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} texts to fix:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn the_proofreader_marks_what_it_should() {
    assert!(!faults(Lang::Ru, "Мера: штраф 4000 руб..").is_empty());
    assert!(!faults(Lang::Ru, "Объясните в приложении: {app}").is_empty());
    assert!(!faults(Lang::En, "a fine of $amount").is_empty());
    assert!(!faults(Lang::En, "Hello %s.").is_empty());
    assert!(!faults(Lang::En, "the pass is cancelled.").is_empty());
    assert!(!faults(Lang::En, "Done. the pass is cancelled.").is_empty());
    assert!(!faults(Lang::Ru, "Готово , спасибо.").is_empty());
    assert!(faults(
        Lang::En,
        "Pass 7K3: Taking out the trash... Cancel: CANCEL 7K3"
    )
    .is_empty());
    assert!(faults(Lang::En, "Pass: PASS and a code, e.g. PASS 3. Codes: HELP").is_empty());
}

/// The monitoring texts that ask for something in the app end with its address, and none
/// names the app by a bare word ("в приложении: Пациент").
#[test]
fn monitoring_texts_point_to_the_app() {
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    for lang in [Lang::Ru, Lang::En] {
        for sms in patient_sms() {
            let text = patient::patient_with_app(lang, &tz, &sms, APP);
            assert!(
                !text.contains("Пациент") && !text.contains("Patient."),
                "{text}"
            );
            let asks = matches!(
                sms,
                PatientSms::FlagRaised { .. } | PatientSms::Confirmed { .. }
            );
            if asks {
                assert!(text.ends_with(APP), "{text}");
            }
        }
    }
}
