//! First-run setup: a new installation has no staff account, so nobody could sign in to
//! create one. At start, when the store holds none, the service makes a one-time link
//! (`/setup/<random token>`, printed in the startup banner and log, never on a page) that
//! opens a form for the first administrator. The link is dead once used, and at the next
//! start (only the token's hash is kept, in memory).

use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::auth::new_token;

/// The live setup token's hash, if there is one.
#[derive(Default)]
pub struct FirstRun(Mutex<Option<[u8; 32]>>);

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl FirstRun {
    /// Makes a new token (the old one, if any, dies) and returns it.
    pub fn open(&self) -> String {
        let token = new_token();
        *self.lock() = Some(hash(&token));
        token
    }

    /// Whether `token` is the live one (compared by hash, so not by timing).
    pub fn is_live(&self, token: &str) -> bool {
        *self.lock() == Some(hash(token))
    }

    /// Uses the token up if it is the live one: only one request can.
    pub fn take(&self, token: &str) -> bool {
        let mut live = self.lock();
        if *live == Some(hash(token)) {
            *live = None;
            true
        } else {
            false
        }
    }

    /// Puts a taken token back (its use failed before anything was stored).
    pub fn restore(&self, token: &str) {
        let mut live = self.lock();
        if live.is_none() {
            *live = Some(hash(token));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<[u8; 32]>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_once() {
        let first = FirstRun::default();
        assert!(!first.is_live(""));
        let token = first.open();
        assert!(first.is_live(&token));
        assert!(!first.is_live("guess"));
        assert!(!first.take("guess"));
        assert!(first.take(&token));
        assert!(!first.take(&token), "used up");
        assert!(!first.is_live(&token));
        first.restore(&token);
        assert!(first.take(&token), "restored after a failed use");
        let old = first.open();
        let new = first.open();
        assert!(!first.is_live(&old) && first.is_live(&new));
    }
}
