//! Bulk loading of passes and their revocations for benchmarks (`propusk bench seed`): a
//! city's millions of passes in large transactions, instead of one issuance each. Nothing
//! here decides anything: the caller made and signed the passes; the store keeps short
//! codes unique and numbers revocations from the same counter cancellations use, so the
//! published list stays gap-free.

use std::collections::HashSet;

use jiff::Timestamp;
use propusk_core::domain::{Document, DocumentKind, FullName};
use propusk_token::rand_core::OsRng;
use propusk_token::ShortCode;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::passes::{PassRecord, COLUMNS};
use crate::{placeholders, secs, Result, Store, StoreError};

/// Passes per multi-row insert (13 parameters each). Few: binding costs grow with the
/// square of a statement's parameters on SQLite (see `registry`).
const CHUNK: usize = 16;

/// A pass to load, and when it was cancelled by its holder (if it was).
pub struct SeedPass {
    pub record: PassRecord,
    pub revoked_at: Option<Timestamp>,
}

/// A resident with an identity, as passes are issued to them.
pub struct SeedHolder {
    pub id: String,
    pub full_name: FullName,
    pub document: Document,
}

fn holder(row: &AnyRow) -> Result<SeedHolder> {
    let corrupt = |what: String| StoreError::Corrupt(what);
    let kind: String = row.try_get("doc_kind")?;
    let kind: DocumentKind = kind
        .parse()
        .map_err(|_| corrupt(format!("document kind {kind}")))?;
    let number: String = row.try_get("doc_number")?;
    let name: String = row.try_get("full_name")?;
    Ok(SeedHolder {
        id: row.try_get("id")?,
        full_name: FullName::parse(&name).map_err(|e| corrupt(format!("name: {e}")))?,
        document: Document::parse(kind, &number).map_err(|e| corrupt(format!("document: {e}")))?,
    })
}

impl Store {
    /// Up to `limit` residents with an identity whose id sorts after `after`, in id order.
    pub async fn seed_holders(&self, after: &str, limit: i64) -> Result<Vec<SeedHolder>> {
        let rows = sqlx::query(
            "SELECT id, full_name, doc_kind, doc_number FROM residents \
             WHERE id > $1 AND full_name IS NOT NULL ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(holder).collect()
    }

    /// Loads passes in one transaction (a short code already in use is replaced by a fresh
    /// one) and the revocations of those cancelled, numbered in order from the revocation
    /// counter.
    pub async fn seed_passes(&self, passes: &mut [SeedPass]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let mut pending: Vec<usize> = (0..passes.len()).collect();
        while !pending.is_empty() {
            let mut stored: HashSet<String> = HashSet::with_capacity(pending.len());
            for chunk in pending.chunks(CHUNK) {
                let rows: Vec<&SeedPass> = chunk.iter().map(|&i| &passes[i]).collect();
                stored.extend(insert_passes(&mut tx, &rows).await?);
            }
            pending.retain(|&i| !stored.contains(&passes[i].record.id));
            for &i in &pending {
                passes[i].record.short_code = ShortCode::generate(&mut OsRng).compact();
            }
        }
        let revoked: Vec<&SeedPass> = passes.iter().filter(|p| p.revoked_at.is_some()).collect();
        if !revoked.is_empty() {
            let (last,): (i64,) = sqlx::query_as(
                "UPDATE counters SET value = value + $1 WHERE name = 'revocation' RETURNING value",
            )
            .bind(revoked.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            let first = last - revoked.len() as i64 + 1;
            for (k, chunk) in revoked.chunks(CHUNK).enumerate() {
                let sql = format!(
                    "INSERT INTO revocations (seq, pass_id, revoked_at, valid_until, reason) VALUES {}",
                    placeholders(chunk.len(), 5)
                );
                let mut query = sqlx::query(&sql);
                for (i, pass) in chunk.iter().enumerate() {
                    let seq = first + (k * CHUNK + i) as i64;
                    query = query
                        .bind(seq)
                        .bind(&pass.record.id)
                        .bind(pass.revoked_at.map(secs))
                        .bind(secs(pass.record.valid_until))
                        .bind("cancelled by holder");
                }
                query.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Inserts passes, skipping those whose short code is taken; returns the ids stored.
async fn insert_passes(
    tx: &mut Transaction<'static, Any>,
    rows: &[&SeedPass],
) -> Result<Vec<String>> {
    let sql = format!(
        "INSERT INTO passes ({COLUMNS}, cancelled_by) VALUES {} \
         ON CONFLICT (short_code) DO NOTHING RETURNING id",
        placeholders(rows.len(), 13)
    );
    let mut query = sqlx::query_as::<_, (String,)>(&sql);
    for pass in rows {
        let r = &pass.record;
        let fields = serde_json::to_string(&r.fields)
            .map_err(|e| StoreError::Corrupt(format!("pass fields: {e}")))?;
        query = query
            .bind(&r.id)
            .bind(&r.resident_id)
            .bind(&r.regime_id)
            .bind(&r.purpose)
            .bind(&r.short_code)
            .bind(&r.token)
            .bind(secs(r.valid_from))
            .bind(secs(r.valid_until))
            .bind(secs(r.issued_at))
            .bind(&r.channel)
            .bind(fields)
            .bind(pass.revoked_at.map(secs))
            .bind(
                pass.revoked_at
                    .map(|_| format!("resident:{}", r.resident_id)),
            );
    }
    Ok(query
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect())
}
