//! Reading patient-day traces made by another generator (`propusk simulate monitoring
//! --traces FILE`), so the real-API simulator can score traces the core did not make.
//!
//! The file is JSON Lines, one patient-day per line (blank lines and lines starting with `#`
//! are skipped). The schema is documented in `tests/monitoring-traces/README.md`; in short:
//!
//! ```json
//! {"patient": 0, "day_start": "2020-04-14T21:00:00Z",
//!  "home": {"lat": 55.75, "lon": 37.62}, "radius_m": 100,
//!  "violator": true, "phone_died": false,
//!  "departures": [{"start": "…", "end": "…", "distance_m": 850.0, "observable": true}],
//!  "reports": [{"ts": "…", "lat": 55.75, "lon": 37.62, "accuracy_m": 14.0,
//!               "upload_at": "…"}]}
//! ```
//!
//! Times are RFC 3339. Reports must lie in the 24 hours from `day_start`, and be uploaded no
//! earlier than they were taken. Other members (a generator's own diagnostics) are ignored.
//! The simulator moves each day to its own start: every time is shifted by the same amount,
//! so what happens at 03:00 into the trace happens 3 hours into the simulated day.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::GeoPoint;
use propusk_core::monitoring::geofence::{Fix, Geofence};
use propusk_core::monitoring::simulate::{Departure, PatientDay, Report};
use serde_json::{Map, Value};

/// How long a trace's day is: reports must be taken within this long after its start.
pub const DAY: SignedDuration = SignedDuration::from_hours(24);

/// One patient-day read from a trace file, with the times as written there.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceDay {
    /// The day's start in the file.
    pub day_start: Timestamp,
    /// The patient-day in the core's terms (times as in the file), reports in order of
    /// arrival.
    pub day: PatientDay,
}

impl TraceDay {
    /// The same patient-day moved so that it starts at `start`.
    pub fn starting_at(&self, start: Timestamp) -> Result<PatientDay> {
        let by = start.duration_since(self.day_start);
        let shift = |t: Timestamp| -> Result<Timestamp> {
            t.checked_add(by)
                .with_context(|| format!("cannot move {t} by {by}"))
        };
        let mut day = self.day.clone();
        for d in &mut day.departures {
            d.start = shift(d.start)?;
            d.end = shift(d.end)?;
        }
        for r in &mut day.reports {
            let p = r.fix.point();
            r.fix = Fix::from_parts(shift(r.fix.ts())?, p.lat(), p.lon(), r.fix.accuracy_m())
                .map_err(|e| anyhow::anyhow!("a fix moved in time: {e}"))?;
            r.arrives_at = shift(r.arrives_at)?;
        }
        Ok(day)
    }
}

/// Reads a whole trace file; an error names the file, the line and what is wrong.
pub fn read(path: &Path) -> Result<Vec<TraceDay>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the trace file {}", path.display()))?;
    parse(&text).with_context(|| format!("trace file {}", path.display()))
}

/// Parses the text of a trace file (see [`read`]).
pub fn parse(text: &str) -> Result<Vec<TraceDay>> {
    let mut days = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let day =
            parse_line(line, days.len()).map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1))?;
        if !seen.insert(day.day.index) {
            bail!("line {}: patient {} appears twice", n + 1, day.day.index);
        }
        days.push(day);
    }
    if days.is_empty() {
        bail!("no patients in the file");
    }
    Ok(days)
}

type Field<T> = std::result::Result<T, String>;

fn member<'a>(obj: &'a Map<String, Value>, at: &str, name: &str) -> Field<&'a Value> {
    obj.get(name).ok_or_else(|| format!("{at}{name}: missing"))
}

fn number(obj: &Map<String, Value>, at: &str, name: &str) -> Field<f64> {
    let v = member(obj, at, name)?;
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{at}{name}: expected a number, got {v}"))
}

fn boolean(obj: &Map<String, Value>, at: &str, name: &str) -> Field<bool> {
    let v = member(obj, at, name)?;
    v.as_bool()
        .ok_or_else(|| format!("{at}{name}: expected true or false, got {v}"))
}

fn time(obj: &Map<String, Value>, at: &str, name: &str) -> Field<Timestamp> {
    let v = member(obj, at, name)?;
    let s = v
        .as_str()
        .ok_or_else(|| format!("{at}{name}: expected an RFC 3339 time string, got {v}"))?;
    s.parse::<Timestamp>()
        .map_err(|e| format!("{at}{name}: {s:?} is not an RFC 3339 time ({e})"))
}

fn array<'a>(obj: &'a Map<String, Value>, at: &str, name: &str) -> Field<&'a Vec<Value>> {
    let v = member(obj, at, name)?;
    v.as_array()
        .ok_or_else(|| format!("{at}{name}: expected an array"))
}

fn object<'a>(v: &'a Value, at: &str) -> Field<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{at}: expected an object, got {}", short(v)))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Parses one line; `position` is the patient's place in the file, its index unless the
/// line gives `patient`.
fn parse_line(line: &str, position: usize) -> Field<TraceDay> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let obj = object(&value, "the line")?;
    let index = match obj.get("patient") {
        None => position,
        Some(v) => v
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| format!("patient: expected a non-negative integer, got {v}"))?,
    };
    let day_start = time(obj, "", "day_start")?;
    let day_end = day_start + DAY;
    let home = object(member(obj, "", "home")?, "home")?;
    let home = GeoPoint::new(number(home, "home.", "lat")?, number(home, "home.", "lon")?)
        .map_err(|e| format!("home: {e}"))?;
    let radius_m = number(obj, "", "radius_m")?;
    let fence = Geofence::new(home, radius_m)
        .map_err(|e| format!("radius_m: {radius_m} is not accepted ({e})"))?;
    let violator = boolean(obj, "", "violator")?;
    let phone_died = match obj.get("phone_died") {
        None => false,
        Some(_) => boolean(obj, "", "phone_died")?,
    };

    let mut departures = Vec::new();
    for (i, d) in array(obj, "", "departures")?.iter().enumerate() {
        let at = format!("departures[{i}].");
        let d = object(d, &format!("departures[{i}]"))?;
        let start = time(d, &at, "start")?;
        let end = time(d, &at, "end")?;
        if end <= start {
            return Err(format!("{at}end: {end} is not after the start {start}"));
        }
        if start < day_start || end > day_end + DAY {
            return Err(format!(
                "{at}start: the departure {start}–{end} is outside the day from {day_start}"
            ));
        }
        let distance_m = number(d, &at, "distance_m")?;
        if distance_m < 0.0 {
            return Err(format!("{at}distance_m: {distance_m} is negative"));
        }
        let observable = boolean(d, &at, "observable")?;
        departures.push(Departure {
            start,
            end,
            distance_m,
            observable,
        });
    }
    if !violator && !departures.is_empty() {
        return Err("departures: a patient with \"violator\": false cannot have departures".into());
    }
    if departures.windows(2).any(|w| w[1].start < w[0].end) {
        return Err("departures: must be in order and must not overlap".into());
    }

    let mut reports = Vec::new();
    for (i, r) in array(obj, "", "reports")?.iter().enumerate() {
        let at = format!("reports[{i}].");
        let r = object(r, &format!("reports[{i}]"))?;
        let ts = time(r, &at, "ts")?;
        if ts < day_start || ts >= day_end {
            return Err(format!(
                "{at}ts: {ts} is outside the 24 hours from day_start {day_start}"
            ));
        }
        let upload_at = time(r, &at, "upload_at")?;
        if upload_at < ts {
            return Err(format!(
                "{at}upload_at: {upload_at} is before the fix was taken ({ts})"
            ));
        }
        let fix = Fix::from_parts(
            ts,
            number(r, &at, "lat")?,
            number(r, &at, "lon")?,
            number(r, &at, "accuracy_m")?,
        )
        .map_err(|e| format!("reports[{i}]: not a valid fix: {e}"))?;
        reports.push(Report {
            fix,
            arrives_at: upload_at,
        });
    }
    // The core's replay and the simulator take reports in order of arrival.
    reports.sort_by_key(|r| (r.arrives_at, r.fix.ts()));

    Ok(TraceDay {
        day_start,
        day: PatientDay {
            index,
            fence,
            violator,
            departures,
            phone_died,
            reports,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(patch: impl FnOnce(&mut Value)) -> String {
        let mut v = serde_json::json!({
            "patient": 7,
            "day_start": "2020-04-14T21:00:00Z",
            "home": {"lat": 55.75, "lon": 37.62},
            "radius_m": 100,
            "violator": true,
            "phone_died": false,
            "departures": [{"start": "2020-04-15T07:00:00Z", "end": "2020-04-15T08:00:00Z",
                            "distance_m": 850.0, "observable": true, "mode": "walk"}],
            "reports": [
                {"ts": "2020-04-15T07:30:00Z", "lat": 55.758, "lon": 37.62, "accuracy_m": 12.0,
                 "upload_at": "2020-04-15T07:30:40Z", "source": "gps"},
                {"ts": "2020-04-14T21:01:00Z", "lat": 55.75, "lon": 37.62, "accuracy_m": 20.0,
                 "upload_at": "2020-04-15T07:30:40Z"},
                {"ts": "2020-04-14T21:00:00Z", "lat": 55.75, "lon": 37.62, "accuracy_m": 20.0,
                 "upload_at": "2020-04-14T21:00:30Z"}
            ]
        });
        patch(&mut v);
        v.to_string()
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn reads_a_patient_in_arrival_order() {
        let text = format!("# a comment\n\n{}\n", line(|_| {}));
        let days = parse(&text).unwrap();
        assert_eq!(days.len(), 1);
        let d = &days[0].day;
        assert_eq!(d.index, 7);
        assert!(d.violator && !d.phone_died);
        assert_eq!(d.fence.radius_m(), 100.0);
        assert_eq!(d.departures.len(), 1);
        assert_eq!(d.departures[0].distance_m, 850.0);
        let arrivals: Vec<String> = d.reports.iter().map(|r| r.arrives_at.to_string()).collect();
        assert_eq!(
            arrivals,
            [
                "2020-04-14T21:00:30Z",
                "2020-04-15T07:30:40Z",
                "2020-04-15T07:30:40Z"
            ]
        );
        // Same arrival: by fix time.
        assert!(d.reports[1].fix.ts() < d.reports[2].fix.ts());
    }

    #[test]
    fn moving_a_day_shifts_every_time_alike() {
        let days = parse(&line(|_| {})).unwrap();
        let start: Timestamp = "2026-11-29T03:00:00Z".parse().unwrap();
        let moved = days[0].starting_at(start).unwrap();
        let by = start.duration_since(days[0].day_start);
        assert_eq!(
            moved.departures[0].start,
            days[0].day.departures[0].start + by
        );
        for (a, b) in moved.reports.iter().zip(&days[0].day.reports) {
            assert_eq!(a.fix.ts(), b.fix.ts() + by);
            assert_eq!(a.arrives_at, b.arrives_at + by);
            assert_eq!(a.fix.point(), b.fix.point());
            assert_eq!(a.fix.accuracy_m(), b.fix.accuracy_m());
        }
        assert_eq!(moved.reports[0].fix.ts(), start);
    }

    #[test]
    fn patient_defaults_to_the_position_and_must_be_unique() {
        let a = line(|v| {
            v.as_object_mut().unwrap().remove("patient");
        });
        let days = parse(&format!("{a}\n{a}\n")).unwrap();
        assert_eq!(days.iter().map(|d| d.day.index).collect::<Vec<_>>(), [0, 1]);
        let b = line(|_| {});
        assert_eq!(
            error(&format!("{b}\n{b}\n")),
            "line 2: patient 7 appears twice"
        );
    }

    #[test]
    fn malformed_lines_are_named_with_what_is_wrong() {
        let cases: Vec<(String, &str)> = vec![
            ("{not json".into(), "line 1: not a JSON object"),
            ("[1, 2]".into(), "line 1: the line: expected an object"),
            (
                line(|v| v["day_start"] = "yesterday".into()),
                "line 1: day_start: \"yesterday\" is not an RFC 3339 time",
            ),
            (
                line(|v| {
                    v.as_object_mut().unwrap().remove("reports");
                }),
                "line 1: reports: missing",
            ),
            (line(|v| v["home"]["lat"] = 95.0.into()), "line 1: home: "),
            (
                line(|v| v["radius_m"] = (-5.0).into()),
                "line 1: radius_m: -5 is not accepted",
            ),
            (
                line(|v| v["reports"][1]["accuracy_m"] = "big".into()),
                "line 1: reports[1].accuracy_m: expected a number, got \"big\"",
            ),
            (
                line(|v| v["reports"][0]["upload_at"] = "2020-04-15T07:29:00Z".into()),
                "line 1: reports[0].upload_at: 2020-04-15T07:29:00Z is before the fix was taken",
            ),
            (
                line(|v| v["reports"][2]["ts"] = "2020-04-15T21:00:00Z".into()),
                "line 1: reports[2].ts: 2020-04-15T21:00:00Z is outside the 24 hours",
            ),
            (
                line(|v| v["departures"][0]["end"] = "2020-04-15T06:00:00Z".into()),
                "line 1: departures[0].end: 2020-04-15T06:00:00Z is not after the start",
            ),
            (
                line(|v| v["departures"][0]["observable"] = 1.into()),
                "line 1: departures[0].observable: expected true or false, got 1",
            ),
            (
                line(|v| v["violator"] = false.into()),
                "line 1: departures: a patient with \"violator\": false cannot have departures",
            ),
            (
                line(|v| v["patient"] = (-1).into()),
                "line 1: patient: expected a non-negative integer, got -1",
            ),
            ("".into(), "no patients in the file"),
        ];
        for (text, expected) in cases {
            let e = error(&text);
            assert!(
                e.starts_with(expected),
                "{e:?} should start with {expected:?}"
            );
        }
        // The line number counts blank and comment lines.
        let bad = line(|v| v["violator"] = "yes".into());
        let e = error(&format!("{}\n\n# c\n{bad}\n", line(|_| {})));
        assert!(
            e.starts_with("line 4: violator: expected true or false"),
            "{e}"
        );
    }

    #[test]
    fn an_invalid_fix_is_refused() {
        let e = error(&line(|v| v["reports"][0]["accuracy_m"] = (-3.0).into()));
        assert!(e.starts_with("line 1: reports[0]: not a valid fix"), "{e}");
        let e = error(&line(|v| v["reports"][0]["lon"] = 181.0.into()));
        assert!(e.starts_with("line 1: reports[0]: not a valid fix"), "{e}");
    }
}
