//! Sessions looked up recently, kept in memory for a few seconds.
//!
//! Every authenticated request looks its bearer token up; a resident's page view or an
//! inspector's scanning makes several in a row. The database stays the truth: an entry lives
//! [`TTL`] at most, signing out forgets it on this node at once, and on another node it is
//! honoured for at most [`TTL`] more — the same bound as a request that was already past its
//! authentication when the session ended.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Session;

/// How long a looked-up session is trusted without asking the database again.
pub(crate) const TTL: Duration = Duration::from_secs(15);

/// The most sessions kept; past it, lookups go to the database until entries age out.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub(crate) struct SessionCache {
    /// Token hash → the session and when it was read from the database.
    entries: Mutex<HashMap<String, (Session, Instant)>>,
}

impl SessionCache {
    /// The session under `token_hash` if it was read less than [`TTL`] ago and has not
    /// expired by `now`.
    pub(crate) fn get(&self, token_hash: &str, now: jiff::Timestamp) -> Option<Session> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (session, read_at) = entries.get(token_hash)?;
        (read_at.elapsed() < TTL && session.expires_at > now).then(|| session.clone())
    }

    pub(crate) fn put(&self, token_hash: String, session: Session) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, read_at)| read_at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(token_hash, (session, Instant::now()));
    }

    pub(crate) fn forget(&self, token_hash: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token_hash);
    }
}
