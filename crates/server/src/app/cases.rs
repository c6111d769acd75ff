//! Opening a quarantine case: what an officer states about the patient, checked once for
//! the API (`routes/monitoring/cases.rs`) and the officers' page (`web/health/cases.rs`).
//!
//! Each channel reads its own form of the input (JSON with RFC 3339 times, a page's text
//! fields with local times) into a [`CaseDraft`]; [`check`] says what is wrong with it, as
//! data, in one order; each channel words the faults its own way and names its own fields.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_core::domain::{FullName, GeoPoint, PhoneNumber};
use propusk_core::monitoring::geofence::Geofence;
use propusk_core::Localized;
use propusk_store::NewCase;

use crate::monitoring_rules as rules;

/// A case as stated, each part as far as its channel could read it.
pub struct CaseDraft<'a> {
    pub phone: &'a str,
    pub full_name: &'a str,
    pub address: &'a str,
    /// The home's coordinates; `None` when what was typed is not a pair of numbers.
    pub home: Option<(f64, f64)>,
    /// The home radius in metres (NaN when what was typed is not a number).
    pub radius_m: f64,
    /// An IANA time-zone name.
    pub time_zone: &'a str,
    /// The language of the patient's SMS; none for the default.
    pub lang: Option<&'a str>,
    /// The start and end of the quarantine, or why the channel could not read them.
    pub starts_at: Result<Timestamp, Localized>,
    pub ends_at: Result<Timestamp, Localized>,
}

/// What is wrong with a case as stated.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseFault {
    Phone(Localized),
    Name(Localized),
    /// Missing, or longer than 300 characters.
    Address,
    /// Not a pair of numbers.
    NoCoordinates,
    /// Numbers out of range.
    Coordinates(Localized),
    /// Outside [`Geofence::MIN_RADIUS_M`] to [`Geofence::MAX_RADIUS_M`].
    Radius(f64),
    /// Not an IANA name.
    TimeZone(String),
    /// Neither `ru` nor `en`.
    SmsLang,
    /// A start that could not be read.
    Start(Localized),
    /// An end that could not be read.
    End(Localized),
    /// A start more than 60 days from today.
    StartTooFar,
    /// An end not after the start, or more than 60 days after it.
    Period,
}

/// The case to open, or every fault, in the order the form lists its fields.
pub fn check(draft: CaseDraft<'_>, now: Timestamp) -> Result<NewCase, Vec<CaseFault>> {
    let mut faults = Vec::new();
    let phone = PhoneNumber::parse(draft.phone)
        .map_err(|e| faults.push(CaseFault::Phone(e.localized())))
        .ok();
    let name = FullName::parse(draft.full_name)
        .map_err(|e| faults.push(CaseFault::Name(e.localized())))
        .ok();
    let address = rules::home_address(draft.address);
    if address.is_none() {
        faults.push(CaseFault::Address);
    }
    let home = match draft.home {
        None => {
            faults.push(CaseFault::NoCoordinates);
            None
        }
        Some((lat, lon)) => GeoPoint::new(lat, lon)
            .map_err(|e| faults.push(CaseFault::Coordinates(e.localized())))
            .ok(),
    };
    if let Some(home) = home {
        if Geofence::new(home, draft.radius_m).is_err() {
            faults.push(CaseFault::Radius(draft.radius_m));
        }
    }
    if TimeZone::get(draft.time_zone).is_err() {
        faults.push(CaseFault::TimeZone(draft.time_zone.to_string()));
    }
    let sms_lang = rules::sms_lang(draft.lang);
    if sms_lang.is_none() {
        faults.push(CaseFault::SmsLang);
    }
    let starts_at = draft
        .starts_at
        .map_err(|e| faults.push(CaseFault::Start(e)))
        .ok();
    let ends_at = draft
        .ends_at
        .map_err(|e| faults.push(CaseFault::End(e)))
        .ok();
    if starts_at.is_some_and(|s| !rules::starts_ok(s, now)) {
        faults.push(CaseFault::StartTooFar);
    }
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if !rules::period_ok(s, e) {
            faults.push(CaseFault::Period);
        }
    }
    match (phone, name, address, home, sms_lang, starts_at, ends_at) {
        (
            Some(phone),
            Some(name),
            Some(home_address),
            Some(home),
            Some(sms_lang),
            Some(starts_at),
            Some(ends_at),
        ) if faults.is_empty() => Ok(NewCase {
            lang: sms_lang.code().to_string(),
            phone: phone.as_str().to_string(),
            full_name: name.as_str().to_string(),
            home_address,
            home,
            radius_m: draft.radius_m,
            time_zone: draft.time_zone.to_string(),
            starts_at,
            ends_at,
        }),
        _ => Err(faults),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft<'a>(now: Timestamp) -> CaseDraft<'a> {
        CaseDraft {
            phone: "+79161234567",
            full_name: "Сидорова Анна Павловна",
            address: "Москва, ул. Тверская, 1",
            home: Some((55.7575, 37.613)),
            radius_m: 100.0,
            time_zone: "Europe/Moscow",
            lang: None,
            starts_at: Ok(now),
            ends_at: Ok(now + jiff::SignedDuration::from_hours(24 * 14)),
        }
    }

    #[test]
    fn a_whole_case_is_opened_as_stated() {
        let now: Timestamp = "2020-04-15T10:00:00Z".parse().unwrap();
        let case = check(draft(now), now).unwrap();
        assert_eq!(case.phone, "+79161234567");
        assert_eq!(case.lang, "ru");
        assert_eq!(case.radius_m, 100.0);
    }

    #[test]
    fn every_fault_is_reported_at_once_in_the_forms_order() {
        let now: Timestamp = "2020-04-15T10:00:00Z".parse().unwrap();
        let bad = CaseDraft {
            phone: "12",
            full_name: "",
            address: "",
            home: Some((95.0, 37.0)),
            time_zone: "Mars/Olympus",
            lang: Some("de"),
            starts_at: Ok(now + jiff::SignedDuration::from_hours(24 * 90)),
            ends_at: Err(Localized::new("нет", "no")),
            ..draft(now)
        };
        let faults = check(bad, now).unwrap_err();
        let kinds: Vec<&str> = faults
            .iter()
            .map(|f| match f {
                CaseFault::Phone(_) => "phone",
                CaseFault::Name(_) => "name",
                CaseFault::Address => "address",
                CaseFault::NoCoordinates | CaseFault::Coordinates(_) => "home",
                CaseFault::Radius(_) => "radius",
                CaseFault::TimeZone(_) => "zone",
                CaseFault::SmsLang => "lang",
                CaseFault::Start(_) | CaseFault::StartTooFar => "start",
                CaseFault::End(_) => "end",
                CaseFault::Period => "period",
            })
            .collect();
        assert_eq!(
            kinds,
            ["phone", "name", "address", "home", "zone", "lang", "end", "start"]
        );
    }

    #[test]
    fn the_radius_is_checked_against_a_home_and_its_bounds() {
        let now: Timestamp = "2020-04-15T10:00:00Z".parse().unwrap();
        for radius_m in [f64::NAN, 1.0, 1e9] {
            let faults = check(
                CaseDraft {
                    radius_m,
                    ..draft(now)
                },
                now,
            )
            .unwrap_err();
            assert!(matches!(faults[..], [CaseFault::Radius(_)]), "{radius_m}");
        }
        let faults = check(
            CaseDraft {
                home: None,
                radius_m: 1.0,
                ..draft(now)
            },
            now,
        )
        .unwrap_err();
        assert_eq!(faults, [CaseFault::NoCoordinates]);
    }
}
