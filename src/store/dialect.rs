//! What genuinely differs between SQLite and PostgreSQL, behind one interface with an
//! implementation for each, chosen once when the store connects (the backend it connected to).
//! Everything else is the same SQL on both (`$N` placeholders, `RETURNING`, `ON CONFLICT`).
//!
//! | concern | SQLite | PostgreSQL |
//! |---|---|---|
//! | row locks | none: one writer connection, `BEGIN IMMEDIATE`, orders writers | `FOR UPDATE`, `FOR NO KEY UPDATE`, `FOR UPDATE SKIP LOCKED` |
//! | bulk issues | nothing to set | plans made for the tables as they grow, no bitmap scans |
//! | redemptions in flight | 64 at once, their single-statement writes grouped into one transaction (`group_commit`) | unbounded (the pool) |
//! | bulk code writes | sorted multi-row `INSERT` | `COPY` (`store::coupons::CodeWriter`), then `ANALYZE` |

use super::dyntx::DynTx;
use super::{Backend, Store};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The row lock a read takes on the rows it will change, until its transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The row is about to be updated (an offer an issue or revocation changes).
    Update,
    /// Serialises writers of the row without blocking foreign-key checks that name it (a
    /// consumer a claim counts the offers of).
    NoKeyUpdate,
    /// Work queue rows: take the unlocked ones, skip those another worker holds.
    UpdateSkipLocked,
}

/// The operations that differ between the two databases.
pub trait Dialect: Sync {
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
    /// The clause a `SELECT` ends with to take `lock`.
    fn lock(&self, lock: Lock) -> &'static str;
    /// Statements that start a transaction which grows the tables it reads (a bulk issue).
    fn growing_tables(&self) -> &'static [&'static str];
    /// A turn to write a redemption, when the database wants fewer writers than requests.
    fn redeem_slots(&self) -> Option<&'static Semaphore>;
    /// What refreshes the planner's statistics after a bulk write of coupons, if the database
    /// needs telling (autovacuum would take a while to notice millions of new rows).
    fn refresh_coupon_statistics(&self) -> Option<&'static str>;
    /// ` AND column BETWEEN $lo AND $hi` where the range helps the planner join a list of
    /// ids to a table (PostgreSQL then reads just that slice of the index); nothing on SQLite,
    /// whose planner takes the range as the outer loop and scans the list once per row of it
    /// (a 2,000-row issue chunk read 4 million rows).
    fn id_range(&self, column: &str, lo: usize, hi: usize) -> String;
    /// A statement that makes the rest of the transaction wait for any other holding the same
    /// text key `$1` (PostgreSQL's transaction-level advisory lock); none on SQLite, whose
    /// write transactions already run one at a time.
    fn serialize_on_key(&self) -> Option<&'static str>;
}

/// SQLite: one writer connection orders every write.
pub struct Sqlite;
/// PostgreSQL: a pool of connections, Read Committed, locks in statements.
pub struct Postgres;

/// Redemptions in flight at once on SQLite. With group commit, more in flight make larger
/// groups: bench redeem C=64, 8 → 32 → 64 in flight: 7,030 → 10,000 → 12,770 redeems/s.
/// (Before group commit 64 were ~20% slower than 8.)
static SQLITE_REDEEMS: Semaphore = Semaphore::const_new(64);

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn lock(&self, _: Lock) -> &'static str {
        ""
    }
    fn growing_tables(&self) -> &'static [&'static str] {
        &[]
    }
    fn redeem_slots(&self) -> Option<&'static Semaphore> {
        Some(&SQLITE_REDEEMS)
    }
    fn refresh_coupon_statistics(&self) -> Option<&'static str> {
        None
    }
    fn serialize_on_key(&self) -> Option<&'static str> {
        None
    }
    fn id_range(&self, _: &str, _: usize, _: usize) -> String {
        String::new()
    }
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn lock(&self, lock: Lock) -> &'static str {
        match lock {
            Lock::Update => " FOR UPDATE",
            Lock::NoKeyUpdate => " FOR NO KEY UPDATE",
            Lock::UpdateSkipLocked => " FOR UPDATE SKIP LOCKED",
        }
    }
    fn growing_tables(&self) -> &'static [&'static str] {
        &[
            // Plan each statement for the tables as they are now, not with a plan cached while
            // they were empty.
            "SET LOCAL plan_cache_mode = force_custom_plan",
            // Without statistics on freshly generated coupons the planner takes every remaining
            // unissued coupon by bitmap scan and sorts them to find the next 400 (262 ms at
            // 300k of 1M); the ordered index scan stops after 400 rows (0.2 ms).
            "SET LOCAL enable_bitmapscan = off",
        ]
    }
    fn redeem_slots(&self) -> Option<&'static Semaphore> {
        None
    }
    fn refresh_coupon_statistics(&self) -> Option<&'static str> {
        // Sampling keeps it cheap (~0.3 s for 10M coupons).
        Some("ANALYZE coupons")
    }
    fn id_range(&self, column: &str, lo: usize, hi: usize) -> String {
        format!(" AND {column} BETWEEN ${lo} AND ${hi}")
    }
    fn serialize_on_key(&self) -> Option<&'static str> {
        Some("SELECT pg_advisory_xact_lock(hashtext($1))")
    }
}

impl Store {
    /// The dialect of the database this store connected to.
    pub fn dialect(&self) -> &'static dyn Dialect {
        match self.backend {
            Backend::Sqlite { .. } => &Sqlite,
            Backend::Postgres { .. } => &Postgres,
        }
    }

    /// A turn to write a redemption (SQLite: at most 64 in flight).
    pub async fn redeem_turn(&self) -> Option<SemaphorePermit<'static>> {
        match self.dialect().redeem_slots() {
            Some(slots) => slots.acquire().await.ok(),
            None => None,
        }
    }
}

impl DynTx {
    /// The dialect of the database this transaction runs on.
    pub fn dialect(&self) -> &'static dyn Dialect {
        match self {
            DynTx::Sqlite(_) => &Sqlite,
            DynTx::Postgres(_) => &Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_locks_rows_and_only_sqlite_limits_writers() {
        for lock in [Lock::Update, Lock::NoKeyUpdate, Lock::UpdateSkipLocked] {
            assert_eq!(Sqlite.lock(lock), "");
        }
        assert_eq!(
            Postgres.lock(Lock::UpdateSkipLocked),
            " FOR UPDATE SKIP LOCKED"
        );
        assert_eq!(Postgres.lock(Lock::NoKeyUpdate), " FOR NO KEY UPDATE");
        assert!(Sqlite.growing_tables().is_empty());
        assert_eq!(Postgres.growing_tables().len(), 2);
        assert_eq!(
            Sqlite.redeem_slots().map(|s| s.available_permits()),
            Some(64)
        );
        assert!(Postgres.redeem_slots().is_none());
        // The id range is a hint for PostgreSQL only (it misleads SQLite's planner).
        assert_eq!(Sqlite.id_range("c.id", 7, 8), "");
        assert_eq!(
            Postgres.id_range("c.id", 7, 8),
            " AND c.id BETWEEN $7 AND $8"
        );
    }
}
