//! Residents: the people who ask for passes, known by their phone number.

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, PhoneNumber};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{new_id, secs, Result, Store, StoreError};

/// A resident's stated identity and home. All of it or none of it is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub full_name: FullName,
    pub document: Document,
    pub home_address: String,
    pub home: GeoPoint,
}

/// Who a resident registered by SMS alone is: name and document, and the home address if
/// they wrote one, but no home location (see `propusk_sms::registration`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsIdentity {
    pub full_name: FullName,
    pub document: Document,
    pub home_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resident {
    pub id: String,
    pub phone: PhoneNumber,
    pub profile: Option<Profile>,
    /// Set for a resident registered by SMS who has no full profile (no home location).
    pub sms_identity: Option<SmsIdentity>,
    pub lang: String,
}

impl Resident {
    /// What the issuance rules know of the resident: whether the profile is complete, and
    /// where home is.
    pub fn facts(&self) -> propusk_core::issuance::ResidentFacts {
        propusk_core::issuance::ResidentFacts {
            profile_complete: self.identity().is_some(),
            home: self.profile.as_ref().map(|p| p.home),
        }
    }

    /// The name and document passes are issued to: the profile's, or the SMS registration's.
    pub fn identity(&self) -> Option<(&FullName, &Document)> {
        match (&self.profile, &self.sms_identity) {
            (Some(p), _) => Some((&p.full_name, &p.document)),
            (None, Some(s)) => Some((&s.full_name, &s.document)),
            (None, None) => None,
        }
    }
}

const COLUMNS: &str =
    "id, phone, full_name, doc_kind, doc_number, home_address, home_lat, home_lon, lang";

pub(crate) fn from_row(row: &AnyRow) -> Result<Resident> {
    let corrupt = |what: String| StoreError::Corrupt(what);
    let phone: String = row.try_get("phone")?;
    let phone = PhoneNumber::parse(&phone).map_err(|e| corrupt(format!("resident phone: {e}")))?;
    let name: Option<String> = row.try_get("full_name")?;
    let lat: Option<f64> = row.try_get("home_lat")?;
    let lon: Option<f64> = row.try_get("home_lon")?;
    let (mut profile, mut sms_identity) = (None, None);
    if let Some(name) = name {
        let kind: String = row.try_get("doc_kind")?;
        let number: String = row.try_get("doc_number")?;
        let kind: DocumentKind = kind
            .parse()
            .map_err(|_| corrupt(format!("document kind {kind}")))?;
        let full_name = FullName::parse(&name).map_err(|e| corrupt(format!("name: {e}")))?;
        let document =
            Document::parse(kind, &number).map_err(|e| corrupt(format!("document: {e}")))?;
        let address: Option<String> = row.try_get("home_address")?;
        match (lat, lon) {
            (Some(lat), Some(lon)) => {
                profile = Some(Profile {
                    full_name,
                    document,
                    home_address: address.unwrap_or_default(),
                    home: GeoPoint::new(lat, lon).map_err(|e| corrupt(format!("home: {e}")))?,
                })
            }
            _ => {
                sms_identity = Some(SmsIdentity {
                    full_name,
                    document,
                    home_address: address.filter(|a| !a.is_empty()),
                })
            }
        }
    }
    Ok(Resident {
        id: row.try_get("id")?,
        phone,
        profile,
        sms_identity,
        lang: row.try_get("lang")?,
    })
}

impl Store {
    /// The resident with this phone, created on first sign-in.
    pub async fn resident_for_phone(
        &self,
        phone: &PhoneNumber,
        now: jiff::Timestamp,
    ) -> Result<Resident> {
        if let Some(r) = self.resident_by_phone(phone).await? {
            return Ok(r);
        }
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO residents (id, phone, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (phone) DO NOTHING",
        )
        .bind(new_id())
        .bind(phone.as_str())
        .bind(secs(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM residents WHERE phone = $1"))
            .bind(phone.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        from_row(&row)
    }

    pub async fn resident_by_phone(&self, phone: &PhoneNumber) -> Result<Option<Resident>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM residents WHERE phone = $1"))
            .bind(phone.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn resident(&self, id: &str) -> Result<Option<Resident>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM residents WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn set_profile(
        &self,
        id: &str,
        profile: &Profile,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE residents SET full_name = $1, doc_kind = $2, doc_number = $3, home_address = $4, \
             home_lat = $5, home_lon = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(profile.full_name.as_str())
        .bind(profile.document.kind().as_str())
        .bind(profile.document.number())
        .bind(&profile.home_address)
        .bind(profile.home.lat())
        .bind(profile.home.lon())
        .bind(secs(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_language(&self, id: &str, lang: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE residents SET lang = $1 WHERE id = $2")
            .bind(lang)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
