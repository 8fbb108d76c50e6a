//! The offer page's Performance tab (OFF-5): the figures, formatted, and the geometry of the
//! per-day chart, which the template draws as inline SVG (no script, no chart library).

use crate::domain::money::{format_amount, format_count};
use crate::store::offers::OfferRecord;
use crate::store::performance::{DayActivity, Performance, StoreActivity};
use crate::web::offers::page::redemption_rate;
use chrono_tz::Tz;

/// The SVG's coordinate system (it scales to the card's width).
const WIDTH: i64 = 900;
const HEIGHT: i64 = 262;
/// Room on the left for the y labels, below for the x labels.
const PLOT_LEFT: i64 = 52;
const PLOT_TOP: i64 = 12;
const PLOT_BOTTOM: i64 = 228;
/// Width of one day's column; the two bars and the gaps around them fill it.
const DAY_WIDTH: i64 = 28;
const BAR_GAP: i64 = 4;
const BAR_WIDTH: i64 = 10;
/// An x label every this many days, counted back from today.
const LABEL_EVERY: usize = 5;

/// One horizontal gridline of the y axis and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gridline {
    pub y: i64,
    pub label: String,
}

/// A bar in SVG units; a zero `height` is not drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// One day's column: the hover area, two bars, the tooltip and maybe an x label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayColumn {
    pub x: i64,
    pub width: i64,
    pub center: i64,
    pub issued: Bar,
    pub redeemed: Bar,
    /// "23 Nov: 120 issued, 45 redeemed".
    pub title: String,
    /// "23 Nov" every few days, the last one today.
    pub label: Option<String>,
}

/// The chart of issues and redemptions per day, in SVG units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub plot_top: i64,
    pub plot_bottom: i64,
    pub plot_height: i64,
    /// Where the x labels sit and where the y labels end.
    pub label_y: i64,
    pub tick_x: i64,
    /// The value at the top of the y axis.
    pub max: i64,
    /// From the baseline up.
    pub gridlines: Vec<Gridline>,
    pub days: Vec<DayColumn>,
}

/// The smallest round number ≥ `n` for the top of an axis (1, 2, 5, 10, 15, 20, 25, 50, 100,
/// 150, …); `None` for 0 — nothing to draw.
pub fn nice_max(n: i64) -> Option<i64> {
    if n <= 0 {
        return None;
    }
    let mut scale: i64 = 1;
    loop {
        // Mantissas ×10 so that 1.5 and 2.5 stay integers; below 10 only whole ones fit.
        for m in [10i64, 15, 20, 25, 50] {
            let candidate = m.checked_mul(scale)?;
            if candidate % 10 == 0 && candidate / 10 >= n {
                return Some(candidate / 10);
            }
        }
        scale = scale.checked_mul(10)?;
    }
}

/// Whether `step` is 1, 2, 2.5 or 5 times a power of ten (and whole).
fn is_round_step(mut step: i64) -> bool {
    while step >= 10 && step % 10 == 0 {
        step /= 10;
    }
    matches!(step, 1 | 2 | 5 | 25)
}

/// The gridline values from 0 to `max`: at most five round steps.
pub fn ticks(max: i64) -> Vec<i64> {
    let intervals = [5, 4, 3, 2, 1]
        .into_iter()
        .find(|n| max % n == 0 && is_round_step(max / n))
        .unwrap_or(1);
    (0..=intervals).map(|i| max / intervals * i).collect()
}

/// A short axis label: 750, 1.5k, 250k, 1.25M.
pub fn axis_label(v: i64) -> String {
    let short = |unit: i64, suffix: &str| {
        let whole = v / unit;
        let frac = (v % unit) * 100 / unit;
        if frac == 0 {
            format!("{whole}{suffix}")
        } else {
            let frac = format!("{frac:02}");
            format!("{whole}.{}{suffix}", frac.trim_end_matches('0'))
        }
    };
    match v {
        1_000_000.. => short(1_000_000, "M"),
        1_000.. => short(1_000, "k"),
        _ => v.to_string(),
    }
}

/// How tall a bar of `value` is on an axis topped at `max`: never above the plot, and at
/// least one unit for any activity so that a single redemption shows.
fn bar_height(value: i64, max: i64, plot_height: i64) -> i64 {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let scaled =
        (i128::from(value) * i128::from(plot_height) + i128::from(max) / 2) / i128::from(max);
    (scaled as i64).clamp(1, plot_height)
}

fn day_label(day: chrono::NaiveDate) -> String {
    day.format("%-d %b").to_string()
}

impl Chart {
    /// The chart of `days` (in date order, the last one today); `None` when every day is zero.
    pub fn new(days: &[DayActivity]) -> Option<Chart> {
        let top = days.iter().map(|d| d.issued.max(d.redeemed)).max()?;
        let max = nice_max(top)?;
        let plot_height = PLOT_BOTTOM - PLOT_TOP;
        let y_of = |v: i64| PLOT_BOTTOM - bar_height(v, max, plot_height);
        let gridlines = ticks(max)
            .into_iter()
            .map(|v| Gridline {
                y: y_of(v),
                label: axis_label(v),
            })
            .collect();
        let last = days.len() - 1;
        let columns = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let x = PLOT_LEFT + DAY_WIDTH * i as i64;
                let bar = |offset: i64, value: i64| {
                    let height = bar_height(value, max, plot_height);
                    Bar {
                        x: x + offset,
                        y: PLOT_BOTTOM - height,
                        width: BAR_WIDTH,
                        height,
                    }
                };
                DayColumn {
                    x,
                    width: DAY_WIDTH,
                    center: x + DAY_WIDTH / 2,
                    issued: bar(BAR_GAP, d.issued),
                    redeemed: bar(BAR_GAP + BAR_WIDTH, d.redeemed),
                    title: format!(
                        "{}: {} issued, {} redeemed",
                        day_label(d.day),
                        format_count(d.issued),
                        format_count(d.redeemed)
                    ),
                    label: (last - i)
                        .is_multiple_of(LABEL_EVERY)
                        .then(|| day_label(d.day)),
                }
            })
            .collect();
        Some(Chart {
            width: WIDTH,
            height: HEIGHT,
            plot_left: PLOT_LEFT,
            plot_right: PLOT_LEFT + DAY_WIDTH * days.len() as i64,
            plot_top: PLOT_TOP,
            plot_bottom: PLOT_BOTTOM,
            plot_height,
            label_y: PLOT_BOTTOM + 20,
            tick_x: PLOT_LEFT - 8,
            max,
            gridlines,
            days: columns,
        })
    }
}

/// A day with activity, for the table under the chart.
pub struct DayRow {
    pub day: String,
    pub issued: String,
    pub redeemed: String,
    pub discount: String,
}

/// A row of "Top stores".
pub struct StoreRow {
    pub name: String,
    pub code: String,
    pub redemptions: String,
    pub discount: String,
}

/// The Performance tab, formatted for the template.
pub struct PerformanceTab {
    /// For a one-common-code offer, what matters instead of issued/rate: redemptions against
    /// the cap and the customers who used it.
    pub common: Option<CommonFigures>,
    /// All time, from the offer's counters (as the Information tab).
    pub issued: String,
    pub redeemed: String,
    pub redemption_rate: String,
    /// "25 Oct – 23 Nov 2026".
    pub window: String,
    pub time_zone: String,
    pub window_issued: String,
    pub window_redeemed: String,
    pub discount: String,
    pub average_discount: String,
    pub chart: Option<Chart>,
    pub active_days: Vec<DayRow>,
    pub top_stores: Vec<StoreRow>,
}

/// A common code's figures: "412 redemptions", "of a cap of 1,000 — 588 left", customers.
pub struct CommonFigures {
    pub code: String,
    pub redemptions: String,
    pub cap: String,
    pub left: String,
    pub customers: String,
}

impl PerformanceTab {
    pub fn new(
        offer: &OfferRecord,
        perf: &Performance,
        currency: &str,
        digits: u32,
        tz: Tz,
    ) -> PerformanceTab {
        let money = |minor: i64| format_amount(minor, currency, digits);
        let (redeemed, discount) = (perf.redeemed(), perf.discount());
        let window = match (perf.days.first(), perf.days.last()) {
            (Some(first), Some(last)) => format!(
                "{} – {}",
                first.day.format("%-d %b"),
                last.day.format("%-d %b %Y")
            ),
            _ => String::new(),
        };
        let common = match &offer.rules.generation {
            crate::domain::offer::Generation::Common { code } => Some(CommonFigures {
                code: code.clone(),
                redemptions: format_count(offer.redeemed_count),
                cap: match offer.rules.redemption.total_cap {
                    Some(cap) => format!("of a cap of {}", format_count(cap)),
                    None => "no cap on redemptions".into(),
                },
                left: match offer.rules.redemption.total_cap {
                    Some(cap) => format_count((cap - offer.redeemed_count).max(0)),
                    None => "No cap".into(),
                },
                customers: format_count(perf.customers.unwrap_or(0)),
            }),
            _ => None,
        };
        PerformanceTab {
            common,
            issued: format_count(offer.issued_count),
            redeemed: format_count(offer.redeemed_count),
            redemption_rate: redemption_rate(offer.issued_count, offer.redeemed_count),
            window,
            time_zone: tz.name().to_string(),
            window_issued: format_count(perf.issued()),
            window_redeemed: format_count(redeemed),
            discount: money(discount),
            average_discount: if redeemed > 0 {
                // Rounded to the nearest minor unit.
                money((discount + redeemed / 2) / redeemed)
            } else {
                "—".into()
            },
            chart: Chart::new(&perf.days),
            active_days: perf
                .days
                .iter()
                .rev()
                .filter(|d| d.issued > 0 || d.redeemed > 0)
                .map(|d| DayRow {
                    day: d.day.format("%a %-d %b").to_string(),
                    issued: format_count(d.issued),
                    redeemed: format_count(d.redeemed),
                    discount: money(d.discount),
                })
                .collect(),
            top_stores: perf
                .top_stores
                .iter()
                .map(|s: &StoreActivity| {
                    let (code, name) = s
                        .store
                        .clone()
                        .unwrap_or_else(|| (String::new(), "No store given".into()));
                    StoreRow {
                        name,
                        code,
                        redemptions: format_count(s.redemptions),
                        discount: money(s.discount),
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    /// 30 days ending today, with `(days_ago, issued, redeemed)` set.
    fn days(active: &[(i64, i64, i64)]) -> Vec<DayActivity> {
        (0..30)
            .rev()
            .map(|ago| {
                let (issued, redeemed) = active
                    .iter()
                    .find(|a| a.0 == ago)
                    .map(|a| (a.1, a.2))
                    .unwrap_or((0, 0));
                DayActivity {
                    day: today() - Duration::days(ago),
                    issued,
                    redeemed,
                    discount: redeemed * 1000,
                }
            })
            .collect()
    }

    #[test]
    fn nice_max_rounds_up_to_a_round_number() {
        assert_eq!(nice_max(0), None);
        assert_eq!(nice_max(1), Some(1));
        assert_eq!(nice_max(3), Some(5));
        assert_eq!(nice_max(7), Some(10));
        assert_eq!(nice_max(10), Some(10));
        assert_eq!(nice_max(11), Some(15));
        assert_eq!(nice_max(120), Some(150));
        assert_eq!(nice_max(160), Some(200));
        assert_eq!(nice_max(9_999_999), Some(10_000_000));
        assert_eq!(nice_max(i64::MAX), None);
    }

    #[test]
    fn ticks_are_a_few_round_steps() {
        assert_eq!(ticks(1), vec![0, 1]);
        assert_eq!(ticks(2), vec![0, 1, 2]);
        assert_eq!(ticks(5), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(ticks(10), vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(ticks(15), vec![0, 5, 10, 15]);
        assert_eq!(ticks(20), vec![0, 5, 10, 15, 20]);
        assert_eq!(ticks(150), vec![0, 50, 100, 150]);
        assert_eq!(ticks(2500), vec![0, 500, 1000, 1500, 2000, 2500]);
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(axis_label(0), "0");
        assert_eq!(axis_label(750), "750");
        assert_eq!(axis_label(1500), "1.5k");
        assert_eq!(axis_label(250_000), "250k");
        assert_eq!(axis_label(1_250_000), "1.25M");
    }

    #[test]
    fn no_activity_is_no_chart() {
        assert_eq!(Chart::new(&days(&[])), None);
    }

    #[test]
    fn thirty_columns_in_date_order_ending_today_labelled_every_five_days() {
        let chart = Chart::new(&days(&[(0, 7, 3)])).unwrap();
        assert_eq!(chart.max, 10);
        assert_eq!(chart.days.len(), 30);
        assert!(chart.days.windows(2).all(|w| w[0].x < w[1].x));
        assert_eq!(chart.days[29].label.as_deref(), Some("23 Nov"));
        assert_eq!(chart.days[24].label.as_deref(), Some("18 Nov"));
        assert_eq!(chart.days[28].label, None);
        assert_eq!(chart.days.iter().filter(|d| d.label.is_some()).count(), 6);
        assert_eq!(chart.days[29].title, "23 Nov: 7 issued, 3 redeemed");
        assert!(chart.days[29].redeemed.x + BAR_WIDTH <= chart.plot_right);
    }

    #[test]
    fn bars_never_leave_the_plot() {
        let chart = Chart::new(&days(&[(0, 120, 45), (3, 1, 0), (9, 150, 150)])).unwrap();
        assert_eq!(chart.max, 150);
        for d in &chart.days {
            for bar in [d.issued, d.redeemed] {
                assert!(bar.height <= chart.plot_height);
                assert!(bar.y >= chart.plot_top);
                assert_eq!(bar.y + bar.height, chart.plot_bottom);
            }
        }
        // The tallest day reaches the top; a single coupon still shows.
        assert_eq!(chart.days[20].issued.height, chart.plot_height);
        assert_eq!(chart.days[26].issued.height, 1);
        let labels: Vec<&str> = chart.gridlines.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["0", "50", "100", "150"]);
        assert_eq!(chart.gridlines.last().unwrap().y, chart.plot_top);
    }

    #[test]
    fn a_day_with_redemptions_but_no_issues_shows() {
        let chart = Chart::new(&days(&[(2, 0, 4)])).unwrap();
        let day = &chart.days[27];
        assert_eq!(day.issued.height, 0);
        assert!(day.redeemed.height > 0);
        assert_eq!(day.title, "21 Nov: 0 issued, 4 redeemed");
    }
}
