//! The regimes that ship with propusk, as TOML files in `crates/core/regimes/`.

use super::{parse_regime, Regime};

/// The id of the regime `propusk serve` loads when given no other.
pub const DEFAULT_REGIME_ID: &str = "moscow-2020";

const MOSCOW_2020: &str = include_str!("../../regimes/moscow-2020.toml");
const TATARSTAN_2020: &str = include_str!("../../regimes/tatarstan-2020.toml");

fn builtin(name: &str, text: &str) -> Regime {
    // The files are part of the source tree and checked by the tests below; a failure here is
    // a build defect, not an input error.
    parse_regime(text).unwrap_or_else(|errors| {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("built-in regime {name} is invalid:\n{}", errors.join("\n"))
    })
}

/// Moscow's digital-pass regime of spring 2020, without an end date so that it can serve as
/// the default today (see `regimes/README.md`).
pub fn moscow_2020() -> Regime {
    builtin("moscow-2020", MOSCOW_2020)
}

/// Tatarstan's SMS-pass regime of spring 2020 (1 April – 12 May 2020).
pub fn tatarstan_2020() -> Regime {
    builtin("tatarstan-2020", TATARSTAN_2020)
}

/// Every built-in regime.
pub fn builtin_regimes() -> Vec<Regime> {
    vec![moscow_2020(), tatarstan_2020()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{FieldKind, MaxDuration, Window};
    use jiff::SignedDuration;

    #[test]
    fn moscow_2020_has_the_six_purposes_of_the_issue() {
        let r = moscow_2020();
        assert_eq!(r.id(), DEFAULT_REGIME_ID);
        assert_eq!(r.issuer(), "RU-MOW");
        assert_eq!(r.time_zone_name(), "Europe/Moscow");
        assert_eq!(
            r.effective_from(),
            "2020-04-15T00:00:00+03:00".parse().unwrap()
        );
        assert_eq!(r.until(), None);
        assert!(r.legal_act().title.contains("43-УМ"));
        let ids: Vec<(&str, u8)> = r
            .purposes()
            .iter()
            .map(|p| (p.id().as_str(), p.sms_code()))
            .collect();
        assert_eq!(
            ids,
            [
                ("work", 1),
                ("medical", 2),
                ("shopping", 3),
                ("trash", 4),
                ("pet", 5),
                ("emergency", 6)
            ]
        );
        let work = r.purpose("work").unwrap();
        assert_eq!(work.required_fields(), [FieldKind::EmployerInn]);
        assert_eq!(work.duration(), MaxDuration::UntilEndOfDay);
        let shopping = r.purpose("shopping").unwrap();
        assert_eq!(shopping.duration(), MaxDuration::Minutes(180));
        let quota = shopping.quota().unwrap();
        assert_eq!(
            (quota.count(), quota.window()),
            (2, Window::Rolling(SignedDuration::from_hours(168)))
        );
        assert_eq!(
            r.purpose("trash").unwrap().duration(),
            MaxDuration::Minutes(30)
        );
        let pet = r.purpose("pet").unwrap();
        assert_eq!(
            (pet.duration(), pet.max_distance_m()),
            (MaxDuration::Minutes(60), Some(100))
        );
        let emergency = r.purpose("emergency").unwrap();
        assert!(emergency.always_allowed());
        assert!(emergency.quota().is_none());
        assert_eq!(r.purpose_by_sms_code(3).unwrap().id(), "shopping");
    }

    #[test]
    fn tatarstan_2020_has_nine_purposes_and_a_daily_cap() {
        let r = tatarstan_2020();
        assert_eq!(r.issuer(), "RU-TA");
        assert_eq!(r.purposes().len(), 9);
        let codes: Vec<u8> = r.purposes().iter().map(|p| p.sms_code()).collect();
        assert_eq!(codes, (1..=9).collect::<Vec<_>>());
        assert!(r.cap().is_none(), "two a day is the ceiling");
        assert_eq!(r.max_passes_per_day(), 2);
        let court = r.purpose_by_sms_code(1).unwrap();
        assert_eq!(court.id(), "court");
        assert_eq!(court.duration(), MaxDuration::Minutes(60));
        assert_eq!(
            court.quota().map(|q| (q.count(), q.window())),
            Some((1, Window::Month))
        );
        let dacha = r.purpose("dacha").unwrap();
        assert_eq!(dacha.duration(), MaxDuration::Minutes(120));
        assert_eq!(
            dacha.quota().map(|q| (q.count(), q.window())),
            Some((4, Window::Week))
        );
        assert!(r.until().is_some());
        assert!(r.purposes().iter().all(|p| !p.always_allowed()));
    }
}
