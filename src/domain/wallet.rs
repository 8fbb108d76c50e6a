//! A customer's wallet (issue #18, WAL-1): the coupons issued to them — unique and common codes
//! alike, one entry per coupon — each in one state on a day of the org's calendar, the active
//! ones best first and the rest newest first. No I/O: `store::wallet` reads the rows,
//! `app::wallet` puts them through [`wallet`].
//!
//! A coupon's state on `today` (the first rule that holds):
//! 1. **Shared** — a unique coupon that now belongs to another customer (its owner shared it
//!    and the friend took it over: `coupons.customer_id` is no longer the issual's customer).
//! 2. **Revoked** — the coupon was revoked.
//! 3. **Used** — a unique coupon redeemed; or, for a common code (and any offer a coupon of
//!    which may be redeemed more than once), the customer has redeemed the offer as often as
//!    one customer may (`customer_redemptions` against the per-customer limit).
//! 4. **Expired** — past its last valid day: the coupon's own `valid_till` or the offer's end,
//!    whichever comes first (seed 002: "A coupon expires immediately if the end date for the
//!    promotion is passed").
//! 5. **Active** — otherwise (also when its redemption starts on a later day:
//!    `redeemable_from` says when).
//!
//! **Best first** (active coupons, no cart known): see [`best_first`].

use super::ids::{CustomerId, OfferId};
use super::offer::describe::{Names, scope_text};
use super::offer::{Discount, RedemptionStart, ScopeKind};
use super::redeem::CouponStatus;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

/// Where a coupon stands for its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalletState {
    Active,
    Used,
    Expired,
    Revoked,
    /// Moved to a friend the customer shared it with.
    Shared,
}

impl WalletState {
    /// Stable, lower case (API, CSS classes).
    pub fn as_str(self) -> &'static str {
        match self {
            WalletState::Active => "active",
            WalletState::Used => "used",
            WalletState::Expired => "expired",
            WalletState::Revoked => "revoked",
            WalletState::Shared => "shared",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            WalletState::Active => "Ready to use",
            WalletState::Used => "Used",
            WalletState::Expired => "Expired",
            WalletState::Revoked => "Withdrawn",
            WalletState::Shared => "Given to a friend",
        }
    }
}

/// A coupon as the wallet shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletCoupon {
    pub coupon_id: i64,
    /// What the customer names at the till (the common code for a common-code offer).
    pub code: String,
    pub offer_id: OfferId,
    pub offer_name: String,
    /// "15% off, at most ₹500" (`Discount::words`).
    pub discount_words: String,
    /// The last day it can be used: the coupon's own last day or the offer's end, whichever
    /// comes first; `None` when neither is set.
    pub valid_till: Option<NaiveDate>,
    /// When this customer got it (their issual).
    pub issued_at: DateTime<Utc>,
    pub state: WalletState,
    /// A common code: one code everyone of the offer's customers uses.
    pub common: bool,
    /// Where it can be used, plain words: "at any store", "at stores Andheri and Bandra".
    pub where_words: String,
    /// The offer may be shared (`offer_sharing.shareable`), the coupon is active and not a
    /// common code.
    pub shareable: bool,
    // Additions to the shared interface:
    /// The discount itself (ordering, amounts for the till).
    pub discount: Discount,
    /// The offer's point-of-sale code, shown to cashiers.
    pub pos_code: Option<String>,
    /// The first day it can be redeemed, when that is after today (an offer that starts some
    /// days after issue, or on a date); `None` when it can be used today.
    pub redeemable_from: Option<NaiveDate>,
}

/// The wallet: active coupons best first, the others (used, expired, revoked, shared) newest
/// first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wallet {
    pub active: Vec<WalletCoupon>,
    pub history: Vec<WalletCoupon>,
}

/// One issual of a coupon to the customer, with what its state depends on, as the store reads
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRow {
    pub issual_id: i64,
    /// The customer the issual is for (the wallet's owner).
    pub holder: CustomerId,
    pub issued_at: DateTime<Utc>,
    pub coupon_id: i64,
    pub code: String,
    pub status: CouponStatus,
    /// Whom the coupon belongs to now (`None` for a common code's one coupon).
    pub owner: Option<CustomerId>,
    /// The coupon's last valid day: for a common code, this issual's; else the coupon's.
    pub valid_till: Option<NaiveDate>,
    pub offer_id: OfferId,
    pub offer_name: String,
    pub pos_code: Option<String>,
    pub discount: Discount,
    pub common: bool,
    /// A coupon of the offer may be redeemed more than once.
    pub multiple: bool,
    /// The offer's last day (its end date, or its claiming campaign's), if it has one.
    pub offer_ends_on: Option<NaiveDate>,
    pub start: RedemptionStart,
    /// How often one customer may redeem the offer (`store::outbox::COMMON_LIMIT`), `None` for
    /// no limit.
    pub customer_limit: Option<i64>,
    /// How often this customer has redeemed the offer (`customer_redemptions`).
    pub customer_uses: i64,
    /// `offer_sharing.shareable`.
    pub shareable: bool,
    /// The offer's stores, tills, zones and concepts (empty: anywhere).
    pub scope: Vec<(ScopeKind, i64)>,
}

/// The row's last valid day: its own or the offer's end, whichever comes first.
pub fn last_day(row: &WalletRow) -> Option<NaiveDate> {
    match (row.valid_till, row.offer_ends_on) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The state of one issual on `today` (org calendar); the rules are at the top of the module.
pub fn classify(row: &WalletRow, today: NaiveDate) -> WalletState {
    if !row.common && row.owner.is_some_and(|o| o != row.holder) {
        return WalletState::Shared;
    }
    if row.status == CouponStatus::Revoked {
        return WalletState::Revoked;
    }
    // Per-customer uses count where redemption keeps them: common codes and offers whose
    // coupons may be redeemed more than once (a single-use unique coupon is `redeemed`).
    let counted = row.common || row.multiple;
    if row.status == CouponStatus::Redeemed
        || (counted && row.customer_limit.is_some_and(|l| row.customer_uses >= l))
    {
        return WalletState::Used;
    }
    if last_day(row).is_some_and(|last| last < today) {
        return WalletState::Expired;
    }
    WalletState::Active
}

/// The first day the coupon can be redeemed, if after `today`.
fn redeemable_from(row: &WalletRow, issued_on: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let start = match row.start {
        RedemptionStart::OnIssue => return None,
        RedemptionStart::DaysAfterIssue(n) => issued_on + Duration::days(i64::from(n)),
        RedemptionStart::OnDate(d) => d,
    };
    (start > today).then_some(start)
}

/// How active coupons are ordered when no cart is known, best first:
/// 1. coupons that can be used today before those whose redemption starts later (earliest
///    start first);
/// 2. fixed amounts before percentages (an amount is a known saving; a percentage depends on
///    the bill);
/// 3. fixed amounts by amount, largest first; percentages by percentage, largest first, then
///    by cap, uncapped first and then the larger cap;
/// 4. ties: the one that expires first (no expiry last), then the one issued first (lowest
///    coupon id).
pub fn best_first(a: &WalletCoupon, b: &WalletCoupon) -> Ordering {
    fn worth(d: &Discount) -> (u8, Reverse<i64>, Reverse<i64>) {
        match *d {
            Discount::Fixed { amount } => (0, Reverse(amount), Reverse(0)),
            Discount::Percent { basis_points, cap } => {
                (1, Reverse(basis_points), Reverse(cap.unwrap_or(i64::MAX)))
            }
        }
    }
    let starts = |c: &WalletCoupon| (c.redeemable_from.is_some(), c.redeemable_from);
    let expiry = |c: &WalletCoupon| (c.valid_till.is_none(), c.valid_till);
    starts(a)
        .cmp(&starts(b))
        .then_with(|| worth(&a.discount).cmp(&worth(&b.discount)))
        .then_with(|| expiry(a).cmp(&expiry(b)))
        .then_with(|| a.coupon_id.cmp(&b.coupon_id))
}

/// "at any store", "at stores Andheri and Bandra and zone West" — the offer description's
/// words (`describe::scope_text`); `names` holds the scope's names (a missing one reads `#id`).
pub fn where_words(
    scope: &[(ScopeKind, i64)],
    names: &HashMap<(ScopeKind, i64), String>,
) -> String {
    let n = Names {
        scope: names.clone(),
        ..Names::default()
    };
    scope_text(scope, &n)
}

/// The wallet of the rows' customer on `now` in the org's zone `tz`; amounts in `currency`
/// with `digits` minor digits; `scope_names` names the offers' stores, tills, zones and
/// concepts. A coupon issued to the customer more than once (a common code issued again, a
/// coupon shared back) is one entry: its latest issual.
pub fn wallet(
    rows: Vec<WalletRow>,
    now: DateTime<Utc>,
    tz: Tz,
    currency: &str,
    digits: u32,
    scope_names: &HashMap<(ScopeKind, i64), String>,
) -> Wallet {
    let today = now.with_timezone(&tz).date_naive();
    let mut latest: HashMap<i64, WalletRow> = HashMap::new();
    for row in rows {
        match latest.get(&row.coupon_id) {
            Some(kept) if kept.issual_id > row.issual_id => {}
            _ => {
                latest.insert(row.coupon_id, row);
            }
        }
    }
    let mut w = Wallet::default();
    for row in latest.into_values() {
        let state = classify(&row, today);
        let issued_on = row.issued_at.with_timezone(&tz).date_naive();
        let coupon = WalletCoupon {
            coupon_id: row.coupon_id,
            code: row.code.clone(),
            offer_id: row.offer_id,
            offer_name: row.offer_name.clone(),
            discount_words: row.discount.words(currency, digits),
            valid_till: last_day(&row),
            issued_at: row.issued_at,
            state,
            common: row.common,
            where_words: where_words(&row.scope, scope_names),
            shareable: row.shareable && state == WalletState::Active && !row.common,
            discount: row.discount,
            pos_code: row.pos_code.clone(),
            redeemable_from: if state == WalletState::Active {
                redeemable_from(&row, issued_on, today)
            } else {
                None
            },
        };
        if state == WalletState::Active {
            w.active.push(coupon);
        } else {
            w.history.push(coupon);
        }
    }
    w.active.sort_by(best_first);
    w.history.sort_by(|a, b| {
        b.issued_at
            .cmp(&a.issued_at)
            .then_with(|| b.coupon_id.cmp(&a.coupon_id))
    });
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const ME: CustomerId = CustomerId(7);
    const FRIEND: CustomerId = CustomerId(8);

    fn row(id: i64) -> WalletRow {
        WalletRow {
            issual_id: id,
            holder: ME,
            issued_at: Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap(),
            coupon_id: id,
            code: format!("CODE{id}"),
            status: CouponStatus::Issued,
            owner: Some(ME),
            valid_till: Some(d(2026, 12, 31)),
            offer_id: OfferId(id),
            offer_name: format!("Offer {id}"),
            pos_code: None,
            discount: Discount::Fixed { amount: 10_000 },
            common: false,
            multiple: false,
            offer_ends_on: None,
            start: RedemptionStart::OnIssue,
            customer_limit: Some(1),
            customer_uses: 0,
            shareable: false,
            scope: Vec::new(),
        }
    }

    fn common(id: i64) -> WalletRow {
        WalletRow {
            common: true,
            owner: None,
            status: CouponStatus::Unissued,
            ..row(id)
        }
    }

    #[test]
    fn each_row_is_classified_by_the_first_rule_that_holds() {
        let today = d(2026, 12, 1);
        let cases: Vec<(&str, WalletRow, WalletState)> = vec![
            ("issued, in date", row(1), WalletState::Active),
            (
                "last day is today",
                WalletRow {
                    valid_till: Some(today),
                    ..row(1)
                },
                WalletState::Active,
            ),
            (
                "past its last day",
                WalletRow {
                    valid_till: Some(d(2026, 11, 30)),
                    ..row(1)
                },
                WalletState::Expired,
            ),
            (
                "the offer ended before the coupon's own last day",
                WalletRow {
                    offer_ends_on: Some(d(2026, 11, 30)),
                    ..row(1)
                },
                WalletState::Expired,
            ),
            (
                "no expiry at all",
                WalletRow {
                    valid_till: None,
                    ..row(1)
                },
                WalletState::Active,
            ),
            (
                "redeemed",
                WalletRow {
                    status: CouponStatus::Redeemed,
                    ..row(1)
                },
                WalletState::Used,
            ),
            (
                "revoked",
                WalletRow {
                    status: CouponStatus::Revoked,
                    ..row(1)
                },
                WalletState::Revoked,
            ),
            (
                "revoked and expired",
                WalletRow {
                    status: CouponStatus::Revoked,
                    valid_till: Some(d(2026, 1, 1)),
                    ..row(1)
                },
                WalletState::Revoked,
            ),
            (
                "redeemed and expired: used",
                WalletRow {
                    status: CouponStatus::Redeemed,
                    valid_till: Some(d(2026, 1, 1)),
                    ..row(1)
                },
                WalletState::Used,
            ),
            (
                "moved to a friend",
                WalletRow {
                    owner: Some(FRIEND),
                    ..row(1)
                },
                WalletState::Shared,
            ),
            (
                "moved to a friend who redeemed it",
                WalletRow {
                    owner: Some(FRIEND),
                    status: CouponStatus::Redeemed,
                    ..row(1)
                },
                WalletState::Shared,
            ),
            ("common code, unused", common(2), WalletState::Active),
            (
                "common code used once of once",
                WalletRow {
                    customer_uses: 1,
                    ..common(2)
                },
                WalletState::Used,
            ),
            (
                "common code used once of three",
                WalletRow {
                    customer_uses: 1,
                    customer_limit: Some(3),
                    multiple: true,
                    ..common(2)
                },
                WalletState::Active,
            ),
            (
                "common code without a per-customer limit",
                WalletRow {
                    customer_uses: 40,
                    customer_limit: None,
                    multiple: true,
                    ..common(2)
                },
                WalletState::Active,
            ),
            (
                "common code revoked",
                WalletRow {
                    status: CouponStatus::Revoked,
                    ..common(2)
                },
                WalletState::Revoked,
            ),
            (
                "common code issued (status)",
                WalletRow {
                    status: CouponStatus::Issued,
                    ..common(2)
                },
                WalletState::Active,
            ),
            (
                "common code past this customer's last day",
                WalletRow {
                    valid_till: Some(d(2026, 11, 2)),
                    ..common(2)
                },
                WalletState::Expired,
            ),
            (
                "unique multi-use coupon at the per-customer maximum",
                WalletRow {
                    multiple: true,
                    customer_limit: Some(2),
                    customer_uses: 2,
                    ..row(3)
                },
                WalletState::Used,
            ),
            (
                "single-use unique coupon: customer counts do not apply",
                WalletRow {
                    customer_uses: 5,
                    ..row(3)
                },
                WalletState::Active,
            ),
        ];
        for (what, r, want) in cases {
            assert_eq!(classify(&r, today), want, "{what}");
        }
    }

    #[test]
    fn active_coupons_come_best_first_by_the_documented_rule() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        let fixed = |amount| Discount::Fixed { amount };
        let pct = |bp, cap| Discount::Percent {
            basis_points: bp,
            cap,
        };
        // (coupon id, discount, last day, start) in the order the wallet must list them.
        let want: Vec<(i64, Discount, Option<NaiveDate>, RedemptionStart)> = vec![
            (
                5,
                fixed(50_000),
                Some(d(2026, 12, 31)),
                RedemptionStart::OnIssue,
            ),
            (
                3,
                fixed(20_000),
                Some(d(2026, 12, 10)),
                RedemptionStart::OnIssue,
            ),
            (
                1,
                fixed(20_000),
                Some(d(2026, 12, 20)),
                RedemptionStart::OnIssue,
            ),
            (9, fixed(20_000), None, RedemptionStart::OnIssue),
            (
                2,
                pct(2_500, None),
                Some(d(2026, 12, 31)),
                RedemptionStart::OnIssue,
            ),
            (
                4,
                pct(2_000, None),
                Some(d(2026, 12, 31)),
                RedemptionStart::OnIssue,
            ),
            (
                6,
                pct(2_000, Some(50_000)),
                Some(d(2026, 12, 31)),
                RedemptionStart::OnIssue,
            ),
            (
                7,
                pct(2_000, Some(10_000)),
                Some(d(2026, 12, 5)),
                RedemptionStart::OnIssue,
            ),
            (
                8,
                pct(2_000, Some(10_000)),
                Some(d(2026, 12, 5)),
                RedemptionStart::OnIssue,
            ),
            (
                10,
                fixed(90_000),
                None,
                RedemptionStart::OnDate(d(2026, 12, 3)),
            ),
            (11, fixed(90_000), None, RedemptionStart::DaysAfterIssue(40)),
        ];
        let mut rows: Vec<WalletRow> = want
            .iter()
            .map(|(id, discount, till, start)| WalletRow {
                discount: *discount,
                valid_till: *till,
                start: *start,
                ..row(*id)
            })
            .collect();
        rows.reverse();
        let w = wallet(rows, now, chrono_tz::UTC, "INR", 2, &HashMap::new());
        assert!(w.history.is_empty());
        let got: Vec<i64> = w.active.iter().map(|c| c.coupon_id).collect();
        let order: Vec<i64> = want.iter().map(|w| w.0).collect();
        assert_eq!(got, order);
        assert_eq!(w.active[0].discount_words, "₹500 off");
        assert_eq!(w.active[6].discount_words, "20% off, at most ₹500");
        assert_eq!(w.active[9].redeemable_from, Some(d(2026, 12, 3)));
        assert_eq!(w.active[10].redeemable_from, Some(d(2026, 12, 11)));
        assert_eq!(w.active[0].redeemable_from, None);
    }

    #[test]
    fn history_is_newest_first_and_a_coupon_issued_twice_is_listed_once() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        let at = |day| Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap();
        let rows = vec![
            WalletRow {
                issued_at: at(3),
                status: CouponStatus::Redeemed,
                ..row(1)
            },
            WalletRow {
                issued_at: at(5),
                valid_till: Some(d(2026, 11, 20)),
                ..row(2)
            },
            WalletRow {
                issued_at: at(4),
                status: CouponStatus::Revoked,
                ..row(3)
            },
            // A common code issued on the 2nd (expired) and again on the 6th (active).
            WalletRow {
                issual_id: 40,
                issued_at: at(2),
                valid_till: Some(d(2026, 11, 10)),
                ..common(4)
            },
            WalletRow {
                issual_id: 41,
                issued_at: at(6),
                valid_till: Some(d(2026, 12, 10)),
                ..common(4)
            },
        ];
        let w = wallet(rows, now, chrono_tz::UTC, "INR", 2, &HashMap::new());
        let history: Vec<(i64, WalletState)> =
            w.history.iter().map(|c| (c.coupon_id, c.state)).collect();
        assert_eq!(
            history,
            [
                (2, WalletState::Expired),
                (3, WalletState::Revoked),
                (1, WalletState::Used)
            ]
        );
        assert_eq!(w.active.len(), 1);
        assert_eq!(w.active[0].coupon_id, 4);
        assert_eq!(w.active[0].issued_at, at(6));
        assert!(w.active[0].common);
    }

    #[test]
    fn shareable_only_for_active_unique_coupons_of_a_shareable_offer() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        let rows = vec![
            WalletRow {
                shareable: true,
                ..row(1)
            },
            WalletRow {
                shareable: true,
                ..common(2)
            },
            WalletRow {
                shareable: true,
                status: CouponStatus::Redeemed,
                ..row(3)
            },
            WalletRow {
                shareable: true,
                owner: Some(FRIEND),
                ..row(4)
            },
            row(5),
        ];
        let w = wallet(rows, now, chrono_tz::UTC, "INR", 2, &HashMap::new());
        let all: Vec<(i64, bool)> = w
            .active
            .iter()
            .chain(&w.history)
            .map(|c| (c.coupon_id, c.shareable))
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_iter()
            .collect();
        assert_eq!(
            all,
            [(1, true), (2, false), (3, false), (4, false), (5, false)]
        );
        assert_eq!(
            w.history.iter().find(|c| c.coupon_id == 4).unwrap().state,
            WalletState::Shared
        );
    }

    #[test]
    fn where_it_can_be_used_reads_like_the_offer_description() {
        let names: HashMap<(ScopeKind, i64), String> = [
            ((ScopeKind::Store, 1), "Andheri".to_string()),
            ((ScopeKind::Store, 2), "Bandra".to_string()),
            ((ScopeKind::Zone, 9), "West".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(where_words(&[], &names), "at any store");
        assert_eq!(
            where_words(
                &[
                    (ScopeKind::Store, 2),
                    (ScopeKind::Store, 1),
                    (ScopeKind::Zone, 9)
                ],
                &names
            ),
            "at stores Andheri and Bandra and zone West"
        );
        assert_eq!(where_words(&[(ScopeKind::Till, 4)], &names), "at till #4");
    }

    #[test]
    fn the_day_is_the_orgs() {
        // 23:30 UTC on 30 Nov is 1 Dec in Kolkata: a coupon valid through 30 Nov has expired.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
        let r = WalletRow {
            valid_till: Some(d(2026, 11, 30)),
            ..row(1)
        };
        let w = wallet(
            vec![r.clone()],
            now,
            chrono_tz::Asia::Kolkata,
            "INR",
            2,
            &HashMap::new(),
        );
        assert_eq!(w.history[0].state, WalletState::Expired);
        let w = wallet(vec![r], now, chrono_tz::UTC, "INR", 2, &HashMap::new());
        assert_eq!(w.active[0].state, WalletState::Active);
        assert_eq!(WalletState::Shared.label(), "Given to a friend");
    }
}
