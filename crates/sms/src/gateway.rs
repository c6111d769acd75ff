//! The interface the outbox worker sends through.
//!
//! A [`Gateway`] takes one message and answers whether it has taken responsibility for it.
//! The answer decides what the outbox does next, so it is three-way, not "ok or error":
//!
//! - `Ok(())`: accepted; the message is recorded as sent and never handed over again.
//! - [`SendError::Retry`]: certainly not accepted (connection refused, gateway overloaded,
//!   bad credentials that an operator will fix); tried again after a backoff.
//! - [`SendError::InDoubt`]: the request may have been accepted (a timeout after the request
//!   went out, a dropped connection). Sending again at once could deliver the text twice, so
//!   the message waits for a delivery report that would settle it, and only when none comes
//!   is it sent again.
//! - [`SendError::Permanent`]: this message can never be sent (the gateway refuses the
//!   number); it is marked failed and shown as such.

use crate::encoding::{segments, Segments};

/// One message to hand to a gateway.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The outbox row: delivery reports name it.
    pub id: i64,
    /// The idempotency key: the same for every attempt at this message.
    pub key: &'a str,
    /// E.164, e.g. `+79161234567`.
    pub to: &'a str,
    pub text: &'a str,
}

impl Outgoing<'_> {
    pub fn segments(&self) -> Segments {
        segments(self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("not accepted, will retry: {0}")]
    Retry(String),
    #[error("may have been accepted: {0}")]
    InDoubt(String),
    #[error("refused for good: {0}")]
    Permanent(String),
}

/// Something that delivers text messages. Sending blocks (it is network I/O); the worker
/// calls it off the async threads.
pub trait Gateway: Send + Sync {
    fn name(&self) -> &'static str;
    /// Hands `msg` over. See the module documentation for what each answer means.
    fn send(&self, msg: &Outgoing<'_>) -> Result<(), SendError>;
    /// Whether this gateway reports delivery (so a message in doubt can wait for a report).
    fn reports_delivery(&self) -> bool {
        false
    }
}

/// The development gateway: each message is one line in the log, with phone and text.
pub struct LogGateway;

impl Gateway for LogGateway {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send(&self, msg: &Outgoing<'_>) -> Result<(), SendError> {
        let text = msg.text.replace('\n', " ");
        let seg = msg.segments();
        tracing::info!(
            target: "propusk::sms",
            "sms to={} key={} coding={} segments={} text={:?}",
            msg.to,
            msg.key,
            seg.encoding.as_str(),
            seg.count,
            text
        );
        Ok(())
    }
}
