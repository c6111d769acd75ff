//! Identifiers that regimes are written with and that go into pass tokens.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What was wrong with an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {found:?} is malformed; expected {expected}")]
pub struct IdError {
    what: &'static str,
    found: String,
    expected: &'static str,
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $what:literal, $expected:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// What a valid value looks like.
            pub const EXPECTED: &'static str = $expected;

            /// Parses an identifier.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                let valid: fn(&str) -> bool = $valid;
                if valid(input) {
                    Ok(Self(input.to_owned()))
                } else {
                    Err(IdError { what: $what, found: input.to_owned(), expected: $expected })
                }
            }

            /// The identifier.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

identifier!(
    /// A purpose of a pass within a regime, e.g. `shopping`: snake_case, 1–32 characters.
    PurposeId,
    "purpose id",
    "snake_case: a lowercase Latin letter, then lowercase letters, digits or underscores, 32 characters at most",
    |s| {
        let b = s.as_bytes();
        (1..=32).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
    }
);

identifier!(
    /// A regime, e.g. `moscow-2020`: lowercase letters, digits and dashes, 1–64 characters.
    RegimeId,
    "regime id",
    "lowercase Latin letters, digits and dashes, starting with a letter or digit, 64 characters at most",
    |s| {
        let b = s.as_bytes();
        (1..=64).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    }
);

identifier!(
    /// The authority that issues passes under a regime, e.g. `RU-MOW` (an ISO 3166-2
    /// subdivision code): the token's `iss` claim.
    IssuerCode,
    "issuer code",
    "an authority code such as RU-MOW: two capital Latin letters, optionally a dash and 1–3 capital letters or digits",
    |s| {
        let b = s.as_bytes();
        let country = b.len() >= 2 && b[..2].iter().all(u8::is_ascii_uppercase);
        let rest = &b[2.min(b.len())..];
        country
            && (rest.is_empty()
                || (rest[0] == b'-'
                    && (2..=4).contains(&rest.len())
                    && rest[1..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())))
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_ids() {
        assert!(PurposeId::parse("shopping").is_ok());
        assert!(PurposeId::parse("bank_post2").is_ok());
        assert!(PurposeId::parse("Shopping").is_err());
        assert!(PurposeId::parse("2go").is_err());
        assert!(PurposeId::parse("").is_err());
        assert!(PurposeId::parse("with-dash").is_err());
        let e = PurposeId::parse("a b").unwrap_err();
        assert!(e.to_string().contains("expected snake_case"), "{e}");
    }

    #[test]
    fn regime_ids_and_issuers() {
        assert!(RegimeId::parse("moscow-2020").is_ok());
        assert!(RegimeId::parse("Moscow").is_err());
        assert!(IssuerCode::parse("RU-MOW").is_ok());
        assert!(IssuerCode::parse("RU-TA").is_ok());
        assert!(IssuerCode::parse("RU").is_ok());
        assert!(IssuerCode::parse("ru-mow").is_err());
        assert!(IssuerCode::parse("RU-").is_err());
        assert!(IssuerCode::parse("RU-MOSCOW").is_err());
    }
}
