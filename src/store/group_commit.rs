//! Group commit on SQLite's one writer (#15, #16): writes that arrive while the writer is busy
//! run together in one transaction on the writer's own task, each answered after that
//! transaction commits. Two kinds share the queue:
//! - single statements (redemptions, mostly): SQLite aborts only the statement whose guard
//!   refuses (`RAISE(ABORT)`, a unique violation), so each keeps its own result;
//! - works of several statements with decisions between them (`Work`: a cart's close), run one
//!   after another on the group's transaction, so each sees the ones before it as a transaction
//!   of its own would. A work that fails, panics or asks for a rollback (or a statement whose
//!   error may have ended the transaction) has the group rolled back, and every job of the
//!   group runs again alone (nothing of them had committed), so one failure costs the others a
//!   second run, never their result.
//!
//! The group pays one `BEGIN`/`COMMIT` and writes the pages its jobs share (counters, index
//! pages) to the WAL once; and a work runs from its first statement to its last without waiting
//! for its caller's task to be scheduled between them (on a busy HTTP worker, that wait was
//! most of the time a close held the writer). A job that arrives alone runs on its own.

use super::dyntx::SqliteTx;
use super::dyntx::{Arg, DynTx};
use super::lender::Lender;
use super::{StoreError, StoreResult};
use sqlx::SqliteConnection;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// Most jobs one transaction takes.
const MAX_GROUP: usize = 64;

/// What a run returns: whether its writes are to be committed (`false`: rolled back, the work
/// answered all the same).
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = StoreResult<bool>> + Send + 'a>>;

/// Writes of several statements run in one transaction (`Store::run_grouped`; on SQLite in a
/// group). `run` must start from the beginning each time it is called: it runs again, alone,
/// when another work of its group failed or asked for a rollback (the group's transaction was
/// rolled back).
pub trait Work: Send + 'static {
    /// Runs the work's statements on `tx`: `Ok(true)` to commit them, `Ok(false)` to roll them
    /// back; an error rolls them back too. It writes through `tx` only: SQLite's writer is
    /// held while it runs (another transaction would wait for it until it timed out, another
    /// grouped write for ever).
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a>;
}

/// A job in the queue: run in a group, then told how its transaction ended.
trait Job: Send {
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a>;
    /// The transaction the last run was in ended as the run asked (`Ok`), or not.
    fn done(self: Box<Self>, outcome: StoreResult<()>);
}

/// A statement waiting for its group; its own error, a constraint's, does not fail the group
/// (another reruns it, `aborts_statement_only`).
struct Statement {
    sql: &'static str,
    args: Vec<Arg>,
    result: StoreResult<u64>,
    reply: oneshot::Sender<StoreResult<u64>>,
}

impl Job for Statement {
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a> {
        Box::pin(async move {
            self.result = tx.execute(self.sql, &self.args).await;
            // A refusal by a constraint or a guard aborts the statement only; another error
            // (I/O, a full disk) may have ended the transaction, so the group must not go on.
            Ok(match &self.result {
                Ok(_) => true,
                Err(e) => aborts_statement_only(e),
            })
        })
    }

    fn done(self: Box<Self>, outcome: StoreResult<()>) {
        let _ = self.reply.send(outcome.and(self.result));
    }
}

/// A `Work` waiting for its group; its caller gets it back once its transaction committed.
struct Queued<W: Work> {
    work: W,
    reply: oneshot::Sender<StoreResult<W>>,
}

impl<W: Work> Job for Queued<W> {
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a> {
        self.work.run(tx)
    }

    fn done(self: Box<Self>, outcome: StoreResult<()>) {
        let Queued { work, reply } = *self;
        let _ = reply.send(outcome.map(|()| work));
    }
}

/// The way in: cloned with the store; the writer task ends when every clone is gone.
#[derive(Debug, Clone)]
pub struct GroupCommit(mpsc::UnboundedSender<Box<dyn Job>>);

fn closed() -> StoreError {
    StoreError::Db(sqlx::Error::PoolClosed)
}

impl GroupCommit {
    /// Starts the task that runs the groups on `write` (the one writer).
    pub fn start(write: Lender<SqliteConnection>) -> GroupCommit {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(write, rx));
        GroupCommit(tx)
    }

    /// Runs `sql` in the next group; its rows affected once the group has committed.
    pub async fn execute(&self, sql: &'static str, args: Vec<Arg>) -> StoreResult<u64> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Box::new(Statement {
                sql,
                args,
                result: Ok(0),
                reply,
            }))
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Runs `work` in the next group; the work back once the group has committed (or its own
    /// transaction was rolled back as it asked); otherwise its run's error or panic, or what
    /// stopped the transaction from beginning or committing.
    pub async fn run_work<W: Work>(&self, work: W) -> StoreResult<W> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Box::new(Queued { work, reply }))
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn run(write: Lender<SqliteConnection>, mut jobs: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let ended = if group.len() == 1 {
            Ended::Again
        } else {
            run_group(&write, &mut group).await
        };
        match ended {
            Ended::Committed => group.into_iter().for_each(|job| job.done(Ok(()))),
            Ended::Failed(message) => group
                .into_iter()
                .for_each(|job| job.done(Err(failed(&message)))),
            // Each job on its own; once the writer cannot be begun, the rest are told so.
            Ended::Again => {
                let mut unable: Option<String> = None;
                for job in group {
                    match &unable {
                        Some(message) => job.done(Err(failed(message))),
                        None => unable = run_alone(&write, job).await,
                    }
                }
            }
        }
    }
}

/// How a group's transaction ended.
enum Ended {
    /// Committed: every job is answered by its own run.
    Committed,
    /// Not begun, or its commit failed: every job fails with this.
    Failed(String),
    /// Rolled back (a work failed, asked for a rollback or panicked, or a statement's error may
    /// have ended the transaction): each job runs again alone.
    Again,
}

fn failed(message: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(message.to_string()))
}

/// Runs a job, a panic in it taken as its failure (the task goes on serving the others).
async fn run_job(job: &mut Box<dyn Job>, tx: &mut DynTx) -> StoreResult<bool> {
    use futures_util::FutureExt as _;
    match std::panic::AssertUnwindSafe(job.run(tx))
        .catch_unwind()
        .await
    {
        Ok(ran) => ran,
        Err(_) => Err(failed("a grouped write panicked")),
    }
}

/// Runs `job` in a transaction of its own and tells it how that ended; what stopped the
/// transaction from beginning, if it could not.
async fn run_alone(write: &Lender<SqliteConnection>, mut job: Box<dyn Job>) -> Option<String> {
    let mut tx = match SqliteTx::begin(write).await {
        Ok(t) => DynTx::Sqlite(t),
        Err(e) => {
            let message = format!("beginning the writer's transaction failed: {e}");
            job.done(Err(failed(&message)));
            return Some(message);
        }
    };
    let ran = run_job(&mut job, &mut tx).await;
    job.done(tx.end_as(ran).await);
    None
}

/// Runs every job of `group` in one transaction.
async fn run_group(write: &Lender<SqliteConnection>, group: &mut [Box<dyn Job>]) -> Ended {
    let mut tx = match SqliteTx::begin(write).await {
        Ok(t) => DynTx::Sqlite(t),
        Err(e) => return Ended::Failed(format!("beginning the group failed: {e}")),
    };
    for job in group.iter_mut() {
        if !matches!(run_job(job, &mut tx).await, Ok(true)) {
            let _ = tx.rollback().await;
            return Ended::Again;
        }
    }
    match tx.commit().await {
        Ok(()) => Ended::Committed,
        Err(e) => Ended::Failed(format!("the group's commit failed: {e}")),
    }
}

/// Whether SQLite refused with a constraint (`SQLITE_CONSTRAINT` and its extended codes: a
/// unique index, a check, a trigger's `RAISE(ABORT)`), which undoes that statement alone. It
/// holds because the schema's triggers and statements abort only: a `RAISE(ROLLBACK)` or an
/// `OR ROLLBACK` conflict clause gives the same code but ends the transaction, and must not be
/// written while grouped statements rely on this.
fn aborts_statement_only(e: &StoreError) -> bool {
    const SQLITE_CONSTRAINT: i64 = 19;
    match e {
        StoreError::Db(sqlx::Error::Database(d)) => d
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| c & 0xff == SQLITE_CONSTRAINT),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{RunFuture, Work};
    use crate::store::dyntx::DynTx;
    use crate::store::{Store, StoreError};

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Ends {
        Commit,
        RollBack,
        Fail,
        Panic,
    }

    /// Writes its key, counts the works' keys of its round written so far, then ends as told.
    #[derive(Debug)]
    struct Put {
        key: String,
        ends: Ends,
        runs: u32,
        seen: i64,
    }

    impl Work for Put {
        fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a> {
            Box::pin(async move {
                self.runs += 1;
                tx.execute(
                    "INSERT INTO app_settings (key, value) VALUES ($1, 'w')",
                    &[self.key.as_str().into()],
                )
                .await?;
                (self.seen,) = tx
                    .fetch_one(
                        "SELECT COUNT(*) FROM app_settings \
                         WHERE value = 'w' AND substr(key, 1, 1) = substr($1, 1, 1)",
                        &[self.key.as_str().into()],
                    )
                    .await?;
                match self.ends {
                    Ends::Commit => Ok(true),
                    Ends::RollBack => Ok(false),
                    Ends::Fail => Err(StoreError::NotFound),
                    Ends::Panic => panic!("a work's bug"),
                }
            })
        }
    }

    /// One round: works `{round}0`…`{round}9` sent at once, the one numbered `odd` ending as
    /// `ends`, then `statements` (SQL, key); the works' answers, and each statement's rows or
    /// error.
    async fn round(
        store: &Store,
        round: char,
        (odd, ends): (usize, Ends),
        statements: &[(&'static str, &'static str)],
    ) -> (Vec<Result<Put, StoreError>>, Vec<String>) {
        let works: Vec<_> = (0..10)
            .map(|i| {
                let store = store.clone();
                let key = format!("{round}{i}");
                let ends = if i == odd { ends } else { Ends::Commit };
                let put = Put {
                    key,
                    ends,
                    runs: 0,
                    seen: 0,
                };
                tokio::spawn(async move { store.run_grouped(put).await })
            })
            .collect();
        let statements: Vec<_> = statements
            .iter()
            .map(|&(sql, key)| {
                let store = store.clone();
                tokio::spawn(async move { store.execute_grouped(sql, vec![key.into()]).await })
            })
            .collect();
        let works = futures_util::future::join_all(works).await;
        let statements = futures_util::future::join_all(statements).await;
        (
            works.into_iter().map(|r| r.unwrap()).collect(),
            statements
                .into_iter()
                .map(|r| match r.unwrap() {
                    Ok(n) => n.to_string(),
                    Err(e) => e.to_string(),
                })
                .collect(),
        )
    }

    const PUT_S: &str = "INSERT INTO app_settings (key, value) VALUES ($1, 's')";

    /// How many of `works` ran more than once, checking the one numbered `odd` failed.
    fn reran(works: &[Result<Put, StoreError>], odd: Option<usize>) -> usize {
        let mut reran = 0;
        for (i, w) in works.iter().enumerate() {
            match w {
                Ok(w) if Some(i) != odd => reran += usize::from(w.runs > 1),
                Err(_) if Some(i) == odd => {}
                other => panic!("work {i} answered {other:?}"),
            }
        }
        reran
    }

    #[tokio::test]
    async fn works_sent_together_keep_their_writes_unless_they_fail_or_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("w.db").display()))
            .await
            .unwrap();
        // Ten works at once: each sees the ones before it (1, 2, … 10 keys of its round).
        let (works, answers) = round(&store, 'a', (0, Ends::Commit), &[(PUT_S, "s1")]).await;
        let mut seen: Vec<i64> = works.iter().map(|w| w.as_ref().unwrap().seen).collect();
        seen.sort();
        assert_eq!(seen, (1..=10).collect::<Vec<_>>());
        assert_eq!(reran(&works, None), 0);
        assert_eq!(answers, ["1"]);
        // A statement refused by a constraint keeps its own error; the group goes on.
        let (works, answers) = round(&store, 'b', (0, Ends::Commit), &[(PUT_S, "a5")]).await;
        assert_eq!(
            reran(&works, None),
            0,
            "a refused statement does not end the group"
        );
        assert!(answers[0].contains("UNIQUE"), "{answers:?}");
        // Another statement error may have ended the transaction: everything runs again alone.
        let missing = "INSERT INTO no_such_table (key) VALUES ($1)";
        let (works, answers) = round(&store, 'c', (0, Ends::Commit), &[(missing, "x")]).await;
        assert_eq!(reran(&works, None), 10, "the group ran again alone");
        assert!(answers[0].contains("no such table"), "{answers:?}");
        // A work asking for a rollback, failing or panicking loses its own write only.
        let (works, _) = round(&store, 'd', (3, Ends::RollBack), &[]).await;
        assert!(
            reran(&works, None) > 0,
            "the ten ran in one group, which d3 rolled back"
        );
        let (works, _) = round(&store, 'e', (6, Ends::Fail), &[]).await;
        assert!(reran(&works, Some(6)) > 0, "e6 failed in the group");
        let (works, answers) = round(&store, 'f', (2, Ends::Panic), &[(PUT_S, "s2")]).await;
        assert!(reran(&works, Some(2)) > 0, "f2 panicked in the group");
        assert_eq!(answers, ["1"], "the writer's task goes on after a panic");
        let keys: Vec<(String,)> = store
            .fetch_all_read(
                "SELECT key FROM app_settings WHERE value IN ('w', 's') ORDER BY key",
                &[],
            )
            .await
            .unwrap();
        let keys: Vec<String> = keys.into_iter().map(|(k,)| k).collect();
        let mut want: Vec<String> = ['a', 'b', 'c', 'd', 'e', 'f']
            .into_iter()
            .flat_map(|r| (0..10).map(move |i| format!("{r}{i}")))
            .filter(|k| !["d3", "e6", "f2"].contains(&k.as_str()))
            .chain(["s1", "s2"].map(String::from))
            .collect();
        want.sort();
        assert_eq!(
            keys, want,
            "d3 rolled back, e6 failed, f2 panicked: none is kept"
        );
    }

    #[tokio::test]
    async fn statements_sent_together_each_keep_their_own_result() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("g.db").display()))
            .await
            .unwrap();
        // 40 writers at once, two of them with a key another also writes.
        let keys: Vec<String> = (0..40).map(|i| format!("k{}", i.min(37))).collect();
        let tasks: Vec<_> = keys
            .iter()
            .map(|k| {
                let (store, k) = (store.clone(), k.clone());
                tokio::spawn(async move {
                    store
                        .execute_grouped(
                            "INSERT INTO app_settings (key, value) VALUES ($1, 'v')",
                            vec![k.into()],
                        )
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(1) => ok += 1,
                Ok(n) => panic!("{n} rows"),
                Err(e) => {
                    assert!(e.to_string().contains("UNIQUE"), "{e}");
                    refused += 1;
                }
            }
        }
        assert_eq!((ok, refused), (38, 2));
        let (n,): (i64,) = store
            .fetch_one_read("SELECT COUNT(*) FROM app_settings", &[])
            .await
            .unwrap();
        assert_eq!(
            n, 38,
            "the refused ones wrote nothing, the others all stayed"
        );
    }
}
