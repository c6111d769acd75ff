//! Reading a regime from TOML, collecting every error with its place.
//!
//! The document is parsed into `toml`'s spanned tree (`DeTable`), then walked by hand: serde
//! derive stops at the first error, and an administrator fixing a regime file wants them all.

use std::collections::HashMap;
use std::ops::Range;

use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::Timestamp;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::{LineIndex, PolicyError, PolicyErrorKind as K};
use super::window::{AllowedHours, Window};
use super::{
    FieldKind, LegalAct, MaxDuration, Purpose, Quota, Regime, DEFAULT_MAX_PASSES_PER_DAY,
    MAX_PASSES_PER_DAY_LIMIT,
};
use crate::domain::{IssuerCode, PurposeId, RegimeId};
use crate::Localized;

/// Parses a regime file, reporting every error found (sorted by place) or the regime.
pub fn parse_regime(text: &str) -> Result<Regime, Vec<PolicyError>> {
    let lines = LineIndex::new(text);
    let (doc, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        // The parser's recovery often reports one mistake several times on the same line.
        let mut errors: Vec<PolicyError> = syntax
            .iter()
            .map(|e| {
                lines.error(
                    e.span().unwrap_or(0..0),
                    K::Syntax,
                    format!("TOML syntax: {}", e.message()),
                )
            })
            .collect();
        errors.sort();
        errors.dedup_by_key(|e| e.line);
        return Err(errors);
    }
    let mut cx = Cx {
        lines,
        errors: Vec::new(),
    };
    let root = Table::new(String::new(), doc.span(), doc.get_ref());
    let regime = read_regime(&mut cx, root);
    let mut errors = cx.errors;
    match regime {
        Some(regime) if errors.is_empty() => Ok(regime),
        _ => {
            errors.sort();
            Err(errors)
        }
    }
}

/// Collects errors while walking.
struct Cx<'s> {
    lines: LineIndex<'s>,
    errors: Vec<PolicyError>,
}

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, kind: K, message: String) {
        let error = self.lines.error(span, kind, message);
        self.errors.push(error);
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.lines.position(span.start).0
    }
}

/// A value with the dotted path it was found at, for messages.
struct Item<'a, 'i> {
    path: String,
    value: &'a Spanned<DeValue<'i>>,
}

impl<'a, 'i> Item<'a, 'i> {
    fn span(&self) -> Range<usize> {
        self.value.span()
    }

    fn wrong_type(&self, cx: &mut Cx<'_>, expected: &str) {
        cx.error(
            self.span(),
            K::WrongType,
            format!(
                "`{}` is a {}; expected {expected}",
                self.path,
                self.value.get_ref().type_str()
            ),
        );
    }

    fn invalid(&self, cx: &mut Cx<'_>, message: impl std::fmt::Display) {
        cx.error(
            self.span(),
            K::InvalidValue,
            format!("`{}`: {message}", self.path),
        );
    }

    fn str(&self, cx: &mut Cx<'_>, expected: &str) -> Option<&'a str> {
        match self.value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.wrong_type(cx, expected);
                None
            }
        }
    }

    /// A non-empty string after trimming.
    fn text(&self, cx: &mut Cx<'_>, expected: &str) -> Option<String> {
        let s = self.str(cx, expected)?.trim();
        if s.is_empty() {
            self.invalid(cx, format!("is empty; expected {expected}"));
            return None;
        }
        Some(s.to_owned())
    }

    fn int(&self, cx: &mut Cx<'_>, range: Range<i64>, expected: &str) -> Option<i64> {
        let n = match self.value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => {
                self.wrong_type(cx, expected);
                return None;
            }
        };
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.invalid(
                    cx,
                    format!(
                        "{} is out of range; expected {expected}",
                        self.value
                            .get_ref()
                            .as_integer()
                            .map_or(String::new(), |i| i.to_string())
                    ),
                );
                None
            }
        }
    }

    fn bool(&self, cx: &mut Cx<'_>) -> Option<bool> {
        match self.value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(cx, "true or false");
                None
            }
        }
    }

    fn table(&self, cx: &mut Cx<'_>, expected: &str) -> Option<Table<'a, 'i>> {
        match self.value.get_ref() {
            DeValue::Table(t) => Some(Table::new(self.path.clone(), self.span(), t)),
            _ => {
                self.wrong_type(cx, expected);
                None
            }
        }
    }

    fn array(&self, cx: &mut Cx<'_>, expected: &str) -> Option<Vec<Item<'a, 'i>>> {
        match self.value.get_ref() {
            DeValue::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(k, value)| Item {
                        path: format!("{}[{k}]", self.path),
                        value,
                    })
                    .collect(),
            ),
            _ => {
                self.wrong_type(cx, expected);
                None
            }
        }
    }

    /// An RFC 3339 timestamp with an offset, as a TOML datetime or a string.
    fn timestamp(&self, cx: &mut Cx<'_>) -> Option<Timestamp> {
        const EXPECTED: &str = "a date and time with a UTC offset, e.g. 2020-04-15T00:00:00+03:00";
        let text = match self.value.get_ref() {
            DeValue::Datetime(d) => {
                if d.offset.is_none() || d.time.is_none() || d.date.is_none() {
                    self.invalid(
                        cx,
                        format!("{d} has no UTC offset or no time; expected {EXPECTED}"),
                    );
                    return None;
                }
                d.to_string()
            }
            DeValue::String(s) => s.to_string(),
            _ => {
                self.wrong_type(cx, EXPECTED);
                return None;
            }
        };
        let t: Timestamp = match text.parse() {
            Ok(t) => t,
            Err(_) => {
                self.invalid(
                    cx,
                    format!("{text:?} is not a date and time with an offset; expected {EXPECTED}"),
                );
                return None;
            }
        };
        let year = t.to_zoned(TimeZone::UTC).year();
        if !(2000..=2100).contains(&year) {
            self.invalid(
                cx,
                format!("{text} is out of range; expected a moment in the years 2000 to 2100"),
            );
            return None;
        }
        Some(t)
    }
}

/// A table being read: keys taken as they are read; the rest are reported as unknown.
struct Table<'a, 'i> {
    path: String,
    span: Range<usize>,
    entries: Vec<(
        &'a Spanned<toml::de::DeString<'i>>,
        &'a Spanned<DeValue<'i>>,
    )>,
    taken: Vec<bool>,
}

impl<'a, 'i> Table<'a, 'i> {
    fn new(path: String, span: Range<usize>, table: &'a DeTable<'i>) -> Self {
        let entries: Vec<_> = table.iter().collect();
        let taken = vec![false; entries.len()];
        Self {
            path,
            span,
            entries,
            taken,
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&mut self, key: &str) -> Option<Item<'a, 'i>> {
        let k = self
            .entries
            .iter()
            .position(|(name, _)| name.get_ref() == key)?;
        self.taken[k] = true;
        Some(Item {
            path: self.child_path(key),
            value: self.entries[k].1,
        })
    }

    fn required(&mut self, cx: &mut Cx<'_>, key: &str, expected: &str) -> Option<Item<'a, 'i>> {
        let item = self.get(key);
        if item.is_none() {
            let place = if self.path.is_empty() {
                "the regime".to_owned()
            } else {
                format!("`{}`", self.path)
            };
            cx.error(
                self.span.clone(),
                K::MissingKey,
                format!("{place} has no `{key}`; expected {expected}"),
            );
        }
        item
    }

    /// Reports keys that were never read.
    fn finish(self, cx: &mut Cx<'_>, known: &[&str]) {
        for (k, (name, _)) in self.entries.iter().enumerate() {
            if !self.taken[k] {
                cx.error(
                    name.span(),
                    K::UnknownKey,
                    format!(
                        "unknown key `{}`; expected one of: {}",
                        self.child_path(name.get_ref()),
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

fn read_regime(cx: &mut Cx<'_>, mut t: Table<'_, '_>) -> Option<Regime> {
    let id = t
        .required(cx, "id", "the regime id, e.g. id = \"moscow-2020\"")
        .and_then(|item| {
            let s = item.str(cx, "a string such as \"moscow-2020\"")?;
            RegimeId::parse(s).map_err(|e| item.invalid(cx, e)).ok()
        });
    let name = t
        .required(cx, "name", "a table with `ru` and `en` names")
        .and_then(|item| read_localized(cx, &item));
    let legal_act = t
        .required(cx, "legal_act", "a table with the act's `title`")
        .and_then(|item| read_legal_act(cx, &item));
    let issuer = t
        .required(
            cx,
            "issuer",
            "the issuing authority's code, e.g. issuer = \"RU-MOW\"",
        )
        .and_then(|item| {
            let s = item.str(cx, "a string such as \"RU-MOW\"")?;
            IssuerCode::parse(s).map_err(|e| item.invalid(cx, e)).ok()
        });
    let effective_from_item = t.required(
        cx,
        "effective_from",
        "the moment the regime takes effect, e.g. effective_from = 2020-04-15T00:00:00+03:00",
    );
    let effective_from = effective_from_item.as_ref().and_then(|i| i.timestamp(cx));
    let until_item = t.get("until");
    let until = until_item.as_ref().map(|i| i.timestamp(cx));
    if let (Some(from), Some(Some(until)), Some(item)) = (effective_from, until, &until_item) {
        if until <= from {
            cx.error(
                item.span(),
                K::EndsBeforeStart,
                format!("`until` ({until}) is not later than `effective_from` ({from}); expected a later moment, or no `until`"),
            );
        }
    }
    let time_zone = t
        .required(cx, "time_zone", "an IANA time zone, e.g. time_zone = \"Europe/Moscow\"")
        .and_then(|item| {
            let name = item.str(cx, "an IANA time zone name such as \"Europe/Moscow\"")?;
            match TimeZoneDatabase::bundled().get(name) {
                Ok(tz) => Some((tz, name.to_owned())),
                Err(_) => {
                    cx.error(
                        item.span(),
                        K::UnknownTimeZone,
                        format!("`time_zone`: unknown time zone {name:?}; expected an IANA name such as \"Europe/Moscow\""),
                    );
                    None
                }
            }
        });
    let cap = t.get("cap").map(|item| read_quota(cx, &item));
    let max_passes_per_day = t.get("max_passes_per_day").map(|i| {
        i.int(
            cx,
            1..i64::from(MAX_PASSES_PER_DAY_LIMIT) + 1,
            &format!("a number of passes from 1 to {MAX_PASSES_PER_DAY_LIMIT}"),
        )
        .map(|n| n as u32)
    });
    let purposes = t
        .required(cx, "purposes", "at least one [[purposes]] table")
        .and_then(|item| read_purposes(cx, &item));
    t.finish(
        cx,
        &[
            "id",
            "name",
            "legal_act",
            "issuer",
            "effective_from",
            "until",
            "time_zone",
            "cap",
            "max_passes_per_day",
            "purposes",
        ],
    );
    let (time_zone, time_zone_name) = time_zone?;
    Some(Regime {
        id: id?,
        name: name?,
        legal_act: legal_act?,
        issuer: issuer?,
        effective_from: effective_from?,
        until: until.flatten(),
        time_zone,
        time_zone_name,
        cap: cap.flatten(),
        max_passes_per_day: match max_passes_per_day {
            None => DEFAULT_MAX_PASSES_PER_DAY,
            Some(n) => n?,
        },
        purposes: purposes?,
    })
}

fn read_localized(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> Option<Localized> {
    let mut t = item.table(
        cx,
        "a table with `ru` and `en` texts, e.g. { ru = \"…\", en = \"…\" }",
    )?;
    let ru = t
        .required(cx, "ru", "the Russian text")
        .and_then(|i| i.text(cx, "a non-empty Russian text"));
    let en = t
        .required(cx, "en", "the English text")
        .and_then(|i| i.text(cx, "a non-empty English text"));
    t.finish(cx, &["ru", "en"]);
    Some(Localized::new(ru?, en?))
}

fn read_legal_act(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> Option<LegalAct> {
    let mut t = item.table(
        cx,
        "a table with the act's `title` and an optional `reference`",
    )?;
    let title = t
        .required(
            cx,
            "title",
            "the act's title, e.g. \"Указ Мэра Москвы от 11.04.2020 № 43-УМ\"",
        )
        .and_then(|i| i.text(cx, "the act's title"));
    let reference = t
        .get("reference")
        .map(|i| i.text(cx, "where to read the act, e.g. a URL"));
    t.finish(cx, &["title", "reference"]);
    Some(LegalAct {
        title: title?,
        reference: match reference {
            None => None,
            Some(r) => Some(r?),
        },
    })
}

fn read_quota(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> Option<Quota> {
    let mut t = item.table(cx, "a table such as { count = 2, per = \"7d\" }")?;
    let count = t
        .required(cx, "count", "how many passes per window, e.g. count = 2")
        .and_then(|i| i.int(cx, 1..1001, "a number of passes from 1 to 1000"));
    let window = t
        .required(cx, "per", "the window, e.g. per = \"day\" or per = \"7d\"")
        .and_then(|i| {
            let s = i.str(
                cx,
                "\"day\", \"week\", \"month\", or a rolling window such as \"7d\"",
            )?;
            Window::parse(s).map_err(|e| i.invalid(cx, e)).ok()
        });
    t.finish(cx, &["count", "per"]);
    Some(Quota {
        count: u32::try_from(count?).ok()?,
        window: window?,
    })
}

fn read_hours(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> Option<AllowedHours> {
    let mut t = item.table(cx, "a table such as { from = \"08:00\", to = \"22:00\" }")?;
    let mut time = |t: &mut Table<'_, '_>, key: &str| {
        t.required(cx, key, "a local time HH:MM").and_then(|i| {
            let s = i.str(cx, "a local time such as \"08:00\"")?;
            AllowedHours::parse_time(s)
                .map_err(|e| i.invalid(cx, e))
                .ok()
        })
    };
    let from = time(&mut t, "from");
    let to = time(&mut t, "to");
    t.finish(cx, &["from", "to"]);
    let (from, to) = (from?, to?);
    let hours = AllowedHours::new(from, to);
    if hours.is_none() {
        item.invalid(cx, "`from` equals `to`; expected different times (leave `hours` out to allow the whole day)");
    }
    hours
}

fn read_purposes(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> Option<Vec<Purpose>> {
    let items = item.array(cx, "an array of [[purposes]] tables")?;
    if items.is_empty() {
        item.invalid(cx, "is empty; expected at least one [[purposes]] table");
        return None;
    }
    let mut purposes = Vec::new();
    let mut complete = true;
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut codes: HashMap<u8, (String, usize)> = HashMap::new();
    for item in &items {
        let read = read_purpose(cx, item);
        if let Some((id, span)) = &read.id {
            if let Some(first) = ids.get(id.as_str()) {
                cx.error(
                    span.clone(),
                    K::DuplicatePurposeId,
                    format!("purpose id `{id}` is already used on line {first}; expected each purpose id once"),
                );
                complete = false;
            } else {
                ids.insert(id.to_string(), cx.line_of(span));
            }
        }
        if let Some((code, span)) = &read.sms_code {
            if let Some((other, first)) = codes.get(code) {
                cx.error(
                    span.clone(),
                    K::DuplicateSmsCode,
                    format!(
                        "sms_code {code} is already used by purpose `{other}` on line {first}; expected a different digit 1–9 for each purpose"
                    ),
                );
                complete = false;
            } else {
                let owner = read
                    .id
                    .as_ref()
                    .map_or_else(|| item.path.clone(), |(id, _)| id.to_string());
                codes.insert(*code, (owner, cx.line_of(span)));
            }
        }
        match read.purpose {
            Some(purpose) => purposes.push(purpose),
            None => complete = false,
        }
    }
    complete.then_some(purposes)
}

/// A purpose as read, with its id and SMS code kept apart so duplicates are found even in a
/// purpose with other errors.
struct ReadPurpose {
    purpose: Option<Purpose>,
    id: Option<(PurposeId, Range<usize>)>,
    sms_code: Option<(u8, Range<usize>)>,
}

fn read_purpose(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> ReadPurpose {
    let Some(mut t) = item.table(cx, "a [[purposes]] table") else {
        return ReadPurpose {
            purpose: None,
            id: None,
            sms_code: None,
        };
    };
    let id_item = t.required(cx, "id", "the purpose id, e.g. id = \"shopping\"");
    let id = id_item.as_ref().and_then(|i| {
        let s = i.str(cx, "a snake_case string such as \"shopping\"")?;
        PurposeId::parse(s).map_err(|e| i.invalid(cx, e)).ok()
    });
    let code_item = t.required(cx, "sms_code", "the SMS digit, e.g. sms_code = 3");
    let sms_code = code_item
        .as_ref()
        .and_then(|i| i.int(cx, 1..10, "a single digit 1–9"));
    let name = t
        .required(cx, "name", "a table with `ru` and `en` names")
        .and_then(|i| read_localized(cx, &i));

    let max_minutes = t.get("max_minutes");
    let until_end_of_day = t.get("until_end_of_day");
    let minutes = max_minutes
        .as_ref()
        .map(|i| i.int(cx, 1..10081, "a number of minutes from 1 to 10080 (7 days)"));
    let end_of_day = until_end_of_day.as_ref().map(|i| i.bool(cx));
    let duration = match (minutes, end_of_day) {
        (Some(_), Some(Some(true))) => {
            let span = until_end_of_day.as_ref().map_or(t.span.clone(), Item::span);
            cx.error(
                span,
                K::Conflict,
                format!("`{}` has both `max_minutes` and `until_end_of_day = true`; expected one of them", t.path),
            );
            None
        }
        (Some(m), _) => m.map(|m| MaxDuration::Minutes(m as u32)),
        (None, Some(Some(true))) => Some(MaxDuration::UntilEndOfDay),
        (None, Some(None)) => None,
        (None, _) => {
            cx.error(
                t.span.clone(),
                K::MissingKey,
                format!("`{}` has no duration; expected max_minutes = N (1–10080) or until_end_of_day = true", t.path),
            );
            None
        }
    };

    let quota_item = t.get("quota");
    let quota = quota_item.as_ref().map(|i| read_quota(cx, i));
    let hours_item = t.get("hours");
    let hours = hours_item.as_ref().map(|i| read_hours(cx, i));
    let max_distance_m = t.get("max_distance_m").map(|i| {
        i.int(cx, 1..1_000_001, "a distance in metres from 1 to 1000000")
            .map(|m| m as u32)
    });
    let required_fields = t
        .get("required_fields")
        .map(|i| read_required_fields(cx, &i));
    let always_allowed = t.get("always_allowed").map(|i| i.bool(cx));
    if let Some(Some(true)) = always_allowed {
        for (key, found) in [("quota", &quota_item), ("hours", &hours_item)] {
            if let Some(found) = found {
                cx.error(
                    found.span(),
                    K::Conflict,
                    format!(
                        "`{}` is always_allowed and cannot have `{key}`; expected one or the other",
                        t.path
                    ),
                );
            }
        }
    }
    t.finish(
        cx,
        &[
            "id",
            "sms_code",
            "name",
            "max_minutes",
            "until_end_of_day",
            "quota",
            "hours",
            "max_distance_m",
            "required_fields",
            "always_allowed",
        ],
    );
    let sms_code = sms_code.and_then(|c| u8::try_from(c).ok());
    let purpose = (|| {
        Some(Purpose {
            id: id.clone()?,
            sms_code: sms_code?,
            name: name?,
            duration: duration?,
            quota: quota.map_or(Some(None), |q| q.map(Some))?,
            hours: hours.map_or(Some(None), |h| h.map(Some))?,
            max_distance_m: max_distance_m.map_or(Some(None), |m| m.map(Some))?,
            required_fields: required_fields.unwrap_or(Some(Vec::new()))?,
            always_allowed: always_allowed.unwrap_or(Some(false))?,
        })
    })();
    ReadPurpose {
        purpose,
        id: id.zip(id_item.map(|i| i.span())),
        sms_code: sms_code.zip(code_item.map(|i| i.span())),
    }
}

fn read_required_fields(cx: &mut Cx<'_>, item: &Item<'_, '_>) -> Option<Vec<FieldKind>> {
    let known = FieldKind::ALL.map(FieldKind::as_str).join(", ");
    let items = item.array(cx, &format!("an array of field names ({known})"))?;
    let mut fields = Vec::new();
    let mut complete = true;
    for i in &items {
        let Some(name) = i.str(cx, &format!("a field name ({known})")) else {
            complete = false;
            continue;
        };
        match FieldKind::from_name(name) {
            Some(kind) if fields.contains(&kind) => {
                cx.error(
                    i.span(),
                    K::DuplicateEntry,
                    format!(
                        "`{}`: {name:?} is listed twice; expected each field once",
                        item.path
                    ),
                );
                complete = false;
            }
            Some(kind) => fields.push(kind),
            None => {
                cx.error(
                    i.span(),
                    K::UnknownRequiredField,
                    format!(
                        "`{}`: unknown field {name:?}; expected one of: {known}",
                        item.path
                    ),
                );
                complete = false;
            }
        }
    }
    complete.then_some(fields)
}
