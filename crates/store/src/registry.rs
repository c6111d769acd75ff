//! Bulk import of the city's resident registry (`propusk import residents`): millions of
//! already-parsed rows, a batch at a time, each batch one transaction.
//!
//! A batch is staged first — on PostgreSQL by `COPY` into a temporary table, on SQLite by
//! multi-row inserts into one — and then applied by the same two statements on both:
//!
//! 1. an upsert that adds new residents and gives a resident who had only signed in (no
//!    name, no document yet) the registry's identity — and touches no one else;
//! 2. a read of the staged phones whose resident now holds a different document: those rows
//!    are refused, never written over. A resident's own profile always wins.
//!
//! Every other row was already registered with its document and changes nothing, so
//! importing the same file twice changes nothing the second time. A batch is all or
//! nothing: a failure rolls it back and leaves the batches before it in place.
//!
//! New residents get time-ordered ids (UUID v7), so millions of inserts append to the
//! primary key's index instead of touching pages all over it.

use std::collections::HashMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use propusk_core::domain::{Document, FullName, GeoPoint, PhoneNumber};
use sqlx::postgres::PgConnection;
use sqlx::{AnyPool, Connection};

use crate::{placeholders, secs, Backend, Result, Store, StoreError};

/// One registry row that passed every check of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryRow {
    /// Its line in the file (for the rejects report).
    pub line: u64,
    pub phone: PhoneNumber,
    pub full_name: FullName,
    pub document: Document,
    /// Trimmed, 1–300 characters.
    pub address: String,
    pub home: Option<GeoPoint>,
}

/// What became of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    /// A new resident.
    Added,
    /// A resident who had only signed in now has the registry's name, document and home.
    Completed,
    /// Already registered with this document: nothing changed.
    Unchanged,
    /// The phone is registered with another document: refused, nothing changed.
    OtherDocument,
    /// The phone came earlier in the same batch, on line `first`: with the same document it
    /// changes nothing, with another it is refused.
    Repeated { first: u64, same_document: bool },
}

/// Rows per multi-row insert into SQLite's staging table (9 parameters each). Few: the
/// SQLite driver finds each parameter by its name, a scan over all of the statement's,
/// so binding costs grow with the square of their number (at 100 rows it was 40 % of the
/// import's time).
const SQLITE_STAGE_CHUNK: usize = 16;

const STAGE_COLUMNS: &str =
    "line, id, phone, full_name, doc_kind, doc_number, home_address, home_lat, home_lon";

const SQLITE_STAGE_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS residents_import (\
     line INTEGER NOT NULL, id TEXT NOT NULL, phone TEXT NOT NULL, full_name TEXT NOT NULL, \
     doc_kind TEXT NOT NULL, doc_number TEXT NOT NULL, home_address TEXT NOT NULL, \
     home_lat REAL, home_lon REAL)";

const PG_STAGE_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS residents_import (\
     line BIGINT NOT NULL, id TEXT NOT NULL, phone TEXT NOT NULL, full_name TEXT NOT NULL, \
     doc_kind TEXT NOT NULL, doc_number TEXT NOT NULL, home_address TEXT NOT NULL, \
     home_lat DOUBLE PRECISION, home_lon DOUBLE PRECISION) ON COMMIT DELETE ROWS";

/// Adds the staged residents that are new and completes those who had only signed in;
/// returns the id of every row it wrote, with its phone. `$1` is the time.
const UPSERT: &str = "INSERT INTO residents \
     (id, phone, full_name, doc_kind, doc_number, home_address, home_lat, home_lon, created_at, updated_at) \
     SELECT id, phone, full_name, doc_kind, doc_number, home_address, home_lat, home_lon, $1, $1 \
     FROM residents_import WHERE true \
     ON CONFLICT (phone) DO UPDATE SET full_name = excluded.full_name, doc_kind = excluded.doc_kind, \
     doc_number = excluded.doc_number, home_address = excluded.home_address, \
     home_lat = excluded.home_lat, home_lon = excluded.home_lon, updated_at = excluded.updated_at \
     WHERE residents.full_name IS NULL \
     RETURNING id, phone";

/// The staged rows whose phone is registered with another document. A subquery per staged
/// row, so that each is one probe of the phone index: as a join, PostgreSQL hashes the
/// whole residents table for every batch (0.7 s a batch at a million residents, and
/// growing with them).
const CONFLICTS: &str = "SELECT s.line FROM residents_import s \
     WHERE (SELECT 1 FROM residents r WHERE r.phone = s.phone \
     AND (r.doc_kind <> s.doc_kind OR r.doc_number <> s.doc_number)) IS NOT NULL";

/// Imports registry batches into one store.
pub struct RegistryImporter {
    target: Target,
}

enum Target {
    /// The store's writer pool (one connection).
    Sqlite(AnyPool),
    /// A connection of its own, for `COPY`.
    Postgres(PgConnection),
}

impl Store {
    /// An importer for this store's database.
    pub async fn registry_importer(&self) -> Result<RegistryImporter> {
        let target = match self.backend {
            Backend::Sqlite => {
                // The staging table in memory (a batch of it at most).
                sqlx::raw_sql("PRAGMA temp_store = MEMORY")
                    .execute(&self.writer)
                    .await?;
                Target::Sqlite(self.writer.clone())
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(&self.url).await?;
                sqlx::query(PG_STAGE_TABLE).execute(&mut conn).await?;
                Target::Postgres(conn)
            }
        };
        Ok(RegistryImporter { target })
    }
}

/// A staged row: the registry row, with the id it gets if it is new.
struct Staged<'a> {
    row: &'a RegistryRow,
    id: String,
}

impl RegistryImporter {
    /// Imports one batch in one transaction; returns every row's line and outcome, in the
    /// batch's order.
    pub async fn import(
        &mut self,
        rows: &[RegistryRow],
        now: Timestamp,
    ) -> Result<Vec<(u64, RowOutcome)>> {
        // A phone twice in one batch: the first row stands for it.
        let mut first: HashMap<&str, &RegistryRow> = HashMap::with_capacity(rows.len());
        let mut repeated: HashMap<u64, RowOutcome> = HashMap::new();
        let mut staged = Vec::with_capacity(rows.len());
        for row in rows {
            match first.get(row.phone.as_str()) {
                Some(earlier) => {
                    repeated.insert(
                        row.line,
                        RowOutcome::Repeated {
                            first: earlier.line,
                            same_document: earlier.document == row.document,
                        },
                    );
                }
                None => {
                    first.insert(row.phone.as_str(), row);
                    staged.push(Staged {
                        row,
                        id: uuid::Uuid::now_v7().to_string(),
                    });
                }
            }
        }
        let (written, conflicts) = match &mut self.target {
            Target::Sqlite(pool) => import_sqlite(pool, &staged, now).await?,
            Target::Postgres(conn) => import_postgres(conn, &staged, now).await?,
        };
        let ids: HashMap<&str, &str> = staged
            .iter()
            .map(|s| (s.row.phone.as_str(), s.id.as_str()))
            .collect();
        let mut outcome: HashMap<u64, RowOutcome> = repeated;
        for (id, phone) in &written {
            let line = first
                .get(phone.as_str())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("the import wrote {phone}, not staged"))
                })?
                .line;
            let ours = ids.get(phone.as_str()) == Some(&id.as_str());
            outcome.insert(
                line,
                if ours {
                    RowOutcome::Added
                } else {
                    RowOutcome::Completed
                },
            );
        }
        for line in conflicts {
            outcome.insert(line, RowOutcome::OtherDocument);
        }
        Ok(rows
            .iter()
            .map(|r| {
                let o = outcome
                    .get(&r.line)
                    .copied()
                    .unwrap_or(RowOutcome::Unchanged);
                (r.line, o)
            })
            .collect())
    }
}

type Applied = (Vec<(String, String)>, Vec<u64>);

async fn import_sqlite(pool: &AnyPool, staged: &[Staged<'_>], now: Timestamp) -> Result<Applied> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(SQLITE_STAGE_TABLE).execute(&mut *tx).await?;
    for chunk in staged.chunks(SQLITE_STAGE_CHUNK) {
        let sql = format!(
            "INSERT INTO residents_import ({STAGE_COLUMNS}) VALUES {}",
            placeholders(chunk.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for s in chunk {
            let r = s.row;
            query = query
                .bind(r.line as i64)
                .bind(&s.id)
                .bind(r.phone.as_str())
                .bind(r.full_name.as_str())
                .bind(r.document.kind().as_str())
                .bind(r.document.number())
                .bind(&r.address)
                .bind(r.home.map(|h| h.lat()))
                .bind(r.home.map(|h| h.lon()));
        }
        query.execute(&mut *tx).await?;
    }
    let written: Vec<(String, String)> = sqlx::query_as(UPSERT)
        .bind(secs(now))
        .fetch_all(&mut *tx)
        .await?;
    // Every row written (a new registry): none can be registered with another document.
    let conflicts: Vec<(i64,)> = if written.len() < staged.len() {
        sqlx::query_as(CONFLICTS).fetch_all(&mut *tx).await?
    } else {
        Vec::new()
    };
    sqlx::query("DELETE FROM residents_import")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((
        written,
        conflicts.into_iter().map(|(l,)| l as u64).collect(),
    ))
}

async fn import_postgres(
    conn: &mut PgConnection,
    staged: &[Staged<'_>],
    now: Timestamp,
) -> Result<Applied> {
    let mut tx = conn.begin().await?;
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY residents_import ({STAGE_COLUMNS}) FROM STDIN"
        ))
        .await?;
    let mut data = String::with_capacity(staged.len() * 160);
    for s in staged {
        let r = s.row;
        let _ = write!(data, "{}\t{}\t", r.line, s.id);
        for text in [
            r.phone.as_str(),
            r.full_name.as_str(),
            r.document.kind().as_str(),
            r.document.number(),
            &r.address,
        ] {
            copy_text(&mut data, text);
            data.push('\t');
        }
        match r.home {
            Some(h) => {
                let _ = writeln!(data, "{}\t{}", h.lat(), h.lon());
            }
            None => data.push_str("\\N\t\\N\n"),
        }
    }
    copy.send(data.into_bytes()).await?;
    copy.finish().await?;
    let written: Vec<(String, String)> = sqlx::query_as(UPSERT)
        .bind(secs(now))
        .fetch_all(&mut *tx)
        .await?;
    // Every row written (a new registry): none can be registered with another document.
    let conflicts: Vec<(i64,)> = if written.len() < staged.len() {
        sqlx::query_as(CONFLICTS).fetch_all(&mut *tx).await?
    } else {
        Vec::new()
    };
    // The staging table empties itself at commit (ON COMMIT DELETE ROWS).
    tx.commit().await?;
    Ok((
        written,
        conflicts.into_iter().map(|(l,)| l as u64).collect(),
    ))
}

/// A value in COPY's text format: backslash, tab and line breaks escaped (parsed rows hold
/// no control characters, but an address may hold a backslash).
fn copy_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
