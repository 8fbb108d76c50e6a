//! An offer in plain words, as a marketing manager would say it (OFF-2 preview, OFF-5
//! Configuration tab): "15% off, at most ₹500, on Nike and Adidas shoes including sale items,
//! Mon–Fri 16:00–18:00 at 3 stores, once per customer, first 1,000 redemptions".

use super::*;
use crate::domain::money::{format_amount, format_count};
use std::collections::HashMap;

/// Names of the records an offer refers to, and the org's currency.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub currency: String,
    pub digits: u32,
    pub categories: HashMap<i64, String>,
    pub brands: HashMap<i64, String>,
    pub scope: HashMap<(ScopeKind, i64), String>,
    pub pocs: HashMap<i64, String>,
    pub offers: HashMap<i64, String>,
    /// Today in the org's calendar: coupon expiry is also said for a coupon issued today.
    pub today: Option<NaiveDate>,
    /// The consumer that claimed this offer: its name and end date (an offer that ends "along
    /// with the campaign" ends then).
    pub claimed_by: Option<(String, Option<NaiveDate>)>,
}

/// Names listed in full before "and N more".
const NAMED_AT_MOST: usize = 3;

/// "A, B and C" or "A, B, C and 4 more".
pub fn join_some(items: &[String]) -> String {
    if items.len() <= NAMED_AT_MOST + 1 {
        return join_and(items);
    }
    format!(
        "{} and {} more",
        items[..NAMED_AT_MOST].join(", "),
        format_count((items.len() - NAMED_AT_MOST) as i64)
    )
}

/// How times read everywhere in the console, in the org's zone: "30 Nov 2026 11:02".
pub fn time_text(t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%-d %b %Y %H:%M").to_string()
}

/// How dates read everywhere in the console: "29 Dec 2026".
pub fn date_text(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// The headline and the details, section by section.
#[derive(Debug, Clone)]
pub struct Description {
    pub headline: String,
    pub sections: Vec<(&'static str, Vec<String>)>,
}

/// "a", "a and b", "a, b and c".
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn names(ids: &[i64], map: &HashMap<i64, String>) -> Vec<String> {
    ids.iter()
        .map(|id| map.get(id).cloned().unwrap_or_else(|| format!("#{id}")))
        .collect()
}

use crate::domain::money::plural;

/// "Mon–Fri", "Sat and Sun", "Mon, Wed and Fri".
pub fn weekdays_text(w: Weekdays) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in (0..7).filter(|i| w.has(*i)) {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => runs.push((i, i)),
        }
    }
    let parts: Vec<String> = runs
        .into_iter()
        .flat_map(|(a, b)| {
            if b >= a + 2 {
                vec![format!("{}–{}", WEEKDAY_NAMES[a].1, WEEKDAY_NAMES[b].1)]
            } else {
                (a..=b).map(|i| WEEKDAY_NAMES[i].1.to_string()).collect()
            }
        })
        .collect();
    join_and(&parts)
}

fn slot_text(t: TimeSlot) -> String {
    let s = format!(
        "{:02}:{:02}–{:02}:{:02}",
        t.start / 60,
        t.start % 60,
        t.end / 60,
        t.end % 60
    );
    if t.end < t.start {
        format!("{s} (overnight)")
    } else {
        s
    }
}

impl OfferRules {
    /// The offer in plain words.
    pub fn describe(&self, n: &Names) -> Description {
        let money = |m: i64| format_amount(m, &n.currency, n.digits);
        let r = &self.redemption;

        let discount = self.discount.words(&n.currency, n.digits);
        let products = match &self.applicability {
            Applicability::All => "on all products".to_string(),
            Applicability::Selected { categories, brands } => {
                let cats: Vec<String> = names(categories, &n.categories)
                    .into_iter()
                    .map(|c| c.to_lowercase())
                    .collect();
                let brs = names(brands, &n.brands);
                match (brs.is_empty(), cats.is_empty()) {
                    (false, false) => format!("on {} {}", join_and(&brs), join_and(&cats)),
                    (false, true) => format!("on {} products", join_and(&brs)),
                    _ => format!("on {}", join_and(&cats)),
                }
            }
        };
        let sale = if self.include_sale_items {
            "including sale items"
        } else {
            "except sale items"
        };

        let mut when = Vec::new();
        if !r.weekdays.is_every_day() {
            when.push(weekdays_text(r.weekdays));
        }
        if !r.time_slots.is_empty() {
            when.push(join_and(
                &r.time_slots
                    .iter()
                    .map(|t| slot_text(*t))
                    .collect::<Vec<_>>(),
            ));
        }
        if !r.dates.is_empty() {
            when.push(format!(
                "on {}",
                join_and(&r.dates.iter().map(|d| date_text(*d)).collect::<Vec<_>>())
            ));
        }
        let place = scope_text(&r.scope, n);
        let common = matches!(self.generation, Generation::Common { .. });
        let bill = match (r.min_bill, r.max_bill) {
            (Some(lo), Some(hi)) => {
                Some(format!("on bills between {} and {}", money(lo), money(hi)))
            }
            (Some(lo), None) => Some(format!("on bills of {} or more", money(lo))),
            (None, Some(hi)) => Some(format!("on bills up to {}", money(hi))),
            (None, None) => None,
        };
        let mut headline = format!("{discount}, {products} {sale}");
        if !when.is_empty() {
            headline.push_str(&format!(", {}", when.join(" ")));
        }
        headline.push_str(&format!(" {place}"));
        if let Some(b) = &bill {
            headline.push_str(&format!(", {b}"));
        }
        headline.push_str(&format!(", {}", per_customer_text(r, common)));
        if let Some(cap) = r.total_cap {
            headline.push_str(&format!(", first {} redemptions", format_count(cap)));
        }

        let mut offer = vec![format!("Name: {}", self.name)];
        offer.push(match (&self.expiry, &n.claimed_by) {
            (OfferExpiry::Fixed(d), Some((name, Some(end)))) if end < d => format!(
                "Ends on {}, when {name} (which claimed it) ends; its own end date is {}",
                date_text(*end),
                date_text(*d)
            ),
            (OfferExpiry::Fixed(d), _) => format!("Ends on {}", date_text(*d)),
            (OfferExpiry::WithCampaign, Some((name, Some(end)))) => {
                format!("Ends on {}, along with {name}, which claimed it", date_text(*end))
            }
            (OfferExpiry::WithCampaign, Some((name, None))) => {
                format!("Does not end: it ends along with {name}, which claimed it and has no end date")
            }
            (OfferExpiry::WithCampaign, None) => {
                "Ends along with the campaign that claims it; not claimed yet, so no coupons can be issued".into()
            }
        });
        if let Some(p) = &self.pos_code {
            offer.push(format!("Point-of-sale code shown to cashiers: {p}"));
        }

        let mut discount_lines = vec![format!("{discount} {products}")];
        discount_lines.push(if self.include_sale_items {
            "Applies to sale items as well".into()
        } else {
            "Does not apply to items on sale".into()
        });

        let mut coupons = vec![match self.delivery {
            Delivery::ThisSystem => "Coupons are sent to customers by this system".to_string(),
            Delivery::ThirdParty => "Coupons are sent to customers by a third party".to_string(),
        }];
        coupons.push(match &self.generation {
            Generation::Unique { length, charset, prefix } => {
                let kind = match charset {
                    Charset::Numeric => "digits",
                    Charset::Alphanumeric => "letters and digits",
                    Charset::Unambiguous => "letters and digits without look-alikes (0/O, 1/I)",
                };
                let pre = if prefix.is_empty() { String::new() } else { format!(" after the prefix {prefix}") };
                format!("Unique codes of {length} {kind}{pre}")
            }
            Generation::Common { code } => format!("One common code for everyone: {code}"),
            Generation::Upload { with_customers: true } => "Existing codes uploaded with the customers they belong to".into(),
            Generation::Upload { with_customers: false } => "Existing codes uploaded by CSV".into(),
            Generation::Randomized { sample } => {
                format!("Randomized common codes shaped like {sample}: {} characters, half fixed for this organisation", sample.len())
            }
        });
        if self.specific_customers_only {
            coupons.push("Issued only to a specific list of customers".into());
        }
        coupons.push(coupon_expiry_text(self, n));

        let i = &self.issual;
        let mut issual = Vec::new();
        if !i.past_issual_offers.is_empty() {
            issual.push(format!(
                "Not issued to customers who got {} in the last 6 months",
                join_and(&names(&i.past_issual_offers, &n.offers))
            ));
        }
        match (i.max_per_customer, i.min_gap_days) {
            (Some(m), Some(g)) => issual.push(format!(
                "At most {} per customer, at least {} apart",
                plural(m as i64, "coupon", "coupons"),
                plural(g as i64, "day", "days")
            )),
            (Some(m), None) => issual.push(format!(
                "At most {} per customer",
                plural(m as i64, "coupon", "coupons")
            )),
            _ => issual.push("No limit of coupons issued to one customer".into()),
        }
        if let Some(cap) = i.total_cap {
            issual.push(format!(
                "At most {} issued in total",
                plural(cap, "coupon", "coupons")
            ));
        }
        if let Some(t) = &i.resend_text {
            issual.push(format!("Resend text: “{t}”"));
        }
        for rem in &i.reminders {
            issual.push(format!(
                "Remind customers by {} {} before their coupon expires: “{}”",
                rem.channel.label(),
                plural(rem.days_before as i64, "day", "days"),
                rem.text
            ));
        }
        if let Some(notice) = &i.expiry_notice {
            issual.push(format!(
                "Expiry notice: {} on the day after a coupon's last day, if unused: “{}”",
                notice.channel.label(),
                notice.text
            ));
        }

        let mut redemption = vec![if r.anyone_can_redeem {
            "Anyone holding the code may redeem it".to_string()
        } else {
            "Only the customer it was issued to may redeem it".to_string()
        }];
        redemption.push(match r.start {
            RedemptionStart::OnIssue => "Redeemable right after issue".into(),
            RedemptionStart::DaysAfterIssue(d) => {
                format!("Redeemable {} after issue", plural(d as i64, "day", "days"))
            }
            RedemptionStart::OnDate(d) => format!("Redeemable from {}", date_text(d)),
        });
        redemption.push(per_customer_sentence(r, &self.generation));
        redemption.push(format!("Redeemable {place}"));
        if let Some(b) = &bill {
            let mut b = b.clone();
            b.replace_range(..1, "O");
            redemption.push(b);
        }
        if !when.is_empty() {
            redemption.push(format!("Only {}", when.join(", ")));
        }
        if let Some(cap) = r.total_cap {
            redemption.push(format!(
                "Stops after {} in total",
                plural(cap, "redemption", "redemptions")
            ));
        }

        let mut sections = vec![
            ("Offer", offer),
            ("Discount", discount_lines),
            ("Coupons", coupons),
            ("Issual & reminders", issual),
            ("Redemption", redemption),
        ];
        if let Some(p) = &self.poc_reminder {
            sections.push((
                "Offer expiry reminder",
                vec![format!(
                    "Email {} at 10:00 {} before the offer expires",
                    join_and(&names(&p.poc_ids, &n.pocs)),
                    plural(p.days_before as i64, "day", "days")
                )],
            ));
        }
        Description { headline, sections }
    }
}

/// "at stores Andheri, Bandra and Powai and zone West", naming at most a handful of each kind.
pub fn scope_text(scope: &[(ScopeKind, i64)], n: &Names) -> String {
    if scope.is_empty() {
        return "at any store".into();
    }
    let mut parts = Vec::new();
    for kind in ScopeKind::ALL {
        let mut names: Vec<String> = scope
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| {
                n.scope
                    .get(&(kind, *id))
                    .cloned()
                    .unwrap_or_else(|| format!("#{id}"))
            })
            .collect();
        names.sort_by_key(|n| n.to_lowercase());
        if !names.is_empty() {
            parts.push(format!("{} {}", kind.noun(names.len()), join_some(&names)));
        }
    }
    format!("at {}", join_and(&parts))
}

/// How often one customer (or one coupon) may be used, as the engine counts it: a single-use
/// unique coupon once; a common code once per customer (everyone shares the code); with
/// multiple redemption, the per-customer maximum.
fn per_customer_text(r: &RedemptionRules, common: bool) -> String {
    let mut s = match (r.multiple, common) {
        (None, false) => "once per coupon".to_string(),
        (None, true) => "once per customer".to_string(),
        (Some(m), _) => match m.per_customer_max {
            Some(1) => "once per customer".to_string(),
            Some(max) => format!("up to {max} times per customer"),
            None => "any number of times".to_string(),
        },
    };
    if let Some(g) = r.multiple.and_then(|m| m.gap_days) {
        s.push_str(&format!(", {} apart", plural(g as i64, "day", "days")));
    }
    s
}

fn per_customer_sentence(r: &RedemptionRules, generation: &Generation) -> String {
    let common = match generation {
        Generation::Common { code } => Some(code.as_str()),
        _ => None,
    };
    let mut s = match (r.multiple, common) {
        (None, None) => "Each coupon can be redeemed once".to_string(),
        (None, Some(code)) => {
            format!("Many customers redeem the one code {code}; each customer can redeem it once")
        }
        (Some(m), Some(code)) => match m.per_customer_max {
            Some(max) => format!(
                "Many customers redeem the one code {code}; each customer up to {}",
                plural(max as i64, "time", "times")
            ),
            None => format!("Anyone can redeem the one code {code} any number of times"),
        },
        (Some(m), None) => match m.per_customer_max {
            Some(max) => format!(
                "A coupon can be redeemed more than once, up to {} per customer",
                plural(max as i64, "time", "times")
            ),
            None => "A coupon can be redeemed any number of times".into(),
        },
    };
    let gap = r.multiple.and_then(|m| m.gap_days);
    if let Some(g) = gap {
        s.push_str(&format!(
            ", at least {} between a customer's redemptions",
            plural(g as i64, "day", "days")
        ));
    }
    let per_customer = common.is_some() || r.multiple.is_some_and(|m| m.per_customer_max.is_some());
    if per_customer || gap.is_some() {
        s.push_str("; the till must name the customer, or the redemption is refused");
    }
    s
}

/// "Coupons are valid for 30 days counting the issue day: one issued today (30 Nov 2026) is
/// valid through 29 Dec 2026".
fn coupon_expiry_text(rules: &OfferRules, n: &Names) -> String {
    let offer_end = match (&rules.expiry, &n.claimed_by) {
        (OfferExpiry::Fixed(d), Some((_, Some(c)))) => Some((*d).min(*c)),
        (OfferExpiry::Fixed(d), _) => Some(*d),
        (OfferExpiry::WithCampaign, Some((_, end))) => *end,
        (OfferExpiry::WithCampaign, None) => None,
    };
    let example = |rule: CouponExpiry| {
        n.today
            .map(|today| {
                let issued = today.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
                match crate::domain::coupon::coupon_valid_till(
                    issued,
                    rule,
                    offer_end,
                    chrono_tz::UTC,
                ) {
                    Some(last) => format!(
                        ": one issued today ({}) is valid through {}",
                        date_text(today),
                        date_text(last)
                    ),
                    None => String::new(),
                }
            })
            .unwrap_or_default()
    };
    match rules.coupon_expiry {
        CouponExpiry::WithOffer => match offer_end {
            Some(end) => format!(
                "Coupons are valid until the offer ends, through {}",
                date_text(end)
            ),
            None => "Coupons are valid as long as the offer runs (it has no end date now)".into(),
        },
        CouponExpiry::DaysFromIssue(d) => format!(
            "Coupons are valid for {} counting the issue day (never after the offer ends){}",
            plural(d as i64, "day", "days"),
            example(rules.coupon_expiry)
        ),
        CouponExpiry::MonthEndsFromIssue(m) => format!(
            "Coupons are valid through the {} (never after the offer ends){}",
            if m == 1 {
                "end of the month they are issued in".to_string()
            } else {
                format!(
                    "end of the {} month, counting the month of issue as the first",
                    ordinal(m)
                )
            },
            example(rules.coupon_expiry)
        ),
    }
}

/// 2 → "2nd", 11 → "11th", 23 → "23rd".
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
