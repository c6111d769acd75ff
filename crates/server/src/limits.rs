//! The throttles that keep one client from spending the city's SMS budget, guessing staff
//! passwords, or locking someone else out — what they are, and whose requests each one
//! counts. The counting itself is atomic in the store (`propusk_store`'s `throttle`).
//!
//! Sign-in codes are limited on four keys at once, so that:
//! - a phone gets at most one code a minute and [`SignInLimits::per_phone`] an hour, from
//!   anyone (no SMS bombing of one person);
//! - one requester gets at most [`SignInLimits::per_requester`] codes for one phone: someone
//!   asking in a resident's name exhausts their own allowance, not the resident's (who asks
//!   from another address and still gets a code within a minute);
//! - one client address gets at most [`SignInLimits::per_client`] codes for all phones (no
//!   SMS pumping through our gateway);
//! - everyone together gets at most [`SignInLimits::global`]: the SMS-spend guard.
//!
//! Staff passwords are guarded per username and per client address with exponential
//! backoff ([`propusk_core::throttle::Backoff`]), and at most
//! [`LoginLimits::concurrent_hashes`] Argon2 checks run at once (each holds ~19 MiB).

use std::net::IpAddr;

use jiff::SignedDuration;
use propusk_core::throttle::{Backoff, Rate};
use propusk_store::Limit;

use crate::workers::Workers;

/// How often sign-in codes may be sent.
#[derive(Debug, Clone)]
pub struct SignInLimits {
    pub phone_minute: Rate,
    pub per_phone: Rate,
    pub per_requester: Rate,
    pub per_client: Rate,
    pub global: Rate,
}

fn rate(burst: u32, period: SignedDuration) -> Rate {
    Rate::new(burst, period).expect("a positive built-in rate")
}

impl Default for SignInLimits {
    fn default() -> Self {
        let hour = SignedDuration::from_hours(1);
        Self {
            phone_minute: rate(1, SignedDuration::from_mins(1)),
            per_phone: Rate::per(10, hour).expect("a positive built-in rate"),
            per_requester: Rate::per(5, hour).expect("a positive built-in rate"),
            // 20 at once, then one every 30 s: a family or an office behind one address is
            // never held up; a script sending codes to strangers is, within a minute.
            per_client: rate(20, SignedDuration::from_secs(30)),
            // 50 codes a second for the whole service, 500 at once.
            global: rate(500, SignedDuration::from_millis(20)),
        }
    }
}

impl SignInLimits {
    /// The limits one code request for `phone` from `client` is charged against.
    pub fn for_request(&self, phone: &str, client: IpAddr) -> Vec<Limit> {
        vec![
            Limit::new("otp.phone_minute", phone, self.phone_minute),
            Limit::new("otp.phone", phone, self.per_phone),
            Limit::new(
                "otp.requester",
                format!("{phone} {client}"),
                self.per_requester,
            ),
            Limit::new("otp.client", client.to_string(), self.per_client),
            Limit::new("otp.global", "all", self.global),
        ]
    }
}

/// How staff sign-ins are slowed down after wrong passwords.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    pub per_username: Backoff,
    pub per_client: Backoff,
    /// Password checks running at once (threads of their own).
    pub concurrent_hashes: usize,
    /// Checks that may wait for a thread; past that, sign-ins get 503 at once.
    pub queued_hashes: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            // 5 free tries, then 1 s, 2 s, 4 s … up to 15 minutes between tries.
            per_username: Backoff {
                free: 5,
                base: SignedDuration::from_secs(1),
                max: SignedDuration::from_mins(15),
                forget_after: SignedDuration::from_hours(1),
            },
            // An office signs in from one address: more room, the same doubling.
            per_client: Backoff {
                free: 20,
                base: SignedDuration::from_secs(1),
                max: SignedDuration::from_mins(15),
                forget_after: SignedDuration::from_hours(1),
            },
            concurrent_hashes: 4,
            queued_hashes: 16,
        }
    }
}

impl LoginLimits {
    /// The guards one sign-in attempt as `username` from `client` passes.
    pub fn guards<'a>(
        &self,
        username: &'a str,
        client: &'a str,
    ) -> [(&'static str, &'a str, Backoff); 2] {
        [
            ("login.username", username, self.per_username),
            ("login.client", client, self.per_client),
        ]
    }
}

/// The login guards, and the threads that check passwords (so that at most
/// [`LoginLimits::concurrent_hashes`] Argon2 checks, ~19 MiB each, run at once).
pub struct StaffLogin {
    pub limits: LoginLimits,
    pub hashers: Workers,
}

impl StaffLogin {
    pub fn new(limits: LoginLimits) -> Self {
        let hashers = Workers::start("argon2", limits.concurrent_hashes, limits.queued_hashes);
        Self { limits, hashers }
    }
}

impl Default for StaffLogin {
    fn default() -> Self {
        Self::new(LoginLimits::default())
    }
}
