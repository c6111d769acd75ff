//! Sending the SMS outbox through a gateway. The worker claims due messages (committed as
//! "sending" first), hands each to the gateway off the async threads, and records what the
//! gateway answered: sent, retry later with exponential backoff, in doubt (wait for a
//! delivery report, see `propusk_store`'s outbox), or failed for good. The gateways
//! themselves live in `propusk_sms`; inbound messages are `routes::sms`.

use std::sync::Arc;
use std::time::Duration;

use propusk_sms::{KannelGateway, Outgoing, SendError};
use propusk_store::{OutboxMessage, SentVia, SmsLimits};
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::settings::GatewayConfig;
use crate::state::AppState;

pub use propusk_sms::{Gateway, LogGateway};

/// The SMS channel's settings that handlers and the worker read.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// What Kannel sends with each inbound message and delivery report; None refuses them all.
    pub inbound_secret: Option<String>,
    /// Per-phone limits on inbound messages.
    pub limits: SmsLimits,
    /// How long a message being sent stays claimed. After a crash mid-send, a message
    /// waits this long for a delivery report before it is sent again.
    pub lease_secs: i64,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            inbound_secret: None,
            limits: SmsLimits::default(),
            lease_secs: 120,
        }
    }
}

pub fn log_gateway() -> Arc<dyn Gateway> {
    Arc::new(LogGateway)
}

/// The gateway a configuration names.
pub fn gateway_for(config: &GatewayConfig) -> Arc<dyn Gateway> {
    match config {
        GatewayConfig::Log => log_gateway(),
        GatewayConfig::Kannel(kannel) => Arc::new(KannelGateway::new(kannel.clone())),
    }
}

/// Messages claimed at once: small enough that a batch of slow sends finishes well within
/// the lease (10 × the gateway's timeout).
const BATCH: i64 = 10;

/// Backoff after `attempts` failures: 2, 4, 8 … seconds, at most a minute, so that the queue
/// drains within a minute of the gateway coming back.
fn backoff_secs(attempts: i64) -> i64 {
    2i64.saturating_pow(attempts.clamp(1, 9) as u32).min(60)
}

pub fn spawn_outbox_worker(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let lease = state.sms.lease_secs;
            match state
                .store
                .claim_due_sms(state.clock.now(), BATCH, lease)
                .await
            {
                Ok(batch) => {
                    let busy = !batch.is_empty();
                    let mut unavailable: Option<i64> = None;
                    for msg in batch {
                        if *stop.borrow() {
                            // Stopping: the rest goes back untried, due at once.
                            release(&state, &msg, 0).await;
                        } else if let Some(wait) = unavailable {
                            // The gateway just refused a connection: the rest of the batch
                            // waits with it instead of failing one by one.
                            release(&state, &msg, wait).await;
                        } else {
                            unavailable = deliver(&state, msg).await;
                        }
                    }
                    if *stop.borrow() {
                        return;
                    }
                    if busy && unavailable.is_none() {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the SMS outbox"),
            }
            tokio::select! {
                _ = state.outbox_wakeup.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}

/// Sends one message and records the outcome. Returns the backoff when the gateway could not
/// take it (so the rest of the batch is not tried now).
async fn deliver(state: &AppState, msg: OutboxMessage) -> Option<i64> {
    let gateway = state.gateway.clone();
    let (id, attempts) = (msg.id, msg.attempts);
    let segments = propusk_sms::encoding::segments(&msg.body);
    // Gateways block on the network; keep them off the async workers.
    let outcome = tokio::task::spawn_blocking(move || {
        gateway.send(&Outgoing {
            id: msg.id,
            key: &msg.idempotency_key,
            to: &msg.phone,
            text: &msg.body,
        })
    })
    .await
    .unwrap_or_else(|e| {
        Err(SendError::InDoubt(format!(
            "the gateway call panicked: {e}"
        )))
    });
    let now = state.clock.now();
    let mut unavailable = None;
    let recorded = match outcome {
        Ok(()) => {
            Metrics::inc(&state.metrics.sms_sent);
            let via = SentVia {
                gateway: state.gateway.name().to_string(),
                coding: segments.encoding.as_str().to_string(),
                segments: segments.count as i64,
            };
            state.store.mark_sms_sent(id, &via, now).await
        }
        Err(SendError::Retry(error)) => {
            Metrics::inc(&state.metrics.sms_failed);
            tracing::warn!(id, %error, "SMS not accepted; will retry");
            let wait = backoff_secs(attempts + 1);
            unavailable = Some(wait);
            state.store.mark_sms_retry(id, &error, wait, now).await
        }
        Err(SendError::InDoubt(error)) if state.gateway.reports_delivery() => {
            Metrics::inc(&state.metrics.sms_failed);
            tracing::warn!(id, %error, "SMS may have been accepted; waiting for its delivery report");
            let until = now
                .checked_add(jiff::SignedDuration::from_secs(state.sms.lease_secs))
                .unwrap_or(now);
            state.store.mark_sms_in_doubt(id, &error, until).await
        }
        Err(SendError::InDoubt(error)) => {
            // No delivery reports could settle it: at least once.
            Metrics::inc(&state.metrics.sms_failed);
            tracing::warn!(id, %error, "SMS may have been accepted; will send again");
            state
                .store
                .mark_sms_retry(id, &error, backoff_secs(attempts + 1), now)
                .await
        }
        Err(SendError::Permanent(error)) => {
            Metrics::inc(&state.metrics.sms_failed);
            tracing::warn!(id, %error, "SMS refused by the gateway; giving up");
            state.store.mark_sms_failed(id, &error).await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(id, error = %e, "cannot record the SMS outcome; it settles after its lease");
    }
    unavailable
}

async fn release(state: &AppState, msg: &OutboxMessage, wait_secs: i64) {
    let now = state.clock.now();
    let at = now
        .checked_add(jiff::SignedDuration::from_secs(wait_secs))
        .unwrap_or(now);
    if let Err(e) = state.store.release_sms(msg.id, at).await {
        tracing::warn!(id = msg.id, error = %e, "cannot put an SMS back in the queue; it returns after its lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_minute() {
        assert_eq!(backoff_secs(1), 2);
        assert_eq!(backoff_secs(3), 8);
        assert_eq!(backoff_secs(6), 60);
        assert_eq!(backoff_secs(100), 60);
    }
}
