//! All SQL lives here: one `Store` over SQLite or PostgreSQL, chosen once from the database
//! URL. Every statement runs through one executor (`dyntx.rs`: `Store::begin` → `DynTx`, and the
//! store's read and autocommit calls); what genuinely differs between the databases is
//! `dialect.rs`; text columns are decoded into domain types by `decode.rs`.

pub mod api_keys;
pub mod audit;
pub mod bench;
pub mod carts;
pub mod catalogue;
pub mod claims;
pub mod code_shapes;
pub mod contacts;
pub mod coupons;
pub mod customer_view;
pub mod customers;
pub mod decode;
pub mod details;
pub mod dialect;
pub mod dyntx;
pub mod expiry_notices;
pub mod group_commit;
pub mod holds;
pub mod instances;
pub mod issue;
pub mod issue_delivery;
pub mod jobs;
pub mod lender;
pub mod masters;
pub mod offer_sharing;
pub mod offers;
pub mod orgs;
pub mod otp;
pub mod outbox;
pub mod overview;
pub mod performance;
pub mod products;
pub mod promotion_folds;
pub mod promotion_limits;
pub mod promotion_usage;
pub mod promotions;
pub mod redeem;
pub mod resend;
pub mod revoke;
pub mod sessions;
pub mod shares;
pub mod uploads;
pub mod wallet;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, SqliteConnection};
use std::str::FromStr;
use std::sync::{Arc, Weak};
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
    /// SQLite: reads take a connection of their own (`lender`); every write goes through one
    /// connection, so writers queue in the app instead of in SQLite's busy handler.
    Sqlite {
        read: lender::Lender<SqliteConnection>,
        /// The one writer, lent likewise (size 1).
        write: lender::Lender<SqliteConnection>,
        /// Held while any clone of the store lives; the checkpointer stops when it is gone.
        _checkpoints: Arc<()>,
        /// Writes that arrive together (single statements, and works such as a cart's close)
        /// share a transaction.
        group: group_commit::GroupCommit,
    },
    /// PostgreSQL: transactions and writes on a pool, reads on connections of their own.
    Postgres {
        pool: PgPool,
        read: lender::Lender<PgConnection>,
    },
}

/// The application's storage interface.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Folded sums of promotion uses opens read (`promotion_limits::FoldedSums`).
    pub(crate) sums: Arc<promotion_limits::FoldedSums>,
}

/// Connections for reads (each SQLite one is a thread of its own).
const READERS: usize = 8;

/// How long a read waits for a connection before it fails.
const READ_WAIT: Duration = Duration::from_secs(10);

/// How long a write waits for SQLite's one writer: a job holds it for its whole run (a 10M-code
/// generation ~30 s), as sqlx's pool let writes wait before.
const WRITE_WAIT: Duration = Duration::from_secs(60);

/// How often the SQLite checkpointer copies committed WAL pages into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// WAL frames (pages of 4 KiB) past which the checkpointer makes the WAL start again.
const RESTART_AT: i64 = 4_096;

/// How long a RESTART checkpoint waits for readers still in the WAL (its connection's busy
/// timeout), the writers held back meanwhile; and how long to leave restarts alone after one
/// found a reader that did not finish in time (a long report, say).
const RESTART_WAIT: Duration = Duration::from_millis(20);
const RESTART_BACKOFF: Duration = Duration::from_secs(1);

/// How long the checkpointer queues for the writer before it leaves the restart to a later
/// tick (a job may hold the writer for long).
const RESTART_QUEUE: Duration = Duration::from_millis(500);

/// Checkpoints the SQLite WAL in the background, on a connection of its own (busy timeout
/// `RESTART_WAIT`), until the store is gone. PASSIVE: it copies what no reader still needs and
/// never waits for the writer, so commits stay short (`bench redeem` C=4 on SQLite, same
/// machine and hour: p99 4.2–5.3 ms with the writer checkpointing, 3.2–3.5 ms with this).
///
/// Under steady writes and reads a passive checkpoint never reaches the WAL's end (a reader
/// always holds a recent snapshot), so the WAL never starts again: `bench cart` grew it by
/// ~150 MB/s of closes, to 1.4 GB in 20,000. Past `RESTART_AT` frames the checkpointer
/// therefore holds the writer back (it takes the writer's place in the queue behind the writes
/// in hand, so it need not poll for a gap between them) and runs a RESTART checkpoint: the rest
/// is copied, readers move off the WAL (waited for up to `RESTART_WAIT`; a reader that takes
/// longer leaves the WAL as it is and restarts alone for `RESTART_BACKOFF`), and the next write
/// starts it from its beginning, reusing the file (the writer's `journal_size_limit` trims it
/// after a larger burst).
async fn checkpoints(
    mut conn: sqlx::SqliteConnection,
    write: lender::Lender<SqliteConnection>,
    alive: Weak<()>,
) {
    use sqlx::Connection;
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The WAL's length at the last restart (unchanged until the next write) and when restarts
    // may be tried again.
    let mut restarted_at = None;
    let mut quiet_until = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        if alive.upgrade().is_none() {
            break;
        }
        let log = match wal_checkpoint(&mut conn, "PRAGMA wal_checkpoint(PASSIVE)").await {
            Ok((_, log)) => log,
            Err(e) => {
                tracing::warn!(error = %e, "checkpointing the SQLite WAL failed");
                continue;
            }
        };
        if log < RESTART_AT
            || restarted_at == Some(log)
            || tokio::time::Instant::now() < quiet_until
        {
            continue;
        }
        let Ok(Ok(writer)) = tokio::time::timeout(RESTART_QUEUE, write.lend()).await else {
            continue;
        };
        let restart = wal_checkpoint(&mut conn, "PRAGMA wal_checkpoint(RESTART)").await;
        drop(writer.finish(Ok(())));
        match restart {
            Ok((false, log)) => restarted_at = Some(log),
            Ok((true, _)) => quiet_until = tokio::time::Instant::now() + RESTART_BACKOFF,
            Err(e) => tracing::warn!(error = %e, "restarting the SQLite WAL failed"),
        }
    }
    let _ = conn.close().await;
}

/// Runs `pragma` (a `PRAGMA wal_checkpoint(…)`) on `conn`: whether it stopped short (busy) and
/// the frames the WAL held.
async fn wal_checkpoint(
    conn: &mut SqliteConnection,
    pragma: &'static str,
) -> Result<(bool, i64), sqlx::Error> {
    let (busy, log, _copied): (i64, i64, i64) = sqlx::query_as(pragma).fetch_one(conn).await?;
    Ok((busy != 0, log))
}

impl Store {
    /// Connects to `url` (`sqlite:…` or `postgres://…`), creating a SQLite file if missing.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // No JIT: its compiling costs every statement whose estimate crosses
            // `jit_above_cost` 15–30 ms (a cart's limit count once the uses table is large),
            // far more than this application's statements run.
            let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // A broken connection shows as an error on use; a ping per acquire costs a round
                // trip on every transaction.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.clone())
                .await?;
            let read = lender::Lender::open(options, READERS, READ_WAIT).await?;
            Backend::Postgres { pool, read }
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // The one writer gets a large page cache (filled only as bulk writes need it: a
            // 10M-code index does not fit in less); readers keep 64 MB each.
            // The writer never checkpoints the WAL itself (a commit that crosses the 1,000-page
            // mark would copy them into the database file before it answers); a connection of
            // its own does it in the background (`checkpoints`).
            let write = lender::Lender::open(
                options
                    .clone()
                    .pragma("cache_size", "-1048576")
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("journal_size_limit", "67108864"),
                1,
                WRITE_WAIT,
            )
            .await?;
            let read = lender::Lender::open(
                options
                    .clone()
                    .read_only(true)
                    .pragma("cache_size", "-65536"),
                READERS,
                READ_WAIT,
            )
            .await;
            // A read-only connection cannot open a file that does not exist yet; the writer
            // above created it, so this only fails for real problems.
            let read = read?;
            let alive = Arc::new(());
            let checkpointer = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(
                &options.clone().busy_timeout(RESTART_WAIT),
            )
            .await?;
            tokio::spawn(checkpoints(
                checkpointer,
                write.clone(),
                Arc::downgrade(&alive),
            ));
            let group = group_commit::GroupCommit::start(write.clone());
            Backend::Sqlite {
                read,
                write,
                _checkpoints: alive,
                group,
            }
        } else {
            return Err(StoreError::Db(sqlx::Error::Configuration(
                format!(
                    "DATABASE_URL must start with sqlite: or postgres:// (got {})",
                    redact_url(url)
                )
                .into(),
            )));
        };
        Ok(Store {
            backend,
            sums: Arc::default(),
        })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite { write, .. } => {
                let mut conn = write.lend().await?;
                sqlx::migrate!("./migrations/sqlite")
                    .run(conn.conn()?)
                    .await?;
                conn.finish(Ok(()))?
            }
            Backend::Postgres { pool, .. } => {
                sqlx::migrate!("./migrations/postgres").run(pool).await?
            }
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
            Backend::Postgres { .. } => "postgres",
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
            Backend::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres { pool, read } => {
                read.close().await;
                pool.close().await;
            }
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
    #[tokio::test]
    async fn committed_pages_reach_the_sqlite_file_without_a_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.db");
        let store = super::Store::open(&format!("sqlite:{}", file.display()))
            .await
            .unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        // Enough rows for hundreds of pages, each insert its own commit.
        for i in 0..300 {
            store
                .execute_autocommit(
                    "INSERT INTO app_settings (key, value) VALUES ($1, $2)",
                    &[format!("k{i}").into(), "x".repeat(4000).into()],
                )
                .await
                .unwrap();
        }
        let mut grown = 0;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            grown = std::fs::metadata(&file).unwrap().len();
            if grown > before + 1_000_000 {
                break;
            }
        }
        assert!(
            grown > before + 1_000_000,
            "the database file stayed at {grown} bytes (from {before}): nothing checkpointed the WAL"
        );
    }

    /// Readers that never pause keep a passive checkpoint from reaching the WAL's end; the WAL
    /// must still start again instead of growing with every commit. 2,000 commits of ~5 pages
    /// each (~10,000 frames, ~40 MB), a millisecond apart (the checkpointer looks every 100
    /// ms), under four busy readers: without a restart the WAL file ends near 40 MB; with one
    /// past 4,096 frames (16 MB) it stays well under 32 MB.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_again_under_steady_reads_and_writes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.db");
        let wal = dir.path().join("w.db-wal");
        let store = super::Store::open(&format!("sqlite:{}", file.display()))
            .await
            .unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..4 {
            let (store, done) = (store.clone(), done.clone());
            readers.push(tokio::spawn(async move {
                let mut reads = 0u64;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let _: (i64,) = store
                        .fetch_one_read("SELECT COUNT(*) FROM app_settings", &[])
                        .await
                        .unwrap();
                    reads += 1;
                }
                reads
            }));
        }
        let mut largest = 0;
        for i in 0..2_000 {
            store
                .execute_autocommit(
                    "INSERT INTO app_settings (key, value) VALUES ($1, $2)",
                    &[format!("k{i}").into(), "x".repeat(16_000).into()],
                )
                .await
                .unwrap();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            assert!(r.await.unwrap() > 0, "a reader never read");
        }
        assert!(
            largest < 32 << 20,
            "the WAL reached {largest} bytes: it never started again"
        );
    }

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
