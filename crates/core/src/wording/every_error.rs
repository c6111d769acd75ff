//! The wording test: every refusal and validation error this crate can produce, in both
//! languages, through [`super::problems`].
//!
//! Each error type has a `variant` function with an exhaustive match: a new variant does not
//! compile until it is numbered there, and the test fails until a sample of it is listed.
//!
//! Not here, because no person reads them on a page or in an SMS: `PolicyError` and
//! `IdError` (for whoever writes a regime file, with its line and the TOML key),
//! `CheckinConfigError` (settings), and `GeofenceError`, `FixError` and `OfficerIdError`
//! (the server words those faults itself, in Fluent texts the server's wording test reads).

use jiff::Timestamp;

use super::problems;
use crate::domain::{
    DocumentError, DocumentKind, GeoError, InnError, InstantError, NameError, PhoneError, TextError,
};
use crate::issuance::refusal::LocalTime;
use crate::issuance::{Refusal, RefusalCode};
use crate::monitoring::case::{OfficerId, TransitionError};
use crate::policy::{self, FieldError, FieldKind, Regime};
use crate::{Lang, Localized};

/// Fails with every problem of every message, after checking each variant has a sample.
fn check_all<E>(
    name: &str,
    samples: &[E],
    variants: usize,
    variant: fn(&E) -> usize,
    text: fn(&E) -> Localized,
) {
    let mut seen = vec![false; variants];
    let mut found = Vec::new();
    for sample in samples {
        seen[variant(sample)] = true;
        let message = text(sample);
        found.extend(problems(&message.ru, Lang::Ru));
        found.extend(problems(&message.en, Lang::En));
    }
    let missing: Vec<usize> = (0..variants).filter(|v| !seen[*v]).collect();
    assert!(
        missing.is_empty(),
        "{name}: no sample of variants {missing:?}"
    );
    assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn domain_errors_read_well() {
    fn document(e: &DocumentError) -> usize {
        match e {
            DocumentError::UnknownKind(_) => 0,
            DocumentError::Malformed { .. } => 1,
        }
    }
    let mut samples = vec![DocumentError::UnknownKind("passport".into())];
    samples.extend(DocumentKind::ALL.map(|kind| DocumentError::Malformed {
        kind,
        number: "45 10 12".into(),
    }));
    check_all(
        "DocumentError",
        &samples,
        2,
        document,
        DocumentError::localized,
    );

    fn geo(e: &GeoError) -> usize {
        match e {
            GeoError::Latitude(_) => 0,
            GeoError::Longitude(_) => 1,
        }
    }
    let samples = [
        GeoError::Latitude(91.5),
        GeoError::Longitude(-181.0),
        GeoError::Latitude(f64::NAN),
    ];
    check_all("GeoError", &samples, 2, geo, GeoError::localized);

    fn inn(e: &InnError) -> usize {
        match e {
            InnError::Empty => 0,
            InnError::NotDigits(_) => 1,
            InnError::WrongLength(_) => 2,
            InnError::BadRegion => 3,
            InnError::Checksum => 4,
        }
    }
    let samples = [
        InnError::Empty,
        InnError::NotDigits('-'),
        InnError::WrongLength(9),
        InnError::BadRegion,
        InnError::Checksum,
    ];
    check_all("InnError", &samples, 5, inn, InnError::localized);

    fn instant(e: &InstantError) -> usize {
        match e {
            InstantError::Format(_) => 0,
            InstantError::Offset(_) => 1,
            InstantError::OutOfRange(_) => 2,
        }
    }
    let samples = [
        crate::domain::parse_instant("15.04.2020 10:00").unwrap_err(),
        crate::domain::parse_instant("2020-04-15T10:00:00+23:00").unwrap_err(),
        crate::domain::parse_instant("1999-04-15T10:00:00Z").unwrap_err(),
    ];
    check_all(
        "InstantError",
        &samples,
        3,
        instant,
        InstantError::localized,
    );

    fn name(e: &NameError) -> usize {
        match e {
            NameError::Length(_) => 0,
            NameError::InvalidCharacter(_) => 1,
            NameError::NoLetters => 2,
        }
    }
    let samples = [
        NameError::Length(1),
        NameError::InvalidCharacter('2'),
        NameError::NoLetters,
    ];
    check_all("NameError", &samples, 3, name, NameError::localized);

    fn phone(e: &PhoneError) -> usize {
        match e {
            PhoneError::Empty => 0,
            PhoneError::InvalidCharacter(_) => 1,
            PhoneError::InternationalLength(_) => 2,
            PhoneError::RussianLength(_) => 3,
            PhoneError::Unrecognised(_) => 4,
            PhoneError::NotMobile => 5,
        }
    }
    let samples = [
        PhoneError::Empty,
        PhoneError::InvalidCharacter('x'),
        PhoneError::InternationalLength(5),
        PhoneError::RussianLength(9),
        PhoneError::Unrecognised(7),
        PhoneError::NotMobile,
    ];
    check_all("PhoneError", &samples, 6, phone, PhoneError::localized);

    fn text(e: &TextError) -> usize {
        match e {
            TextError::Empty => 0,
            TextError::TooLong { .. } => 1,
            TextError::Control { .. } => 2,
        }
    }
    let samples = [
        TextError::Empty,
        TextError::TooLong { len: 301, max: 300 },
        TextError::Control {
            code: 0,
            position: 3,
        },
    ];
    check_all("TextError", &samples, 3, text, TextError::localized);
}

#[test]
fn display_of_domain_errors_is_the_english_message() {
    let e = DocumentError::Malformed {
        kind: DocumentKind::PassportRu,
        number: "45 10 12".into(),
    };
    assert_eq!(e.to_string(), e.localized().en);
    assert_eq!(
        InnError::Checksum.to_string(),
        InnError::Checksum.localized().en
    );
}

/// A value of each field kind that its check refuses, and each way an INN can be wrong.
fn field_errors() -> Vec<(FieldKind, FieldError)> {
    let mut out = Vec::new();
    for kind in FieldKind::ALL {
        let bad = match kind {
            FieldKind::EmployerInn => "7707083894",
            FieldKind::EmployerName => "x",
            FieldKind::VehiclePlate => "A1",
        };
        out.push((kind, kind.parse_value(bad).unwrap_err()));
    }
    for bad in ["", "77070-83893", "770708389", "0000000000"] {
        out.push((
            FieldKind::EmployerInn,
            FieldKind::EmployerInn.parse_value(bad).unwrap_err(),
        ));
    }
    out
}

#[test]
fn field_errors_read_well() {
    let samples = field_errors();
    check_all("FieldError", &samples, 1, |_| 0, |(_, e)| e.message.clone());
}

fn regimes() -> Vec<Regime> {
    let custom = policy::parse_regime(
        r#"
id = "wording-test"
issuer = "RU-MOW"
time_zone = "Asia/Yekaterinburg"
effective_from = 2020-04-15T00:00:00+05:00
until = 2020-06-15T00:00:00+05:00
max_passes_per_day = 1
[name]
ru = "Проверочный режим"
en = "Test regime"
[legal_act]
title = "Проверочный акт"
[cap]
count = 3
per = "day"
[[purposes]]
id = "hourly"
sms_code = 1
name = { ru = "Прогулка", en = "A walk" }
max_minutes = 1
quota = { count = 1, per = "36h" }
hours = { from = "22:00", to = "06:00" }
max_distance_m = 100
[[purposes]]
id = "monthly"
sms_code = 2
name = { ru = "Банк", en = "Bank" }
max_minutes = 60
quota = { count = 3, per = "month" }
required_fields = ["employer_inn", "employer_name", "vehicle_plate"]
[[purposes]]
id = "daily"
sms_code = 3
name = { ru = "Магазин", en = "Shop" }
max_minutes = 60
quota = { count = 2, per = "day" }
[[purposes]]
id = "weekly"
sms_code = 4
name = { ru = "Дача", en = "Country house" }
max_minutes = 60
quota = { count = 21, per = "week" }
"#,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let mut all = policy::builtin_regimes();
    all.push(custom);
    all
}

/// Every way each refusal can be worded, for every purpose of every regime.
fn refusals() -> Vec<Refusal> {
    let now = at("2020-04-20T07:30:00Z");
    let later = at("2020-04-27T07:00:00Z");
    let mut out = vec![
        Refusal::profile_incomplete(),
        Refusal::no_regime_in_force(now),
        Refusal::invalid_duration(),
    ];
    for regime in regimes() {
        let clock = LocalTime::from(&regime);
        out.push(Refusal::valid_from_in_past(&clock, now));
        out.push(Refusal::valid_from_too_far_ahead(&clock, later, now));
        out.push(Refusal::regime_not_yet_in_force(&regime));
        out.push(Refusal::regime_ended(&regime, later));
        out.push(Refusal::unknown_purpose(&regime, "рыбалка"));
        for next in [Some(later), None] {
            out.push(Refusal::ceiling_reached(&clock, &regime.ceiling(), next));
            if let Some(cap) = regime.cap() {
                out.push(Refusal::regime_cap_exceeded(&clock, cap, next));
            }
        }
        for purpose in regime.purposes() {
            for kind in FieldKind::ALL {
                out.push(Refusal::missing_field(purpose, kind));
            }
            for (kind, error) in field_errors() {
                out.push(Refusal::invalid_field(kind, error));
            }
            for (max, asked) in [(1, 2), (21, 22), (180, 300)] {
                out.push(Refusal::duration_too_long(purpose, max, asked));
            }
            out.push(Refusal::too_far_from_home(purpose, 100, 1234.4));
            for next in [Some(later), None] {
                if let Some(hours) = purpose.hours() {
                    out.push(Refusal::outside_allowed_hours(&clock, purpose, hours, next));
                }
                if let Some(quota) = purpose.quota() {
                    out.push(Refusal::quota_exceeded(&clock, purpose, quota, next));
                }
            }
        }
    }
    out
}

#[test]
fn refusals_read_well() {
    fn variant(r: &Refusal) -> usize {
        match r.code {
            RefusalCode::ProfileIncomplete => 0,
            RefusalCode::ValidFromInPast => 1,
            RefusalCode::ValidFromTooFarAhead => 2,
            RefusalCode::NoRegimeInForce => 3,
            RefusalCode::RegimeNotYetInForce => 4,
            RefusalCode::RegimeEnded => 5,
            RefusalCode::UnknownPurpose => 6,
            RefusalCode::MissingField => 7,
            RefusalCode::InvalidField => 8,
            RefusalCode::InvalidDuration => 9,
            RefusalCode::DurationTooLong => 10,
            RefusalCode::OutsideAllowedHours => 11,
            RefusalCode::TooFarFromHome => 12,
            RefusalCode::QuotaExceeded => 13,
            RefusalCode::RegimeCapExceeded => 14,
        }
    }
    let samples = refusals();
    check_all("Refusal", &samples, RefusalCode::ALL.len(), variant, |r| {
        r.message.clone()
    });
    for r in &samples {
        assert!(!r.message.en.contains("Asia/"), "{}", r.message.en);
    }
}

#[test]
fn flag_step_refusals_read_well() {
    fn variant(e: &TransitionError) -> usize {
        match e {
            TransitionError::NotAllowed { .. } => 0,
            TransitionError::NotSanctionable(_) => 1,
            TransitionError::SameOfficer(_) => 2,
            TransitionError::MissingReason(_) => 3,
            TransitionError::TimeGoesBackwards { .. } => 4,
            TransitionError::NotRaised => 5,
        }
    }
    let samples = [
        TransitionError::NotAllowed {
            state: "open",
            event: "confirmed",
        },
        TransitionError::NotAllowed {
            state: "dismissed",
            event: "confirmed",
        },
        TransitionError::NotSanctionable("no_signal"),
        TransitionError::SameOfficer(OfficerId::parse("officer-1").unwrap()),
        TransitionError::MissingReason("appeal"),
        TransitionError::TimeGoesBackwards {
            last: at("2020-04-20T07:30:00Z"),
            at: at("2020-04-20T07:00:00Z"),
        },
        TransitionError::NotRaised,
    ];
    check_all(
        "TransitionError",
        &samples,
        6,
        variant,
        TransitionError::localized,
    );
}
