//! A promotion's page, "Usage": carts and discount per day of the org's calendar over the last
//! 30 days (#16 item 6), drawn as inline SVG like the offers' Performance tab.

use crate::domain::money::{format_amount, format_count};
use crate::store::promotion_usage::DayUses;
use crate::web::offers::performance::{Bar, Gridline, axis_label, nice_max, ticks};

const WIDTH: i64 = 900;
const HEIGHT: i64 = 240;
const PLOT_LEFT: i64 = 52;
const PLOT_TOP: i64 = 12;
const PLOT_BOTTOM: i64 = 206;
const DAY_WIDTH: i64 = 28;
const BAR_GAP: i64 = 7;
const BAR_WIDTH: i64 = 14;
const LABEL_EVERY: usize = 5;

/// One day's bar of carts, with its hover title and (every fifth day) its date label.
pub struct UsageDay {
    pub bar: Bar,
    pub title: String,
    pub center: i64,
    pub label: Option<String>,
}

/// What the template draws and prints.
pub struct Usage {
    pub carts: String,
    pub discount: String,
    pub average: String,
    pub width: i64,
    pub height: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub plot_bottom: i64,
    pub tick_x: i64,
    pub label_y: i64,
    pub gridlines: Vec<Gridline>,
    /// Empty when no cart used the promotion in the window.
    pub days: Vec<UsageDay>,
}

impl Usage {
    pub fn new(days: &[DayUses], currency: &str, digits: u32) -> Usage {
        let carts: i64 = days.iter().map(|d| d.carts).sum();
        let discount: i64 = days.iter().map(|d| d.discount).sum();
        let money = |m: i64| format_amount(m, currency, digits);
        let max = days
            .iter()
            .map(|d| d.carts)
            .max()
            .and_then(nice_max)
            .unwrap_or(0);
        let height = PLOT_BOTTOM - PLOT_TOP;
        let bar_height = |v: i64| {
            if v <= 0 || max <= 0 {
                0
            } else {
                ((v * height + max / 2) / max).clamp(1, height)
            }
        };
        let last = days.len().saturating_sub(1);
        let columns = if carts == 0 {
            Vec::new()
        } else {
            days.iter()
                .enumerate()
                .map(|(i, d)| {
                    let x = PLOT_LEFT + DAY_WIDTH * i as i64;
                    let h = bar_height(d.carts);
                    UsageDay {
                        bar: Bar {
                            x: x + BAR_GAP,
                            y: PLOT_BOTTOM - h,
                            width: BAR_WIDTH,
                            height: h,
                        },
                        title: format!(
                            "{}: {} {}, {} off",
                            d.day.format("%-d %b"),
                            format_count(d.carts),
                            if d.carts == 1 { "cart" } else { "carts" },
                            money(d.discount)
                        ),
                        center: x + DAY_WIDTH / 2,
                        label: (last - i)
                            .is_multiple_of(LABEL_EVERY)
                            .then(|| d.day.format("%-d %b").to_string()),
                    }
                })
                .collect()
        };
        Usage {
            carts: format_count(carts),
            discount: money(discount),
            average: if carts > 0 {
                money(discount / carts)
            } else {
                "—".into()
            },
            width: WIDTH,
            height: HEIGHT,
            plot_left: PLOT_LEFT,
            plot_right: PLOT_LEFT + DAY_WIDTH * days.len() as i64,
            plot_bottom: PLOT_BOTTOM,
            tick_x: PLOT_LEFT - 8,
            label_y: PLOT_BOTTOM + 20,
            gridlines: if carts == 0 {
                Vec::new()
            } else {
                ticks(max)
                    .into_iter()
                    .map(|v| Gridline {
                        y: PLOT_BOTTOM - bar_height(v),
                        label: axis_label(v),
                    })
                    .collect()
            },
            days: columns,
        }
    }
}
