//! Rate limits as pure decisions: the generic cell rate algorithm (GCRA).
//!
//! A limit is "`burst` at once, then one every `period`". Its whole state is one instant,
//! the *theoretical arrival time* (TAT): when the bucket would be empty again if no more
//! requests came. A request at `now` is allowed when `TAT - now` leaves room for one more
//! `period` inside `burst × period`; it then pushes TAT one period further. So the store
//! keeps one number per bucket, and checking and taking a slot is a pure function of that
//! number and `now`, done under the bucket's lock (see `propusk-store`'s `throttle`).
//!
//! Why GCRA and not counters per fixed window: a fixed window lets twice the limit through
//! around its edge, and a sliding log keeps one row per request. GCRA is exact to the
//! millisecond with one row.

use jiff::{SignedDuration, Timestamp};

/// One limit: at most `burst` requests at once, refilled at one per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    period: SignedDuration,
    burst: u32,
}

impl Rate {
    /// `burst` at once, then one per `period`. Both must be positive: a limit that allows
    /// nothing is a configuration error, refused where the configuration is read.
    pub fn new(burst: u32, period: SignedDuration) -> Option<Self> {
        (burst > 0 && period.is_positive()).then_some(Self { period, burst })
    }

    /// `count` per `window` on average, all of them at once if they come together: e.g. 5
    /// an hour is a burst of 5 refilled at one per 12 minutes. Like every token bucket it
    /// lets up to `2 × count − 1` through within one window (a full burst, then the refill
    /// of the same window), never more.
    pub fn per(count: u32, window: SignedDuration) -> Option<Self> {
        if count == 0 {
            return None;
        }
        Self::new(count, window / i32::try_from(count).ok()?)
    }

    pub fn burst(self) -> u32 {
        self.burst
    }

    pub fn period(self) -> SignedDuration {
        self.period
    }
}

/// The outcome of asking one bucket for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed: store this as the bucket's new TAT.
    Allow { tat: Timestamp },
    /// Refused: no slot before `retry_at`. The bucket is unchanged.
    Refuse { retry_at: Timestamp },
}

/// Asks a bucket whose stored TAT is `tat` (None: never used, or expired and purged) for one
/// slot at `now`.
pub fn take(rate: Rate, tat: Option<Timestamp>, now: Timestamp) -> Decision {
    take_n(rate, tat, now, 1)
}

/// Asks for `n` slots at once (e.g. `n` checks reported together): allowed only if all of
/// them fit, which a request for more than the burst never does.
pub fn take_n(rate: Rate, tat: Option<Timestamp>, now: Timestamp, n: u32) -> Decision {
    let tat = tat.filter(|t| *t > now).unwrap_or(now);
    let cost = rate.period * i32::try_from(n).unwrap_or(i32::MAX);
    let new_tat = tat.saturating_add(cost).unwrap_or(tat);
    // The request fits if, once charged, the bucket runs no further ahead of now than a
    // full burst would.
    let allowed_ahead = rate.period * i32::try_from(rate.burst).unwrap_or(i32::MAX);
    let earliest = new_tat.saturating_sub(allowed_ahead).unwrap_or(new_tat);
    if n > rate.burst || earliest > now {
        Decision::Refuse {
            retry_at: earliest.max(now),
        }
    } else {
        Decision::Allow { tat: new_tat }
    }
}

/// Several buckets asked together (a phone's, its requester's, everyone's): allowed only if
/// every one of them has a slot, in which case each takes one (the new TATs, in order);
/// refused otherwise, naming each refusing bucket by its index with its retry time, and then
/// none of them is charged.
pub fn take_all(
    asks: &[(Rate, Option<Timestamp>, u32)],
    now: Timestamp,
) -> Result<Vec<Timestamp>, Vec<(usize, Timestamp)>> {
    let mut tats = Vec::with_capacity(asks.len());
    let mut refused = Vec::new();
    for (i, (rate, tat, n)) in asks.iter().enumerate() {
        match take_n(*rate, *tat, now, *n) {
            Decision::Allow { tat } => tats.push(tat),
            Decision::Refuse { retry_at } => refused.push((i, retry_at)),
        }
    }
    if refused.is_empty() {
        Ok(tats)
    } else {
        Err(refused)
    }
}

/// Exponential backoff after failed attempts (wrong passwords): the first `free` failures
/// cost nothing, then each one closes the door for twice as long as the one before, from
/// `base` up to `max`. Failures are forgotten `forget_after` the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub free: u32,
    pub base: SignedDuration,
    pub max: SignedDuration,
    pub forget_after: SignedDuration,
}

/// A backoff's state: failures so far, the last one, and until when attempts are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Timestamp,
    pub blocked_until: Timestamp,
}

impl Backoff {
    /// How long the door stays closed after the `n`-th failure in a row.
    pub fn wait_after(self, n: u32) -> SignedDuration {
        if n < self.free {
            return SignedDuration::ZERO;
        }
        let doublings = (n - self.free).min(30);
        let wait = self.base * 2i32.saturating_pow(doublings);
        wait.min(self.max)
    }

    /// An attempt at `now`: refused (with when to come back) while the door is closed;
    /// otherwise admitted and charged as a failure in advance, so that attempts made at
    /// the same moment cannot all pass the check before any of them is counted. A success
    /// then gives the charge back ([`Backoff::succeeded`]).
    pub fn admit(self, state: Option<Failures>, now: Timestamp) -> Result<Failures, Timestamp> {
        let state = state.filter(|s| now.duration_since(s.last_at) < self.forget_after);
        if let Some(s) = state {
            // Below the free failures the door is open whatever the times say: attempts
            // that started at once may be charged out of their clocks' order.
            if self.wait_after(s.count) > SignedDuration::ZERO && s.blocked_until > now {
                return Err(s.blocked_until);
            }
        }
        let count = state.map_or(0, |s| s.count).saturating_add(1);
        let blocked_until = now.saturating_add(self.wait_after(count)).unwrap_or(now);
        Ok(Failures {
            count,
            last_at: now,
            blocked_until,
        })
    }

    /// The charge of an admitted attempt that succeeded, given back: one failure fewer,
    /// and the door as it was before it.
    pub fn succeeded(self, state: Failures) -> Failures {
        let count = state.count.saturating_sub(1);
        let blocked_until = state
            .last_at
            .saturating_add(self.wait_after(count))
            .unwrap_or(state.last_at);
        Failures {
            count,
            last_at: state.last_at,
            blocked_until: if count == 0 {
                state.last_at
            } else {
                blocked_until
            },
        }
    }
}

/// Whole seconds until `retry_at`, at least one (for a Retry-After header).
pub fn retry_after_secs(retry_at: Timestamp, now: Timestamp) -> u64 {
    let ms = retry_at.duration_since(now).as_millis();
    u64::try_from((ms + 999) / 1000).unwrap_or(0).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_600_000_000 + secs).unwrap()
    }

    fn run(rate: Rate, times: &[i64]) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|t| match take(rate, tat, at(*t)) {
                Decision::Allow { tat: new } => {
                    tat = Some(new);
                    true
                }
                Decision::Refuse { .. } => false,
            })
            .collect()
    }

    #[test]
    fn a_burst_then_one_per_period() {
        let rate = Rate::per(5, SignedDuration::from_hours(1)).unwrap();
        assert_eq!(rate.period(), SignedDuration::from_mins(12));
        // Five at once, the sixth refused; one more after 12 minutes, not before.
        assert_eq!(
            run(rate, &[0, 0, 0, 0, 0, 0, 719, 720, 721]),
            [true, true, true, true, true, false, false, true, false]
        );
    }

    #[test]
    fn one_a_minute() {
        let rate = Rate::new(1, SignedDuration::from_mins(1)).unwrap();
        assert_eq!(
            run(rate, &[0, 30, 59, 60, 61, 125]),
            [true, false, false, true, false, true]
        );
    }

    #[test]
    fn never_more_than_a_burst_and_its_refill_over_any_window() {
        // 10 an hour, asked every 10 seconds for 5 hours: at most 19 in any hour (the burst
        // and the hour's refill), 10 an hour in the long run.
        let rate = Rate::per(10, SignedDuration::from_hours(1)).unwrap();
        let times: Vec<i64> = (0..1800).map(|i| i * 10).collect();
        let allowed: Vec<i64> = times
            .iter()
            .zip(run(rate, &times))
            .filter_map(|(t, ok)| ok.then_some(*t))
            .collect();
        for (i, t) in allowed.iter().enumerate() {
            let in_hour = allowed[i..].iter().take_while(|u| **u < t + 3600).count();
            assert!(in_hour <= 19, "{in_hour} in the hour from {t}");
        }
        // 10 at once, then one each 6 minutes for 5 hours.
        assert_eq!(allowed.len(), 10 + 49);
    }

    #[test]
    fn a_refusal_names_when_to_come_back_and_charges_nothing() {
        let rate = Rate::new(1, SignedDuration::from_mins(1)).unwrap();
        let Decision::Allow { tat } = take(rate, None, at(0)) else {
            panic!()
        };
        assert_eq!(
            take(rate, Some(tat), at(20)),
            Decision::Refuse { retry_at: at(60) }
        );
        assert_eq!(retry_after_secs(at(60), at(20)), 40);
    }

    #[test]
    fn together_all_or_nothing() {
        let minute = Rate::new(1, SignedDuration::from_mins(1)).unwrap();
        let hour = Rate::per(10, SignedDuration::from_hours(1)).unwrap();
        let tats = take_all(&[(minute, None, 1), (hour, None, 1)], at(0)).unwrap();
        // The minute bucket refuses at 30 s, so the hour bucket is not charged.
        let refused = take_all(
            &[(minute, Some(tats[0]), 1), (hour, Some(tats[1]), 1)],
            at(30),
        );
        assert_eq!(refused, Err(vec![(0, at(60))]));
    }

    fn backoff() -> Backoff {
        Backoff {
            free: 3,
            base: SignedDuration::from_secs(1),
            max: SignedDuration::from_mins(15),
            forget_after: SignedDuration::from_hours(1),
        }
    }

    #[test]
    fn backoff_doubles_after_the_free_failures_up_to_the_max() {
        let b = backoff();
        let waits: Vec<i64> = (1..=16).map(|n| b.wait_after(n).as_secs()).collect();
        assert_eq!(
            waits,
            [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
        );
    }

    #[test]
    fn free_attempts_charged_out_of_order_are_not_refused() {
        // An attempt stamped 0.2 s later took the lock first; the earlier one is still free.
        let b = backoff();
        let later = Timestamp::from_millisecond(1_600_000_000_200).unwrap();
        let s = b.admit(None, later).unwrap();
        assert!(b.admit(Some(s), at(0)).is_ok());
        // Past the free ones, the door's time holds.
        let s = b.admit(Some(s), later).unwrap();
        let s = b.admit(Some(s), later).unwrap();
        assert_eq!(b.admit(Some(s), at(0)), Err(s.blocked_until));
    }

    #[test]
    fn attempts_at_the_same_moment_are_each_charged() {
        // 40 attempts in the same second: only the free ones (and the one that closes the
        // door) get through; the rest are refused without being checked.
        let b = backoff();
        let mut state = None;
        let admitted = (0..40)
            .filter(|_| match b.admit(state, at(0)) {
                Ok(s) => {
                    state = Some(s);
                    true
                }
                Err(_) => false,
            })
            .count();
        assert_eq!(admitted, 3);
        assert_eq!(b.admit(state, at(0)), Err(at(1)));
    }

    #[test]
    fn a_success_gives_its_charge_back_and_failures_are_forgotten() {
        let b = backoff();
        let s = b.admit(None, at(0)).unwrap();
        let s = b.succeeded(s);
        assert_eq!(s.count, 0);
        // Two failures, then an hour of quiet: counted from zero again.
        let s = b.admit(Some(s), at(1)).unwrap();
        let s = b.admit(Some(s), at(2)).unwrap();
        let s = b.admit(Some(s), at(3)).unwrap();
        assert_eq!(s.count, 3);
        assert_eq!(b.admit(Some(s), at(3 + 3600)).unwrap().count, 1);
    }

    #[test]
    fn several_slots_at_once() {
        // 100 at once, refilled at one a second.
        let rate = Rate::new(100, SignedDuration::from_secs(1)).unwrap();
        let Decision::Allow { tat } = take_n(rate, None, at(0), 60) else {
            panic!()
        };
        // 40 are left now; 50 more need 10 seconds of refill.
        assert_eq!(
            take_n(rate, Some(tat), at(0), 50),
            Decision::Refuse { retry_at: at(10) }
        );
        assert!(matches!(
            take_n(rate, Some(tat), at(0), 40),
            Decision::Allow { .. }
        ));
        // More than the burst never fits.
        assert!(matches!(
            take_n(rate, None, at(0), 101),
            Decision::Refuse { .. }
        ));
    }

    #[test]
    fn nonsense_rates_are_refused() {
        assert!(Rate::new(0, SignedDuration::from_secs(1)).is_none());
        assert!(Rate::new(1, SignedDuration::ZERO).is_none());
        assert!(Rate::per(0, SignedDuration::from_hours(1)).is_none());
    }
}
