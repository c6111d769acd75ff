//! Regimes loaded by administrators, kept as their TOML source so that every node
//! (and every restart) loads exactly what was approved.

use crate::{secs, Result, Store};

impl Store {
    pub async fn save_regime(
        &self,
        id: &str,
        source: &str,
        loaded_by: &str,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO regimes (id, source, loaded_at, loaded_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET source = excluded.source, loaded_at = excluded.loaded_at, \
             loaded_by = excluded.loaded_by",
        )
        .bind(id)
        .bind(source)
        .bind(secs(now))
        .bind(loaded_by)
        .execute(&mut *tx)
        .await?;
        crate::audit::append(&mut tx, loaded_by, "regime.load", id, "", now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored regime sources, oldest first.
    pub async fn regime_sources(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT id, source FROM regimes ORDER BY loaded_at, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
