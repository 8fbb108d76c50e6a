//! Group commit on SQLite's one writer (#15, #16): writes that arrive while the writer is busy
//! run together in one transaction on the writer's own task, each answered after that
//! transaction commits. Two kinds share the queue:
//! - single statements (redemptions, mostly): SQLite aborts only the statement whose guard
//!   refuses (`RAISE(ABORT)`, a unique violation), so each keeps its own result;
//! - works of several statements with decisions between them (`Work`: a cart's close), run one
//!   after another on the group's transaction, so each sees the ones before it as a transaction
//!   of its own would. A work that fails has the group rolled back, and every job of the group
//!   runs again alone (nothing of them had committed), so one failure costs the others a second
//!   run, never their result.
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
    /// held while it runs, so a write through the store would wait for it for ever.
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a>;
}

/// A job in the queue: run in a group, then told how its transaction ended.
trait Job: Send {
    fn run<'a>(&'a mut self, tx: &'a mut DynTx) -> RunFuture<'a>;
    /// The transaction the last run was in ended as the run asked (`Ok`), or not.
    fn done(self: Box<Self>, outcome: StoreResult<()>);
}

/// A statement waiting for its group; its own error does not fail the group.
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
    /// transaction was rolled back as it asked); its run's error, or the commit's, otherwise.
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
        if group.len() == 1 {
            for job in group {
                run_alone(&write, job).await;
            }
            continue;
        }
        match run_group(&write, &mut group).await {
            Ok(outcome) => {
                for job in group {
                    job.done(match &outcome {
                        Ok(()) => Ok(()),
                        Err(e) => Err(again(e)),
                    });
                }
            }
            // A work failed or asked for a rollback: the group was rolled back; each job runs
            // again on its own.
            Err(()) => {
                for job in group {
                    run_alone(&write, job).await;
                }
            }
        }
    }
}

/// Runs `job` in a transaction of its own and tells it how that ended.
async fn run_alone(write: &Lender<SqliteConnection>, mut job: Box<dyn Job>) {
    let outcome = async {
        let mut tx = DynTx::Sqlite(SqliteTx::begin(write).await?);
        match job.run(&mut tx).await {
            Ok(true) => tx.commit().await,
            Ok(false) => {
                let _ = tx.rollback().await;
                Ok(())
            }
            Err(e) => {
                // The writer is rolled back before it is lent again either way.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
    .await;
    job.done(outcome);
}

/// Runs every job of `group` in one transaction: `Err(())` when a work failed or asked for a
/// rollback (rolled back, nothing told); otherwise how the commit ended, for all of them.
async fn run_group(
    write: &Lender<SqliteConnection>,
    group: &mut [Box<dyn Job>],
) -> Result<StoreResult<()>, ()> {
    let mut tx = match SqliteTx::begin(write).await {
        Ok(t) => DynTx::Sqlite(t),
        Err(e) => return Ok(Err(e.into())),
    };
    for job in group.iter_mut() {
        if !matches!(job.run(&mut tx).await, Ok(true)) {
            let _ = tx.rollback().await;
            return Err(());
        }
    }
    Ok(tx.commit().await)
}

/// Whether SQLite refused with a constraint (`SQLITE_CONSTRAINT` and its extended codes: a
/// unique index, a check, a trigger's `RAISE(ABORT)`), which undoes that statement alone.
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

/// The group's commit failure, for each of its jobs.
fn again(e: &StoreError) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!(
        "the group's commit failed: {e}"
    )))
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
    }

    /// Writes its key, then ends as told.
    #[derive(Debug)]
    struct Put {
        key: String,
        ends: Ends,
        runs: u32,
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
                match self.ends {
                    Ends::Commit => Ok(true),
                    Ends::RollBack => Ok(false),
                    Ends::Fail => Err(StoreError::NotFound),
                }
            })
        }
    }

    /// Sends works `{prefix}0`…`{prefix}9` at once, the one numbered `odd` ending as `ends`;
    /// how many ran more than once.
    async fn send_ten(store: &Store, prefix: &str, odd: usize, ends: Ends) -> usize {
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = store.clone();
                let key = format!("{prefix}{i}");
                let ends = if i == odd { ends } else { Ends::Commit };
                tokio::spawn(async move { store.run_grouped(Put { key, ends, runs: 0 }).await })
            })
            .collect();
        let mut reran = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Err(StoreError::NotFound) if i == odd && ends == Ends::Fail => {}
                Ok(w) if !(i == odd && ends == Ends::Fail) => reran += usize::from(w.runs > 1),
                other => panic!("work {prefix}{i} answered {other:?}"),
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
        // Ten works at once, one of which asks for a rollback: it alone loses its write.
        let reran = send_ten(&store, "a", 3, Ends::RollBack).await;
        assert!(
            reran > 0,
            "the ten ran in one group, which a3 had rolled back"
        );
        // Ten more, one of which fails, and statements among them (one repeats a key written before).
        let statements: Vec<_> = ["s1", "a5", "s2"]
            .into_iter()
            .map(|k| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .execute_grouped(
                            "INSERT INTO app_settings (key, value) VALUES ($1, 's')",
                            vec![k.into()],
                        )
                        .await
                })
            })
            .collect();
        let reran = send_ten(&store, "b", 6, Ends::Fail).await;
        assert!(
            reran > 0,
            "the ten ran in one group, which b6 had rolled back"
        );
        let answers: Vec<String> = futures_util::future::join_all(statements)
            .await
            .into_iter()
            .map(|r| match r.unwrap() {
                Ok(n) => n.to_string(),
                Err(e) if e.to_string().contains("UNIQUE") => "refused".into(),
                Err(e) => panic!("{e}"),
            })
            .collect();
        assert_eq!(
            answers,
            ["1", "refused", "1"],
            "a5 was written by its work before"
        );
        let keys: Vec<(String,)> = store
            .fetch_all_read(
                "SELECT key FROM app_settings WHERE value IN ('w', 's') ORDER BY key",
                &[],
            )
            .await
            .unwrap();
        let keys: Vec<String> = keys.into_iter().map(|(k,)| k).collect();
        let mut want: Vec<String> = (0..10)
            .filter(|i| *i != 3)
            .map(|i| format!("a{i}"))
            .chain((0..10).filter(|i| *i != 6).map(|i| format!("b{i}")))
            .chain(["s1", "s2"].map(String::from))
            .collect();
        want.sort();
        assert_eq!(keys, want, "a3 rolled back and b6 failed: neither is kept");
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
