//! The service's notion of now. Handlers never read the system clock directly,
//! so tests can move time (OTP expiry, quota windows) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Clock {
    /// Seconds added to the system time.
    offset: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> jiff::Timestamp {
        let now = jiff::Timestamp::now();
        let offset = jiff::SignedDuration::from_secs(self.offset.load(Ordering::Relaxed));
        now.checked_add(offset).unwrap_or(now)
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
