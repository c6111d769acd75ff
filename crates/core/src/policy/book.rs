//! The set of regimes a city has loaded, and which one governs a given moment.

use jiff::{SignedDuration, Timestamp};

use super::Regime;

/// Every loaded regime: the built-ins and whatever an administrator loaded.
///
/// Nothing here is scheduled: the regime in force is worked out from the moment asked about,
/// so a regime loaded today with an `effective_from` next Monday governs passes from next
/// Monday on without a restart, and passes requested today for next Tuesday already fall
/// under it.
#[derive(Debug, Clone, Default)]
pub struct RegimeBook {
    regimes: Vec<Regime>,
}

/// Where a moment stands with respect to the regimes of a book.
#[derive(Debug, Clone, Copy)]
pub enum RegimeStatus<'a> {
    /// This regime governs the moment.
    InForce(&'a Regime),
    /// No regime governs the moment; this one starts later.
    NotYetInForce(&'a Regime),
    /// No regime governs the moment or starts later; this one (the last to end) has ended.
    Ended(&'a Regime),
    /// The book is empty.
    NoRegime,
}

impl RegimeBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// A book holding the built-in regimes.
    pub fn with_builtins() -> Self {
        let mut book = Self::new();
        for regime in super::builtin_regimes() {
            book.insert(regime);
        }
        book
    }

    /// Adds a regime, replacing one with the same id (a corrected file); returns the replaced
    /// one.
    pub fn insert(&mut self, regime: Regime) -> Option<Regime> {
        let old = self
            .regimes
            .iter()
            .position(|r| r.id == regime.id)
            .map(|k| self.regimes.remove(k));
        self.regimes.push(regime);
        old
    }

    /// Removes the regime with this id.
    pub fn remove(&mut self, id: &str) -> Option<Regime> {
        let k = self.regimes.iter().position(|r| r.id == *id)?;
        Some(self.regimes.remove(k))
    }

    /// The regime with this id.
    pub fn get(&self, id: &str) -> Option<&Regime> {
        self.regimes.iter().find(|r| r.id == *id)
    }

    /// All regimes, in the order loaded.
    pub fn iter(&self) -> impl Iterator<Item = &Regime> {
        self.regimes.iter()
    }

    /// The regime governing `t`: of those that have started and not ended, the one with the
    /// latest `effective_from` (a newer act supersedes an older one; when a newer, temporary
    /// one ends, the older one governs again). Of two with the same `effective_from`, the one
    /// loaded later wins.
    pub fn in_force(&self, t: Timestamp) -> Option<&Regime> {
        self.regimes
            .iter()
            .filter(|r| r.is_in_force(t))
            .fold(None, |best: Option<&Regime>, r| match best {
                Some(b) if b.effective_from > r.effective_from => Some(b),
                _ => Some(r),
            })
    }

    /// The next regime to take effect after `t`, if any (for "not yet in force, starts at …").
    pub fn next(&self, t: Timestamp) -> Option<&Regime> {
        self.regimes
            .iter()
            .filter(|r| r.effective_from > t)
            .min_by_key(|r| r.effective_from)
    }

    /// Where `t` stands: governed, before a regime starts, after the last one ended, or no
    /// regime at all.
    pub fn status_at(&self, t: Timestamp) -> RegimeStatus<'_> {
        if let Some(r) = self.in_force(t) {
            RegimeStatus::InForce(r)
        } else if let Some(r) = self.next(t) {
            RegimeStatus::NotYetInForce(r)
        } else if let Some(r) = self
            .regimes
            .iter()
            .filter(|r| r.has_ended(t))
            .max_by_key(|r| r.until)
        {
            RegimeStatus::Ended(r)
        } else {
            RegimeStatus::NoRegime
        }
    }

    /// How far back prior passes matter for any regime of the book (the longest
    /// [`crate::issuance::lookback`]).
    pub fn lookback(&self) -> SignedDuration {
        self.regimes
            .iter()
            .map(crate::issuance::lookback)
            .max()
            .unwrap_or(SignedDuration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_regime;

    fn regime(id: &str, from: &str, until: Option<&str>) -> Regime {
        let until = until.map_or(String::new(), |u| format!("until = {u}\n"));
        parse_regime(&format!(
            r#"
id = "{id}"
issuer = "RU-MOW"
time_zone = "Europe/Moscow"
effective_from = {from}
{until}
name = {{ ru = "Р", en = "R" }}
legal_act = {{ title = "Act" }}
[[purposes]]
id = "walk"
sms_code = 1
name = {{ ru = "Прогулка", en = "Walk" }}
max_minutes = 60
"#
        ))
        .unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn latest_started_regime_governs() {
        let mut book = RegimeBook::new();
        book.insert(regime("base", "2020-04-01T00:00:00+03:00", None));
        book.insert(regime(
            "strict",
            "2020-05-01T00:00:00+03:00",
            Some("2020-06-01T00:00:00+03:00"),
        ));
        book.insert(regime("future", "2020-07-01T00:00:00+03:00", None));

        assert!(
            matches!(book.status_at(ts("2020-03-31T12:00:00Z")), RegimeStatus::NotYetInForce(r) if r.id() == "base")
        );
        assert_eq!(
            book.in_force(ts("2020-04-15T00:00:00Z")).unwrap().id(),
            "base"
        );
        assert_eq!(
            book.in_force(ts("2020-05-15T00:00:00Z")).unwrap().id(),
            "strict"
        );
        // The temporary regime ended: the base one governs again.
        assert_eq!(
            book.in_force(ts("2020-06-15T00:00:00Z")).unwrap().id(),
            "base"
        );
        assert_eq!(
            book.next(ts("2020-06-15T00:00:00Z")).unwrap().id(),
            "future"
        );
        // The future one takes effect at its moment, exactly.
        assert_eq!(
            book.in_force(ts("2020-06-30T21:00:00Z")).unwrap().id(),
            "future"
        );
        assert_eq!(
            book.in_force(ts("2020-06-30T20:59:59Z")).unwrap().id(),
            "base"
        );
    }

    #[test]
    fn ended_and_empty() {
        let mut book = RegimeBook::new();
        assert!(matches!(
            book.status_at(ts("2020-01-01T00:00:00Z")),
            RegimeStatus::NoRegime
        ));
        book.insert(regime(
            "only",
            "2020-04-01T00:00:00+03:00",
            Some("2020-05-12T00:00:00+03:00"),
        ));
        assert!(
            matches!(book.status_at(ts("2020-05-11T21:00:00Z")), RegimeStatus::Ended(r) if r.id() == "only")
        );
        assert!(matches!(
            book.status_at(ts("2020-05-11T20:59:59Z")),
            RegimeStatus::InForce(_)
        ));
    }

    #[test]
    fn insert_replaces_same_id() {
        let mut book = RegimeBook::new();
        book.insert(regime("a", "2020-04-01T00:00:00+03:00", None));
        let old = book.insert(regime("a", "2021-04-01T00:00:00+03:00", None));
        assert!(old.is_some());
        assert_eq!(book.iter().count(), 1);
        assert!(book.in_force(ts("2020-06-01T00:00:00Z")).is_none());
        assert!(book.remove("a").is_some());
        assert!(book.get("a").is_none());
    }

    #[test]
    fn builtins_default_is_in_force_today() {
        let book = RegimeBook::with_builtins();
        let today = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            book.in_force(today).unwrap().id(),
            super::super::DEFAULT_REGIME_ID
        );
        // In April 2020 Tatarstan's regime started earlier, Moscow's later: Moscow's governs.
        assert_eq!(
            book.in_force(ts("2020-04-10T00:00:00Z")).unwrap().id(),
            "tatarstan-2020"
        );
        assert_eq!(
            book.in_force(ts("2020-04-20T00:00:00Z")).unwrap().id(),
            "moscow-2020"
        );
        assert!(book.lookback() >= SignedDuration::from_hours(31 * 24));
    }
}
