//! # propusk-core: the domain of an epidemic-lockdown pass system
//!
//! This crate holds the rules and nothing else. It decides whether a resident may have a pass
//! for a trip, under which legal regime, for how long; it parses and checks the personal data
//! a pass request rests on. It does no I/O, keeps no global state and never reads the clock:
//! the current moment is always a parameter. The server reads state from the store, asks this
//! crate to decide, and writes the outcome back.
//!
//! - [`domain`]: values parsed once at the edge — phone numbers, taxpayer numbers (INN),
//!   identity documents, names, points — and [`domain::holder_hint`], the only personal data a
//!   pass token carries.
//! - [`policy`]: regimes as data. A TOML file per legal act ([`policy::parse_regime`] reports
//!   every error with its line), the built-in `moscow-2020` and `tatarstan-2020`, and
//!   [`policy::RegimeBook`], which knows which regime is in force when.
//! - [`issuance`]: [`issuance::decide`], the pure decision on a pass request: a [`issuance::Grant`]
//!   with the validity window, or a [`issuance::Refusal`] with a stable code, a message in
//!   Russian and English, and when to try again.
//!
//! What it is not: it does not sign tokens (`propusk-token` does), store passes, or send SMS.
//!
//! Time zones come from the time zone database compiled into the binary (`jiff`'s bundled
//! tzdb), so a regime means the same thing on every machine and parsing one reads no files.

/// For a unit enum stored and sent by name: `ALL` (every variant, in order), `as_str`
/// (the wire name) and `parse` (the variant with a name; `None` for anything else), so the
/// list of names and the list of variants cannot drift apart.
macro_rules! wire_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$($name),+].len()] = [$(Self::$variant),+];

            /// The wire name: what is stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// The variant with this wire name.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_names;

pub mod domain;
pub mod issuance;
pub mod monitoring;
pub mod policy;
mod text;
pub mod throttle;
pub mod wording;

pub use text::{ru_plural, Lang, Localized};

#[cfg(test)]
mod wire_names_tests {
    use crate::monitoring::case::{CaseStatus, FlagStage};
    use crate::monitoring::checkins::ChallengeKind;
    use crate::monitoring::loaner::LoanerState;
    use crate::monitoring::FlagKind;

    /// Each enum stored by name reads its own names back, and nothing else.
    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            name: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(name(v)), Some(v));
            }
            for bad in ["", "Open", "On_loan", "active ", "left-home"] {
                assert_eq!(parse(bad), None, "{bad:?}");
            }
        }
        check(&FlagKind::ALL, FlagKind::as_str, FlagKind::parse);
        check(&FlagStage::ALL, FlagStage::as_str, FlagStage::parse);
        check(&CaseStatus::ALL, CaseStatus::as_str, CaseStatus::parse);
        check(&LoanerState::ALL, LoanerState::as_str, LoanerState::parse);
        check(
            &ChallengeKind::ALL,
            ChallengeKind::as_str,
            ChallengeKind::parse,
        );
    }
}
