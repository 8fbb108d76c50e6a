//! The home page (the Overview, issue 13.16) and the health check.
//!
//! The Overview is the marketing manager's start page: live offers, redemptions and discount
//! given today and over the last 7 days against the week before (two small SVG charts drawn
//! here, as the Performance tab's), offers ending in the next 7 days, caps nearly reached,
//! background jobs and failed deliveries — each linking to where it is dealt with. Every day
//! and time is the org's; money is in the org's currency. The figures come from
//! `store::overview`, which reads pre-aggregated slots, so the page costs the same with 10M
//! coupons as with ten.

use super::auth::CurrentUser;
use super::chrome::Chrome;
use super::error::render;
use super::offers::performance::{Bar, Gridline, axis_label, nice_max, ticks};
use super::offers::{digits, today};
use super::{AppState, WebError};
use crate::domain::ids::OfferId;
use crate::domain::money::{format_amount, format_count, plural};
use crate::domain::user::Permission;
use crate::store::jobs::JobStatus;
use crate::store::masters::Overview as MasterCounts;
use crate::store::overview::{
    CAP_WARN_PERCENT, CapKind, DaySums, ENDING_WITHIN_DAYS, EndingOffer, FAILED_JOB_DAYS,
    FailedMessage, HomeOverview, NearCap, OverviewJob, RedemptionTrend, Sums, TREND_DAYS,
};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// `GET /healthz`: 200 when the database answers, 503 otherwise (OPS-3).
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ok",
            "database": state.store.backend_name(),
            // Instances alive on this database, which share each API key's rate.
            "instances": state.api.instances(),
        })),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable", "database": state.store.backend_name()}))
        }
    }
}

/// Rows shown in each list before "and N more".
const LISTED: usize = 8;

/// The comparison under a figure: "+12%" (up), "−8%" (down), "no change", "new".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub text: String,
    /// up, down, flat or new (a CSS class suffix).
    pub class: &'static str,
}

/// How `now` compares with `before`, in whole percent rounded half away from zero.
pub fn change(now: i64, before: i64) -> Change {
    if now == before {
        return Change {
            text: "no change".into(),
            class: "flat",
        };
    }
    if before == 0 {
        return Change {
            text: "new".into(),
            class: "new",
        };
    }
    let diff = i128::from(now) - i128::from(before);
    let before = i128::from(before);
    let pct = (diff.abs() * 100 + before / 2) / before;
    if diff > 0 {
        Change {
            text: format!("+{}%", format_count(pct as i64)),
            class: "up",
        }
    } else {
        Change {
            text: format!("\u{2212}{}%", format_count(pct as i64)),
            class: "down",
        }
    }
}

/// A figure with what it is compared with.
pub struct Kpi {
    pub id: &'static str,
    pub label: &'static str,
    pub value: String,
    pub change: Change,
    /// "vs 35 by this time last week".
    pub compare: String,
}

/// The chart's coordinate system (it scales to its card).
const WIDTH: i64 = 440;
const HEIGHT: i64 = 204;
const PLOT_LEFT: i64 = 50;
const PLOT_TOP: i64 = 10;
const PLOT_BOTTOM: i64 = 160;
const GROUP_WIDTH: i64 = 54;
const BAR_WIDTH: i64 = 16;
const GROUP_PAD: i64 = 10;
const BAR_GAP: i64 = 2;

/// One weekday: the week before's bar and this week's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayGroup {
    pub x: i64,
    pub width: i64,
    pub center: i64,
    pub before: Bar,
    pub this: Bar,
    /// "Tue".
    pub weekday: String,
    /// "24" (the month is in the legend and the tooltip).
    pub date: String,
    pub today: bool,
    /// "Tue 24 Nov: 12 redemptions · Tue 17 Nov: 9".
    pub title: String,
}

/// A week-on-week chart of one figure, in SVG units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekChart {
    pub width: i64,
    pub height: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub plot_top: i64,
    pub plot_bottom: i64,
    pub plot_height: i64,
    pub weekday_y: i64,
    pub date_y: i64,
    pub tick_x: i64,
    pub gridlines: Vec<Gridline>,
    pub groups: Vec<DayGroup>,
}

/// How tall a bar of `value` is on an axis topped at `max` (both in the same unit): never
/// above the plot, at least one unit for any activity.
fn bar_height(value: i64, max: i64, plot_height: i64) -> i64 {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let scaled =
        (i128::from(value) * i128::from(plot_height) + i128::from(max) / 2) / i128::from(max);
    (scaled as i64).clamp(1, plot_height)
}

impl WeekChart {
    /// The chart of `pick` over the trend's two weeks; `None` when both are all zero.
    /// `scale` is the value of one axis unit (minor units per major unit for money, 1 for
    /// counts); `label` formats an axis value in those units and `value` a figure.
    fn new(
        trend: &RedemptionTrend,
        pick: impl Fn(Sums) -> i64,
        scale: i64,
        label: impl Fn(i64) -> String,
        value: impl Fn(i64) -> String,
    ) -> Option<WeekChart> {
        let top = trend.days.iter().map(|d| pick(d.sums)).max()?;
        let top_units = top.checked_add(scale - 1)? / scale;
        let max_units = nice_max(top_units)?;
        let max = max_units.checked_mul(scale)?;
        let plot_height = PLOT_BOTTOM - PLOT_TOP;
        let gridlines = ticks(max_units)
            .into_iter()
            .map(|v| Gridline {
                y: PLOT_BOTTOM - bar_height(v, max_units, plot_height),
                label: label(v),
            })
            .collect();
        let (before, this) = (trend.week_before(), trend.this_week());
        let last = this.len() - 1;
        let groups = before
            .iter()
            .zip(this)
            .enumerate()
            .map(|(i, (b, t))| {
                let x = PLOT_LEFT + GROUP_WIDTH * i as i64;
                let bar = |offset: i64, v: i64| {
                    let height = bar_height(v, max, plot_height);
                    Bar {
                        x: x + offset,
                        y: PLOT_BOTTOM - height,
                        width: BAR_WIDTH,
                        height,
                    }
                };
                let today = i == last;
                DayGroup {
                    x,
                    width: GROUP_WIDTH,
                    center: x + GROUP_WIDTH / 2,
                    before: bar(GROUP_PAD, pick(b.sums)),
                    this: bar(GROUP_PAD + BAR_WIDTH + BAR_GAP, pick(t.sums)),
                    weekday: if today {
                        "Today".into()
                    } else {
                        t.day.format("%a").to_string()
                    },
                    date: t.day.format("%-d").to_string(),
                    today,
                    title: format!(
                        "{}{}: {} · {}: {}",
                        t.day.format("%a %-d %b"),
                        if today { " (so far)" } else { "" },
                        value(pick(t.sums)),
                        b.day.format("%a %-d %b"),
                        value(pick(b.sums)),
                    ),
                }
            })
            .collect();
        Some(WeekChart {
            width: WIDTH,
            height: HEIGHT,
            plot_left: PLOT_LEFT,
            plot_right: PLOT_LEFT + GROUP_WIDTH * this.len() as i64,
            plot_top: PLOT_TOP,
            plot_bottom: PLOT_BOTTOM,
            plot_height,
            weekday_y: PLOT_BOTTOM + 18,
            date_y: PLOT_BOTTOM + 35,
            tick_x: PLOT_LEFT - 8,
            gridlines,
            groups,
        })
    }
}

/// A chart card: its title, both weeks' totals and the chart (or an empty state).
pub struct ChartCard {
    pub id: &'static str,
    pub title: &'static str,
    pub this_total: String,
    pub before_total: String,
    pub chart: Option<WeekChart>,
}

/// A live offer ending soon.
pub struct EndingRow {
    pub id: OfferId,
    pub name: String,
    pub code: String,
    /// "Today", "Tomorrow", "Thu 3 Dec".
    pub ends: String,
    /// "last day", "in 3 days".
    pub when: String,
    pub soon: bool,
    pub issued: String,
    pub redeemed: String,
}

/// A cap nearly reached.
pub struct CapRow {
    pub offer_id: OfferId,
    pub name: String,
    pub code: String,
    /// "Redemption cap", "Issue cap".
    pub kind: &'static str,
    /// "812 of 1,000".
    pub used: String,
    pub percent: i64,
    pub reached: bool,
}

/// A job, as the Overview lists it.
pub struct JobRow {
    pub offer_id: OfferId,
    pub offer_name: String,
    pub label: &'static str,
    pub status: String,
    /// "Running", "Queued", "Receiving the file", "Failed".
    pub status_label: &'static str,
    /// "since 30 Nov, 11:02" or "failed 29 Nov, 18:40".
    pub when: String,
    /// Of a running job this instance runs.
    pub percent: Option<u64>,
}

/// A failed message.
pub struct FailedRow {
    pub kind: &'static str,
    pub channel: String,
    pub offer: Option<(OfferId, String)>,
    pub error: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct HomePage {
    chrome: Chrome,
    masters: MasterCounts,
    currency: String,
    time_zone: String,
    /// "Mon 30 Nov 2026, 11:30".
    as_of: String,
    live_offers: String,
    live_offer_count: i64,
    ending_note: String,
    kpis: Vec<Kpi>,
    /// "24 – 30 Nov" and "17 – 23 Nov".
    this_week: String,
    week_before: String,
    charts: Vec<ChartCard>,
    ending: Vec<EndingRow>,
    ending_more: usize,
    caps: Vec<CapRow>,
    caps_more: usize,
    cap_percent: i64,
    jobs: Vec<JobRow>,
    failed_job_days: i64,
    show_outbox: bool,
    failed_count_text: String,
    /// More failed than listed.
    failed_more: bool,
    failed: Vec<FailedRow>,
    can_edit: bool,
}

fn when(t: DateTime<Utc>, tz: Tz) -> String {
    crate::domain::offer::describe::time_text(t, tz)
}

fn range(days: &[DaySums]) -> String {
    match (days.first(), days.last()) {
        (Some(a), Some(b)) if a.day.format("%b").to_string() == b.day.format("%b").to_string() => {
            format!("{} – {}", a.day.format("%-d"), b.day.format("%-d %b"))
        }
        (Some(a), Some(b)) => format!("{} – {}", a.day.format("%-d %b"), b.day.format("%-d %b")),
        _ => String::new(),
    }
}

fn ending_row(o: &EndingOffer, today: NaiveDate) -> EndingRow {
    let left = (o.ends_on - today).num_days();
    EndingRow {
        id: o.id,
        name: o.name.clone(),
        code: o.offer_code.clone(),
        ends: match left {
            0 => "Today".into(),
            1 => "Tomorrow".into(),
            _ => o.ends_on.format("%a %-d %b").to_string(),
        },
        when: if left == 0 {
            "last day".into()
        } else {
            format!("in {}", plural(left, "day", "days"))
        },
        soon: left <= 1,
        issued: format_count(o.issued),
        redeemed: format_count(o.redeemed),
    }
}

fn cap_row(c: &NearCap) -> CapRow {
    CapRow {
        offer_id: c.offer_id,
        name: c.name.clone(),
        code: c.offer_code.clone(),
        kind: match c.kind {
            CapKind::Redemption => "Redemption cap",
            CapKind::Issual => "Issue cap",
        },
        used: format!("{} of {}", format_count(c.used), format_count(c.cap)),
        percent: c.percent().min(100),
        reached: c.reached(),
    }
}

fn job_row(j: &OverviewJob, state: &AppState, tz: Tz) -> JobRow {
    let (status_label, at) = match j.status {
        JobStatus::Running => ("Running", j.started_at.unwrap_or(j.created_at)),
        JobStatus::Queued => ("Queued", j.created_at),
        JobStatus::Receiving => ("Receiving the file", j.created_at),
        JobStatus::Done => ("Done", j.finished_at.unwrap_or(j.created_at)),
        JobStatus::Failed => ("Failed", j.finished_at.unwrap_or(j.created_at)),
    };
    let percent = match (j.status, state.jobs.progress(j.id)) {
        (JobStatus::Running, Some((done, total))) if total > 0 => {
            Some((done * 100 / total).min(100))
        }
        _ => None,
    };
    JobRow {
        offer_id: j.offer_id,
        offer_name: j.offer_name.clone(),
        label: j.kind.label(),
        status: j.status.as_str().to_string(),
        status_label,
        // The badge says "Failed"; the time says when ("at …"), or since when it runs.
        when: format!(
            "{} {}",
            if j.status.finished() { "at" } else { "since" },
            when(at, tz)
        ),
        percent,
    }
}

fn failed_row(m: &FailedMessage, tz: Tz) -> FailedRow {
    FailedRow {
        kind: match m.kind.as_str() {
            "poc_reminder" => "Offer-expiry reminder to a POC",
            "coupon_reminder" => "Coupon-expiry reminder",
            "resend" => "Coupon resend",
            "issued" => "Coupon issued",
            "share" => "Shared coupon",
            "referral" => "Referral reward",
            "earned" => "Promotion earned",
            "hold_reminder" => "Earned promotion reminder",
            "expiry_notice" => "Coupon expired notice",
            _ => "Message",
        },
        channel: m.channel.to_ascii_uppercase(),
        offer: m.offer_id.zip(m.offer_name.clone()),
        error: m.last_error.clone().unwrap_or_default(),
        when: when(m.failed_at, tz),
    }
}

/// The figures and the two charts.
fn figures(trend: &RedemptionTrend, currency: &str, digits: u32) -> (Vec<Kpi>, Vec<ChartCard>) {
    let money = |minor: i64| format_amount(minor, currency, digits);
    let (today, a_week_ago) = (trend.today(), trend.today_a_week_ago);
    let (week, before) = (trend.this_week_sums(), trend.week_before_to_now());
    let kpis = vec![
        Kpi {
            id: "redemptions-today",
            label: "Redemptions today",
            value: format_count(today.redemptions),
            change: change(today.redemptions, a_week_ago.redemptions),
            compare: format!(
                "vs {} by this time last week",
                format_count(a_week_ago.redemptions)
            ),
        },
        Kpi {
            id: "discount-today",
            label: "Discount given today",
            value: money(today.discount),
            change: change(today.discount, a_week_ago.discount),
            compare: format!("vs {} by this time last week", money(a_week_ago.discount)),
        },
        Kpi {
            id: "redemptions-week",
            label: "Redemptions, last 7 days",
            value: format_count(week.redemptions),
            change: change(week.redemptions, before.redemptions),
            compare: format!("vs {} the week before", format_count(before.redemptions)),
        },
        Kpi {
            id: "discount-week",
            label: "Discount given, last 7 days",
            value: money(week.discount),
            change: change(week.discount, before.discount),
            compare: format!("vs {} the week before", money(before.discount)),
        },
    ];
    let total =
        |days: &[DaySums], pick: fn(Sums) -> i64| days.iter().map(|d| pick(d.sums)).sum::<i64>();
    let scale = 10i64.pow(digits);
    // "₹" or "AED ": the currency as format_amount writes it before the number.
    let symbol = format_amount(0, currency, 0);
    let symbol = symbol.trim_end_matches('0').to_string();
    let charts = vec![
        ChartCard {
            id: "chart-redemptions",
            title: "Redemptions per day",
            this_total: format_count(total(trend.this_week(), |s| s.redemptions)),
            before_total: format_count(total(trend.week_before(), |s| s.redemptions)),
            chart: WeekChart::new(
                trend,
                |s| s.redemptions,
                1,
                axis_label,
                |v| plural(v, "redemption", "redemptions"),
            ),
        },
        ChartCard {
            id: "chart-discount",
            title: "Discount given per day",
            this_total: money(total(trend.this_week(), |s| s.discount)),
            before_total: money(total(trend.week_before(), |s| s.discount)),
            chart: WeekChart::new(
                trend,
                |s| s.discount,
                scale,
                |v| format!("{symbol}{}", axis_label(v)),
                money,
            ),
        },
    ];
    (kpis, charts)
}

pub async fn home(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let tz = user.time_zone;
    let now = Utc::now();
    let today_local = today(&user);
    let show_outbox = user.can(Permission::ServeCustomers);
    let masters = state.store.overview(user.org_id).await?;
    let HomeOverview {
        live_offers,
        trend,
        ending,
        caps,
        jobs,
        failed_messages,
        failed,
    } = state
        .store
        .home_overview(user.org_id, tz, now, show_outbox)
        .await?;
    let (kpis, charts) = figures(&trend, user.currency.code(), digits(&user));
    debug_assert_eq!(trend.days.len(), TREND_DAYS);
    let ending_note = match ending.len() {
        0 => format!("none ends in the next {ENDING_WITHIN_DAYS} days"),
        n => format!(
            "{} in the next {ENDING_WITHIN_DAYS} days",
            plural(n as i64, "ends", "end")
        ),
    };
    render(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::new(&user, &session, "home"),
            masters,
            currency: user.currency.code().to_string(),
            time_zone: tz.name().to_string(),
            as_of: now
                .with_timezone(&tz)
                .format("%a %-d %b %Y, %H:%M")
                .to_string(),
            live_offers: format_count(live_offers),
            live_offer_count: live_offers,
            ending_note,
            kpis,
            this_week: range(trend.this_week()),
            week_before: range(trend.week_before()),
            charts,
            ending_more: ending.len().saturating_sub(LISTED),
            ending: ending
                .iter()
                .take(LISTED)
                .map(|o| ending_row(o, today_local))
                .collect(),
            caps_more: caps.len().saturating_sub(LISTED),
            caps: caps.iter().take(LISTED).map(cap_row).collect(),
            cap_percent: CAP_WARN_PERCENT,
            jobs: jobs.iter().map(|j| job_row(j, &state, tz)).collect(),
            failed_job_days: FAILED_JOB_DAYS,
            show_outbox,
            failed_count_text: format_count(failed_messages),
            failed_more: failed_messages > failed.len() as i64,
            failed: failed.iter().map(|m| failed_row(m, tz)).collect(),
            can_edit: user.can(Permission::EditOffers),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn trend(before: [i64; 7], this: [i64; 7]) -> RedemptionTrend {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let days = before
            .iter()
            .chain(this.iter())
            .enumerate()
            .map(|(i, n)| DaySums {
                day: today - Duration::days(13 - i as i64),
                sums: Sums {
                    redemptions: *n,
                    discount: n * 15_050,
                },
            })
            .collect();
        RedemptionTrend {
            days,
            today_a_week_ago: Sums::default(),
        }
    }

    #[test]
    fn changes_are_whole_percent_with_a_sign() {
        assert_eq!(change(12, 10).text, "+20%");
        assert_eq!(change(12, 10).class, "up");
        assert_eq!(change(9, 12).text, "\u{2212}25%");
        assert_eq!(change(9, 12).class, "down");
        assert_eq!(change(5, 5).text, "no change");
        assert_eq!(change(0, 0).class, "flat");
        assert_eq!(change(3, 0).text, "new");
        assert_eq!(change(0, 4).text, "\u{2212}100%");
        assert_eq!(change(2, 3).text, "\u{2212}33%");
    }

    #[test]
    fn no_redemptions_in_either_week_is_no_chart() {
        let t = trend([0; 7], [0; 7]);
        assert!(WeekChart::new(&t, |s| s.redemptions, 1, axis_label, |v| v.to_string()).is_none());
    }

    #[test]
    fn seven_pairs_of_bars_ending_today() {
        let t = trend([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 9]);
        let c = WeekChart::new(&t, |s| s.redemptions, 1, axis_label, |v| v.to_string()).unwrap();
        assert_eq!(c.groups.len(), 7);
        assert_eq!(c.gridlines.last().unwrap().label, "10");
        let last = &c.groups[6];
        assert!(last.today);
        assert_eq!(last.weekday, "Today");
        assert_eq!(last.date, "30");
        assert_eq!(last.title, "Mon 30 Nov (so far): 9 · Mon 23 Nov: 7");
        assert!(last.this.x + last.this.width <= c.plot_right);
        assert_eq!(c.groups[0].this.height, 0);
        for g in &c.groups {
            for b in [g.before, g.this] {
                assert!(b.y >= c.plot_top && b.y + b.height == c.plot_bottom);
            }
        }
    }

    #[test]
    fn the_money_axis_is_in_whole_currency_units() {
        // 9 × ₹150.50 = ₹1,354.50 at most: the axis tops at ₹1.5k.
        let t = trend([0; 7], [0, 0, 0, 0, 0, 0, 9]);
        let c = WeekChart::new(
            &t,
            |s| s.discount,
            100,
            |v| format!("₹{}", axis_label(v)),
            |v| format_amount(v, "INR", 2),
        )
        .unwrap();
        assert_eq!(c.gridlines.last().unwrap().label, "₹1.5k");
        assert!(c.groups[6].title.contains("₹1,354.50"));
        assert!(c.groups[6].this.height < c.plot_height);
    }
}
