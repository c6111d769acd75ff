//! The published revocation list: what offline verifiers sync, page by page.
//!
//! Every revocation gets the next number of the `revocation` counter in the transaction that
//! makes it ([`crate::passes::revoke_in`]), and the counter's row stays locked until that
//! transaction commits. So revocations become visible in the order of their numbers: once
//! the counter reads N, every revocation numbered N or less is committed, on every node.
//! A page bounded by a counter value read earlier is therefore a gap-free stretch of the
//! list, and a reader that has applied the pages up to N has every revocation up to N —
//! which is what makes delta sync (`since N`) safe while revocations go on.
//!
//! The list holds only revocations of passes not yet expired: an expired pass fails
//! verification anyway, so its revocation would only cost the verifier bytes. Each
//! revocation row carries its pass's end (`valid_until`), so a page is one range of the
//! primary key, filtered, with no join; and rows of passes that ended over a day ago are
//! forgotten ([`Store::forget_ended_revocations`]), so the table stays the size of the live
//! list instead of growing with every day of the lockdown. (The pass keeps its
//! cancellation; forgetting the row changes no page, since it was no longer listed.)

use jiff::{SignedDuration, Timestamp};

use crate::{secs, ts, Result, Store};

/// How long after its pass ended a revocation row is kept (a margin for clocks).
const FORGET_AFTER: SignedDuration = SignedDuration::from_hours(24);
/// Rows forgotten per transaction.
const FORGET_BATCH: i64 = 5_000;

/// One revoked pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Its number in the list.
    pub seq: i64,
    /// The pass id (UUID text).
    pub pass_id: String,
    /// When the pass ends; after that the entry leaves the list.
    pub valid_until: Timestamp,
}

/// A stretch of the list: the revocations of live passes numbered after `after`, up to
/// `upto` at most, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationPage {
    pub revoked: Vec<Revoked>,
    /// A reader that applied this page holds every revocation of a live pass numbered up to
    /// here: the last entry's number when more follow, else `upto`.
    pub sequence: i64,
    /// Whether entries numbered after `sequence` and up to `upto` may remain.
    pub more: bool,
}

impl Store {
    /// The number of the newest revocation (0 when there is none). Every revocation up to it
    /// is committed (see the module docs).
    pub async fn revocation_sequence(&self) -> Result<i64> {
        let (value,): (i64,) =
            sqlx::query_as("SELECT value FROM counters WHERE name = 'revocation'")
                .fetch_one(&self.pool)
                .await?;
        Ok(value)
    }

    /// Up to `limit` revocations of passes still valid at `now`, numbered after `after` and
    /// up to `upto`, in order. `upto` must be a value [`Self::revocation_sequence`] returned
    /// (or less), so that the page has no gaps. An `after` beyond `upto` (a reader from
    /// another database) gives an empty page whose `sequence` is `upto`.
    pub async fn revocation_page(
        &self,
        after: i64,
        upto: i64,
        limit: u32,
        now: Timestamp,
    ) -> Result<RevocationPage> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT seq, pass_id, valid_until FROM revocations \
             WHERE seq > $1 AND seq <= $2 AND valid_until > $3 ORDER BY seq LIMIT $4",
        )
        .bind(after)
        .bind(upto)
        .bind(secs(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        // A full page may have more after it; anything less ran to `upto`.
        let (sequence, more) = match rows.last() {
            Some((seq, ..)) if rows.len() == limit as usize && *seq < upto => (*seq, true),
            _ => (upto, false),
        };
        Ok(RevocationPage {
            sequence,
            more,
            revoked: rows
                .into_iter()
                .map(|(seq, pass_id, until)| {
                    Ok(Revoked {
                        seq,
                        pass_id,
                        valid_until: ts(until)?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    /// Forgets the revocations of passes that ended more than a day before `now`, in small
    /// transactions; returns how many. Run by every node's periodic job.
    pub async fn forget_ended_revocations(&self, now: Timestamp) -> Result<u64> {
        let before = secs(now) - FORGET_AFTER.as_secs();
        let mut forgotten = 0;
        loop {
            let (done, _) = self
                .delete_batch(
                    "DELETE FROM revocations WHERE seq IN \
                     (SELECT seq FROM revocations WHERE valid_until < $1 ORDER BY valid_until LIMIT $2)",
                    before,
                    FORGET_BATCH,
                )
                .await?;
            forgotten += done;
            if (done as i64) < FORGET_BATCH {
                return Ok(forgotten);
            }
        }
    }
}
