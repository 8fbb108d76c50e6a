//! Group commit on SQLite's one writer (#15): single-statement writes that arrive while the
//! writer is busy (redemptions, mostly) are run together in one transaction, each answered
//! after that transaction commits. SQLite aborts only the statement whose guard refuses
//! (`RAISE(ABORT)`, a unique violation), so each keeps its own result; the group pays one
//! `BEGIN`/`COMMIT` and writes the pages they share (counters, index pages) to the WAL once.
//! A write that arrives alone runs on its own, as before.

use super::dyntx::SqliteTx;
use super::dyntx::{Arg, DynTx};
use super::lender::Lender;
use super::{StoreError, StoreResult};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

/// Most statements one transaction takes.
const MAX_GROUP: usize = 64;

/// A statement waiting for its group.
pub struct Job {
    sql: &'static str,
    args: Vec<Arg>,
    done: oneshot::Sender<StoreResult<u64>>,
}

/// The way in: cloned with the store; the writer task ends when every clone is gone.
#[derive(Debug, Clone)]
pub struct GroupCommit(mpsc::UnboundedSender<Job>);

impl GroupCommit {
    /// Starts the task that runs the groups on `write` (the one writer).
    pub fn start(write: Lender<SqliteConnection>) -> GroupCommit {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(write, rx));
        GroupCommit(tx)
    }

    /// Runs `sql` in the next group; its rows affected once the group has committed.
    pub async fn execute(&self, sql: &'static str, args: Vec<Arg>) -> StoreResult<u64> {
        let (done, answer) = oneshot::channel();
        self.0
            .send(Job { sql, args, done })
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
    }
}

async fn run(write: Lender<SqliteConnection>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let results = run_group(&write, &group).await;
        for (job, result) in group.into_iter().zip(results) {
            let _ = job.done.send(result);
        }
    }
}

/// Each statement's result; all of them an error when the transaction could not commit.
async fn run_group(write: &Lender<SqliteConnection>, group: &[Job]) -> Vec<StoreResult<u64>> {
    let begun = SqliteTx::begin(write).await;
    let mut tx = match begun {
        Ok(t) => DynTx::Sqlite(t),
        Err(e) => return group.iter().map(|_| Err(failed(&e))).collect(),
    };
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        results.push(tx.execute(job.sql, &job.args).await);
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => {
            let message = e.to_string();
            group
                .iter()
                .map(|_| {
                    Err(StoreError::Db(sqlx::Error::Protocol(format!(
                        "the group's commit failed: {message}"
                    ))))
                })
                .collect()
        }
    }
}

fn failed(e: &sqlx::Error) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!(
        "beginning the group failed: {e}"
    )))
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

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
