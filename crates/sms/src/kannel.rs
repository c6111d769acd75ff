//! The Kannel gateway: messages go out through smsbox's HTTP `sendsms` interface.
//!
//! ```text
//! GET /cgi-bin/sendsms?username=…&password=…&to=+79161234567&text=…&from=7377
//!     &coding=2&charset=UTF-8&dlr-mask=31&dlr-url=http://propusk/api/v1/sms/dlr?id=42&type=%d…
//! ```
//!
//! - **Encoding.** The text goes as UTF-8 with `coding` 0 (GSM-7) or 2 (UCS-2), chosen per
//!   message by [`crate::encoding`]; Kannel converts and splits long texts itself (its
//!   `sendsms-user` needs `max-messages` > 1 and `concatenation = true`).
//! - **Delivery reports.** `dlr-mask=31` asks for every report (delivered, failed, buffered,
//!   accepted by the SMSC, rejected by the SMSC); `dlr-url` carries the outbox row's id and
//!   the shared secret, and Kannel fills in `%d`, the report type.
//! - **Idempotency.** Kannel's `sendsms` has no idempotency key of its own, so the outbox
//!   provides it: a message is claimed (committed as "sending") before the request goes out,
//!   marked sent as soon as Kannel answers, and a request whose answer was lost is in doubt —
//!   the message waits for its delivery report (which names the row) and is sent again only
//!   if none comes. Kannel acknowledges with `0: Accepted for delivery` or
//!   `3: Queued for later delivery` (bearerbox keeps it in its store until the SMSC is back).

use std::time::Duration;

use crate::gateway::{Gateway, Outgoing, SendError};

/// Where and how to reach Kannel's smsbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KannelConfig {
    /// The sendsms URL, e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub sendsms_url: String,
    /// A `sendsms-user` of smsbox.
    pub username: String,
    pub password: String,
    /// The sender shown to the phone (the short number). Kannel refuses messages without
    /// one unless smsbox has a `global-sender`.
    pub from: Option<String>,
    /// propusk's delivery-report endpoint as Kannel reaches it, e.g.
    /// `http://127.0.0.1:8080/api/v1/sms/dlr`. Without it, no delivery reports are asked for.
    pub dlr_url: Option<String>,
    /// The secret the report endpoint checks (propusk's `sms.inbound_secret`).
    pub dlr_secret: Option<String>,
    /// Route through this SMSC (`smsc` parameter), if set.
    pub smsc: Option<String>,
    /// The longest a request may take.
    pub timeout: Duration,
}

impl KannelConfig {
    /// The `dlr-url` for one outbox row: ours, plus Kannel's `%d` (report type) and `%T`
    /// (time of the report).
    pub fn dlr_url_for(&self, id: i64) -> Option<String> {
        let base = self.dlr_url.as_deref()?;
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut url = format!("{base}{sep}id={id}&type=%d&at=%T");
        if let Some(secret) = &self.dlr_secret {
            url.push_str("&secret=");
            url.push_str(secret);
        }
        Some(url)
    }
}

pub struct KannelGateway {
    config: KannelConfig,
    agent: ureq::Agent,
}

impl KannelGateway {
    pub fn new(config: KannelConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(3).min(config.timeout)))
            .timeout_global(Some(config.timeout))
            .build()
            .into();
        Self { config, agent }
    }
}

impl Gateway for KannelGateway {
    fn name(&self) -> &'static str {
        "kannel"
    }

    fn reports_delivery(&self) -> bool {
        self.config.dlr_url.is_some()
    }

    fn send(&self, msg: &Outgoing<'_>) -> Result<(), SendError> {
        let c = &self.config;
        let coding = msg.segments().encoding.kannel_coding();
        let mut request = self
            .agent
            .get(&c.sendsms_url)
            .query("username", &c.username)
            .query("password", &c.password)
            .query("to", msg.to)
            .query("text", msg.text)
            .query("coding", coding.to_string())
            .query("charset", "UTF-8");
        if let Some(from) = &c.from {
            request = request.query("from", from);
        }
        if let Some(smsc) = &c.smsc {
            request = request.query("smsc", smsc);
        }
        if let Some(url) = c.dlr_url_for(msg.id) {
            request = request.query("dlr-mask", "31").query("dlr-url", url);
        }
        match request.call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .read_to_string()
                    .unwrap_or_default()
                    .trim()
                    .chars()
                    .take(200)
                    .collect::<String>();
                classify(status, &body)
            }
            Err(e) => Err(classify_error(e)),
        }
    }
}

/// What Kannel's answer means for the outbox.
fn classify(status: u16, body: &str) -> Result<(), SendError> {
    let what = format!("sendsms answered {status} {body:?}");
    match status {
        200..=299 => Ok(()),
        // Wrong credentials or a denied IP: an operator fixes the configuration and the
        // queue drains.
        401 | 403 | 408 | 429 => Err(SendError::Retry(what)),
        400..=499 => Err(SendError::Permanent(what)),
        _ => Err(SendError::Retry(what)),
    }
}

fn classify_error(e: ureq::Error) -> SendError {
    use std::io::ErrorKind;
    use ureq::Timeout;
    match e {
        ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Timeout(Timeout::Connect | Timeout::Resolve) => {
            SendError::Retry(format!("cannot reach Kannel: {e}"))
        }
        ureq::Error::Io(ref io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::NotConnected
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            ) =>
        {
            SendError::Retry(format!("cannot reach Kannel: {e}"))
        }
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::Protocol(_) => {
            SendError::InDoubt(format!("no answer from Kannel: {e}"))
        }
        other => SendError::Retry(format!("sendsms request failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(202, "0: Accepted for delivery"), Ok(()));
        assert_eq!(classify(202, "3: Queued for later delivery"), Ok(()));
        assert!(matches!(
            classify(403, "Authorization failed for sendsms"),
            Err(SendError::Retry(_))
        ));
        assert!(matches!(
            classify(400, "Missing receiver number"),
            Err(SendError::Permanent(_))
        ));
        assert!(matches!(
            classify(503, "Queue full"),
            Err(SendError::Retry(_))
        ));
    }

    #[test]
    fn dlr_url_names_the_row_and_leaves_kannel_escapes() {
        let config = KannelConfig {
            sendsms_url: "http://127.0.0.1:13013/cgi-bin/sendsms".into(),
            username: "propusk".into(),
            password: "p".into(),
            from: Some("7377".into()),
            dlr_url: Some("http://127.0.0.1:8080/api/v1/sms/dlr".into()),
            dlr_secret: Some("s3cret".into()),
            smsc: None,
            timeout: Duration::from_secs(5),
        };
        assert_eq!(
            config.dlr_url_for(42).unwrap(),
            "http://127.0.0.1:8080/api/v1/sms/dlr?id=42&type=%d&at=%T&secret=s3cret"
        );
    }

    #[test]
    fn a_closed_port_is_a_retry_not_a_doubt() {
        // Bind and drop a listener to find a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let gateway = KannelGateway::new(KannelConfig {
            sendsms_url: format!("http://127.0.0.1:{port}/cgi-bin/sendsms"),
            username: "u".into(),
            password: "p".into(),
            from: None,
            dlr_url: None,
            dlr_secret: None,
            smsc: None,
            timeout: Duration::from_secs(2),
        });
        let msg = Outgoing {
            id: 1,
            key: "k",
            to: "+79161234567",
            text: "Пропуск",
        };
        assert!(
            matches!(gateway.send(&msg), Err(SendError::Retry(_))),
            "{:?}",
            gateway.send(&msg)
        );
    }
}
