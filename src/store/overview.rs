//! The Overview page (issue 13.16): what a marketing manager checks first — live offers,
//! redemptions and discount given today and over the last 7 days against the week before,
//! offers about to end, caps nearly reached, background jobs and failed deliveries.
//!
//! Redemptions are not counted per view: triggers (migration `20261130000013_overview`) keep
//! `org_redemption_slots`, the redemptions that stand and their discount per org and per
//! 15-minute slot of UTC time, as redemption rows are written, reversed, changed or deleted. A
//! view reads at most 14 days × 96 slots (× 16 writer shards on PostgreSQL) of the org and cuts
//! them into the org's calendar days here: every zone in use is a whole number of quarter hours
//! from UTC, so each local midnight (`performance::day_start`) is a slot boundary and the days
//! are exact, for India's +05:30 as for Nepal's +05:45. The other lists read offers, jobs and
//! the outbox through indexes on the org, never coupons or redemptions.

use super::dyntx::Arg;
use super::performance::day_start;
use super::redeem::REDEEMED_SQL;
use super::{Store, StoreResult};
use crate::domain::ids::{JobId, OfferId, OrgId};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::ops::{Add, AddAssign};

/// Seconds in one slot of `org_redemption_slots`.
pub const SLOT_SECONDS: i64 = 900;
/// Days of redemptions the page reads: the last 7 (today included) and the 7 before.
pub const TREND_DAYS: usize = 14;
/// An offer "ends soon" when its last day is today or one of the next 6 days.
pub const ENDING_WITHIN_DAYS: i64 = 7;
/// A cap is "nearly reached" from this share of it used (reached caps included).
pub const CAP_WARN_PERCENT: i64 = 80;
/// Failed jobs are listed for this many days after they failed (until retried).
pub const FAILED_JOB_DAYS: i64 = 7;
/// Failed messages listed by name (all are counted).
pub const FAILED_MESSAGES_LISTED: i64 = 5;
/// Jobs listed at most.
const JOBS_LISTED: i64 = 20;

/// Redemptions that stand and the discount they gave (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub redemptions: i64,
    pub discount: i64,
}

impl Add for Sums {
    type Output = Sums;
    fn add(self, o: Sums) -> Sums {
        Sums {
            redemptions: self.redemptions + o.redemptions,
            discount: self.discount + o.discount,
        }
    }
}

impl AddAssign for Sums {
    fn add_assign(&mut self, o: Sums) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Sums {
    fn sum<I: Iterator<Item = Sums>>(iter: I) -> Sums {
        iter.fold(Sums::default(), Add::add)
    }
}

/// One day of the org's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySums {
    pub day: NaiveDate,
    pub sums: Sums,
}

/// Redemptions per day for the `TREND_DAYS` days ending today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedemptionTrend {
    /// Oldest first; the last is today (so far), the first 7 are the week before.
    pub days: Vec<DaySums>,
    /// The same weekday a week ago, from its start to the time of day it is now (to the
    /// quarter hour): what today so far is compared with.
    pub today_a_week_ago: Sums,
}

impl RedemptionTrend {
    pub fn today(&self) -> Sums {
        self.days.last().map(|d| d.sums).unwrap_or_default()
    }

    /// The last 7 days, today so far included.
    pub fn this_week(&self) -> &[DaySums] {
        &self.days[TREND_DAYS / 2..]
    }

    /// The 7 days before those (whole days).
    pub fn week_before(&self) -> &[DaySums] {
        &self.days[..TREND_DAYS / 2]
    }

    pub fn this_week_sums(&self) -> Sums {
        self.this_week().iter().map(|d| d.sums).sum()
    }

    /// The week before up to the same point in time: its first 6 days and its last day up to
    /// the time of day it is now — a like-for-like comparison with `this_week_sums`.
    pub fn week_before_to_now(&self) -> Sums {
        let before = self.week_before();
        before[..before.len() - 1]
            .iter()
            .map(|d| d.sums)
            .sum::<Sums>()
            + self.today_a_week_ago
    }
}

/// The `TREND_DAYS + 1` instants that bound the days ending `today`, as Unix seconds.
fn bounds(tz: Tz, today: NaiveDate) -> Vec<i64> {
    let first = today - Duration::days(TREND_DAYS as i64 - 1);
    (0..=TREND_DAYS as i64)
        .map(|n| day_start(tz, first + Duration::days(n)).timestamp())
        .collect()
}

/// Cuts slot rows `(slot start, redemptions, discount)` into the org's days ending `today`
/// (`now` in it), and sums the same weekday a week ago up to the same time of day.
pub fn bin_slots(
    tz: Tz,
    today: NaiveDate,
    now: DateTime<Utc>,
    rows: &[(i64, i64, i64)],
) -> RedemptionTrend {
    let bounds = bounds(tz, today);
    let first = today - Duration::days(TREND_DAYS as i64 - 1);
    let mut days: Vec<DaySums> = (0..TREND_DAYS as i64)
        .map(|n| DaySums {
            day: first + Duration::days(n),
            sums: Sums::default(),
        })
        .collect();
    // A slot is counted a week ago when it starts no later than the time of day it is now
    // (today's current slot is counted too), and never past that day's end.
    let elapsed = now.timestamp() - bounds[TREND_DAYS - 1];
    let week_ago = TREND_DAYS / 2 - 1;
    let cutoff = (bounds[week_ago] + elapsed).min(bounds[week_ago + 1] - 1);
    let mut today_a_week_ago = Sums::default();
    for &(slot, redemptions, discount) in rows {
        let sums = Sums {
            redemptions,
            discount,
        };
        let i = bounds.partition_point(|b| *b <= slot);
        if i == 0 || i > TREND_DAYS {
            continue;
        }
        days[i - 1].sums += sums;
        if i - 1 == week_ago && slot <= cutoff {
            today_a_week_ago += sums;
        }
    }
    RedemptionTrend {
        days,
        today_a_week_ago,
    }
}

/// A live offer whose last day is within `ENDING_WITHIN_DAYS`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EndingOffer {
    pub id: OfferId,
    pub name: String,
    pub offer_code: String,
    pub ends_on: NaiveDate,
    pub issued: i64,
    pub redeemed: i64,
}

/// Which total cap of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapKind {
    Redemption,
    Issual,
}

/// A live offer with a total cap at least `CAP_WARN_PERCENT` used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearCap {
    pub offer_id: OfferId,
    pub name: String,
    pub offer_code: String,
    pub kind: CapKind,
    pub used: i64,
    pub cap: i64,
}

impl NearCap {
    /// Whole percent used, rounded down (so 99.9% is not shown as reached).
    pub fn percent(&self) -> i64 {
        if self.cap <= 0 {
            100
        } else {
            (i128::from(self.used) * 100 / i128::from(self.cap)) as i64
        }
    }

    pub fn reached(&self) -> bool {
        self.used >= self.cap
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct CapRow {
    id: OfferId,
    name: String,
    offer_code: String,
    issued_count: i64,
    redeemed: i64,
    total_issual_cap: Option<i64>,
    total_redemption_cap: Option<i64>,
}

/// A job waiting, receiving its file or running, or one that failed lately.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OverviewJob {
    pub id: JobId,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub kind: crate::domain::job::JobKind,
    pub status: crate::domain::job::JobStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A message the outbox gave up on.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FailedMessage {
    pub id: i64,
    pub kind: String,
    pub channel: String,
    pub offer_id: Option<OfferId>,
    pub offer_name: Option<String>,
    pub last_error: Option<String>,
    pub failed_at: DateTime<Utc>,
}

/// Everything the Overview reads.
#[derive(Debug, Clone)]
pub struct HomeOverview {
    pub live_offers: i64,
    pub trend: RedemptionTrend,
    /// By last day, then name.
    pub ending: Vec<EndingOffer>,
    /// Fullest first.
    pub caps: Vec<NearCap>,
    /// Newest first.
    pub jobs: Vec<OverviewJob>,
    pub failed_messages: i64,
    /// The newest `FAILED_MESSAGES_LISTED`.
    pub failed: Vec<FailedMessage>,
}

/// An offer's last day: its date or the claiming campaign's end, whichever is first (as
/// `domain::issue::offer_ends_on`); NULL for an offer that does not end.
const ENDS_ON: &str = "(CASE WHEN o.expiry_type = 'campaign' THEN c.ends_on \
     WHEN c.ends_on IS NOT NULL AND c.ends_on < o.expires_on THEN c.ends_on ELSE o.expires_on END)";

impl Store {
    /// The Overview of org `org_id` whose zone is `tz`, at `now`; the outbox is read only
    /// when `with_outbox` (people who may not see it get no count either).
    pub async fn home_overview(
        &self,
        org_id: OrgId,
        tz: Tz,
        now: DateTime<Utc>,
        with_outbox: bool,
    ) -> StoreResult<HomeOverview> {
        let today = now.with_timezone(&tz).date_naive();
        let (live_offers, trend, ending, caps, jobs, (failed_messages, failed)) = tokio::try_join!(
            self.live_offer_count(org_id, today),
            self.redemption_trend(org_id, tz, now),
            self.offers_ending(org_id, today),
            self.caps_nearly_reached(org_id, today),
            self.overview_jobs(org_id, now),
            async {
                if with_outbox {
                    self.failed_deliveries(org_id).await
                } else {
                    Ok((0, Vec::new()))
                }
            },
        )?;
        Ok(HomeOverview {
            live_offers,
            trend,
            ending,
            caps,
            jobs,
            failed_messages,
            failed,
        })
    }

    /// Offers that have not ended by `today` (the org's calendar).
    pub async fn live_offer_count(&self, org_id: OrgId, today: NaiveDate) -> StoreResult<i64> {
        let rows: Vec<(i64,)> = self
            .fetch_all_read(
                &format!(
                    "SELECT COUNT(*) FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by \
                     WHERE o.org_id = $1 AND ({ENDS_ON} IS NULL OR {ENDS_ON} >= $2)"
                ),
                &[org_id.into(), Arg::OptDate(Some(today))],
            )
            .await?;
        Ok(rows.first().map(|r| r.0).unwrap_or(0))
    }

    /// Redemptions and discount per day of the org's calendar for the `TREND_DAYS` days
    /// ending today, from the slot table.
    pub async fn redemption_trend(
        &self,
        org_id: OrgId,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> StoreResult<RedemptionTrend> {
        let today = now.with_timezone(&tz).date_naive();
        let b = bounds(tz, today);
        let rows: Vec<(i64, i64, i64)> = self
            .fetch_all_read(
                "SELECT slot, CAST(SUM(redemptions) AS BIGINT), CAST(SUM(discount) AS BIGINT) \
                 FROM org_redemption_slots WHERE org_id = $1 AND slot >= $2 AND slot < $3 GROUP BY slot",
                &[org_id.into(), b[0].into(), b[TREND_DAYS].into()],
            )
            .await?;
        Ok(bin_slots(tz, today, now, &rows))
    }

    /// Live offers whose last day is today or within the next `ENDING_WITHIN_DAYS - 1` days.
    pub async fn offers_ending(
        &self,
        org_id: OrgId,
        today: NaiveDate,
    ) -> StoreResult<Vec<EndingOffer>> {
        let mut rows: Vec<EndingOffer> = self
            .fetch_all_read(
                &format!(
                    "SELECT o.id, o.name, o.offer_code, {ENDS_ON} AS ends_on, o.issued_count AS issued, {REDEEMED_SQL} AS redeemed \
                     FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by \
                     WHERE o.org_id = $1 AND {ENDS_ON} >= $2 AND {ENDS_ON} <= $3"
                ),
                &[
                    org_id.into(),
                    Arg::OptDate(Some(today)),
                    Arg::OptDate(Some(today + Duration::days(ENDING_WITHIN_DAYS - 1))),
                ],
            )
            .await?;
        rows.sort_by(|a, b| (a.ends_on, &a.name, a.id).cmp(&(b.ends_on, &b.name, b.id)));
        Ok(rows)
    }

    /// Total caps of live offers at least `CAP_WARN_PERCENT` used, fullest first.
    pub async fn caps_nearly_reached(
        &self,
        org_id: OrgId,
        today: NaiveDate,
    ) -> StoreResult<Vec<NearCap>> {
        let rows: Vec<CapRow> = self
            .fetch_all_read(
                &format!(
                    "SELECT o.id, o.name, o.offer_code, o.issued_count, {REDEEMED_SQL} AS redeemed, o.total_issual_cap, o.total_redemption_cap \
                     FROM offers o LEFT JOIN consumers c ON c.id = o.claimed_by \
                     WHERE o.org_id = $1 AND ({ENDS_ON} IS NULL OR {ENDS_ON} >= $2) \
                     AND ((o.total_redemption_cap IS NOT NULL AND {REDEEMED_SQL} * 100 >= o.total_redemption_cap * $3) \
                     OR (o.total_issual_cap IS NOT NULL AND o.issued_count * 100 >= o.total_issual_cap * $3))"
                ),
                &[
                    org_id.into(),
                    Arg::OptDate(Some(today)),
                    CAP_WARN_PERCENT.into(),
                ],
            )
            .await?;
        let mut caps: Vec<NearCap> =
            rows.into_iter()
                .flat_map(|r| {
                    [
                        (CapKind::Redemption, r.redeemed, r.total_redemption_cap),
                        (CapKind::Issual, r.issued_count, r.total_issual_cap),
                    ]
                    .into_iter()
                    .filter_map(|(kind, used, cap)| {
                        let cap = cap?;
                        (i128::from(used) * 100 >= i128::from(cap) * i128::from(CAP_WARN_PERCENT))
                            .then(|| NearCap {
                                offer_id: r.id,
                                name: r.name.clone(),
                                offer_code: r.offer_code.clone(),
                                kind,
                                used,
                                cap,
                            })
                    })
                    .collect::<Vec<_>>()
                })
                .collect();
        caps.sort_by(|a, b| {
            // Fullest first: used/cap compared without division.
            (i128::from(b.used) * i128::from(a.cap))
                .cmp(&(i128::from(a.used) * i128::from(b.cap)))
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(caps)
    }

    /// Jobs not finished, and jobs that failed in the last `FAILED_JOB_DAYS` days (not since
    /// retried), newest first.
    pub async fn overview_jobs(
        &self,
        org_id: OrgId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<OverviewJob>> {
        self.fetch_all_read(
            "SELECT j.id, j.offer_id, o.name AS offer_name, j.kind, j.status, j.created_at, j.started_at, j.finished_at \
             FROM jobs j JOIN offers o ON o.id = j.offer_id \
             WHERE j.org_id = $1 AND (j.status IN ('receiving', 'queued', 'running') OR (j.status = 'failed' AND j.finished_at >= $2)) \
             ORDER BY j.id DESC LIMIT $3",
            &[
                org_id.into(),
                (now - Duration::days(FAILED_JOB_DAYS)).into(),
                JOBS_LISTED.into(),
            ],
        )
        .await
    }

    /// How many of the org's messages failed, and the newest of them.
    pub async fn failed_deliveries(&self, org_id: OrgId) -> StoreResult<(i64, Vec<FailedMessage>)> {
        let count: Vec<(i64,)> = self
            .fetch_all_read(
                "SELECT COUNT(*) FROM outbox WHERE org_id = $1 AND status = 'failed'",
                &[org_id.into()],
            )
            .await?;
        let rows = self
            .fetch_all_read(
                "SELECT x.id, x.kind, x.channel, x.offer_id, o.name AS offer_name, x.last_error, \
                 COALESCE(x.last_attempt_at, x.created_at) AS failed_at \
                 FROM outbox x LEFT JOIN offers o ON o.id = x.offer_id AND o.org_id = x.org_id \
                 WHERE x.org_id = $1 AND x.status = 'failed' ORDER BY x.id DESC LIMIT $2",
                &[org_id.into(), FAILED_MESSAGES_LISTED.into()],
            )
            .await?;
        Ok((count.first().map(|r| r.0).unwrap_or(0), rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const KOLKATA: Tz = chrono_tz::Asia::Kolkata;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn slot(t: DateTime<Utc>) -> i64 {
        t.timestamp() / SLOT_SECONDS * SLOT_SECONDS
    }

    #[test]
    fn kolkata_midnight_is_a_slot_boundary_and_cuts_the_days() {
        // 30 Nov 2026 in Kolkata runs from 29 Nov 18:30 UTC.
        let today = date(2026, 11, 30);
        let now = at(2026, 11, 30, 6, 0); // 11:30 in Kolkata
        let rows = [
            (slot(at(2026, 11, 29, 18, 15)), 1, 100), // 23:45 on the 29th
            (slot(at(2026, 11, 29, 18, 30)), 2, 300), // 00:00 on the 30th
            (slot(at(2026, 11, 16, 18, 30)), 4, 400), // first day of the window
            (slot(at(2026, 11, 16, 18, 15)), 8, 800), // before the window
        ];
        assert_eq!(slot(at(2026, 11, 29, 18, 30)) % SLOT_SECONDS, 0);
        let t = bin_slots(KOLKATA, today, now, &rows);
        assert_eq!(t.days.len(), TREND_DAYS);
        assert_eq!(t.days[0].day, date(2026, 11, 17));
        assert_eq!(t.days[13].day, today);
        assert_eq!(
            t.today(),
            Sums {
                redemptions: 2,
                discount: 300
            }
        );
        assert_eq!(t.days[12].sums.redemptions, 1);
        assert_eq!(t.days[0].sums.redemptions, 4);
        assert_eq!(
            t.week_before()
                .iter()
                .map(|d| d.sums.redemptions)
                .sum::<i64>(),
            4
        );
        assert_eq!(t.this_week_sums().redemptions, 3);
    }

    #[test]
    fn today_is_compared_with_the_same_time_a_week_ago() {
        let today = date(2026, 11, 30);
        let now = at(2026, 11, 30, 6, 0); // 11:30 in Kolkata
        let rows = [
            (slot(at(2026, 11, 23, 5, 59)), 1, 10), // 11:29 a week ago: counted
            (slot(at(2026, 11, 23, 6, 0)), 2, 20),  // 11:30 a week ago: the same slot as now
            (slot(at(2026, 11, 23, 6, 15)), 4, 40), // 11:45 a week ago: later than now
            (slot(at(2026, 11, 22, 20, 0)), 8, 80), // 01:30 a week ago
            (slot(at(2026, 11, 22, 6, 0)), 16, 160), // the day before
        ];
        let t = bin_slots(KOLKATA, today, now, &rows);
        assert_eq!(
            t.today_a_week_ago,
            Sums {
                redemptions: 11,
                discount: 110
            }
        );
        // The whole day a week ago is in the chart; the comparison stops at the same time.
        assert_eq!(t.days[6].day, date(2026, 11, 23));
        assert_eq!(t.days[6].sums.redemptions, 15);
        assert_eq!(t.week_before_to_now().redemptions, 16 + 11);
    }

    #[test]
    fn a_nepal_day_starts_on_a_quarter_hour() {
        let kathmandu = chrono_tz::Asia::Kathmandu; // +05:45
        let today = date(2026, 11, 30);
        let midnight = day_start(kathmandu, today);
        assert_eq!(midnight, at(2026, 11, 29, 18, 15));
        assert_eq!(midnight.timestamp() % SLOT_SECONDS, 0);
        let rows = [
            (slot(midnight - Duration::minutes(1)), 1, 1),
            (slot(midnight), 2, 2),
        ];
        let t = bin_slots(kathmandu, today, midnight + Duration::hours(1), &rows);
        assert_eq!(t.today().redemptions, 2);
        assert_eq!(t.days[12].sums.redemptions, 1);
    }

    #[test]
    fn near_caps_round_down() {
        let cap = |used, cap| NearCap {
            offer_id: OfferId(1),
            name: "x".into(),
            offer_code: "X".into(),
            kind: CapKind::Redemption,
            used,
            cap,
        };
        assert_eq!(cap(999, 1000).percent(), 99);
        assert!(!cap(999, 1000).reached());
        assert_eq!(cap(1000, 1000).percent(), 100);
        assert!(cap(1000, 1000).reached());
    }
}
