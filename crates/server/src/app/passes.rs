//! A resident's passes: issue one under the regime in force, cancel one, and where a pass
//! stands.

use jiff::Timestamp;
use propusk_core::issuance::{
    quota_status, Grant, PassRequest, PriorReads, PurposeSet, QuotaStatus, Refusal,
};
use propusk_store::{
    Actor, CancelOutcome, IssueError, IssueRequest, PassRecord, Resident, StoreError,
};

use crate::metrics::Metrics;
use crate::state::AppState;

/// Where a pass request came from (kept with the pass, and counted apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Api,
    Web,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Web => "web",
            Channel::Sms => "sms",
        }
    }
}

/// Why no pass was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueFailure {
    /// The rules say no: the refusal says why, which field is at fault and when a pass
    /// could be had.
    #[error("refused: {}", .0.code.as_str())]
    Refused(Refusal),
    /// The resident behind the session no longer exists.
    #[error("no such resident")]
    UnknownResident,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decides, signs and records a pass for `resident_id` under the regime in force now.
pub async fn issue(
    state: &AppState,
    resident_id: &str,
    request: PassRequest,
    channel: Channel,
) -> Result<PassRecord, IssueFailure> {
    let req = IssueRequest {
        resident_id: resident_id.to_string(),
        request,
        channel: channel.as_str(),
        now: state.clock.now(),
        regimes: state.regimes(),
        key: state.keys.signing.clone(),
    };
    match state.store.issue_pass(req).await {
        Ok(pass) => {
            Metrics::inc(&state.metrics.passes_issued);
            Ok(pass)
        }
        Err(IssueError::Refused(refusal)) => {
            Metrics::inc(&state.metrics.passes_refused);
            Err(IssueFailure::Refused(refusal))
        }
        Err(IssueError::UnknownResident) => Err(IssueFailure::UnknownResident),
        Err(IssueError::Store(e)) => Err(IssueFailure::Store(e)),
    }
}

/// What issuing `request` for `resident` now would give, without issuing it: the pass's
/// exact validity for the check-answers page, or the refusal the issuance would meet. The
/// issuance decides again when confirmed (another pass may have been issued meanwhile).
pub async fn preview(
    state: &AppState,
    resident: &Resident,
    request: &PassRequest,
) -> Result<Grant, IssueFailure> {
    let now = state.clock.now();
    let book = state.regimes();
    let prior = state
        .store
        .prior_passes(&resident.id, &book.prior_reads(request, now))
        .await?;
    book.decide(request, &resident.facts(), &prior, now)
        .map_err(IssueFailure::Refused)
}

/// A purpose with a quota of its own, and where it stands for one resident now.
pub struct PurposeQuota {
    pub purpose: String,
    pub status: QuotaStatus,
}

/// Where each quota of the regime in force stands for `resident_id` now (none when no regime
/// is in force).
pub async fn quotas(state: &AppState, resident_id: &str) -> Result<Vec<PurposeQuota>, StoreError> {
    let now = state.clock.now();
    let book = state.regimes();
    let Some(regime) = book.in_force(now) else {
        return Ok(Vec::new());
    };
    let with_quota: Vec<_> = regime
        .purposes()
        .iter()
        .filter(|p| p.quota().is_some() && !p.always_allowed())
        .collect();
    let Some(first) = with_quota.first() else {
        return Ok(Vec::new());
    };
    // One read for every quota: the window and the days are the regime's, the same for each
    // purpose; only the purposes read differ (and with a cap, every purpose is read already).
    let request = PassRequest {
        purpose: first.id().to_string(),
        ..PassRequest::default()
    };
    let mut reads = PriorReads::for_request(regime, &request, now);
    if let Some(PurposeSet::Only(ids)) = reads.by_purpose.as_mut().map(|r| &mut r.purposes) {
        *ids = with_quota.iter().map(|p| p.id().to_string()).collect();
    }
    let prior = state.store.prior_passes(resident_id, &reads).await?;
    let quotas = with_quota
        .into_iter()
        .filter_map(|purpose| {
            quota_status(regime, purpose, &prior, now).map(|status| PurposeQuota {
                purpose: purpose.id().to_string(),
                status,
            })
        })
        .collect();
    Ok(quotas)
}

/// Whether a pass cancelled at `at` counts against its purpose's quota: only if it had
/// started (see `propusk_core::issuance`).
pub fn counts_when_cancelled(pass: &PassRecord, at: Timestamp) -> bool {
    at > pass.valid_from
}

/// Who cancels a pass, and so what the revocation says.
pub enum Canceller {
    /// The holder, who may cancel only their own.
    Holder { resident_id: String },
    /// An administrator, who may revoke anyone's (audited).
    Administrator { staff_id: String },
}

/// Why a pass was not cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelFailure {
    /// No such pass, or not the holder's (the two are not told apart).
    #[error("no such pass")]
    NotFound,
    #[error("the pass is already cancelled")]
    AlreadyCancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cancels a pass and publishes its revocation; returns the cancelled pass.
pub async fn cancel(
    state: &AppState,
    pass_id: &str,
    by: Canceller,
) -> Result<PassRecord, CancelFailure> {
    let (actor, reason) = match by {
        Canceller::Holder { resident_id } => (Actor::Resident(resident_id), "cancelled by holder"),
        Canceller::Administrator { staff_id } => (
            Actor::Staff {
                username: staff_id.clone(),
                id: staff_id,
            },
            "revoked by administrator",
        ),
    };
    let now = state.clock.now();
    match state
        .store
        .cancel_pass(pass_id, &actor, reason, now)
        .await?
    {
        CancelOutcome::Cancelled(pass) => {
            Metrics::inc(&state.metrics.passes_cancelled);
            Ok(pass)
        }
        CancelOutcome::AlreadyCancelled(_) => Err(CancelFailure::AlreadyCancelled),
        CancelOutcome::NotFound => Err(CancelFailure::NotFound),
    }
}

/// Where a pass stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PassStatus {
    Upcoming,
    Active,
    Expired,
    Cancelled,
}

impl PassStatus {
    pub fn of(pass: &PassRecord, now: Timestamp) -> Self {
        if pass.cancelled_at.is_some() {
            Self::Cancelled
        } else if now < pass.valid_from {
            Self::Upcoming
        } else if now >= pass.valid_until {
            Self::Expired
        } else {
            Self::Active
        }
    }

    /// The name the API and the pages' styles use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}
