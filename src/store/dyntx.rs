//! A write transaction of either backend with dynamically bound arguments, for the longer
//! procedures (issuing, jobs) whose SQL is the same on both databases but whose code would
//! otherwise be written twice.

use super::{Backend, Store, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

/// One bound argument.
#[derive(Debug, Clone)]
pub enum Arg {
    I64(i64),
    OptI64(Option<i64>),
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

/// Binds `$args` in order onto query `$q`.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::OptI64(v) => q.bind(*v),
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

/// A row type both backends can decode.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// An open write transaction (SQLite: `BEGIN IMMEDIATE` on the writer connection).
pub enum DynTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl DynTx {
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> StoreResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match self {
            DynTx::Sqlite(tx) => {
                let (sql, args) = positional(&sql, args);
                bind_args!(sqlx::query(sql), &args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            DynTx::Postgres(tx) => bind_args!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    pub async fn fetch_all<T: AnyRow>(&mut self, sql: &str, args: &[Arg]) -> StoreResult<Vec<T>> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match self {
            DynTx::Sqlite(tx) => {
                let (sql, args) = positional(&sql, args);
                bind_args!(sqlx::query_as::<_, T>(sql), &args)
                    .fetch_all(&mut **tx)
                    .await?
            }
            DynTx::Postgres(tx) => {
                bind_args!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    pub async fn fetch_optional<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> StoreResult<Option<T>> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match self {
            DynTx::Sqlite(tx) => {
                let (sql, args) = positional(&sql, args);
                bind_args!(sqlx::query_as::<_, T>(sql), &args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            DynTx::Postgres(tx) => {
                bind_args!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        })
    }

    pub async fn commit(self) -> StoreResult<()> {
        match self {
            DynTx::Sqlite(tx) => tx.commit().await?,
            DynTx::Postgres(tx) => tx.commit().await?,
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
            Backend::Sqlite { write, .. } => {
                DynTx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?)
            }
            Backend::Postgres(pg) => DynTx::Postgres(pg.begin().await?),
        })
    }

    /// Runs one write statement on its own (the database makes it a transaction of its own).
    pub async fn execute_autocommit(&self, sql: &str, args: &[Arg]) -> StoreResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match &self.backend {
            Backend::Sqlite { write, .. } => {
                let (sql, args) = positional(&sql, args);
                bind_args!(sqlx::query(sql), &args)
                    .execute(write)
                    .await?
                    .rows_affected()
            }
            Backend::Postgres(pg) => bind_args!(sqlx::query(sql), args)
                .execute(pg)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a read with dynamic arguments on the read pool.
    pub async fn fetch_all_read<T: AnyRow>(&self, sql: &str, args: &[Arg]) -> StoreResult<Vec<T>> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        Ok(match &self.backend {
            Backend::Sqlite { read, .. } => {
                let (sql, args) = positional(&sql, args);
                bind_args!(sqlx::query_as::<_, T>(sql), &args)
                    .fetch_all(read)
                    .await?
            }
            Backend::Postgres(pg) => {
                bind_args!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(pg)
                    .await?
            }
        })
    }
}

/// Rewrites `$N` placeholders as anonymous `?` with the arguments in textual order (repeated
/// where a placeholder repeats). SQLite looks bound parameters up by name with a linear scan,
/// which makes a statement of hundreds of `$N` parameters cost quadratic time; `?` does not.
fn positional(
    sql: &sqlx::AssertSqlSafe<String>,
    args: &[Arg],
) -> (sqlx::AssertSqlSafe<String>, Vec<Arg>) {
    let sql = &sql.0;
    let mut out = String::with_capacity(sql.len());
    let mut ordered = Vec::with_capacity(args.len());
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let n: usize = sql[start..end].parse().unwrap_or(0);
            match n.checked_sub(1).and_then(|k| args.get(k)) {
                Some(a) => {
                    out.push('?');
                    ordered.push(a.clone());
                }
                None => out.push_str(&sql[i..end]),
            }
            i = end;
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    (sqlx::AssertSqlSafe(out), ordered)
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
        let (sql, ordered) = positional(
            &sqlx::AssertSqlSafe("VALUES ($1, $3), ($1, $2) -- $9".to_string()),
            &args,
        );
        assert_eq!(sql.0, "VALUES (?, ?), (?, ?) -- $9");
        let got: Vec<i64> = ordered
            .iter()
            .map(|a| match a {
                Arg::I64(v) => *v,
                _ => 0,
            })
            .collect();
        assert_eq!(got, vec![1, 3, 1, 2]);
    }
}
