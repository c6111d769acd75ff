//! The wording test for the messages this crate writes itself in Russian and English (not in
//! the Fluent files, which `web::i18n` checks): a resident's profile problems and the sign-in
//! refusals, each through `propusk_core::wording::problems` in both languages.

use propusk_core::wording::problems;
use propusk_core::{Lang, Localized};

use super::residents::{parse_profile, DocumentInput, HomeInput, ProfileInput};
use super::sign_in::{no_live_code_message, wrong_code_message, StaffRefusal};
use crate::auth::StaffSignInError;

fn check(messages: &[Localized]) {
    let found: Vec<String> = messages
        .iter()
        .flat_map(|m| {
            let mut p = problems(&m.ru, Lang::Ru);
            p.extend(problems(&m.en, Lang::En));
            p
        })
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn profile(
    name: Option<&str>,
    kind: Option<&str>,
    number: Option<&str>,
    home: Option<(f64, f64)>,
) -> ProfileInput {
    ProfileInput {
        full_name: name.map(str::to_string),
        document: Some(DocumentInput {
            kind: kind.map(str::to_string),
            number: number.map(str::to_string),
        }),
        home: Some(HomeInput {
            address: home.map(|_| "Москва, ул. Тверская, д. 1".to_string()),
            lat: home.map(|h| h.0),
            lon: home.map(|h| h.1),
        }),
    }
}

#[test]
fn profile_problems_read_well() {
    let inputs = [
        profile(None, None, None, None),
        ProfileInput {
            full_name: None,
            document: None,
            home: None,
        },
        profile(Some("И"), Some("passport"), Some("1"), Some((95.0, 37.6))),
        profile(
            Some("Иван 2"),
            Some("passport_ru"),
            Some("45 10 12"),
            Some((55.7, 190.0)),
        ),
        profile(
            Some("- -"),
            Some("birth_certificate_ru"),
            Some("IV 12"),
            Some((55.7, 37.6)),
        ),
        profile(
            Some("Иванов Иван"),
            Some("foreign_document"),
            Some("A"),
            Some((55.7, 37.6)),
        ),
        profile(
            Some("Иванов Иван"),
            Some("foreign_passport_ru"),
            Some(""),
            Some((f64::NAN, 37.6)),
        ),
    ];
    let mut messages = Vec::new();
    for input in &inputs {
        let Err(problems) = parse_profile(input) else {
            panic!("a bad profile is refused");
        };
        messages.extend(problems.into_iter().map(|p| p.detail));
    }
    assert!(messages.len() > 10, "{messages:?}");
    check(&messages);
}

#[test]
fn sign_in_refusals_read_well() {
    let now: jiff::Timestamp = "2020-04-15T10:00:00Z".parse().unwrap();
    let mut messages = vec![
        wrong_code_message(4),
        wrong_code_message(0),
        no_live_code_message(),
    ];
    for e in [
        StaffSignInError::WrongCredentials,
        StaffSignInError::Throttled {
            limit: "login.username",
            retry_at: now + jiff::SignedDuration::from_secs(40),
        },
        StaffSignInError::Busy,
    ] {
        let Ok(refusal) = StaffRefusal::of(e, now) else {
            panic!("a refusal, not a store failure");
        };
        messages.push(refusal.message);
    }
    check(&messages);
}
