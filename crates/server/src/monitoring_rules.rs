//! The rules the monitoring API (`/api/v1`) and the officer's and patient's pages
//! (`/health`, `/patient`) must apply alike, kept in one place: what a case's period,
//! address and time zone may be, how one-time enrollment codes (and loaner keys, made the
//! same way) are made, read and linked to, what a loaner phone's serial may be and how a
//! phone moves (with the checklist a wipe needs), which photos are taken, and the officers'
//! reads that the audit log must show.

use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::{Line, Paragraph, TextError};
use propusk_store::{ChallengeRecord, FlagRecord, Store};
use rand::RngCore;

/// The longest quarantine a case may be opened or extended for.
pub const MAX_CASE: SignedDuration = SignedDuration::from_hours(60 * 24);
/// A case's clocks when none is named.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Moscow";

/// The language of a patient's SMS from a case form or request: exactly `ru` or `en`; none
/// given is Russian.
pub fn sms_lang(code: Option<&str>) -> Option<propusk_sms::Lang> {
    match code.map(str::trim) {
        None | Some("") | Some("ru") => Some(propusk_sms::Lang::Ru),
        Some("en") => Some(propusk_sms::Lang::En),
        Some(_) => None,
    }
}
/// A case's radius around home when none is given.
pub const DEFAULT_RADIUS_M: f64 = 100.0;
/// The longest home address, in characters.
const MAX_ADDRESS_CHARS: usize = 300;

/// Whether a quarantine may run from `starts_at` to `ends_at`: it ends after it starts,
/// within [`MAX_CASE`].
pub fn period_ok(starts_at: Timestamp, ends_at: Timestamp) -> bool {
    ends_at > starts_at && ends_at.duration_since(starts_at) <= MAX_CASE
}

/// Whether a quarantine starting at `starts_at` may be opened at `now`: at most
/// [`MAX_CASE`] ago (recorded late) or ahead (planned), so that a mistyped year is caught.
pub fn starts_ok(starts_at: Timestamp, now: Timestamp) -> bool {
    starts_at.duration_since(now).abs() <= MAX_CASE
}

/// The home address as stored (trimmed), if it is one: one line, not empty, at most 300
/// characters.
pub fn home_address(typed: &str) -> Option<Line> {
    Line::required(typed, MAX_ADDRESS_CHARS).ok()
}

/// The longest officer's note on a decision, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// The longest patient's statement in an appeal, in characters.
pub const MAX_STATEMENT_CHARS: usize = 2000;

/// An officer's note on a decision (may be empty; the state machine says when one is needed).
pub fn note(typed: &str) -> Result<Paragraph, TextError> {
    Paragraph::parse(typed, MAX_NOTE_CHARS)
}

/// A patient's statement in an appeal.
pub fn statement(typed: &str) -> Result<Paragraph, TextError> {
    Paragraph::required(typed, MAX_STATEMENT_CHARS)
}

/// How many characters an enrollment code has, without its separators.
pub const ENROLLMENT_CODE_LEN: usize = 12;

/// A one-time enrollment code the officer reads out or prints: 12 characters with no
/// look-alikes, shown as `XXXX-XXXX-XXXX` (about 60 bits). The store keeps the hash of
/// [`normalize_code`] of it.
pub fn enrollment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; ENROLLMENT_CODE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The link that opens the patient's app on the enrollment screen with `code` filled in.
/// The code travels in the URL *fragment*, which a browser never sends to a server, so a
/// one-time code reaches no server log and no Referer header.
pub fn enrollment_link(app_url: &str, code: &str) -> String {
    format!("{app_url}#code={code}")
}

/// A new loaner key, shown once as `XXXX-XXXX-XXXX-XXXX`; the store keeps the hash of its
/// [`LoanerKey::compact`] form.
pub fn loaner_key() -> propusk_token::LoanerKey {
    propusk_token::LoanerKey::generate(&mut propusk_token::rand_core::OsRng)
}

/// A one-time code as the store hashes it: a loaner key in its canonical form (look-alike
/// letters read as the key's symbols), anything else as [`normalize_code`] has it (the
/// case's enrollment code, and keys lent before keys had a check symbol).
pub fn code_for_lookup(typed: &str) -> String {
    typed
        .parse::<propusk_token::LoanerKey>()
        .map(|key| key.compact())
        .unwrap_or_else(|_| normalize_code(typed))
}

/// The code as typed: any case, any separators.
pub fn normalize_code(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether a loaner phone's serial (trimmed) is one: 1 to 64 Latin letters, digits and hyphens.
pub fn serial_ok(serial: &str) -> bool {
    !serial.is_empty()
        && serial.len() <= 64
        && serial
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// How far back the officer's queue shows questions no one answered.
pub const UNANSWERED_FOR: SignedDuration = SignedDuration::from_hours(24);

/// A photo's media type from its first bytes; only JPEG and PNG are taken.
pub fn photo_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// A flag, read by `officer` (in the audit log when there is one).
pub async fn read_flag(
    store: &Store,
    officer: &str,
    id: &str,
    now: Timestamp,
) -> propusk_store::Result<Option<FlagRecord>> {
    let Some(flag) = store.flag(id).await? else {
        return Ok(None);
    };
    store
        .audit(officer, "monitoring.flag.read", id, "", now)
        .await?;
    Ok(Some(flag))
}

/// A case's check-ins issued so far, read by `officer` (in the audit log).
pub async fn read_checkins(
    store: &Store,
    officer: &str,
    case_id: &str,
    now: Timestamp,
) -> propusk_store::Result<Vec<ChallengeRecord>> {
    store
        .audit(officer, "monitoring.checkins.read", case_id, "", now)
        .await?;
    store.case_checkins(case_id, now).await
}

/// A case's reference photo, read by `officer` (in the audit log when there is one).
pub async fn read_reference_photo(
    store: &Store,
    officer: &str,
    case_id: &str,
    now: Timestamp,
) -> propusk_store::Result<Option<Vec<u8>>> {
    let Some(photo) = store.reference_photo(case_id).await? else {
        return Ok(None);
    };
    store
        .audit(officer, "monitoring.reference_photo.read", case_id, "", now)
        .await?;
    Ok(Some(photo))
}

/// A check-in's photo with its case's id, read by `officer` (in the audit log when there is
/// one).
pub async fn read_checkin_photo(
    store: &Store,
    officer: &str,
    checkin_id: &str,
    now: Timestamp,
) -> propusk_store::Result<Option<(String, Vec<u8>)>> {
    let Some((case_id, photo)) = store.checkin_photo(checkin_id).await? else {
        return Ok(None);
    };
    store
        .audit(
            officer,
            "monitoring.checkin.photo.read",
            &case_id,
            checkin_id,
            now,
        )
        .await?;
    Ok(Some((case_id, photo)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_they_are_made() {
        let code = enrollment_code();
        assert_eq!(code.len(), ENROLLMENT_CODE_LEN + 2, "{code}");
        let bare = normalize_code(&code);
        assert_eq!(bare.len(), ENROLLMENT_CODE_LEN);
        assert_eq!(normalize_code(&code.to_lowercase().replace('-', " ")), bare);
    }

    #[test]
    fn inputs() {
        assert_eq!(home_address("  Москва  ").unwrap().as_str(), "Москва");
        assert_eq!(home_address("Москва\0"), None);
        assert_eq!(home_address("   "), None);
        assert_eq!(home_address(&"д".repeat(301)), None);
        assert!(serial_ok("SN-0001"));
        assert!(!serial_ok("SN 01/с") && !serial_ok(""));
        let t = Timestamp::UNIX_EPOCH;
        assert!(period_ok(t, t + MAX_CASE));
        assert!(starts_ok(t - MAX_CASE, t) && starts_ok(t + MAX_CASE, t));
        assert!(!starts_ok(Timestamp::UNIX_EPOCH, t + MAX_CASE + MAX_CASE));
        assert!(!period_ok(t, t) && !period_ok(t, t + MAX_CASE + SignedDuration::from_secs(1)));
    }
}
