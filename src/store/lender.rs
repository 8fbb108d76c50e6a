//! The connections reads (and SQLite's writes) run on, lent one call at a time and taken back
//! without a round trip.
//!
//! sqlx's pool tests every connection it gets back with a ping: a hand-off to SQLite's
//! connection thread, a round trip to PostgreSQL — as much again as a short read costs, on
//! every read (`perf` of a cart open: a third of its context switches). A read here takes a
//! connection, runs its one statement and gives it back untested when the statement finished;
//! one that failed on the connection itself (I/O, protocol, the server ending the session) is
//! closed instead. A call dropped midway (its request went away) keeps its place until its
//! connection answers a ping — the statement it left has then ended — and gives the connection
//! back only then (closed if no answer within the wait), so dropped calls neither meet the next
//! one in an unknown state nor leave work running beyond the lender's size. Connections idle
//! for 10 minutes or open for 30 are closed when next met, as sqlx's pool does.

use sqlx::Connection;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a dropped call's connection has to answer its ping before it is closed (its place
/// is kept until the close is done).
const PING_WAIT: Duration = Duration::from_secs(10);

/// An idle connection older than either is closed instead of lent.
const IDLE_FOR: Duration = Duration::from_secs(10 * 60);
const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Up to `size` connections of one kind, opened when first needed.
pub struct Lender<C: Connection + 'static> {
    inner: Arc<Inner<C>>,
}

struct Inner<C: Connection + 'static> {
    options: C::Options,
    idle: Mutex<Idle<C>>,
    permits: Arc<Semaphore>,
    size: usize,
    /// How long a call waits for a connection (a free place and, if none is idle, connecting).
    wait: Duration,
}

struct Idle<C> {
    closed: bool,
    conns: Vec<Kept<C>>,
}

/// An idle connection: when it was opened, since when it is idle.
struct Kept<C> {
    conn: C,
    opened: Instant,
    since: Instant,
}

/// A lent connection with its place.
struct Held<C> {
    conn: C,
    opened: Instant,
    _permit: OwnedSemaphorePermit,
}

impl<C: Connection + 'static> Clone for Lender<C> {
    fn clone(&self) -> Self {
        Lender {
            inner: self.inner.clone(),
        }
    }
}

impl<C: Connection + 'static> fmt::Debug for Lender<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lender")
            .field("free", &self.inner.permits.available_permits())
            .finish()
    }
}

/// A lent connection: back to the lender by `finish`; dropped without it, see the module.
pub struct Lent<C: Connection + 'static> {
    held: Option<Held<C>>,
    inner: Arc<Inner<C>>,
    reset: Option<Reset<C>>,
}

/// What a connection dropped midway needs before it serves another call (a transaction's
/// rollback), run after it answered its ping.
pub type Reset<C> =
    for<'c> fn(&'c mut C) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;

impl<C: Connection + 'static> Lender<C> {
    /// A lender of up to `size` connections opened with `options`, a call waiting up to `wait`
    /// for one; the first is opened now, so that a wrong URL or file fails at start.
    pub async fn open(
        options: C::Options,
        size: usize,
        wait: Duration,
    ) -> Result<Lender<C>, sqlx::Error> {
        let first = C::connect_with(&options).await?;
        let now = Instant::now();
        Ok(Lender {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(Idle {
                    closed: false,
                    conns: vec![Kept {
                        conn: first,
                        opened: now,
                        since: now,
                    }],
                }),
                permits: Arc::new(Semaphore::new(size)),
                size,
                wait,
            }),
        })
    }

    /// A connection for one call: an idle one, or a new one while fewer than `size` are out.
    pub async fn lend(&self) -> Result<Lent<C>, sqlx::Error> {
        match tokio::time::timeout(self.inner.wait, self.take()).await {
            Ok(held) => Ok(Lent {
                held: Some(held?),
                inner: self.inner.clone(),
                reset: None,
            }),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    async fn take(&self) -> Result<Held<C>, sqlx::Error> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let now = Instant::now();
        loop {
            let kept = match self.inner.idle.lock() {
                Ok(mut idle) => idle.conns.pop(),
                Err(_) => None,
            };
            let Some(k) = kept else { break };
            if now - k.since < IDLE_FOR && now - k.opened < LIFETIME {
                return Ok(Held {
                    conn: k.conn,
                    opened: k.opened,
                    _permit: permit,
                });
            }
            let _ = k.conn.close().await;
        }
        Ok(Held {
            conn: C::connect_with(&self.inner.options).await?,
            opened: now,
            _permit: permit,
        })
    }

    /// Refuses further calls, waits (up to its wait) for the lent connections to come back, and
    /// closes them (graceful shutdown).
    pub async fn close(&self) {
        let all = u32::try_from(self.inner.size).unwrap_or(u32::MAX);
        let back =
            tokio::time::timeout(self.inner.wait, self.inner.permits.acquire_many(all)).await;
        self.inner.permits.close();
        drop(back);
        let idle = match self.inner.idle.lock() {
            Ok(mut idle) => {
                idle.closed = true;
                std::mem::take(&mut idle.conns)
            }
            Err(_) => Vec::new(),
        };
        for k in idle {
            let _ = k.conn.close().await;
        }
    }
}

impl<C: Connection + 'static> Inner<C> {
    /// Keeps `conn` for the next call, unless the lender was closed.
    fn give_back(&self, conn: C, opened: Instant) {
        if let Ok(mut idle) = self.idle.lock()
            && !idle.closed
        {
            idle.conns.push(Kept {
                conn,
                opened,
                since: Instant::now(),
            });
        }
    }
}

impl<C: Connection + 'static> Lent<C> {
    /// Has `reset` run on the connection if the call is dropped before `finish`.
    pub fn reset_with(&mut self, reset: Reset<C>) {
        self.reset = Some(reset);
    }

    /// The connection, to run the call's statement on.
    pub fn conn(&mut self) -> Result<&mut C, sqlx::Error> {
        self.held
            .as_mut()
            .map(|h| &mut h.conn)
            .ok_or(sqlx::Error::PoolClosed)
    }

    /// Ends the call with its result: the connection goes back unless the error was the
    /// connection's own (then it is closed here).
    pub fn finish<T>(mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let Some(h) = self.held.take()
            && result.as_ref().err().is_none_or(|e| !broken(e))
        {
            // The place is given up after the connection is back, so the next call finds it.
            self.inner.give_back(h.conn, h.opened);
        }
        result
    }
}

impl<C: Connection + 'static> Drop for Lent<C> {
    /// The call was dropped midway: its place is kept until the connection answers a ping
    /// (behind whatever statement it was running) and `reset` succeeded, then the connection
    /// goes back; otherwise it is closed first.
    fn drop(&mut self) {
        let Some(Held {
            mut conn,
            opened,
            _permit: permit,
        }) = self.held.take()
        else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (inner, reset) = (self.inner.clone(), self.reset);
        runtime.spawn(async move {
            let answered = matches!(
                tokio::time::timeout(PING_WAIT, conn.ping()).await,
                Ok(Ok(()))
            );
            let sound = answered
                && match reset {
                    Some(reset) => reset(&mut conn).await.is_ok(),
                    None => true,
                };
            if sound {
                inner.give_back(conn, opened);
            } else {
                // Closed before the place is given up: on SQLite the close waits for the
                // statement still running (a second writer never meets it holding the lock).
                let _ = conn.close().await;
            }
            drop(permit);
        });
    }
}

/// Whether an error leaves the connection unusable or in an unknown state: anything but an
/// answer from the database or a row that could not be read — and among the database's
/// answers, the end of the session (SQLSTATE classes 08 and 57P: connection failure, the
/// server shutting down or the session terminated).
fn broken(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        sqlx::Error::RowNotFound
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::TypeNotFound { .. } => false,
        _ => true,
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
        Lender::open(options, size, Duration::from_secs(10))
            .await
            .unwrap()
    }

    /// Marks the connection: a TEMP table is seen only by the connection that made it.
    async fn mark(c: &mut Lent<SqliteConnection>) {
        sqlx::query("CREATE TEMP TABLE mark (x INTEGER)")
            .execute(c.conn().unwrap())
            .await
            .unwrap();
    }

    async fn marked(c: &mut Lent<SqliteConnection>) -> bool {
        let r: Result<(i64,), _> = sqlx::query_as("SELECT COUNT(*) FROM temp.mark")
            .fetch_one(c.conn().unwrap())
            .await;
        r.is_ok()
    }

    /// Seconds of work for SQLite.
    const SLOW: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                        WHERE i < 3000000) SELECT COUNT(*) FROM n";

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
            .execute(c.conn().unwrap())
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
    async fn a_call_dropped_midway_keeps_its_place_until_its_statement_ends() {
        let dir = tempfile::tempdir().unwrap();
        let lender = lender(&dir, 1).await;
        let mut c = lender.lend().await.unwrap();
        mark(&mut c).await;
        let slow = tokio::time::timeout(
            Duration::from_millis(30),
            sqlx::query_as::<_, (i64,)>(SLOW).fetch_one(c.conn().unwrap()),
        )
        .await;
        assert!(slow.is_err(), "the slow statement ended within 30 ms");
        drop(c);
        // The statement still runs on the one connection: no second call may start beside it.
        let beside = tokio::time::timeout(Duration::from_millis(50), lender.lend()).await;
        assert!(
            beside.is_err(),
            "a call was lent a place while the dropped one's statement ran"
        );
        let mut c = tokio::time::timeout(Duration::from_secs(9), lender.lend())
            .await
            .expect("the place came back when the statement ended")
            .unwrap();
        assert!(
            marked(&mut c).await,
            "the connection that answered its ping was not given back"
        );
        let one: (i64,) = sqlx::query_as("SELECT 1")
            .fetch_one(c.conn().unwrap())
            .await
            .unwrap();
        assert_eq!(one.0, 1);
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
