//! The quarantine-monitoring settings of `propusk serve`: how long a closed case keeps its
//! raw data, when check-ins may be asked (and whether to ask at once when in doubt), and how
//! often the patient's app keeps a fix. Layered like every setting: the `[monitoring]`
//! table of the configuration file, then `PROPUSK_*` variables, then flags.

use anyhow::{bail, Context, Result};
use clap::Args;
use jiff::civil::Time;
use jiff::SignedDuration;
use propusk_core::monitoring::checkins::{CheckinConfig, DaytimeHours};
use propusk_server::monitoring::{MonitoringSettings, DEFAULT_RETENTION, REPORT_EVERY_RANGE};
use serde::Deserialize;

#[derive(Args, Debug, Default)]
pub struct MonitoringArgs {
    /// Days raw locations are kept after the day they were reported (whole days, at least
    /// 3), and a closed quarantine case its home and photos (1–365) [default: 30].
    #[arg(long, env = "PROPUSK_RETENTION_DAYS", value_name = "DAYS")]
    retention_days: Option<u32>,
    /// Local hours in which check-ins are asked and answered, within 07:00–22:00
    /// [default: 09:00-21:00].
    #[arg(long, env = "PROPUSK_CHECKIN_HOURS", value_name = "HH:MM-HH:MM")]
    checkin_hours: Option<String>,
    /// Check-ins a day (0–6) [default: 3].
    #[arg(long, env = "PROPUSK_CHECKINS_PER_DAY")]
    checkins_per_day: Option<u8>,
    /// Minutes a patient has to answer a check-in (5–60) [default: 20].
    #[arg(long, env = "PROPUSK_CHECKIN_DEADLINE_MINS", value_name = "MINUTES")]
    checkin_deadline_mins: Option<i64>,
    /// Ask the patient at once, in check-in hours, when a confident fix first places the
    /// phone far from home [default: true].
    #[arg(long, env = "PROPUSK_ASK_WHEN_IN_DOUBT", value_name = "BOOL")]
    ask_when_in_doubt: Option<bool>,
    /// How often the patient's app keeps a location fix while open, seconds (30–600)
    /// [default: 60].
    #[arg(long, env = "PROPUSK_REPORT_EVERY_SECS", value_name = "SECONDS")]
    report_every_secs: Option<i64>,
}

/// The `[monitoring]` table of the configuration file. Every key is optional.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct MonitoringFileConfig {
    retention_days: Option<u32>,
    checkin_hours: Option<String>,
    checkins_per_day: Option<u8>,
    checkin_deadline_mins: Option<i64>,
    ask_when_in_doubt: Option<bool>,
    report_every_secs: Option<i64>,
}

const MAX_RETENTION_DAYS: u32 = 365;

impl MonitoringArgs {
    /// The settings after layering file < environment < flags, each checked.
    pub fn resolve(&self, file: Option<MonitoringFileConfig>) -> Result<MonitoringSettings> {
        let file = file.unwrap_or_default();
        let defaults = MonitoringSettings::default();
        let retention = match self.retention_days.or(file.retention_days) {
            None => DEFAULT_RETENTION,
            Some(days @ 1..=MAX_RETENTION_DAYS) => SignedDuration::from_hours(24 * i64::from(days)),
            Some(days) => bail!(
                "monitoring retention of {days} days is out of range; expected 1 to \
                 {MAX_RETENTION_DAYS} days (raw locations and photos must not outlive their use)"
            ),
        };
        let base = &defaults.checkins;
        let hours = match self.checkin_hours.clone().or(file.checkin_hours) {
            None => base.hours(),
            Some(text) => parse_hours(&text)?,
        };
        let checkins = CheckinConfig::new(
            hours,
            self.checkins_per_day
                .or(file.checkins_per_day)
                .unwrap_or(base.per_day()),
            self.checkin_deadline_mins
                .or(file.checkin_deadline_mins)
                .map_or(base.deadline(), SignedDuration::from_mins),
            base.min_gap(),
        )
        .context("monitoring check-in settings")?;
        let (min, max) = REPORT_EVERY_RANGE;
        let report_every = match self.report_every_secs.or(file.report_every_secs) {
            None => defaults.report_every,
            Some(secs) if (min.as_secs()..=max.as_secs()).contains(&secs) => {
                SignedDuration::from_secs(secs)
            }
            Some(secs) => bail!(
                "the app's report cadence of {secs} s is out of range; expected {} to {} seconds",
                min.as_secs(),
                max.as_secs()
            ),
        };
        let mut asking = defaults.asking.clone();
        asking.enabled = self
            .ask_when_in_doubt
            .or(file.ask_when_in_doubt)
            .unwrap_or(asking.enabled);
        Ok(MonitoringSettings {
            retention,
            checkins,
            asking,
            report_every,
            ..defaults
        })
    }
}

/// `HH:MM-HH:MM`, local time, within the daytime bounds.
fn parse_hours(text: &str) -> Result<DaytimeHours> {
    let expected = || {
        format!(
            "check-in hours {text:?}: expected HH:MM-HH:MM within 07:00-22:00, e.g. 09:00-21:00"
        )
    };
    let (from, to) = text.trim().split_once('-').with_context(expected)?;
    let time = |s: &str| -> Result<Time> { s.trim().parse::<Time>().with_context(expected) };
    Ok(DaytimeHours::new(time(from)?, time(to)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(hours: Option<&str>, days: Option<u32>) -> MonitoringArgs {
        MonitoringArgs {
            retention_days: days,
            checkin_hours: hours.map(str::to_string),
            ..MonitoringArgs::default()
        }
    }

    #[test]
    fn defaults_are_thirty_days_and_nine_to_nine() {
        let s = MonitoringArgs::default().resolve(None).unwrap();
        assert_eq!(s.retention, SignedDuration::from_hours(30 * 24));
        assert_eq!(s.checkins, CheckinConfig::default());
    }

    #[test]
    fn flags_override_the_file() {
        let file: MonitoringFileConfig = toml::from_str(
            "retention_days = 14\ncheckin_hours = \"08:00-20:00\"\ncheckins_per_day = 2",
        )
        .unwrap();
        let s = args(Some("10:00-18:30"), None).resolve(Some(file)).unwrap();
        assert_eq!(s.retention, SignedDuration::from_hours(14 * 24));
        assert_eq!(s.checkins.hours().from(), Time::constant(10, 0, 0, 0));
        assert_eq!(s.checkins.hours().to(), Time::constant(18, 30, 0, 0));
        assert_eq!(s.checkins.per_day(), 2);
    }

    #[test]
    fn night_hours_and_endless_retention_are_refused_with_the_reason() {
        let e = args(Some("06:00-21:00"), None).resolve(None).unwrap_err();
        assert!(format!("{e:#}").contains("07:00–22:00"), "{e:#}");
        let e = args(Some("nine to five"), None).resolve(None).unwrap_err();
        assert!(format!("{e:#}").contains("HH:MM-HH:MM"), "{e:#}");
        let e = args(None, Some(0)).resolve(None).unwrap_err();
        assert!(format!("{e:#}").contains("1 to 365 days"), "{e:#}");
        let e = args(None, Some(3650)).resolve(None).unwrap_err();
        assert!(format!("{e:#}").contains("out of range"), "{e:#}");
        let e = MonitoringArgs {
            checkin_deadline_mins: Some(90),
            ..MonitoringArgs::default()
        }
        .resolve(None)
        .unwrap_err();
        assert!(format!("{e:#}").contains("deadline"), "{e:#}");
    }

    #[test]
    fn asking_and_the_cadence_are_set_and_checked() {
        let file: MonitoringFileConfig =
            toml::from_str("ask_when_in_doubt = false\nreport_every_secs = 120").unwrap();
        let s = MonitoringArgs::default().resolve(Some(file)).unwrap();
        assert!(!s.asking.enabled);
        assert_eq!(s.report_every, SignedDuration::from_secs(120));
        let e = MonitoringArgs {
            report_every_secs: Some(5),
            ..MonitoringArgs::default()
        }
        .resolve(None)
        .unwrap_err();
        assert!(format!("{e:#}").contains("30 to 600"), "{e:#}");
        assert!(
            MonitoringArgs::default()
                .resolve(None)
                .unwrap()
                .asking
                .enabled
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        assert!(toml::from_str::<MonitoringFileConfig>("retention = 3").is_err());
    }
}
