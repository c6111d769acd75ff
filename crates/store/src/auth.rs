//! Who may do what: one-time sign-in codes, sessions, and staff accounts.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::outbox::{self, SmsKind};
use crate::{new_id, secs, Limit, Result, Store, Throttled};

/// What a session's holder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Resident,
    Inspector,
    Health,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resident => "resident",
            Self::Inspector => "inspector",
            Self::Health => "health",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "resident" => Some(Self::Resident),
            "inspector" => Some(Self::Inspector),
            "health" => Some(Self::Health),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn is_staff(self) -> bool {
        self != Self::Resident
    }
}

/// A signed-in resident or staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub subject_id: String,
    pub role: Role,
    pub expires_at: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
}

/// Tries a sign-in code has; how long it lives. How often codes may be sent is the server's
/// setting, passed in as [`Limit`]s.
pub const OTP_MAX_ATTEMPTS: i64 = 5;
pub const OTP_TTL_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpRequestOutcome {
    /// The code is stored and its SMS is in the outbox.
    Queued,
    /// Asked too often: the limit that refused and when to come back.
    RateLimited(Throttled),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpOutcome {
    Accepted,
    Wrong {
        attempts_left: i64,
    },
    /// No live code for this phone: none asked, expired, used, or tried too often.
    NoLiveCode,
}

fn otp_hash(phone: &str, code: &str) -> String {
    hex(&Sha256::digest(format!("{phone}:{code}").as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Stores a sign-in code for `phone` and queues its SMS in the same transaction, unless
    /// one of `limits` (the phone's, the requester's, everyone's) refuses it.
    pub async fn request_otp(
        &self,
        phone: &str,
        code: &str,
        sms_text: &str,
        limits: &[Limit],
        now: jiff::Timestamp,
    ) -> Result<OtpRequestOutcome> {
        let now_s = secs(now);
        let mut tx = self.write_tx().await?;
        if let Err(throttled) = self.charge_in(&mut tx, limits, now).await? {
            tx.commit().await?;
            return Ok(OtpRequestOutcome::RateLimited(throttled));
        }
        sqlx::query("INSERT INTO otp_codes (phone, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(phone)
            .bind(otp_hash(phone, code))
            .bind(now_s)
            .bind(now_s + OTP_TTL_SECS)
            .execute(&mut *tx)
            .await?;
        outbox::enqueue(
            &mut tx,
            &new_id(),
            phone,
            sms_text,
            SmsKind::SignInCode,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(OtpRequestOutcome::Queued)
    }

    /// Checks a sign-in code. A right code is used up; a wrong one costs a try.
    pub async fn verify_otp(
        &self,
        phone: &str,
        code: &str,
        now: jiff::Timestamp,
    ) -> Result<OtpOutcome> {
        let now_s = secs(now);
        let mut tx = self.write_tx().await?;
        // Tries at one phone's code are counted one after another, however many arrive at
        // once: the fifth wrong one ends the code before a sixth is looked at.
        self.lock_keys(&mut tx, [format!("otp:{phone}")]).await?;
        let live = sqlx::query(
            "SELECT id, code_hash, attempts FROM otp_codes WHERE phone = $1 AND used_at IS NULL \
             AND expires_at > $2 AND attempts < $3 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(phone)
        .bind(now_s)
        .bind(OTP_MAX_ATTEMPTS)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = live else {
            return Ok(OtpOutcome::NoLiveCode);
        };
        let id: i64 = row.try_get("id")?;
        let hash: String = row.try_get("code_hash")?;
        let attempts: i64 = row.try_get("attempts")?;
        let outcome = if hash == otp_hash(phone, code.trim()) {
            sqlx::query("UPDATE otp_codes SET used_at = $1 WHERE id = $2")
                .bind(now_s)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            OtpOutcome::Accepted
        } else {
            let counted = sqlx::query(
                "UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2",
            )
            .bind(id)
            .bind(OTP_MAX_ATTEMPTS)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if counted != 1 {
                return Err(crate::StoreError::Corrupt(format!(
                    "sign-in code {id} changed under its lock"
                )));
            }
            OtpOutcome::Wrong {
                attempts_left: OTP_MAX_ATTEMPTS - attempts - 1,
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records a session under the hash of its bearer token (the token itself is never stored).
    pub async fn create_session(
        &self,
        token: &str,
        subject_id: &str,
        role: Role,
        expires_at: jiff::Timestamp,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO sessions (token_hash, subject_id, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash(token))
            .bind(subject_id)
            .bind(role.as_str())
            .bind(secs(now))
            .bind(secs(expires_at))
            .execute(&mut *tx)
            .await?;
        // Expired sessions are swept here rather than by a separate job.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(secs(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session of a bearer token (from memory if looked up in the last few seconds:
    /// see `session_cache.rs`).
    pub async fn session(&self, token: &str, now: jiff::Timestamp) -> Result<Option<Session>> {
        let hash = token_hash(token);
        if let Some(session) = self.sessions.get(&hash, now) {
            return Ok(Some(session));
        }
        let row = sqlx::query("SELECT subject_id, role, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(&hash)
            .bind(secs(now))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let role = Role::parse(&role).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("a session with the role {role:?}"))
        })?;
        let session = Session {
            subject_id: row.try_get("subject_id")?,
            role,
            expires_at: crate::ts(row.try_get("expires_at")?)?,
        };
        self.sessions.put(hash, session.clone());
        Ok(Some(session))
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        self.sessions.forget(&token_hash(token));
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a staff account; `None` when the username is taken.
    pub async fn add_staff(
        &self,
        username: &str,
        role: Role,
        password_hash: &str,
        now: jiff::Timestamp,
    ) -> Result<Option<StaffUser>> {
        let account = NewStaff {
            username,
            role,
            password_hash,
        };
        Ok(match self.create_staff(&account, None, false, now).await? {
            StaffCreated::Created(user) => Some(user),
            StaffCreated::UsernameTaken | StaffCreated::NotFirst => None,
        })
    }

    /// Adds a staff account in one step: the account and, with `by` (who made it), its
    /// `staff.create` audit entry commit together. With `only_first`, only while no staff
    /// account exists (first-run setup): the check and the insert hold one lock that every
    /// staff insert takes, so two nodes, or the setup page and `propusk user add`, never
    /// both make a first account.
    pub async fn create_staff(
        &self,
        account: &NewStaff<'_>,
        by: Option<&str>,
        only_first: bool,
        now: jiff::Timestamp,
    ) -> Result<StaffCreated> {
        let id = new_id();
        let mut tx = self.write_tx().await?;
        self.lock_keys(&mut tx, ["staff:insert".to_string()])
            .await?;
        if only_first
            && sqlx::query("SELECT 1 FROM staff LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
        {
            return Ok(StaffCreated::NotFirst);
        }
        let inserted = sqlx::query(
            "INSERT INTO staff (id, username, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(&id)
        .bind(account.username)
        .bind(account.role.as_str())
        .bind(account.password_hash)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            return Ok(StaffCreated::UsernameTaken);
        }
        if let Some(by) = by {
            crate::audit::append(&mut tx, by, "staff.create", &id, account.role.as_str(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(StaffCreated::Created(StaffUser {
            id,
            username: account.username.into(),
            role: account.role,
            password_hash: account.password_hash.into(),
        }))
    }

    /// Whether any staff account exists (none: a new installation, open to first-run setup).
    pub async fn has_staff(&self) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM staff LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every staff account, by username (the password hashes left out).
    pub async fn list_staff(&self) -> Result<Vec<(String, Role)>> {
        let rows = sqlx::query("SELECT username, role FROM staff ORDER BY username")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                let role = Role::parse(&role).ok_or_else(|| {
                    crate::StoreError::Corrupt(format!("a staff account with the role {role:?}"))
                })?;
                Ok((row.try_get("username")?, role))
            })
            .collect()
    }

    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffUser>> {
        let row =
            sqlx::query("SELECT id, username, role, password_hash FROM staff WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let role = Role::parse(&role).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("a staff account with the role {role:?}"))
        })?;
        Ok(Some(StaffUser {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            role,
            password_hash: row.try_get("password_hash")?,
        }))
    }
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A staff account to be made.
pub struct NewStaff<'a> {
    pub username: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

/// What [`Store::create_staff`] did.
#[derive(Debug)]
pub enum StaffCreated {
    Created(StaffUser),
    UsernameTaken,
    /// First-run setup, but a staff account exists already.
    NotFirst,
}
