//! A throw-away database for `propusk bench` and `propusk simulate`: a fresh
//! SQLite file in a temporary directory, or a fresh database created on a given
//! PostgreSQL server; removed afterwards. Any other URL is used as given and kept.

use anyhow::{Context, Result};
use propusk_token::rand_core::{OsRng, RngCore};

pub enum ScratchDb {
    TempSqlite {
        dir: std::path::PathBuf,
        url: String,
    },
    FreshPostgres {
        base: String,
        name: String,
        url: String,
    },
    Given(String),
}

impl ScratchDb {
    /// A fresh database named after `purpose` (`bench`, `simulate`).
    pub async fn prepare(url: Option<&str>, purpose: &str) -> Result<Self> {
        let Some(url) = url else {
            let dir = std::env::temp_dir().join(format!("propusk-{purpose}-{}", random_hex()));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let url = format!("sqlite://{}", dir.join("propusk.db").display());
            return Ok(Self::TempSqlite { dir, url });
        };
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Ok(Self::Given(url.to_string()));
        }
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let name = format!("propusk_{purpose}_{}", random_hex());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
            .await
            .with_context(|| format!("cannot connect to {}", redact(url)))?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .with_context(|| format!("cannot create the {purpose} database"))?;
        let (prefix, _) = url
            .split('?')
            .next()
            .unwrap_or(url)
            .rsplit_once('/')
            .context("the database URL must end with /DBNAME")?;
        Ok(Self::FreshPostgres {
            base: url.to_string(),
            url: format!("{prefix}/{name}"),
            name,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            Self::TempSqlite { url, .. } | Self::FreshPostgres { url, .. } | Self::Given(url) => {
                url
            }
        }
    }

    pub async fn remove(self) -> Result<()> {
        match self {
            Self::TempSqlite { dir, .. } => std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display())),
            Self::FreshPostgres { base, name, .. } => {
                use sqlx::Executor;
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                Ok(())
            }
            Self::Given(_) => Ok(()),
        }
    }
}

pub fn random_hex() -> String {
    format!("{:016x}", OsRng.next_u64())
}

/// The URL with any password replaced, for printing.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}
