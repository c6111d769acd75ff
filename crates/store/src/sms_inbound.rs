//! Messages received by SMS, each answered once.
//!
//! [`Store::handle_inbound_sms`] does everything a message causes in one transaction: it
//! records the message under the gateway's id (a second delivery of the same id finds it and
//! does nothing), checks the sender's rate limits, carries out the request — issuing a pass
//! with the very same [`crate::passes`] code the API uses, cancelling one, registering the
//! sender — and writes the answer to the outbox. The gateway is acknowledged only after the
//! commit, so a crash at any point either leaves no trace (the gateway delivers the message
//! again) or leaves all of it (the answer goes out from the outbox).

use propusk_core::domain::PhoneNumber;
use propusk_core::issuance::Refusal;
use propusk_token::ShortCode;
use sqlx::{Any, Row, Transaction};

use crate::outbox::{self, SmsKind};
use crate::passes::{self, Actor, IssueError, IssueRequest, PassRecord};
use crate::residents::SmsIdentity;
use crate::{new_id, secs, whole_second, Result, Store};

/// A message as the gateway delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// The gateway's id for the message; a retry carries the same one.
    pub gateway_id: String,
    /// The sender, in E.164 when it is a phone number, else as given.
    pub phone: String,
    /// The number it was sent to (the short number).
    pub recipient: String,
    pub text: String,
    pub received_at: jiff::Timestamp,
}

/// How much one phone may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLimits {
    /// Messages acted on per minute; more are answered "too many".
    pub per_minute: i64,
    /// Messages acted on per hour; more are answered "too many".
    pub per_hour: i64,
    /// Answers per hour at most: past this the phone is taken to be a machine (an
    /// auto-responder answering our answers) and is no longer answered, so that two machines
    /// cannot text each other for ever. Its messages are still recorded.
    pub replies_per_hour: i64,
}

impl Default for SmsLimits {
    fn default() -> Self {
        Self {
            per_minute: 5,
            per_hour: 30,
            replies_per_hour: 40,
        }
    }
}

/// What a message asks the store to do, decided by the server from the message and the
/// sender.
#[derive(Clone)]
pub enum SmsAction {
    /// Issue a pass.
    Issue(IssueRequest),
    /// Cancel the resident's pass with this code.
    Cancel {
        resident_id: String,
        code: ShortCode,
    },
    /// Record (or replace) the name and document of the phone's owner.
    Register {
        phone: PhoneNumber,
        identity: SmsIdentity,
        lang: String,
    },
    /// The resident's current and upcoming passes.
    Status { resident_id: String },
    /// The resident's pass with this code.
    About {
        resident_id: String,
        code: ShortCode,
    },
    /// Nothing but the answer.
    Reply,
    /// Nothing at all, not even an answer: the sender is not a phone that can be answered.
    Record,
}

/// What came of a message; the server turns it into the answer.
#[derive(Debug, Clone)]
pub enum SmsEffect {
    RateLimited {
        retry_after_secs: i64,
    },
    Issued(PassRecord),
    Refused(Refusal),
    /// A pass was asked for a phone that has no resident.
    NoResident,
    Cancelled(PassRecord),
    AlreadyCancelled(PassRecord),
    /// No pass of the resident has the code.
    NotFound,
    Registered {
        resident_id: String,
        updated: bool,
    },
    Passes(Vec<PassRecord>),
    Pass(PassRecord),
    Replied,
    Recorded,
}

impl SmsEffect {
    /// The outcome as recorded with the message.
    pub fn outcome(&self) -> String {
        match self {
            Self::RateLimited { .. } => "rate_limited".into(),
            Self::Issued(_) => "issued".into(),
            Self::Refused(r) => format!("refused:{}", r.code),
            Self::NoResident => "no_resident".into(),
            Self::Cancelled(_) => "cancelled".into(),
            Self::AlreadyCancelled(_) => "already_cancelled".into(),
            Self::NotFound => "not_found".into(),
            Self::Registered { updated: false, .. } => "registered".into(),
            Self::Registered { updated: true, .. } => "updated".into(),
            Self::Passes(_) => "status".into(),
            Self::Pass(_) => "about".into(),
            Self::Replied => "replied".into(),
            Self::Recorded => "recorded".into(),
        }
    }
}

/// What handling a message did.
#[derive(Debug, Clone)]
pub enum InboundOutcome {
    /// The gateway delivered this id before; it was handled then.
    Duplicate,
    Handled {
        effect: Box<SmsEffect>,
        /// The answer queued, if any.
        reply: Option<String>,
    },
}

impl Store {
    /// Handles one received message: see the module documentation. `reply` renders the
    /// answer to the effect (None: no answer).
    pub async fn handle_inbound_sms<F>(
        &self,
        msg: &InboundSms,
        command: &str,
        action: SmsAction,
        limits: SmsLimits,
        reply: F,
    ) -> Result<InboundOutcome>
    where
        F: FnOnce(&SmsEffect) -> Option<String> + Send,
    {
        let now = msg.received_at;
        let now_s = secs(now);
        let mut tx = self.write_tx().await?;
        // One phone's messages are counted against its limits one after another, however
        // many arrive at once.
        self.lock_keys(&mut tx, [format!("sms-in:{}", msg.phone)])
            .await?;
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO sms_inbound (gateway_id, phone, recipient, text, received_at, command, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, 'received') ON CONFLICT (gateway_id) DO NOTHING RETURNING id",
        )
        .bind(&msg.gateway_id)
        .bind(&msg.phone)
        .bind(&msg.recipient)
        .bind(&msg.text)
        .bind(now_s)
        .bind(command)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((row_id,)) = inserted else {
            return Ok(InboundOutcome::Duplicate);
        };

        let answerable = !matches!(action, SmsAction::Record);
        let (mut silenced, mut limited) = (false, None);
        if answerable {
            let (minute, hour, first_in_hour): (Option<i64>, i64, Option<i64>) = sqlx::query_as(
                "SELECT CAST(SUM(CASE WHEN received_at > $1 THEN 1 ELSE 0 END) AS BIGINT), \
                 COUNT(*), MIN(received_at) FROM sms_inbound \
                 WHERE phone = $2 AND received_at > $3 AND id <> $4",
            )
            .bind(now_s - 60)
            .bind(&msg.phone)
            .bind(now_s - 3600)
            .bind(row_id)
            .fetch_one(&mut *tx)
            .await?;
            let minute = minute.unwrap_or(0);
            if minute >= limits.per_minute {
                limited = Some(60);
            } else if hour >= limits.per_hour {
                limited = Some(first_in_hour.map_or(3600, |f| f + 3600 - now_s).max(60));
            }
            let (replies,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM sms_outbox WHERE phone = $1 AND kind = $2 AND created_at > $3",
            )
            .bind(&msg.phone)
            .bind(SmsKind::PassReply.as_str())
            .bind(now_s - 3600)
            .fetch_one(&mut *tx)
            .await?;
            silenced = replies >= limits.replies_per_hour;
        }

        let effect = match limited {
            Some(retry_after_secs) => SmsEffect::RateLimited { retry_after_secs },
            None => self.apply(&mut tx, action, now).await?,
        };
        let (resident_id, pass_id) = match &effect {
            SmsEffect::Issued(p)
            | SmsEffect::Cancelled(p)
            | SmsEffect::AlreadyCancelled(p)
            | SmsEffect::Pass(p) => (Some(p.resident_id.clone()), Some(p.id.clone())),
            SmsEffect::Registered { resident_id, .. } => (Some(resident_id.clone()), None),
            _ => (None, None),
        };
        let text = if answerable && !silenced {
            reply(&effect)
        } else {
            None
        };
        let reply_key = format!("sms-in:{}", msg.gateway_id);
        if let Some(text) = &text {
            outbox::enqueue(
                &mut tx,
                &reply_key,
                &msg.phone,
                text,
                SmsKind::PassReply,
                now,
            )
            .await?;
        }
        let mut outcome = effect.outcome();
        if silenced {
            outcome.push_str(":silenced");
        }
        sqlx::query(
            "UPDATE sms_inbound SET outcome = $1, resident_id = $2, pass_id = $3, reply_key = $4 WHERE id = $5",
        )
        .bind(&outcome)
        .bind(resident_id)
        .bind(pass_id)
        .bind(text.as_ref().map(|_| reply_key))
        .bind(row_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(InboundOutcome::Handled {
            effect: Box::new(effect),
            reply: text,
        })
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'static, Any>,
        action: SmsAction,
        now: jiff::Timestamp,
    ) -> Result<SmsEffect> {
        Ok(match action {
            SmsAction::Issue(req) => match passes::issue_in(self.backend, tx, &req).await {
                Ok(pass) => SmsEffect::Issued(pass),
                Err(IssueError::Refused(r)) => SmsEffect::Refused(r),
                Err(IssueError::UnknownResident) => SmsEffect::NoResident,
                Err(IssueError::Store(e)) => return Err(e),
            },
            SmsAction::Cancel { resident_id, code } => {
                match own_pass(tx, &resident_id, &code).await? {
                    None => SmsEffect::NotFound,
                    Some(pass) if pass.cancelled_at.is_some() => SmsEffect::AlreadyCancelled(pass),
                    Some(mut pass) => {
                        let actor = Actor::Resident(resident_id);
                        passes::revoke_in(tx, &pass, &actor, "cancelled by holder (SMS)", now)
                            .await?;
                        pass.cancelled_at = Some(whole_second(now));
                        SmsEffect::Cancelled(pass)
                    }
                }
            }
            SmsAction::About { resident_id, code } => {
                match own_pass(tx, &resident_id, &code).await? {
                    None => SmsEffect::NotFound,
                    Some(pass) => SmsEffect::Pass(pass),
                }
            }
            SmsAction::Status { resident_id } => {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM passes WHERE resident_id = $1 AND cancelled_at IS NULL \
                     AND valid_until > $2 ORDER BY valid_from LIMIT 5",
                    passes::COLUMNS
                ))
                .bind(&resident_id)
                .bind(secs(now))
                .fetch_all(&mut **tx)
                .await?;
                SmsEffect::Passes(rows.iter().map(passes::from_row).collect::<Result<_>>()?)
            }
            SmsAction::Register {
                phone,
                identity,
                lang,
            } => register(tx, &phone, &identity, &lang, now).await?,
            SmsAction::Reply => SmsEffect::Replied,
            SmsAction::Record => SmsEffect::Recorded,
        })
    }
}

async fn own_pass(
    tx: &mut Transaction<'static, Any>,
    resident_id: &str,
    code: &ShortCode,
) -> Result<Option<PassRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM passes WHERE short_code = $1 AND resident_id = $2",
        passes::COLUMNS
    ))
    .bind(code.compact())
    .bind(resident_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(passes::from_row).transpose()
}

/// Records the phone owner's name and document. A resident with a full profile keeps their
/// home and its location; the address written by SMS is kept only for one who has none.
async fn register(
    tx: &mut Transaction<'static, Any>,
    phone: &PhoneNumber,
    identity: &SmsIdentity,
    lang: &str,
    now: jiff::Timestamp,
) -> Result<SmsEffect> {
    let existing = sqlx::query("SELECT id, full_name, home_lat FROM residents WHERE phone = $1")
        .bind(phone.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    let address = identity.home_address.clone().unwrap_or_default();
    match existing {
        Some(row) => {
            let id: String = row.try_get("id")?;
            let had_identity = row.try_get::<Option<String>, _>("full_name")?.is_some();
            let located = row.try_get::<Option<f64>, _>("home_lat")?.is_some();
            // A located home stays as the web profile set it.
            let sql = if located {
                "UPDATE residents SET full_name = $1, doc_kind = $2, doc_number = $3, updated_at = $4 \
                 WHERE id = $5"
            } else {
                "UPDATE residents SET full_name = $1, doc_kind = $2, doc_number = $3, updated_at = $4, \
                 home_address = $6 WHERE id = $5"
            };
            let mut query = sqlx::query(sql)
                .bind(identity.full_name.as_str())
                .bind(identity.document.kind().as_str())
                .bind(identity.document.number())
                .bind(secs(now))
                .bind(&id);
            if !located {
                query = query.bind(&address);
            }
            query.execute(&mut **tx).await?;
            Ok(SmsEffect::Registered {
                resident_id: id,
                updated: had_identity,
            })
        }
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO residents (id, phone, full_name, doc_kind, doc_number, home_address, lang, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(&id)
            .bind(phone.as_str())
            .bind(identity.full_name.as_str())
            .bind(identity.document.kind().as_str())
            .bind(identity.document.number())
            .bind(&address)
            .bind(lang)
            .bind(secs(now))
            .execute(&mut **tx)
            .await?;
            Ok(SmsEffect::Registered {
                resident_id: id,
                updated: false,
            })
        }
    }
}
