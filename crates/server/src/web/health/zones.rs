//! The time zones an officer picks a case's clocks from: Russia's zones by a city everyone
//! knows («Москва (UTC+3)»), and the zone of the regime in force if it is none of them. The
//! form sends and the store keeps the zone's IANA id; the officer never reads or types one.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::lang::Lang;

/// (IANA id, city in Russian, city in English), west to east.
const ZONES: [(&str, &str, &str); 11] = [
    ("Europe/Kaliningrad", "Калининград", "Kaliningrad"),
    ("Europe/Moscow", "Москва", "Moscow"),
    ("Europe/Samara", "Самара", "Samara"),
    ("Asia/Yekaterinburg", "Екатеринбург", "Yekaterinburg"),
    ("Asia/Omsk", "Омск", "Omsk"),
    ("Asia/Krasnoyarsk", "Красноярск", "Krasnoyarsk"),
    ("Asia/Irkutsk", "Иркутск", "Irkutsk"),
    ("Asia/Yakutsk", "Якутск", "Yakutsk"),
    ("Asia/Vladivostok", "Владивосток", "Vladivostok"),
    ("Asia/Magadan", "Магадан", "Magadan"),
    (
        "Asia/Kamchatka",
        "Петропавловск-Камчатский",
        "Petropavlovsk-Kamchatsky",
    ),
];

/// One choice of the list.
pub struct ZoneOption {
    /// The IANA id the form sends.
    pub id: String,
    /// «Москва (UTC+3)».
    pub label: String,
    pub selected: bool,
}

/// The zones offered: Russia's, and `regime_zone` (the regime in force's) when it is not
/// one of them.
fn offered(regime_zone: &str) -> Vec<(String, String, String)> {
    let mut all: Vec<(String, String, String)> = ZONES
        .iter()
        .map(|(id, ru, en)| (id.to_string(), ru.to_string(), en.to_string()))
        .collect();
    if !ZONES.iter().any(|(id, _, _)| *id == regime_zone) && TimeZone::get(regime_zone).is_ok() {
        // A regime elsewhere: its zone by the city in its id ("America/New_York": New York).
        let city = regime_zone
            .rsplit('/')
            .next()
            .unwrap_or(regime_zone)
            .replace('_', " ");
        all.insert(0, (regime_zone.to_string(), city.clone(), city));
    }
    all
}

/// Whether `zone` is one of the zones offered.
pub fn is_offered(zone: &str, regime_zone: &str) -> bool {
    offered(regime_zone).iter().any(|(id, _, _)| id == zone)
}

/// The list for the form, `chosen` selected, offsets as they are at `now`.
pub fn options(chosen: &str, regime_zone: &str, now: Timestamp, lang: Lang) -> Vec<ZoneOption> {
    offered(regime_zone)
        .into_iter()
        .map(|(id, ru, en)| {
            let offset = TimeZone::get(&id)
                .map(|tz| utc_offset(tz.to_offset(now).seconds()))
                .unwrap_or_default();
            let city = lang.tr(&ru, &en).to_string();
            ZoneOption {
                selected: id == chosen,
                label: format!("{city} ({offset})"),
                id,
            }
        })
        .collect()
}

/// "UTC+3", "UTC+5:30", "UTC−1", "UTC".
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { "−" } else { "+" };
    let minutes = seconds.unsigned_abs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "UTC".into(),
        (h, 0) => format!("UTC{sign}{h}"),
        (h, m) => format!("UTC{sign}{h}:{m:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cities_with_offsets_and_the_regime_zone_first_when_it_is_not_russian() {
        let now: Timestamp = "2020-04-15T10:00:00Z".parse().unwrap();
        let ru = options("Europe/Moscow", "Europe/Moscow", now, Lang::Ru);
        assert_eq!(ru.len(), 11);
        let moscow = ru.iter().find(|o| o.selected).unwrap();
        assert_eq!(moscow.label, "Москва (UTC+3)");
        assert_eq!(moscow.id, "Europe/Moscow");
        for o in &ru {
            assert!(TimeZone::get(&o.id).is_ok(), "{}", o.id);
            assert!(!o.label.contains('/'), "{}", o.label);
        }
        let en = options("Asia/Kamchatka", "America/New_York", now, Lang::En);
        assert_eq!(en[0].label, "New York (UTC−4)");
        assert_eq!(en.iter().filter(|o| o.selected).count(), 1);
        assert!(is_offered("America/New_York", "America/New_York"));
        assert!(is_offered("Asia/Omsk", "Europe/Moscow"));
        assert!(!is_offered("America/New_York", "Europe/Moscow"));
        assert!(!is_offered("Mars/Olympus", "Mars/Olympus"));
        assert_eq!(utc_offset(19_800), "UTC+5:30");
        assert_eq!(utc_offset(0), "UTC");
    }
}
