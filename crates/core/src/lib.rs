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

pub mod domain;
pub mod issuance;
pub mod monitoring;
pub mod policy;
mod text;
pub mod throttle;

pub use text::{Lang, Localized};
