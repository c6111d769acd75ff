//! Quarantine monitoring that is fair: the pure rules behind location reports, check-ins and
//! the decisions on suspected violations.
//!
//! # Why this module is shaped the way it is
//!
//! In 2020 Moscow's "Social Monitoring" app watched home-quarantined patients through their
//! phones and fined them automatically. It fined bedridden people because their phone's
//! position jumped a few hundred metres indoors, fined people whose battery died, and fined
//! people for not answering a selfie request that arrived at night. Each of those failures
//! is a rule here that makes it impossible:
//!
//! - **A GPS jump is not a departure** ([`geofence`]). One fix outside home is never a flag.
//!   A `left_home` flag needs several fixes, each *clearly* outside home once its reported
//!   error is taken into account, spanning several minutes with no fix at home in between.
//!   Fixes with a huge reported error (Wi-Fi or cell-tower positions) are never evidence of
//!   leaving; out-and-back jumps at impossible speed are discarded; a phone repeating its
//!   last known position is one observation, not many.
//! - **A dead battery is not a departure** ([`geofence`]). Silence is its own flag kind,
//!   `no_signal`, which says only "we heard nothing from this phone from … to …" and can never
//!   carry a sanction ([`FlagKind::may_be_sanctioned`]).
//! - **No check-in at night** ([`checkins`]). Challenges are drawn only inside daytime hours
//!   that themselves cannot reach into the night, in the case's own time zone, across
//!   daylight-saving changes, with the deadline inside the hours too.
//! - **A question is never a sanction** ([`asking`]). When a confident fix first places the
//!   phone far from home, in daytime, the patient is asked at once: an answer from home ends
//!   the suspicion, one from far away confirms the departure, and no answer is shown to the
//!   officer but is never a flag by itself.
//! - **No automatic punishment** ([`case`]). Software raises flags; a sanction exists only as
//!   part of a health officer's recorded decision, the patient is told by SMS of every flag
//!   and every decision, and an appeal is decided by a different officer.
//!
//! Everything here is pure: no I/O, no clock (the moment of evaluation is a parameter), no
//! global state. The server stores reports and decisions, calls these functions, and writes
//! the outcome back. [`simulate`] generates synthetic patients with realistic GPS noise and
//! scores the evaluator against them; the `propusk simulate monitoring` command reuses its
//! generators against the real API.

pub mod asking;
pub mod case;
pub mod checkins;
pub mod face;
pub mod geofence;
pub mod loaner;
mod rng;
pub mod simulate;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use checkins::CheckinEvidence;
pub use geofence::{SilenceEvidence, TrackEvidence};

/// What a flag says was seen. Flags are suspicions for a person to look at, never verdicts.
/// `no_signal` (silence) can never carry a sanction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FlagKind {
    /// Location reports consistently outside home for a while.
    LeftHome,
    /// No report from the phone for a long time: a dead battery, no network, a phone left
    /// off. Not a violation by itself.
    NoSignal,
    /// A check-in challenge went unanswered until its deadline.
    MissedCheckin,
}

crate::wire_names!(FlagKind {
    LeftHome => "left_home",
    NoSignal => "no_signal",
    MissedCheckin => "missed_checkin",
});

impl FlagKind {
    /// Whether an officer may confirm a flag of this kind with a sanction. Silence is never a
    /// violation by itself (a phone that is off or flat says nothing about where its owner
    /// is), so a `no_signal` flag can only be looked into and dismissed; if the officer finds
    /// something else (a missed check-in, a departure seen once the phone came back), that
    /// has its own flag.
    pub fn may_be_sanctioned(self) -> bool {
        !matches!(self, Self::NoSignal)
    }
}

/// A suspicion raised by the pure evaluators, with what it rests on.
///
/// `from`/`to` are report times (when the phone saw something), not upload times: a phone
/// that uploads two days late is judged on what it saw when it saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// The first moment of the evidence (first fix clearly outside; last report before a
    /// silence; a challenge's issue time).
    pub from: Timestamp,
    /// The last moment of the evidence so far.
    pub to: Timestamp,
    /// Whether the episode was still going on at the evaluation time, so later reports may
    /// extend it.
    pub ongoing: bool,
    /// What was seen, per kind; map-free (no coordinates anywhere).
    pub evidence: Evidence,
}

impl Flag {
    /// The kind, which follows from the evidence (so the two can never disagree).
    pub fn kind(&self) -> FlagKind {
        match self.evidence {
            Evidence::LeftHome(_) => FlagKind::LeftHome,
            Evidence::NoSignal(_) => FlagKind::NoSignal,
            Evidence::MissedCheckin(_) => FlagKind::MissedCheckin,
        }
    }
}

/// The evidence behind a flag, shown to the officer beside the decision buttons and stored
/// with the flag. Serialised with a `kind` tag: `{"kind": "left_home", "fixes": 12, …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A departure: a map-free summary of the fixes.
    LeftHome(TrackEvidence),
    /// A silence: the last report before and the first after.
    NoSignal(SilenceEvidence),
    /// An unanswered challenge.
    MissedCheckin(CheckinEvidence),
}

/// A flag the server already holds, for [`reconcile`].
#[derive(Debug, Clone, PartialEq)]
pub struct KnownFlag<K> {
    /// The server's handle for the stored flag.
    pub key: K,
    /// Its kind.
    pub kind: FlagKind,
    /// Its stored period.
    pub from: Timestamp,
    /// Its stored period.
    pub to: Timestamp,
}

/// What to do with a freshly evaluated flag.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled<K> {
    /// A new episode: store it, open a case, tell the patient.
    New(Flag),
    /// More evidence for an episode already stored under `key`: update its period and
    /// evidence; no new case and no new SMS.
    Update {
        /// The stored flag this one continues.
        key: K,
        /// The fresh flag, whose period covers the stored one's overlap.
        flag: Flag,
    },
}

/// Whether a fresh flag can be news after an upload whose oldest report is at `oldest_new`
/// (for an evaluation with no upload, the newest report known), when the newest report known
/// before it was at `newest_before`.
///
/// A `left_home` run that ended before both was judged when its reports came in, by
/// evaluations whose window reached an hour or more behind it. A later window that slides
/// past that context (a teleport to the same place an hour before, say) can read the same
/// reports differently; a flag it finds is an artefact of the window, not new evidence.
pub fn is_news(flag: &Flag, oldest_new: Timestamp, newest_before: Option<Timestamp>) -> bool {
    let news_from = newest_before.map_or(oldest_new, |t| t.min(oldest_new));
    flag.kind() != FlagKind::LeftHome || flag.to >= news_from
}

/// Matches a fresh evaluation against the flags already stored, so that re-evaluating as
/// reports arrive (late, out of order, in overlapping windows) never opens a second case or
/// sends a second SMS for the same episode.
///
/// A fresh flag continues a stored one of the same kind when their periods overlap (touching
/// counts). Stored flags that no fresh flag matches are left alone: once a patient has been
/// told of a flag, it stays for an officer to close, even if later reports weaken it (the
/// updated evidence is what the officer sees).
pub fn reconcile<K: Clone>(known: &[KnownFlag<K>], fresh: Vec<Flag>) -> Vec<Reconciled<K>> {
    fresh
        .into_iter()
        .map(|flag| {
            let kind = flag.kind();
            known
                .iter()
                .filter(|k| k.kind == kind && k.from <= flag.to && flag.from <= k.to)
                .min_by_key(|k| k.from)
                .map_or(Reconciled::New(flag.clone()), |k| Reconciled::Update {
                    key: k.key.clone(),
                    flag,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn silence(from: &str, to: &str) -> Flag {
        Flag {
            from: ts(from),
            to: ts(to),
            ongoing: false,
            evidence: Evidence::NoSignal(SilenceEvidence {
                last_before: None,
                first_after: None,
            }),
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            FlagKind::LeftHome,
            FlagKind::NoSignal,
            FlagKind::MissedCheckin,
        ] {
            assert_eq!(FlagKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(FlagKind::parse("fined"), None);
        assert!(!FlagKind::NoSignal.may_be_sanctioned());
        assert!(FlagKind::LeftHome.may_be_sanctioned());
    }

    #[test]
    fn evidence_serialises_with_its_kind() {
        let f = silence("2020-04-15T10:00:00Z", "2020-04-15T13:00:00Z");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["evidence"]["kind"], "no_signal");
        assert_eq!(json["from"], "2020-04-15T10:00:00Z");
        let back: Flag = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.kind(), FlagKind::NoSignal);
    }

    #[test]
    fn reconcile_continues_overlapping_episodes() {
        let known = [KnownFlag {
            key: 7,
            kind: FlagKind::NoSignal,
            from: ts("2020-04-15T10:00:00Z"),
            to: ts("2020-04-15T12:00:00Z"),
        }];
        let fresh = vec![
            silence("2020-04-15T11:00:00Z", "2020-04-15T13:00:00Z"),
            silence("2020-04-15T18:00:00Z", "2020-04-15T21:00:00Z"),
        ];
        let out = reconcile(&known, fresh);
        assert!(matches!(out[0], Reconciled::Update { key: 7, .. }));
        assert!(matches!(out[1], Reconciled::New(_)));
    }
}
