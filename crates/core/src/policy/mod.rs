//! Regimes as data: the rules a legal act sets for passes, written in TOML.
//!
//! A regime says which purposes a resident may get a pass for, for how long, how often, at
//! what hours and how far from home, from which moment and until when. It is parsed once by
//! [`parse_regime`] into a [`Regime`] that cannot be invalid; [`RegimeBook`] holds several and
//! answers which one is in force at a given moment.
//!
//! # The TOML schema
//!
//! ```toml
//! id = "moscow-2020"                 # lowercase letters, digits, dashes
//! issuer = "RU-MOW"                  # authority code, goes into the token's `iss`
//! time_zone = "Europe/Moscow"        # IANA name; calendar windows, hours, "end of day"
//! effective_from = 2020-04-15T00:00:00+03:00   # RFC 3339 with offset (TOML datetime or string)
//! until = 2020-06-09T00:00:00+03:00  # optional, exclusive; later than effective_from
//!
//! [name]                             # required, both languages
//! ru = "Москва, весна 2020"
//! en = "Moscow, spring 2020"
//!
//! [legal_act]
//! title = "Указ Мэра Москвы от 11.04.2020 № 43-УМ"
//! reference = "https://…"            # optional: where to read it
//!
//! max_passes_per_day = 20           # optional, 1–100, default 20: the ceiling, see below
//!
//! [cap]                              # optional: all passes except always_allowed ones
//! count = 2
//! per = "week"
//!
//! [[purposes]]                       # at least one; at most nine (one per SMS digit)
//! id = "shopping"                    # snake_case, unique in the regime
//! sms_code = 3                       # one digit 1–9, unique in the regime
//! name = { ru = "…", en = "…" }
//! max_minutes = 180                  # maximum (and default) duration, 1–10080 …
//! # until_end_of_day = true          # … or: valid until the end of the local day
//! quota = { count = 2, per = "7d" }  # optional
//! hours = { from = "08:00", to = "22:00" }   # optional, local time; may wrap past midnight
//! max_distance_m = 100               # optional: destination at most this far from home
//! required_fields = ["employer_inn"] # optional: employer_inn, employer_name, vehicle_plate
//! always_allowed = false             # optional: true = no quota, no hours, not capped
//! ```
//!
//! `per` is a window: `"day"`, `"week"` (Monday to Sunday) or `"month"` — calendar periods
//! in the regime's time zone — or a rolling window `"<N>d"` / `"<N>h"` of at most 31 days
//! (`"7d"` means: in any 7 × 24 hours, at most `count` passes start).
//!
//! Cancelled passes and quotas: a pass cancelled before (or at) its start never took effect and
//! counts against neither its purpose's `quota` nor the `[cap]`; a pass cancelled after its
//! start was used, at least in part, and counts, so that cancelling after the trip cannot hand
//! the quota back. The resident's pages say which before and after a cancellation.
//!
//! `max_passes_per_day` is the regime's ceiling: at most that many passes per resident start on
//! one local day, whatever their purpose — always-allowed ones and cancelled ones included. It
//! applies to purposes without a quota too, so that no resident can take passes without end
//! (a scripted client taking thousands of `trash` passes would otherwise make every issuance of
//! theirs, and on SQLite everyone else's waiting behind it, slower). A legal act's "N passes a
//! day" is written with it; `[cap]` is for other windows ("5 a week across purposes"), counted
//! as quotas are.
//!
//! [`parse_regime`] reports every error it finds, each with its line and column and what is
//! expected: unknown or missing keys, wrong types, values out of range, duplicate purpose
//! ids or SMS codes, unknown time zones or required fields, `until` not after
//! `effective_from`, contradictions such as a quota on an always-allowed purpose. A TOML syntax
//! error is reported with its line too; the checks of meaning run once the text parses, since
//! a half-parsed document would only produce misleading complaints.

mod book;
mod builtin;
mod error;
mod fields;
mod parse;
mod window;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use book::{RegimeBook, RegimeStatus};
pub use builtin::{builtin_regimes, moscow_2020, tatarstan_2020, DEFAULT_REGIME_ID};
pub use error::{PolicyError, PolicyErrorKind};
pub use fields::{FieldError, FieldKind};
pub use parse::parse_regime;
pub(crate) use window::end_of_local_day;
pub use window::{AllowedHours, Window};

use crate::domain::{IssuerCode, PurposeId, RegimeId};
use crate::Localized;

/// The rules in force for a period, from one legal act. Built only by [`parse_regime`].
#[derive(Debug, Clone)]
pub struct Regime {
    id: RegimeId,
    name: Localized,
    legal_act: LegalAct,
    issuer: IssuerCode,
    effective_from: Timestamp,
    until: Option<Timestamp>,
    time_zone: TimeZone,
    time_zone_name: String,
    cap: Option<Quota>,
    max_passes_per_day: u32,
    purposes: Vec<Purpose>,
}

/// The ceiling a regime gets when its file sets none: well above a real day's needs (a trip to
/// the shop, the pharmacy, work, a walk with the dog, the trash, several times over).
pub const DEFAULT_MAX_PASSES_PER_DAY: u32 = 20;

/// The highest ceiling a regime may set: what bounds the work one issuance does (the store
/// reads at most this many passes per day of the booking horizon).
pub const MAX_PASSES_PER_DAY_LIMIT: u32 = 100;

impl Regime {
    /// The regime's id, e.g. `moscow-2020` (the token's regime claim).
    pub fn id(&self) -> &RegimeId {
        &self.id
    }

    /// The regime's name.
    pub fn name(&self) -> &Localized {
        &self.name
    }

    /// The legal act the rules come from.
    pub fn legal_act(&self) -> &LegalAct {
        &self.legal_act
    }

    /// The issuing authority (the token's `iss`).
    pub fn issuer(&self) -> &IssuerCode {
        &self.issuer
    }

    /// The moment the regime takes effect.
    pub fn effective_from(&self) -> Timestamp {
        self.effective_from
    }

    /// The moment the regime ends (exclusive), if the act sets one.
    pub fn until(&self) -> Option<Timestamp> {
        self.until
    }

    /// The regime's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The IANA name of the time zone, e.g. `Europe/Moscow`.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }

    /// The cap on passes across all purposes except always-allowed ones.
    pub fn cap(&self) -> Option<&Quota> {
        self.cap.as_ref()
    }

    /// The ceiling: at most this many passes per resident may start on one local day, of any
    /// purpose, always-allowed and cancelled ones included (see the module documentation).
    pub fn max_passes_per_day(&self) -> u32 {
        self.max_passes_per_day
    }

    /// The ceiling as a quota: `max_passes_per_day` per calendar day.
    pub fn ceiling(&self) -> Quota {
        Quota {
            count: self.max_passes_per_day,
            window: Window::Day,
        }
    }

    /// The purposes, in file order.
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == *id)
    }

    /// The purpose an SMS digit stands for.
    pub fn purpose_by_sms_code(&self, code: u8) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.sms_code == code)
    }

    /// Whether the regime is in force at `t`: started and not ended.
    pub fn is_in_force(&self, t: Timestamp) -> bool {
        self.effective_from <= t && !self.has_ended(t)
    }

    /// Whether the regime has ended by `t`.
    pub fn has_ended(&self, t: Timestamp) -> bool {
        self.until.is_some_and(|until| until <= t)
    }
}

/// The legal act a regime comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalAct {
    /// Its title, e.g. "Указ Мэра Москвы от 11.04.2020 № 43-УМ".
    pub title: String,
    /// Where to read it (a URL or a publication reference), if given.
    pub reference: Option<String>,
}

/// A purpose a pass can be issued for, and its limits.
#[derive(Debug, Clone)]
pub struct Purpose {
    id: PurposeId,
    sms_code: u8,
    name: Localized,
    duration: MaxDuration,
    quota: Option<Quota>,
    hours: Option<AllowedHours>,
    max_distance_m: Option<u32>,
    required_fields: Vec<FieldKind>,
    always_allowed: bool,
}

impl Purpose {
    /// The purpose's id, e.g. `shopping`.
    pub fn id(&self) -> &PurposeId {
        &self.id
    }

    /// The SMS digit (1–9) that asks for this purpose.
    pub fn sms_code(&self) -> u8 {
        self.sms_code
    }

    /// The purpose's name.
    pub fn name(&self) -> &Localized {
        &self.name
    }

    /// How long a pass may last.
    pub fn duration(&self) -> MaxDuration {
        self.duration
    }

    /// How many passes per window, if limited.
    pub fn quota(&self) -> Option<&Quota> {
        self.quota.as_ref()
    }

    /// The local hours passes are allowed in, if limited.
    pub fn hours(&self) -> Option<&AllowedHours> {
        self.hours.as_ref()
    }

    /// How far from home the destination may be, metres, if limited.
    pub fn max_distance_m(&self) -> Option<u32> {
        self.max_distance_m
    }

    /// Fields the request must carry, e.g. `employer_inn`.
    pub fn required_fields(&self) -> &[FieldKind] {
        &self.required_fields
    }

    /// Always allowed (emergency): no quota, no hours, not counted against the cap.
    pub fn always_allowed(&self) -> bool {
        self.always_allowed
    }
}

/// How long a pass for a purpose may last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxDuration {
    /// At most this many minutes (also the default).
    Minutes(u32),
    /// Until the end of the local day the pass starts on (a working day, a day's visit).
    UntilEndOfDay,
}

/// At most `count` passes per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    count: u32,
    window: Window,
}

impl Quota {
    /// The largest number of passes in one window (at least 1).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The window passes are counted over.
    pub fn window(&self) -> Window {
        self.window
    }

    /// "at most 2 per 7 days", in both languages.
    pub fn describe(&self) -> Localized {
        let n = u64::from(self.count);
        let per = self.window.describe();
        Localized::new(
            format!(
                "не более {n} {} {}",
                crate::text::ru_plural(n, "пропуска", "пропусков", "пропусков"),
                per.ru
            ),
            format!(
                "at most {n} {} {}",
                if n == 1 { "pass" } else { "passes" },
                per.en
            ),
        )
    }
}

#[cfg(test)]
mod parse_tests;
