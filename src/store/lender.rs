//! The connections reads run on, lent one call at a time and taken back without a round trip.
//!
//! sqlx's pool tests every connection it gets back with a ping: a hand-off to SQLite's
//! connection thread, a round trip to PostgreSQL — as much again as a short read costs, on
//! every read (`perf` of a cart open: a third of its context switches). A read here takes a
//! connection, runs its one statement and gives it back untested when the statement finished.
//! A call dropped midway (its request went away) or failed on the connection itself (I/O,
//! protocol) closes the connection instead, so no call meets one in an unknown state; the next
//! call opens a fresh one.

use sqlx::Connection;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a read waits for a free connection before it fails (as sqlx's pool did).
const WAIT: Duration = Duration::from_secs(10);

/// Up to `size` connections of one kind, opened when first needed.
pub struct Lender<C: Connection> {
    inner: Arc<Inner<C>>,
}

struct Inner<C: Connection> {
    options: C::Options,
    idle: Mutex<Vec<C>>,
    permits: Semaphore,
}

impl<C: Connection> Clone for Lender<C> {
    fn clone(&self) -> Self {
        Lender {
            inner: self.inner.clone(),
        }
    }
}

impl<C: Connection> fmt::Debug for Lender<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lender")
            .field("free", &self.inner.permits.available_permits())
            .finish()
    }
}

/// A lent connection: back to the lender by `finish`; dropped without it (the call was
/// dropped midway), the connection is closed.
pub struct Lent<'a, C: Connection> {
    conn: C,
    inner: &'a Inner<C>,
    _permit: SemaphorePermit<'a>,
}

impl<C: Connection> Lender<C> {
    /// A lender of up to `size` connections opened with `options`; the first is opened now,
    /// so that a wrong URL or file fails at start.
    pub async fn open(options: C::Options, size: usize) -> Result<Lender<C>, sqlx::Error> {
        let first = C::connect_with(&options).await?;
        Ok(Lender {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(vec![first]),
                permits: Semaphore::new(size),
            }),
        })
    }

    /// A connection for one call: an idle one, or a new one while fewer than `size` are out.
    pub async fn lend(&self) -> Result<Lent<'_, C>, sqlx::Error> {
        let permit = match tokio::time::timeout(WAIT, self.inner.permits.acquire()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        };
        let idle = self.inner.idle.lock().ok().and_then(|mut v| v.pop());
        let conn = match idle {
            Some(c) => c,
            None => C::connect_with(&self.inner.options).await?,
        };
        Ok(Lent {
            conn,
            inner: &self.inner,
            _permit: permit,
        })
    }

    /// Refuses further reads and closes the idle connections (graceful shutdown).
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle = match self.inner.idle.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(_) => Vec::new(),
        };
        for c in idle {
            let _ = c.close().await;
        }
    }
}

impl<C: Connection> Lent<'_, C> {
    /// Ends the call with its result: the connection goes back unless the error was the
    /// connection's own (then it is closed here).
    pub fn finish<T>(self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        let sound = result.as_ref().err().is_none_or(|e| !broken(e));
        if sound
            && !self.inner.permits.is_closed()
            && let Ok(mut idle) = self.inner.idle.lock()
        {
            idle.push(self.conn);
        }
        // The permit goes after the connection is back, so the next call finds it idle.
        result
    }
}

/// Whether an error leaves the connection in an unknown state (anything but an answer from the
/// database or a row that could not be read).
fn broken(e: &sqlx::Error) -> bool {
    !matches!(
        e,
        sqlx::Error::Database(_)
            | sqlx::Error::RowNotFound
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::ColumnIndexOutOfBounds { .. }
            | sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::TypeNotFound { .. }
    )
}

impl<C: Connection> Deref for Lent<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.conn
    }
}

impl<C: Connection> DerefMut for Lent<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::SqliteConnection;
    use sqlx::sqlite::SqliteConnectOptions;

    async fn lender(dir: &tempfile::TempDir, size: usize) -> Lender<SqliteConnection> {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("l.db"))
            .create_if_missing(true);
        Lender::open(options, size).await.unwrap()
    }

    /// Marks the connection: a TEMP table is seen only by the connection that made it.
    async fn mark(conn: &mut SqliteConnection) {
        sqlx::query("CREATE TEMP TABLE mark (x INTEGER)")
            .execute(conn)
            .await
            .unwrap();
    }

    async fn marked(conn: &mut SqliteConnection) -> bool {
        let r: Result<(i64,), _> = sqlx::query_as("SELECT COUNT(*) FROM temp.mark")
            .fetch_one(conn)
            .await;
        r.is_ok()
    }

    #[tokio::test]
    async fn a_finished_call_gives_its_connection_back_and_a_refusal_by_the_database_too() {
        let dir = tempfile::tempdir().unwrap();
        let lender = lender(&dir, 1).await;
        let mut c = lender.lend().await.unwrap();
        mark(&mut c).await;
        c.finish(Ok(())).unwrap();
        let mut c = lender.lend().await.unwrap();
        assert!(marked(&mut c).await, "the next call got another connection");
        let refused = sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut *c)
            .await;
        assert!(c.finish(refused).is_err());
        let mut c = lender.lend().await.unwrap();
        assert!(
            marked(&mut c).await,
            "a statement the database refused cost the connection"
        );
        c.finish(Ok(())).unwrap();
    }

    #[tokio::test]
    async fn a_call_dropped_midway_closes_its_connection_and_frees_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let lender = lender(&dir, 1).await;
        let mut c = lender.lend().await.unwrap();
        mark(&mut c).await;
        drop(c);
        // One place only: had the dropped call kept it, this would wait the full 10 s.
        let mut c = tokio::time::timeout(Duration::from_secs(2), lender.lend())
            .await
            .expect("the dropped call's place is free")
            .unwrap();
        assert!(
            !marked(&mut c).await,
            "the dropped call's connection was lent again"
        );
        c.finish(Ok(())).unwrap();
    }

    #[tokio::test]
    async fn a_failure_of_the_connection_itself_closes_it() {
        let dir = tempfile::tempdir().unwrap();
        let lender = lender(&dir, 1).await;
        let mut c = lender.lend().await.unwrap();
        mark(&mut c).await;
        let lost: Result<(), _> = Err(sqlx::Error::Io(std::io::Error::other("connection reset")));
        assert!(c.finish(lost).is_err());
        let mut c = lender.lend().await.unwrap();
        assert!(!marked(&mut c).await, "a broken connection was lent again");
        c.finish(Ok(())).unwrap();
    }

    #[tokio::test]
    async fn calls_beyond_the_size_wait_for_a_connection_to_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let lender = lender(&dir, 2).await;
        let a = lender.lend().await.unwrap();
        let b = lender.lend().await.unwrap();
        let third = tokio::time::timeout(Duration::from_millis(200), lender.lend()).await;
        assert!(
            third.is_err(),
            "a third connection was lent past the size of 2"
        );
        a.finish(Ok(())).unwrap();
        let c = tokio::time::timeout(Duration::from_secs(2), lender.lend())
            .await
            .expect("a connection came back")
            .unwrap();
        c.finish(Ok(())).unwrap();
        b.finish(Ok(())).unwrap();
        lender.close().await;
        assert!(matches!(lender.lend().await, Err(sqlx::Error::PoolClosed)));
    }
}
