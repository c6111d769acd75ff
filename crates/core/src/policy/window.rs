//! Time in a regime: counting windows, allowed hours, the end of a local day.
//!
//! Every function here takes the regime's time zone, so "a day" is a day on the clocks of the
//! people the regime governs, not a UTC day. Calendar arithmetic cannot fail for the years a
//! regime may name (2000–2100); for absurd timestamps coming from elsewhere the results
//! saturate at `Timestamp::MAX` / `Timestamp::MIN` instead of panicking.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

use crate::text::ru_plural;
use crate::Localized;

/// The period passes are counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The local calendar day, midnight to midnight.
    Day,
    /// The local calendar week, Monday 00:00 to the next Monday 00:00.
    Week,
    /// The local calendar month.
    Month,
    /// Any span of this length: at most `count` passes start within any such span.
    Rolling(SignedDuration),
}

/// The longest rolling window a regime may use.
pub(crate) const MAX_ROLLING: SignedDuration = SignedDuration::from_hours(31 * 24);

impl Window {
    /// Parses `day`, `week`, `month`, `<N>d` or `<N>h`; the error says what is expected.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        const EXPECTED: &str =
            "expected \"day\", \"week\", \"month\", or a rolling window such as \"7d\" or \"24h\" of at most 31 days";
        let rolling = |digits: &str, hours_each: i64| {
            let n: i64 = digits
                .parse()
                .map_err(|_| format!("unknown window {s:?}; {EXPECTED}"))?;
            let max_hours = MAX_ROLLING.as_hours();
            match n
                .checked_mul(hours_each)
                .filter(|h| (1..=max_hours).contains(h))
            {
                Some(hours) => Ok(Self::Rolling(SignedDuration::from_hours(hours))),
                None => Err(format!("rolling window {s:?} is out of range; {EXPECTED}")),
            }
        };
        match s {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            _ => {
                if let Some(n) = s.strip_suffix('d') {
                    rolling(n, 24)
                } else if let Some(n) = s.strip_suffix('h') {
                    rolling(n, 1)
                } else {
                    Err(format!("unknown window {s:?}; {EXPECTED}"))
                }
            }
        }
    }

    /// The calendar period containing `t`, as `[start, end)`; `None` for rolling windows.
    pub(crate) fn calendar_bounds(
        &self,
        tz: &TimeZone,
        t: Timestamp,
    ) -> Option<(Timestamp, Timestamp)> {
        let date = t.to_zoned(tz.clone()).date();
        let (start, end) = match self {
            Self::Day => (Some(date), date.tomorrow().ok()),
            Self::Week => {
                let monday = date
                    .checked_sub(Span::new().days(date.weekday().to_monday_zero_offset()))
                    .ok();
                (
                    monday,
                    monday.and_then(|m| m.checked_add(Span::new().weeks(1)).ok()),
                )
            }
            Self::Month => {
                let first = date.first_of_month();
                (Some(first), first.checked_add(Span::new().months(1)).ok())
            }
            Self::Rolling(_) => return None,
        };
        Some((
            start_of(tz, start, Timestamp::MIN),
            start_of(tz, end, Timestamp::MAX),
        ))
    }

    /// An upper bound on how far back from a pass's start another pass can share a window
    /// with it: the window length, with an hour to spare for daylight-saving days.
    pub(crate) fn max_span(&self) -> SignedDuration {
        let hour = SignedDuration::from_hours(1);
        match self {
            Self::Day => SignedDuration::from_hours(24) + hour,
            Self::Week => SignedDuration::from_hours(7 * 24) + hour,
            Self::Month => SignedDuration::from_hours(31 * 24) + hour,
            Self::Rolling(d) => *d,
        }
    }

    /// "per day" / "в сутки", "per 7 days" / "за 7 дней".
    pub fn describe(&self) -> Localized {
        match self {
            Self::Day => Localized::new("в сутки", "per day"),
            Self::Week => Localized::new("в календарную неделю", "per calendar week"),
            Self::Month => Localized::new("в календарный месяц", "per calendar month"),
            Self::Rolling(d) => {
                let hours = d.as_hours().unsigned_abs();
                if hours % 24 == 0 {
                    let days = hours / 24;
                    Localized::new(
                        format!("за {days} {}", ru_plural(days, "день", "дня", "дней")),
                        format!("per {days} {}", if days == 1 { "day" } else { "days" }),
                    )
                } else {
                    Localized::new(
                        format!("за {hours} {}", ru_plural(hours, "час", "часа", "часов")),
                        format!("per {hours} {}", if hours == 1 { "hour" } else { "hours" }),
                    )
                }
            }
        }
    }

    /// The text form used in regime files: `day`, `week`, `month`, `7d`, `36h`.
    pub fn as_toml(&self) -> String {
        match self {
            Self::Day => "day".into(),
            Self::Week => "week".into(),
            Self::Month => "month".into(),
            Self::Rolling(d) if d.as_hours() % 24 == 0 => format!("{}d", d.as_hours() / 24),
            Self::Rolling(d) => format!("{}h", d.as_hours()),
        }
    }
}

/// The first moment of a local date (midnight, or the first existing instant on a day a
/// clock change skips midnight).
fn start_of(tz: &TimeZone, date: Option<Date>, fallback: Timestamp) -> Timestamp {
    date.and_then(|d| d.to_zoned(tz.clone()).ok())
        .map_or(fallback, |z| z.timestamp())
}

/// The first moment of the local day after the one containing `t`.
pub(crate) fn end_of_local_day(tz: &TimeZone, t: Timestamp) -> Timestamp {
    let date = t.to_zoned(tz.clone()).date();
    start_of(tz, date.tomorrow().ok(), Timestamp::MAX)
}

/// The instant a local date and time names (the later reading is not needed: regimes in
/// zones with clock changes get the earlier of two ambiguous instants, and a skipped time maps
/// forward, as `jiff`'s "compatible" disambiguation does).
fn at(tz: &TimeZone, date: Date, time: Time) -> Timestamp {
    date.to_datetime(time)
        .to_zoned(tz.clone())
        .map_or(Timestamp::MAX, |z| z.timestamp())
}

/// Local hours a purpose is allowed in: from `from` (inclusive) to `to` (exclusive). When
/// `from` is later than `to` the hours wrap past midnight (`22:00`–`06:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedHours {
    from: Time,
    to: Time,
}

impl AllowedHours {
    /// Parses `HH:MM`, the only form regime files use; the error says what is expected.
    pub(crate) fn parse_time(s: &str) -> Result<Time, String> {
        let bad =
            || format!("{s:?} is not a time of day; expected HH:MM, e.g. \"08:00\" or \"22:30\"");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: i8 = h.parse().map_err(|_| bad())?;
        let m: i8 = m.parse().map_err(|_| bad())?;
        if !(0..24).contains(&h) || !(0..60).contains(&m) {
            return Err(bad());
        }
        Ok(Time::constant(h, m, 0, 0))
    }

    /// Hours from `from` to `to`; `None` when they are equal (an empty or a whole day, which a
    /// regime says by leaving `hours` out).
    pub(crate) fn new(from: Time, to: Time) -> Option<Self> {
        (from != to).then_some(Self { from, to })
    }

    /// Opening time.
    pub fn from(&self) -> Time {
        self.from
    }

    /// Closing time (exclusive).
    pub fn to(&self) -> Time {
        self.to
    }

    /// Whether the hours wrap past midnight.
    pub fn wraps_midnight(&self) -> bool {
        self.from > self.to
    }

    /// "08:00–22:00".
    pub fn describe(&self) -> String {
        format!(
            "{}–{}",
            self.from.strftime("%H:%M"),
            self.to.strftime("%H:%M")
        )
    }

    /// If `t` lies within the allowed hours, the moment they close; otherwise `None`.
    pub(crate) fn closing_after(&self, tz: &TimeZone, t: Timestamp) -> Option<Timestamp> {
        let local = t.to_zoned(tz.clone());
        let (date, time) = (local.date(), local.time());
        let next_day = || date.tomorrow().ok();
        if !self.wraps_midnight() {
            (self.from <= time && time < self.to).then(|| at(tz, date, self.to))
        } else if time >= self.from {
            Some(next_day().map_or(Timestamp::MAX, |d| at(tz, d, self.to)))
        } else if time < self.to {
            Some(at(tz, date, self.to))
        } else {
            None
        }
    }

    /// The next moment at or after `t` when the allowed hours are open.
    pub(crate) fn next_opening(&self, tz: &TimeZone, t: Timestamp) -> Timestamp {
        if self.closing_after(tz, t).is_some() {
            return t;
        }
        let local = t.to_zoned(tz.clone());
        let (date, time) = (local.date(), local.time());
        if time < self.from {
            at(tz, date, self.from)
        } else {
            date.tomorrow()
                .map_or(Timestamp::MAX, |d| at(tz, d, self.from))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moscow() -> TimeZone {
        jiff::tz::TimeZoneDatabase::bundled()
            .get("Europe/Moscow")
            .unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn parse_windows() {
        assert_eq!(Window::parse("day"), Ok(Window::Day));
        assert_eq!(
            Window::parse("7d"),
            Ok(Window::Rolling(SignedDuration::from_hours(168)))
        );
        assert_eq!(
            Window::parse("24h"),
            Ok(Window::Rolling(SignedDuration::from_hours(24)))
        );
        assert!(Window::parse("0d").is_err());
        assert!(Window::parse("32d").is_err());
        assert!(Window::parse("fortnight").unwrap_err().contains("expected"));
        assert!(Window::parse("-1h").is_err());
        assert_eq!(Window::parse("36h").unwrap().as_toml(), "36h");
        assert_eq!(Window::parse("3d").unwrap().as_toml(), "3d");
    }

    #[test]
    fn calendar_bounds_are_local() {
        let tz = moscow();
        // 2020-04-15 02:00 Moscow is 2020-04-14 23:00 UTC: the local day is the 15th.
        let t = ts("2020-04-14T23:00:00Z");
        assert_eq!(
            Window::Day.calendar_bounds(&tz, t),
            Some((ts("2020-04-14T21:00:00Z"), ts("2020-04-15T21:00:00Z")))
        );
        // Wednesday the 15th: the week runs Monday the 13th to Monday the 20th.
        assert_eq!(
            Window::Week.calendar_bounds(&tz, t),
            Some((ts("2020-04-12T21:00:00Z"), ts("2020-04-19T21:00:00Z")))
        );
        assert_eq!(
            Window::Month.calendar_bounds(&tz, t),
            Some((ts("2020-03-31T21:00:00Z"), ts("2020-04-30T21:00:00Z")))
        );
        assert_eq!(
            Window::Rolling(SignedDuration::from_hours(1)).calendar_bounds(&tz, t),
            None
        );
        assert_eq!(end_of_local_day(&tz, t), ts("2020-04-15T21:00:00Z"));
    }

    #[test]
    fn calendar_bounds_on_a_daylight_saving_day() {
        // Berlin springs forward on 2020-03-29: that day is 23 hours long.
        let tz = jiff::tz::TimeZoneDatabase::bundled()
            .get("Europe/Berlin")
            .unwrap();
        let (start, end) = Window::Day
            .calendar_bounds(&tz, ts("2020-03-29T12:00:00Z"))
            .unwrap();
        assert_eq!(start, ts("2020-03-28T23:00:00Z"));
        assert_eq!(end, ts("2020-03-29T22:00:00Z"));
        assert_eq!(end.duration_since(start), SignedDuration::from_hours(23));
    }

    #[test]
    fn hours_within_a_day() {
        let tz = moscow();
        let h = AllowedHours::new(Time::constant(8, 0, 0, 0), Time::constant(22, 0, 0, 0)).unwrap();
        // 10:00 Moscow: open, closes at 22:00.
        assert_eq!(
            h.closing_after(&tz, ts("2020-04-15T07:00:00Z")),
            Some(ts("2020-04-15T19:00:00Z"))
        );
        // 22:00 exactly: closed; opens tomorrow 08:00.
        let ten_pm = ts("2020-04-15T19:00:00Z");
        assert_eq!(h.closing_after(&tz, ten_pm), None);
        assert_eq!(h.next_opening(&tz, ten_pm), ts("2020-04-16T05:00:00Z"));
        // 07:00: opens today 08:00.
        assert_eq!(
            h.next_opening(&tz, ts("2020-04-15T04:00:00Z")),
            ts("2020-04-15T05:00:00Z")
        );
        assert_eq!(h.describe(), "08:00–22:00");
    }

    #[test]
    fn hours_wrapping_midnight() {
        let tz = moscow();
        let h = AllowedHours::new(Time::constant(22, 0, 0, 0), Time::constant(6, 0, 0, 0)).unwrap();
        assert!(h.wraps_midnight());
        // 23:00 on the 15th: open until 06:00 on the 16th.
        assert_eq!(
            h.closing_after(&tz, ts("2020-04-15T20:00:00Z")),
            Some(ts("2020-04-16T03:00:00Z"))
        );
        // 02:00 on the 16th: open until 06:00 the same day.
        assert_eq!(
            h.closing_after(&tz, ts("2020-04-15T23:00:00Z")),
            Some(ts("2020-04-16T03:00:00Z"))
        );
        // 12:00: closed until 22:00 the same day.
        let noon = ts("2020-04-16T09:00:00Z");
        assert_eq!(h.closing_after(&tz, noon), None);
        assert_eq!(h.next_opening(&tz, noon), ts("2020-04-16T19:00:00Z"));
        // 06:00 exactly is closed.
        assert_eq!(h.closing_after(&tz, ts("2020-04-16T03:00:00Z")), None);
    }

    #[test]
    fn time_parsing() {
        assert_eq!(
            AllowedHours::parse_time("08:00"),
            Ok(Time::constant(8, 0, 0, 0))
        );
        assert_eq!(
            AllowedHours::parse_time("23:59"),
            Ok(Time::constant(23, 59, 0, 0))
        );
        for bad in ["8:00", "24:00", "12:60", "noon", "12:00:00"] {
            assert!(AllowedHours::parse_time(bad).is_err(), "{bad}");
        }
        assert!(AllowedHours::new(Time::midnight(), Time::midnight()).is_none());
    }
}
