//! All SQL lives here: one `Store` over SQLite or PostgreSQL, chosen once from the database
//! URL. Every statement runs through one executor (`dyntx.rs`: `Store::begin` → `DynTx`, and the
//! store's read and autocommit calls); what genuinely differs between the databases is
//! `dialect.rs`; text columns are decoded into domain types by `decode.rs`.

pub mod api_keys;
pub mod audit;
pub mod bench;
pub mod claims;
pub mod coupons;
pub mod customers;
pub mod decode;
pub mod details;
pub mod dialect;
pub mod dyntx;
pub mod instances;
pub mod issue;
pub mod jobs;
pub mod masters;
pub mod offers;
pub mod orgs;
pub mod outbox;
pub mod overview;
pub mod performance;
pub mod redeem;
pub mod resend;
pub mod revoke;
pub mod sessions;
pub mod uploads;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

pub use audit::{AuditEntry, AuditRow};

/// A failure of the store, as callers need to tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write; the message names what is taken.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique violation to `Conflict(message)`, keeping other errors.
    pub fn conflict_as(e: sqlx::Error, message: impl Into<String>) -> StoreError {
        match e.as_database_error() {
            Some(d) if d.is_unique_violation() => StoreError::Conflict(message.into()),
            _ => StoreError::Db(e),
        }
    }
}

impl StoreError {
    /// The database could not be reached (connection lost, pool closed, the process shutting
    /// down): an interruption, not a fault of the work that was running.
    pub fn is_interruption(&self) -> bool {
        matches!(
            self,
            StoreError::Db(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::WorkerCrashed
            )
        )
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The two database backends.
#[derive(Clone, Debug)]
pub enum Backend {
    /// SQLite: readers share a pool; every write goes through one connection, so writers queue
    /// in the app instead of in SQLite's busy handler.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The application's storage interface.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
}

impl Store {
    /// Connects to `url` (`sqlite:…` or `postgres://…`), creating a SQLite file if missing.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // A broken connection shows as an error on use; a ping per acquire costs a round
                // trip on every transaction.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Backend::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // The one writer gets a large page cache (filled only as bulk writes need it: a
            // 10M-code index does not fit in less); readers keep 64 MB each.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect_with(options.clone().pragma("cache_size", "-1048576"))
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options.read_only(true).pragma("cache_size", "-65536"))
                .await;
            // A read-only connection cannot open a file that does not exist yet; the writer
            // above created it, so this only fails for real problems.
            let read = read?;
            Backend::Sqlite { read, write }
        } else {
            return Err(StoreError::Db(sqlx::Error::Configuration(
                format!(
                    "DATABASE_URL must start with sqlite: or postgres:// (got {})",
                    redact_url(url)
                )
                .into(),
            )));
        };
        Ok(Store { backend })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite { write, .. } => {
                sqlx::migrate!("./migrations/sqlite").run(write).await?
            }
            Backend::Postgres(pg) => sqlx::migrate!("./migrations/postgres").run(pg).await?,
        }
        Ok(())
    }

    /// Connects and migrates: what every subcommand does first.
    pub async fn open(url: &str) -> StoreResult<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        // `SELECT 1` is an INT4 on PostgreSQL.
        let _: Option<(i32,)> = self.fetch_optional_read("SELECT 1", &[]).await?;
        Ok(())
    }

    /// Reads an application setting, creating it with `make()` when absent. Concurrent starts
    /// agree on one value (insert-if-absent, then read back).
    pub async fn setting_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> StoreResult<String> {
        let value = make();
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[key.into(), value.into()],
        )
        .await?;
        let (stored,): (String,) = tx
            .fetch_one(
                "SELECT value FROM app_settings WHERE key = $1",
                &[key.into()],
            )
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Closes the pools (graceful shutdown).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pg) => pg.close().await,
        }
    }
}

/// A database URL with any password replaced by `***`, safe to log.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(
            super::redact_url("sqlite:offerdesk.db"),
            "sqlite:offerdesk.db"
        );
    }
}

#[cfg(test)]
mod interruption_tests {
    use super::StoreError;

    #[test]
    fn a_lost_database_is_an_interruption_a_refusal_is_not() {
        assert!(StoreError::Db(sqlx::Error::PoolClosed).is_interruption());
        let io = std::io::Error::other("A Tokio 1.x context was found, but it is being shutdown");
        assert!(StoreError::Db(sqlx::Error::Io(io)).is_interruption());
        assert!(!StoreError::Db(sqlx::Error::RowNotFound).is_interruption());
        assert!(!StoreError::Conflict("offer_code".into()).is_interruption());
        assert!(!StoreError::NotFound.is_interruption());
    }
}
