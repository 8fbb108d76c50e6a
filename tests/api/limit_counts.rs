//! Limit counts read from folded counts (migration 24, `store::promotion_folds`): whatever has
//! been folded, written late or reversed, a count equals the uses a plain count of the window
//! finds, and limits hold exactly while folds run under closing carts. Both databases.

use crate::carts::{cart, line, promotion, race_closes, ten_off_over_2000, waits_on_lock};
use crate::helpers::{spawn_app, spawn_app_on};
use crate::integration::Api;
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use offerdesk::domain::ids::{OrgId, PromotionId};
use offerdesk::domain::promotion::Period;
use offerdesk::store::Store;
use offerdesk::store::dyntx::Arg;
use offerdesk::store::promotion_limits::{FoldPoint, Held, UsageAsk, lock_and_count};
use reqwest::StatusCode;

/// A use written straight into the table (instant, reversed).
type Use = (DateTime<Utc>, bool);

/// A promotion's uses in windows of every kind, counted by the open's statement and a close's,
/// equal a count of the test's own list of uses: before any fold; after folding to a minute
/// ago; after uses written late into the folded past and folded uses reversed (the triggers'
/// part); after folding to an odd instant two days ahead (a quarter hour and a day folded only
/// in part); and with the org's zone changed from Kolkata to Santiago (windows on other
/// midnights, nothing to re-date). 400 uses over 70 days around now, a seventh reversed and one
/// reversal undone.
#[tokio::test]
async fn limit_counts_equal_the_uses_of_every_kind_of_window_however_they_are_folded() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(1_000_000))).await;
    let org = app.org_id("Acme").await;
    let store = &app.store;
    let now = Utc::now();
    let mut uses: Vec<Use> = Vec::new();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for i in 0..400 {
        let at = now - Duration::seconds(next(70 * 86_400) as i64 - 5 * 86_400)
            + Duration::milliseconds(next(1000) as i64);
        let reversed = next(7) == 0;
        write_use(store, org, promo, &format!("D-{i}"), at, reversed).await;
        uses.push((at, reversed));
    }
    // At the edges of quarter hours and UTC days, to the microsecond (SQLite's date functions
    // would round 23:59:59.9997 up to the next day).
    let quarter = DateTime::from_timestamp(now.timestamp() / 900 * 900, 0).unwrap();
    let midnight = DateTime::from_timestamp(now.timestamp() / 86_400 * 86_400, 0).unwrap();
    for (i, at) in [
        quarter - Duration::microseconds(300),
        quarter,
        quarter - Duration::days(3) - Duration::microseconds(1),
        midnight - Duration::microseconds(300),
        midnight,
        midnight - Duration::days(9) - Duration::microseconds(300),
        midnight - Duration::days(9),
    ]
    .into_iter()
    .enumerate()
    {
        write_use(store, org, promo, &format!("E-{i}"), at, false).await;
        uses.push((at, false));
    }
    let undone = uses.iter().position(|u| u.1).unwrap();
    set_reversed(store, promo, &format!("D-{undone}"), None).await;
    uses[undone].1 = false;
    check(store, org, promo, &uses, now, chrono_tz::Asia::Kolkata).await;

    store
        .fold_promotion_uses(now - Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        folded(store, org, promo, &uses).await > 300,
        "most uses folded"
    );
    check(store, org, promo, &uses, now, chrono_tz::Asia::Kolkata).await;

    // An open keeps the month's folded sums it read while the org's counts keep their version.
    let month = Period::CalendarMonth.window(now, chrono_tz::Asia::Kolkata);
    let fold = fold_point(store, org).await;
    let folded_at = fold.unwrap().at;
    let in_month = |uses: &[Use]| {
        uses.iter()
            .filter(|u| !u.1 && u.0 >= month.0 && u.0 < month.1)
            .count() as i64
    };
    assert_eq!(open_count(store, promo, month, fold).await, in_month(&uses));
    // Written late into the folded past, and folded uses reversed.
    for i in 0..40 {
        let at = now - Duration::seconds(60 + next(60 * 86_400) as i64);
        write_use(store, org, promo, &format!("L-{i}"), at, i % 9 == 0).await;
        uses.push((at, i % 9 == 0));
    }
    folded(store, org, promo, &uses).await;
    let fold = Some(FoldPoint {
        at: folded_at,
        ..fold_point(store, org).await.unwrap()
    });
    assert_eq!(open_count(store, promo, month, fold).await, in_month(&uses));
    // A reversal alone (no use written) changes the version too.
    let mut reversed = 0;
    for (i, u) in uses.iter_mut().enumerate().take(400) {
        if !u.1 && u.0 >= month.0 && u.0 < now - Duration::minutes(1) && reversed < 12 {
            set_reversed(store, promo, &format!("D-{i}"), Some(now)).await;
            u.1 = true;
            reversed += 1;
        }
    }
    assert!(reversed > 0, "folded uses this month reversed");
    folded(store, org, promo, &uses).await;
    // A close that read the org before the reversals brings the sum kept at the old version:
    // its count sees the version moved and sums again.
    assert_eq!(
        close_count(store, promo, month, fold).await,
        in_month(&uses)
    );
    // The same open at the version the cart reads now counts them.
    let fold = Some(FoldPoint {
        at: folded_at,
        ..fold_point(store, org).await.unwrap()
    });
    assert_eq!(open_count(store, promo, month, fold).await, in_month(&uses));
    check(store, org, promo, &uses, now, chrono_tz::Asia::Kolkata).await;

    let odd = now + Duration::days(2) + Duration::minutes(17) + Duration::seconds(13);
    store.fold_promotion_uses(odd).await.unwrap();
    let all = uses.iter().filter(|u| !u.1 && u.0 < odd).count() as i64;
    assert_eq!(folded(store, org, promo, &uses).await, all);
    check(store, org, promo, &uses, now, chrono_tz::Asia::Kolkata).await;

    let santiago = chrono_tz::America::Santiago;
    let current = store.get_org(org).await.unwrap();
    let settings = offerdesk::domain::org::OrgSettings {
        name: current.name,
        currency: current.currency,
        time_zone: santiago,
    };
    store
        .update_org_settings(
            org,
            &settings,
            &offerdesk::domain::user::Actor::system("test"),
        )
        .await
        .unwrap();
    check(store, org, promo, &uses, now, santiago).await;
}

/// A limit of 150 uses met by 200 closing carts on two instances while the uses are folded
/// over and over, up to just before and just after the carts' own instants: exactly 150 carts
/// get it, an open cart afterwards is told none is left, and the counts agree with the uses.
#[tokio::test]
async fn a_limit_holds_exactly_while_the_uses_are_folded_under_closing_carts() {
    let app = spawn_app().await;
    let second = spawn_app_on(app.db.clone()).await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(150))).await;
    let org = app.org_id("Acme").await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let folder = {
        let (store, done) = (second.store.clone(), done.clone());
        tokio::spawn(async move {
            let mut runs = 0u32;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let ahead =
                    Duration::milliseconds(if runs.is_multiple_of(2) { -200 } else { 1_500 });
                store.fold_promotion_uses(Utc::now() + ahead).await.unwrap();
                runs += 1;
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
            runs
        })
    };
    let got = race_closes(&[api.clone(), api.on(&second)], 16, 200, "G", promo).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs = folder.await.unwrap();
    assert!(
        runs > 2,
        "the uses were folded while carts closed ({runs} runs)"
    );
    assert_eq!(got, 150, "exactly the limit's 150 carts get it");
    let (_, open) = cart(&api, "G-open", "open", &[], vec![line("TV", 1, 250000)]).await;
    assert_eq!(open["discount"], 0, "{open}");
    let uses = active_uses(&app.store, promo).await;
    assert_eq!(uses.len(), 150);
    folded(&app.store, org, promo, &uses).await;
}

/// `promo`'s global uses in `window`, nothing else.
fn ask(promo: i64, window: (DateTime<Utc>, DateTime<Utc>)) -> UsageAsk {
    UsageAsk {
        promotion: PromotionId(promo),
        global: Some(window),
        customer: None,
        headroom: None,
    }
}

async fn open_count(
    store: &Store,
    promo: i64,
    window: (DateTime<Utc>, DateTime<Utc>),
    fold: Option<FoldPoint>,
) -> i64 {
    let open = store
        .promotions_used(fold, &[ask(promo, window)])
        .await
        .unwrap();
    open.get(&PromotionId(promo)).map_or(0, |u| u.uses)
}

/// `promo`'s uses as recorded, none reversed.
async fn active_uses(store: &Store, promo: i64) -> Vec<Use> {
    let recorded: Vec<(DateTime<Utc>,)> = store
        .fetch_all_read(
            "SELECT used_at FROM promotion_uses WHERE promotion_id = $1 AND reversed_at IS NULL",
            &[promo.into()],
        )
        .await
        .unwrap();
    recorded.into_iter().map(|(at,)| (at, false)).collect()
}

/// Where the org's uses are folded to and its counts' version, as a cart reads them.
async fn fold_point(store: &Store, org: OrgId) -> Option<FoldPoint> {
    let row: Option<(DateTime<Utc>, i64)> = store
        .fetch_optional_read(
            "SELECT next_at, version FROM promotion_use_folds WHERE org_id = $1",
            &[org.into()],
        )
        .await
        .unwrap();
    row.map(|(at, version)| FoldPoint { org, at, version })
}

async fn close_count(
    store: &Store,
    promo: i64,
    window: (DateTime<Utc>, DateTime<Utc>),
    fold: Option<FoldPoint>,
) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let asks = [ask(promo, window)];
    let Held::Counted(closing) = lock_and_count(&mut tx, store.folded_sums(), fold, &asks)
        .await
        .unwrap()
    else {
        panic!("a count held alone is never too near");
    };
    tx.rollback().await.unwrap();
    closing.get(&PromotionId(promo)).map_or(0, |u| u.uses)
}

async fn write_use(
    store: &Store,
    org: OrgId,
    promo: i64,
    cart_id: &str,
    at: DateTime<Utc>,
    reversed: bool,
) {
    store
        .execute_autocommit(
            "INSERT INTO promotion_uses (org_id, promotion_id, cart_id, discount, used_at) \
             VALUES ($1, $2, $3, 100, $4)",
            &[org.into(), promo.into(), cart_id.into(), at.into()],
        )
        .await
        .unwrap();
    if reversed {
        set_reversed(store, promo, cart_id, Some(at)).await;
    }
}

async fn set_reversed(store: &Store, promo: i64, cart_id: &str, at: Option<DateTime<Utc>>) {
    store
        .execute_autocommit(
            "UPDATE promotion_uses SET reversed_at = $1 WHERE promotion_id = $2 AND cart_id = $3",
            &[Arg::OptTime(at), promo.into(), cart_id.into()],
        )
        .await
        .unwrap();
}

/// The folded counts of `promo` hold exactly its active uses before the org's folded point,
/// per quarter hour and per day alike; how many.
async fn folded(store: &Store, org: OrgId, promo: i64, uses: &[Use]) -> i64 {
    let (next,): (DateTime<Utc>,) = store
        .fetch_one_read(
            "SELECT next_at FROM promotion_use_folds WHERE org_id = $1",
            &[org.into()],
        )
        .await
        .unwrap();
    let (quarters, days): (i64, i64) = store
        .fetch_one_read(
            "SELECT CAST(COALESCE(SUM(CASE WHEN span = 0 THEN uses END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN span = 1 THEN uses END), 0) AS BIGINT) \
             FROM promotion_use_counts WHERE promotion_id = $1",
            &[promo.into()],
        )
        .await
        .unwrap();
    let expected = uses.iter().filter(|u| !u.1 && u.0 < next).count() as i64;
    assert_eq!(
        (quarters, days),
        (expected, expected),
        "folded before {next}"
    );
    expected
}

/// Counts `promo`'s uses in windows of every kind in `tz` at `now`, as the open and as a close,
/// against the uses counted here — told the org's uses were folded to where they are, to a
/// point read earlier (any earlier one serves), or nowhere.
async fn check(
    store: &Store,
    org: OrgId,
    promo: i64,
    uses: &[Use],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) {
    let anchor = NaiveDate::from_ymd_opt(2026, 1, 7).unwrap();
    let periods = [
        Period::CalendarMonth,
        Period::LastDays { days: 7 },
        Period::LastDays { days: 30 },
        Period::LastWeeks { weeks: 2 },
        Period::EveryDays { days: 10, anchor },
        Period::EveryWeeks {
            weeks: 3,
            weekday: Weekday::Wed,
            anchor,
        },
    ];
    let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        periods.iter().map(|p| p.window(now, tz)).collect();
    windows.extend([
        // Forever, as a limit without a reset counts.
        (
            DateTime::UNIX_EPOCH,
            DateTime::from_timestamp(253_402_214_400, 0).unwrap(),
        ),
        // Inside one quarter hour, inside one day, and across days at odd times.
        (now - Duration::minutes(14), now - Duration::minutes(2)),
        (now - Duration::hours(3), now - Duration::hours(1)),
        (now - Duration::minutes(2_000), now - Duration::minutes(13)),
        (now - Duration::days(60), now - Duration::days(7)),
        (now - Duration::days(50), now + Duration::days(4)),
    ]);
    let mut told = vec![None];
    if let Some(now_at) = fold_point(store, org).await {
        for back in [0, 187, 20 * 24 * 60] {
            told.push(Some(FoldPoint {
                at: now_at.at - Duration::minutes(back),
                ..now_at
            }));
        }
    }
    for ((from, to), folded) in windows
        .iter()
        .flat_map(|w| told.iter().map(move |f| (*w, *f)))
    {
        let expected = uses
            .iter()
            .filter(|(at, reversed)| !reversed && *at >= from && *at < to)
            .count() as i64;
        // Twice: the second open keeps the sums the first read.
        for _ in 0..2 {
            let got = open_count(store, promo, (from, to), folded).await;
            assert_eq!(
                got, expected,
                "open count of [{from}, {to}) in {tz} folded {folded:?}"
            );
        }
        let got = close_count(store, promo, (from, to), folded).await;
        assert_eq!(
            got, expected,
            "close count of [{from}, {to}) in {tz} folded {folded:?}"
        );
    }
}

/// PostgreSQL: a close whose use is written while a fold holds the org (its exclusive advisory
/// lock, `next_at` moved past the close's instant) waits for it, then finds the new `next_at`
/// and adds its use to the counts itself — which then agree with the uses. Without the shared
/// lock in the trigger the use would be neither folded nor counted.
#[tokio::test]
async fn a_use_written_while_a_fold_holds_the_org_is_counted_by_its_trigger() {
    use crate::helpers::TestDb;
    use sqlx::Connection;
    let app = spawn_app().await;
    let TestDb::Postgres { url, .. } = &*app.db else {
        return;
    };
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(1_000))).await;
    let org = app.org_id("Acme").await;
    let (status, v) = cart(&api, "P-0", "closed", &[], vec![line("TV", 1, 250000)]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    app.store
        .fold_promotion_uses(Utc::now() + Duration::seconds(1))
        .await
        .unwrap();
    let mut folder = sqlx::PgConnection::connect(url).await.unwrap();
    let mut watcher = sqlx::PgConnection::connect(url).await.unwrap();
    let mut fold = folder.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(1602, CAST($1 % 2147483647 AS INT))")
        .bind(org.get())
        .execute(&mut *fold)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE promotion_use_folds SET next_at = now() + interval '1 hour' WHERE org_id = $1",
    )
    .bind(org.get())
    .execute(&mut *fold)
    .await
    .unwrap();
    let closing = {
        let api = api.clone();
        tokio::spawn(
            async move { cart(&api, "P-1", "closed", &[], vec![line("TV", 1, 250000)]).await },
        )
    };
    let waited = waits_on_lock(&mut watcher, "wait_event = 'advisory'").await;
    assert!(waited, "the close never waited for the fold");
    fold.commit().await.unwrap();
    let (status, v) = closing.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["discount"], 25000, "{v}");
    let uses = active_uses(&app.store, promo).await;
    assert_eq!(folded(&app.store, org, promo, &uses).await, 2);
}

/// `offerdesk run-jobs` (and the scheduler's runs) fold the uses older than a minute by the
/// database's clock — not by `--now`, however far ahead — and nothing newer.
#[tokio::test]
async fn the_scheduler_folds_the_uses_older_than_a_minute() {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 100_000).await;
    let promo = promotion(&api, ten_off_over_2000(Some(1_000))).await;
    let org = app.org_id("Acme").await;
    let now = Utc::now();
    let uses: Vec<Use> = [
        now - Duration::days(3),
        now - Duration::minutes(10),
        now - Duration::seconds(20),
    ]
    .into_iter()
    .map(|at| (at, false))
    .collect();
    for (i, (at, _)) in uses.iter().enumerate() {
        write_use(&app.store, org, promo, &format!("S-{i}"), *at, false).await;
    }
    let settings = crate::helpers::test_settings(app.db.url());
    offerdesk::cli::run_jobs(&app.store, &settings, now + Duration::days(30))
        .await
        .unwrap();
    let point = fold_point(&app.store, org).await.expect("folded");
    assert!(
        point.at > now - Duration::seconds(75) && point.at <= Utc::now() - Duration::seconds(59),
        "folded to {} at {now}",
        point.at
    );
    assert_eq!(folded(&app.store, org, promo, &uses).await, 2);
}
