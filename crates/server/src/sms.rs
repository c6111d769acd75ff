//! Sending the SMS outbox through a gateway. The worker claims due messages,
//! hands each to the gateway, and records the outcome; failures are retried with
//! exponential backoff. (The SMS channel issue adds the Kannel gateway and
//! inbound messages.)

use std::sync::Arc;
use std::time::Duration;

use propusk_store::OutboxMessage;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::state::AppState;

/// Something that can deliver a text message.
pub trait Gateway: Send + Sync {
    fn name(&self) -> &'static str;
    /// Delivers `msg`; an error is retried later under the same idempotency key.
    fn send(&self, msg: &OutboxMessage) -> Result<(), String>;
}

/// The development gateway: each message is one line in the log, with phone and text.
pub struct LogGateway;

impl Gateway for LogGateway {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        let text = msg.body.replace('\n', " ");
        tracing::info!(target: "propusk::sms", "sms to={} key={} text={:?}", msg.phone, msg.idempotency_key, text);
        Ok(())
    }
}

pub fn log_gateway() -> Arc<dyn Gateway> {
    Arc::new(LogGateway)
}

/// Backoff after `attempts` failures: 2, 4, 8 … seconds, at most five minutes.
fn backoff_secs(attempts: i64) -> i64 {
    2i64.saturating_pow(attempts.clamp(1, 9) as u32).min(300)
}

pub fn spawn_outbox_worker(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match state.store.claim_due_sms(state.clock.now(), 50).await {
                Ok(batch) => {
                    let busy = !batch.is_empty();
                    for msg in batch {
                        deliver(&state, msg).await;
                    }
                    if busy {
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

async fn deliver(state: &AppState, msg: OutboxMessage) {
    let gateway = state.gateway.clone();
    let (id, attempts) = (msg.id, msg.attempts);
    // Gateways may block on the network; keep them off the async workers.
    let outcome = tokio::task::spawn_blocking(move || gateway.send(&msg))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let now = state.clock.now();
    let recorded = match outcome {
        Ok(()) => {
            Metrics::inc(&state.metrics.sms_sent);
            state.store.mark_sms_sent(id, now).await
        }
        Err(error) => {
            Metrics::inc(&state.metrics.sms_failed);
            tracing::warn!(id, %error, "SMS send failed; will retry");
            state
                .store
                .mark_sms_failed(id, &error, backoff_secs(attempts + 1), now)
                .await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(id, error = %e, "cannot record the SMS outcome; it will be sent again after its lease");
    }
}
