//! The SMS channel's settings for `propusk serve`, and `propusk sms status`: the outbox
//! queue, failures and delivery rates.
//!
//! Settings, each from the `[sms]` table of the config file, then the environment, then a
//! flag (later wins):
//!
//! | config file            | environment                     | flag                   |
//! |------------------------|---------------------------------|------------------------|
//! | `gateway`              | `PROPUSK_SMS_GATEWAY`           | `--sms-gateway`        |
//! | `inbound_secret`       | `PROPUSK_SMS_INBOUND_SECRET`    | —                      |
//! | `lease_secs`           | `PROPUSK_SMS_LEASE_SECS`        | `--sms-lease-secs`     |
//! | `per_minute`, `per_hour`, `replies_per_hour` | —         | —                      |
//! | `kannel.sendsms_url`   | `PROPUSK_SMS_KANNEL_URL`        | `--kannel-url`         |
//! | `kannel.username`      | `PROPUSK_SMS_KANNEL_USERNAME`   | `--kannel-username`    |
//! | `kannel.password`      | `PROPUSK_SMS_KANNEL_PASSWORD`   | —                      |
//! | `kannel.from`          | `PROPUSK_SMS_KANNEL_FROM`       | `--kannel-from`        |
//! | `kannel.dlr_url`       | `PROPUSK_SMS_DLR_URL`           | `--sms-dlr-url`        |
//! | `kannel.smsc`          | `PROPUSK_SMS_KANNEL_SMSC`       | —                      |
//! | `kannel.timeout_secs`  | —                               | —                      |
//!
//! Secrets have no flags: a command line is visible to every user of the machine.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use propusk_server::sms::SmsSettings;
use propusk_server::GatewayConfig;
use propusk_sms::KannelConfig;
use propusk_store::{SmsLimits, Store};
use serde::Deserialize;

use super::serve::StoreArgs;

/// `[sms]` in the config file.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct SmsFileConfig {
    gateway: Option<String>,
    inbound_secret: Option<String>,
    lease_secs: Option<i64>,
    per_minute: Option<i64>,
    per_hour: Option<i64>,
    replies_per_hour: Option<i64>,
    kannel: Option<KannelFileConfig>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct KannelFileConfig {
    sendsms_url: Option<String>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
    dlr_url: Option<String>,
    smsc: Option<String>,
    timeout_secs: Option<u64>,
}

/// The SMS flags of `propusk serve`.
#[derive(Args, Debug, Default, Clone)]
pub struct SmsArgs {
    /// Where outgoing SMS go: `log` (each message a log line) or `kannel` [default: log].
    #[arg(
        long = "sms-gateway",
        env = "PROPUSK_SMS_GATEWAY",
        value_name = "log|kannel"
    )]
    gateway: Option<String>,
    /// Kannel's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms.
    #[arg(long = "kannel-url", env = "PROPUSK_SMS_KANNEL_URL")]
    kannel_url: Option<String>,
    /// The Kannel sendsms-user.
    #[arg(long = "kannel-username", env = "PROPUSK_SMS_KANNEL_USERNAME")]
    kannel_username: Option<String>,
    /// The sender number shown on outgoing SMS (the short number).
    #[arg(long = "kannel-from", env = "PROPUSK_SMS_KANNEL_FROM")]
    kannel_from: Option<String>,
    /// This service's /api/v1/sms/dlr as Kannel reaches it (enables delivery reports).
    #[arg(long = "sms-dlr-url", env = "PROPUSK_SMS_DLR_URL")]
    dlr_url: Option<String>,
    /// How long a message being sent stays claimed, and after a crash waits for its
    /// delivery report before it is sent again [default: 120].
    #[arg(long = "sms-lease-secs", env = "PROPUSK_SMS_LEASE_SECS")]
    lease_secs: Option<i64>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A secret goes into URLs Kannel calls and fills in, so it must not need escaping.
fn check_secret(what: &str, secret: &str) -> Result<()> {
    if secret.len() < 16
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        bail!("{what} must be at least 16 characters of letters, digits, '-', '.', '_', '~'");
    }
    Ok(())
}

impl SmsArgs {
    /// The gateway and the SMS settings after layering file < environment < flags.
    pub fn resolve(&self, file: Option<SmsFileConfig>) -> Result<(GatewayConfig, SmsSettings)> {
        let file = file.unwrap_or_default();
        let kannel = file.kannel.unwrap_or_default();
        let inbound_secret = env("PROPUSK_SMS_INBOUND_SECRET").or(file.inbound_secret);
        if let Some(secret) = &inbound_secret {
            check_secret("sms.inbound_secret (PROPUSK_SMS_INBOUND_SECRET)", secret)?;
        }
        let defaults = SmsLimits::default();
        let settings = SmsSettings {
            inbound_secret: inbound_secret.clone(),
            limits: SmsLimits {
                per_minute: file.per_minute.unwrap_or(defaults.per_minute),
                per_hour: file.per_hour.unwrap_or(defaults.per_hour),
                replies_per_hour: file.replies_per_hour.unwrap_or(defaults.replies_per_hour),
            },
            lease_secs: self
                .lease_secs
                .or(file.lease_secs)
                .unwrap_or(SmsSettings::default().lease_secs)
                .max(5),
        };
        let gateway = match self.gateway.clone().or(file.gateway).as_deref() {
            None | Some("log") => GatewayConfig::Log,
            Some("kannel") => {
                let sendsms_url = self.kannel_url.clone().or(kannel.sendsms_url).context(
                    "the kannel gateway needs sms.kannel.sendsms_url (PROPUSK_SMS_KANNEL_URL)",
                )?;
                let username = self.kannel_username.clone().or(kannel.username).context(
                    "the kannel gateway needs sms.kannel.username (PROPUSK_SMS_KANNEL_USERNAME)",
                )?;
                let password = env("PROPUSK_SMS_KANNEL_PASSWORD")
                    .or(kannel.password)
                    .context(
                    "the kannel gateway needs sms.kannel.password (PROPUSK_SMS_KANNEL_PASSWORD)",
                )?;
                let dlr_url = self.dlr_url.clone().or(kannel.dlr_url);
                if dlr_url.is_some() && inbound_secret.is_none() {
                    bail!("delivery reports (sms.kannel.dlr_url) need sms.inbound_secret to authenticate them");
                }
                GatewayConfig::Kannel(KannelConfig {
                    sendsms_url,
                    username,
                    password,
                    from: self.kannel_from.clone().or(kannel.from),
                    dlr_url,
                    dlr_secret: inbound_secret,
                    smsc: env("PROPUSK_SMS_KANNEL_SMSC").or(kannel.smsc),
                    timeout: Duration::from_secs(kannel.timeout_secs.unwrap_or(10).clamp(1, 60)),
                })
            }
            Some(other) => bail!("unknown SMS gateway '{other}' (expected \"log\" or \"kannel\")"),
        };
        Ok((gateway, settings))
    }
}

#[derive(Subcommand, Debug)]
pub enum SmsCommand {
    /// Show the outbox queue, failures and delivery rates.
    Status(StatusArgs),
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// How many recent failures to list.
    #[arg(long, default_value_t = 10)]
    failures: i64,
}

/// `+79161234567` → `+7916***4567`: enough for an operator to tell messages apart.
fn mask(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 8 {
        return "***".into();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}***{tail}")
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

pub async fn run(command: SmsCommand) -> Result<()> {
    let SmsCommand::Status(args) = command;
    let (_, _, url) = args.store.resolve()?;
    let store = Store::open(&url).await?;
    let now = jiff::Timestamp::now();
    let stats = store.sms_stats(now).await?;
    let failures = store.sms_failures(args.failures.max(0)).await?;
    store.close().await;
    let reported = stats.delivered + stats.undelivered;
    if args.json {
        let body = serde_json::json!({
            "queue": {
                "pending": stats.pending,
                "sending": stats.sending,
                "oldest_pending": stats.oldest_pending.map(|t| t.to_string()),
            },
            "sent": stats.sent,
            "failed": stats.failed,
            "segments": stats.segments,
            "delivery": {
                "delivered": stats.delivered,
                "undelivered": stats.undelivered,
                "in_network": stats.in_network,
                "no_report": stats.sent - stats.delivered - stats.undelivered - stats.in_network,
                "delivered_rate": (reported > 0).then(|| stats.delivered as f64 / reported as f64),
            },
            "inbound": {"total": stats.inbound, "last_hour": stats.inbound_last_hour},
            "failures": failures.iter().map(|f| serde_json::json!({
                "id": f.id, "phone": mask(&f.phone), "kind": f.kind, "status": f.status,
                "delivery": f.delivery, "attempts": f.attempts, "last_error": f.last_error,
                "created_at": f.created_at.to_string(),
            })).collect::<Vec<_>>(),
        });
        println!("{body:#}");
        return Ok(());
    }
    let age = stats
        .oldest_pending
        .map(|t| {
            format!(
                " (oldest written {}s ago)",
                (now.as_second() - t.as_second()).max(0)
            )
        })
        .unwrap_or_default();
    println!("SMS outbox");
    println!(
        "  queue:        {} waiting, {} being sent or in doubt{age}",
        stats.pending, stats.sending
    );
    println!(
        "  sent:         {} ({} segments)   failed: {}",
        stats.sent, stats.segments, stats.failed
    );
    println!(
        "  delivery:     {} delivered, {} undelivered, {} in the network, {} without report",
        stats.delivered,
        stats.undelivered,
        stats.in_network,
        stats.sent - stats.delivered - stats.undelivered - stats.in_network
    );
    println!(
        "  rates:        {} delivered of reported, {} of sent failed or undelivered",
        percent(stats.delivered, reported),
        percent(stats.failed + stats.undelivered, stats.sent + stats.failed)
    );
    println!(
        "SMS received:   {} in all, {} in the last hour",
        stats.inbound, stats.inbound_last_hour
    );
    if !failures.is_empty() {
        println!("Recent failures:");
        for f in &failures {
            println!(
                "  #{} {} {} {}{} after {} attempt(s): {}",
                f.id,
                mask(&f.phone),
                f.kind,
                f.status,
                f.delivery
                    .as_deref()
                    .map(|d| format!("/{d}"))
                    .unwrap_or_default(),
                f.attempts,
                f.last_error.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask("+79161234567"), "+7916***4567");
        assert_eq!(mask("900"), "***");
    }

    #[test]
    fn layering_and_checks() {
        let args = SmsArgs {
            gateway: Some("kannel".into()),
            kannel_url: Some("http://127.0.0.1:13013/cgi-bin/sendsms".into()),
            kannel_username: Some("propusk".into()),
            ..SmsArgs::default()
        };
        let file: SmsFileConfig = toml::from_str(
            "gateway = \"log\"\ninbound_secret = \"0123456789abcdef\"\nlease_secs = 30\n[kannel]\npassword = \"pw\"\nfrom = \"7377\"\ndlr_url = \"http://127.0.0.1:8080/api/v1/sms/dlr\"\n",
        )
        .unwrap();
        let (gateway, settings) = args.resolve(Some(file)).unwrap();
        assert_eq!(settings.lease_secs, 30);
        match gateway {
            GatewayConfig::Kannel(k) => {
                assert_eq!(k.from.as_deref(), Some("7377"));
                assert_eq!(k.dlr_secret.as_deref(), Some("0123456789abcdef"));
            }
            other => panic!("{other:?}"),
        }
        let weak: SmsFileConfig = toml::from_str("inbound_secret = \"short\"").unwrap();
        assert!(SmsArgs::default().resolve(Some(weak)).is_err());
        assert!(toml::from_str::<SmsFileConfig>("gatway = \"log\"").is_err());
    }
}
