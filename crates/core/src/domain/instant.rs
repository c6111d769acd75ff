//! Moments people and programs send: RFC 3339 text, checked for sense before it is used.
//!
//! RFC 3339 allows offsets up to ±23:59 and jiff up to ±25:59, and any year; no place on
//! Earth is further than −12:00 or +14:00 from UTC, and nothing this service handles
//! happened before 2000 or will after 2100. A moment outside those bounds is a typo (or a
//! probe), refused with a message rather than stored.

use jiff::fmt::temporal::Pieces;
use jiff::Timestamp;

use crate::Localized;

/// Why a typed moment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    #[error("{}", self.localized().en)]
    Format(String),
    #[error("{}", self.localized().en)]
    Offset(String),
    #[error("{}", self.localized().en)]
    OutOfRange(String),
}

impl InstantError {
    pub fn localized(&self) -> Localized {
        let ru = match self {
            Self::Format(s) => format!(
                "Время «{s}» не разобрано: нужна запись в формате RFC 3339, например 2020-04-15T10:00:00+03:00."
            ),
            Self::Offset(o) => {
                format!("Смещение часового пояса {o} не существует: допустимо от −12:00 до +14:00.")
            }
            Self::OutOfRange(s) => format!("Время {s} вне допустимых лет: с 2000 по 2100."),
        };
        let en = match self {
            Self::Format(s) => format!(
                "The time “{s}” is not understood: it must be written as RFC 3339, e.g. 2020-04-15T10:00:00+03:00."
            ),
            Self::Offset(o) => {
                format!(
                    "The time zone offset {o} does not exist: it must be from −12:00 to +14:00."
                )
            }
            Self::OutOfRange(s) => format!("The time {s} is outside the years 2000 to 2100."),
        };
        Localized::new(ru, en)
    }
}

/// The earliest and latest moments accepted anywhere.
pub fn sensible_range() -> (Timestamp, Timestamp) {
    (
        Timestamp::from_second(946_684_800).expect("2000-01-01 is a timestamp"),
        Timestamp::from_second(4_102_444_800).expect("2100-01-01 is a timestamp"),
    )
}

/// Whether `t` lies within [`sensible_range`].
pub fn is_sensible(t: Timestamp) -> bool {
    let (from, until) = sensible_range();
    (from..until).contains(&t)
}

/// Parses an RFC 3339 moment with a real offset, between 2000 and 2100.
pub fn parse_instant(s: &str) -> Result<Timestamp, InstantError> {
    let s = s.trim();
    let format = || InstantError::Format(s.chars().take(40).collect());
    let pieces = Pieces::parse(s).map_err(|_| format())?;
    let offset = pieces.offset().ok_or_else(format)?.to_numeric_offset();
    let seconds = offset.seconds();
    if !(-12 * 3600..=14 * 3600).contains(&seconds) {
        return Err(InstantError::Offset(offset.to_string()));
    }
    let t: Timestamp = s.parse().map_err(|_| format())?;
    if !is_sensible(t) {
        return Err(InstantError::OutOfRange(t.to_string()));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_moments_parse() {
        let t = parse_instant("2020-04-15T10:00:00+03:00").unwrap();
        assert_eq!(t.to_string(), "2020-04-15T07:00:00Z");
        assert!(parse_instant("2020-04-15T07:00:00Z").is_ok());
        assert!(parse_instant("2020-04-15T07:00:00.250-12:00").is_ok());
        assert!(parse_instant("2020-04-15T07:00:00+14:00").is_ok());
    }

    #[test]
    fn impossible_offsets_and_years_are_refused() {
        assert!(matches!(
            parse_instant("2020-04-15T10:00:00+25:59"),
            Err(InstantError::Offset(_))
        ));
        assert!(matches!(
            parse_instant("2020-04-15T10:00:00-12:30"),
            Err(InstantError::Offset(_))
        ));
        assert!(matches!(
            parse_instant("1970-01-01T00:00:00Z"),
            Err(InstantError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_instant("2101-01-01T00:00:00Z"),
            Err(InstantError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_instant("2020-04-15 10:00"),
            Err(InstantError::Format(_))
        ));
        assert!(matches!(
            parse_instant("2020-04-15T10:00:00"),
            Err(InstantError::Format(_))
        ));
    }
}
