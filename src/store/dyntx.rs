//! The one SQL executor of the store: a write transaction of either backend (`DynTx`) and the
//! read and autocommit calls on `Store`, all with dynamically bound arguments, so that SQL that
//! is the same on both databases is written once. `$N` placeholders are rewritten for SQLite.

use super::lender::{Lender, Lent};
use super::{Backend, Store, StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow, Postgres, SqliteConnection, Transaction};
use std::future::Future;
use std::pin::Pin;

/// One bound argument.
#[derive(Debug, Clone)]
pub enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    OptDate(Option<NaiveDate>),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::I64(v)
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::OptI64(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::OptText(v)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Arg {
        Arg::Time(v)
    }
}

impl From<Option<NaiveDate>> for Arg {
    fn from(v: Option<NaiveDate>) -> Arg {
        Arg::OptDate(v)
    }
}

/// Binds `$args` (an iterator of `&Arg` or `&&Arg`) in order onto query `$q`.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::OptI64(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::OptText(v) => q.bind(v.as_deref()),
                Arg::Time(v) => q.bind(*v),
                Arg::OptTime(v) => q.bind(*v),
                Arg::OptDate(v) => q.bind(*v),
                Arg::Bytes(v) => q.bind(v.as_slice()),
            };
        }
        q
    }};
}

/// Runs `$sql` with `$args` through `$make` (`sqlx::query` or `sqlx::query_as::<_, T>`) on the
/// SQLite executor `$sqlite_exec` or the PostgreSQL executor `$pg_exec` by `.$run(…)`, then
/// `.$post()` if given (on each backend's own result type).
macro_rules! run {
    ($backend:expr, $sqlite:pat => $sqlite_exec:expr, $pg:pat => $pg_exec:expr,
     $make:expr, $sql:expr, $args:expr, $run:ident $(, $post:ident)?) => {
        match $backend {
            $sqlite => {
                let (sql, args) = positional($sql, $args);
                bind_args!($make(AssertSqlSafe(sql)), &args)
                    .$run($sqlite_exec)
                    .await?
                    $(.$post())?
            }
            $pg => {
                bind_args!($make(AssertSqlSafe($sql.to_string())), $args)
                    .$run($pg_exec)
                    .await?
                    $(.$post())?
            }
        }
    };
}

/// Runs `$sql` with `$args` through `$make` by `.$run(…)` on a connection lent by `$lender`
/// (`store::lender`), which goes back when the statement finished; `sqlite` rewrites the
/// placeholders.
macro_rules! lent {
    (sqlite $lender:expr, $make:expr, $sql:expr, $args:expr, $run:ident) => {{
        let mut conn = $lender.lend().await?;
        let (sql, args) = positional($sql, $args);
        let result = bind_args!($make(AssertSqlSafe(sql)), &args)
            .$run(conn.conn()?)
            .await;
        conn.finish(result)?
    }};
    (postgres $lender:expr, $make:expr, $sql:expr, $args:expr, $run:ident) => {{
        let mut conn = $lender.lend().await?;
        let result = bind_args!($make(AssertSqlSafe($sql.to_string())), $args)
            .$run(conn.conn()?)
            .await;
        conn.finish(result)?
    }};
}

/// Runs a read of `$sql` with `$args` through `$make` by `.$run(…)` on a read connection.
macro_rules! read {
    ($backend:expr, $make:expr, $sql:expr, $args:expr, $run:ident) => {
        match $backend {
            Backend::Sqlite { read, .. } => lent!(sqlite read, $make, $sql, $args, $run),
            Backend::Postgres { read, .. } => lent!(postgres read, $make, $sql, $args, $run),
        }
    };
}

/// A row type both backends can decode.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// Maps a unique violation to `StoreError::Conflict(message)`, keeping other errors (the
/// `StoreError::conflict_as` of a statement run through this module).
pub fn conflict_as(e: StoreError, message: impl Into<String>) -> StoreError {
    match e {
        StoreError::Db(e) => StoreError::conflict_as(e, message),
        other => other,
    }
}

/// An open write transaction (SQLite: `BEGIN IMMEDIATE` on the writer connection). Dropping it
/// without `commit` rolls it back.
pub enum DynTx {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction on SQLite's one writer connection, lent (`store::lender`) so that it goes back
/// without sqlx's ping — the next writer waits for nothing but this one's `COMMIT`. Dropped
/// without `commit`, it is rolled back before the connection serves another writer.
pub struct SqliteTx(Lent<SqliteConnection>);

impl SqliteTx {
    /// Begins `BEGIN IMMEDIATE` on the writer.
    pub(super) async fn begin(write: &Lender<SqliteConnection>) -> Result<SqliteTx, sqlx::Error> {
        let mut lent = write.lend().await?;
        // Set first, so that a `BEGIN` dropped midway is rolled back too (a rollback with no
        // transaction open is a refusal, which leaves the connection sound).
        lent.reset_with(rollback);
        sqlx::query("BEGIN IMMEDIATE").execute(lent.conn()?).await?;
        Ok(SqliteTx(lent))
    }

    /// The writer connection, for statements of this transaction.
    pub fn conn(&mut self) -> Result<&mut SqliteConnection, sqlx::Error> {
        self.0.conn()
    }

    async fn commit(mut self) -> Result<(), sqlx::Error> {
        // A failed `COMMIT` drops `self`: rolled back before the writer is lent again.
        sqlx::query("COMMIT").execute(self.conn()?).await?;
        self.0.finish(Ok(()))
    }
}

/// Rolls back the writer's transaction; SQLite's refusal because none is open (a `BEGIN` that
/// never ran) is as good. After any other failure the connection is not lent again as it is:
/// it is rolled back again, or closed (`store::lender`).
fn rollback(
    conn: &mut SqliteConnection,
) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        match sqlx::query("ROLLBACK").execute(conn).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(d)) if d.message().contains("no transaction is active") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    })
}

impl DynTx {
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> StoreResult<u64> {
        Ok(run!(self,
            DynTx::Sqlite(tx) => tx.conn()?,
            DynTx::Postgres(tx) => &mut **tx,
            sqlx::query, sql, args, execute, rows_affected))
    }

    pub async fn fetch_all<T: AnyRow>(&mut self, sql: &str, args: &[Arg]) -> StoreResult<Vec<T>> {
        Ok(run!(self,
            DynTx::Sqlite(tx) => tx.conn()?,
            DynTx::Postgres(tx) => &mut **tx,
            sqlx::query_as::<_, T>, sql, args, fetch_all))
    }

    pub async fn fetch_optional<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> StoreResult<Option<T>> {
        Ok(run!(self,
            DynTx::Sqlite(tx) => tx.conn()?,
            DynTx::Postgres(tx) => &mut **tx,
            sqlx::query_as::<_, T>, sql, args, fetch_optional))
    }

    /// The one row `sql` returns; no row is `StoreError::Db(sqlx::Error::RowNotFound)`, as
    /// with sqlx's `fetch_one`.
    pub async fn fetch_one<T: AnyRow>(&mut self, sql: &str, args: &[Arg]) -> StoreResult<T> {
        Ok(run!(self,
            DynTx::Sqlite(tx) => tx.conn()?,
            DynTx::Postgres(tx) => &mut **tx,
            sqlx::query_as::<_, T>, sql, args, fetch_one))
    }

    /// Ends the transaction as a run asked (`store::group_commit::Work`): committed on
    /// `Ok(true)`, rolled back on `Ok(false)` or an error (which is returned).
    pub async fn end_as(self, ran: StoreResult<bool>) -> StoreResult<()> {
        match ran {
            Ok(true) => self.commit().await,
            Ok(false) => self.rollback().await,
            Err(e) => {
                let _ = self.rollback().await;
                Err(e)
            }
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            DynTx::Sqlite(tx) => tx.commit().await?,
            DynTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Rolls back now, rather than when dropped (PostgreSQL's rollback then runs after the
    /// connection went back to the pool, so a next transaction might meet this one's rows).
    pub async fn rollback(self) -> StoreResult<()> {
        match self {
            DynTx::Sqlite(mut tx) => {
                let done = match tx.conn() {
                    Ok(c) => rollback(c).await,
                    Err(e) => Err(e),
                };
                match done {
                    Ok(()) => tx.0.finish(Ok(()))?,
                    // Not given back as it is: dropped, the writer is rolled back again (or
                    // closed) before it is lent again.
                    Err(e) => {
                        drop(tx);
                        return Err(e.into());
                    }
                }
            }
            DynTx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DynTx::Postgres(_))
    }
}

impl Store {
    /// Starts a write transaction.
    pub async fn begin(&self) -> StoreResult<DynTx> {
        Ok(match &self.backend {
            Backend::Sqlite { write, .. } => DynTx::Sqlite(SqliteTx::begin(write).await?),
            Backend::Postgres { pool, .. } => DynTx::Postgres(pool.begin().await?),
        })
    }

    /// Runs one write statement that needs no transaction of its own: on SQLite with the
    /// others arriving at the same time, in one transaction (`group_commit`), answered after it
    /// commits; on PostgreSQL on its own.
    pub async fn execute_grouped(&self, sql: &'static str, args: Vec<Arg>) -> StoreResult<u64> {
        match &self.backend {
            Backend::Sqlite { group, .. } => group.execute(sql, args).await,
            Backend::Postgres { .. } => self.execute_autocommit(sql, &args).await,
        }
    }

    /// Runs `work`'s statements in one transaction and gives the work back once it ended as the
    /// work asked (committed, or rolled back): on SQLite in a group with the writes that arrive
    /// meanwhile (`group_commit`), on PostgreSQL in a transaction of its own.
    pub async fn run_grouped<W: super::group_commit::Work>(&self, mut work: W) -> StoreResult<W> {
        match &self.backend {
            Backend::Sqlite { group, .. } => group.run_work(work).await,
            Backend::Postgres { .. } => {
                let mut tx = self.begin().await?;
                let ran = work.run(&mut tx).await;
                tx.end_as(ran).await?;
                Ok(work)
            }
        }
    }

    /// Runs one write statement on its own (the database makes it a transaction of its own).
    pub async fn execute_autocommit(&self, sql: &str, args: &[Arg]) -> StoreResult<u64> {
        match &self.backend {
            Backend::Sqlite { write, .. } => {
                Ok(lent!(sqlite write, sqlx::query, sql, args, execute).rows_affected())
            }
            Backend::Postgres { pool, .. } => Ok(bind_args!(
                sqlx::query(AssertSqlSafe(sql.to_string())),
                args
            )
            .execute(pool)
            .await?
            .rows_affected()),
        }
    }

    /// Runs a read with dynamic arguments on the read pool.
    pub async fn fetch_all_read<T: AnyRow>(&self, sql: &str, args: &[Arg]) -> StoreResult<Vec<T>> {
        Ok(read!(
            &self.backend,
            sqlx::query_as::<_, T>,
            sql,
            args,
            fetch_all
        ))
    }

    /// The first row of a read on the read pool, if any.
    pub async fn fetch_optional_read<T: AnyRow>(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> StoreResult<Option<T>> {
        Ok(read!(
            &self.backend,
            sqlx::query_as::<_, T>,
            sql,
            args,
            fetch_optional
        ))
    }

    /// The one row of a read on the read pool; no row is
    /// `StoreError::Db(sqlx::Error::RowNotFound)`, as with sqlx's `fetch_one` (a caller that
    /// means "not found" uses `fetch_optional_read(…)?.ok_or(StoreError::NotFound)`).
    pub async fn fetch_one_read<T: AnyRow>(&self, sql: &str, args: &[Arg]) -> StoreResult<T> {
        Ok(read!(
            &self.backend,
            sqlx::query_as::<_, T>,
            sql,
            args,
            fetch_one
        ))
    }
}

/// Rewrites `$N` placeholders as anonymous `?` with the arguments in textual order (repeated
/// where a placeholder repeats). SQLite looks bound parameters up by name with a linear scan,
/// which makes a statement of hundreds of `$N` parameters cost quadratic time; `?` does not.
/// The arguments are borrowed, not copied.
fn positional<'a>(sql: &str, args: &'a [Arg]) -> (String, Vec<&'a Arg>) {
    let mut out = String::with_capacity(sql.len());
    let mut ordered = Vec::with_capacity(args.len());
    let mut rest = sql;
    // The text between placeholders is copied in runs, not character by character.
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = after[..digits].parse().unwrap_or(0);
        match n.checked_sub(1).and_then(|k| args.get(k)) {
            Some(a) if digits > 0 => {
                out.push('?');
                ordered.push(a);
            }
            _ => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    (out, ordered)
}

/// `$first, $first+1, … ` for `n` placeholders.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_become_positional_in_textual_order() {
        let args = [Arg::I64(1), Arg::I64(2), Arg::I64(3)];
        let (sql, ordered) = positional("VALUES ($1, $3), ($1, $2) -- $9", &args);
        assert_eq!(sql, "VALUES (?, ?), (?, ?) -- $9");
        let got: Vec<i64> = ordered
            .iter()
            .map(|a| match a {
                Arg::I64(v) => *v,
                _ => 0,
            })
            .collect();
        assert_eq!(got, vec![1, 3, 1, 2]);
        // A `$` without digits and text around it (not ASCII too) stay as they are.
        let (sql, ordered) = positional("SELECT '₹$', $2 || '$x' FROM t$", &args);
        assert_eq!(sql, "SELECT '₹$', ? || '$x' FROM t$");
        assert_eq!(ordered.len(), 1);
    }

    /// SQLite's transactions run on the one writer connection lent without sqlx's ping: one
    /// dropped without commit — after a refused statement, or midway through a statement — must
    /// be rolled back before the next writer gets the connection.
    #[tokio::test]
    async fn a_sqlite_transaction_dropped_without_commit_is_rolled_back_for_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let insert = "INSERT INTO app_settings (key, value) VALUES ($1, 'x')";
        let count = |key: &'static str| {
            let store = store.clone();
            async move {
                let (n,): (i64,) = store
                    .fetch_one_read(
                        "SELECT COUNT(*) FROM app_settings WHERE key = $1",
                        &[key.into()],
                    )
                    .await
                    .unwrap();
                n
            }
        };
        // A refused statement, then the transaction dropped.
        store
            .execute_autocommit(insert, &["taken".into()])
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.execute(insert, &["a".into()]).await.unwrap();
        assert!(tx.execute(insert, &["taken".into()]).await.is_err());
        drop(tx);
        // Dropped midway through a long statement.
        let mut tx = store.begin().await.unwrap();
        tx.execute(insert, &["b".into()]).await.unwrap();
        let slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
                    SELECT COUNT(*) FROM n";
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            tx.fetch_one::<(i64,)>(slow, &[]),
        )
        .await;
        assert!(cut.is_err(), "the slow statement ended within 20 ms");
        drop(tx);
        // The next writer starts after both rollbacks and commits its own row.
        let mut tx = tokio::time::timeout(std::time::Duration::from_secs(9), store.begin())
            .await
            .expect("the writer came back")
            .unwrap();
        tx.execute(insert, &["c".into()]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            (count("a").await, count("b").await, count("c").await),
            (0, 0, 1)
        );
        assert_eq!(count("taken").await, 1);
    }
}
