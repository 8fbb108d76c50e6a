//! An offer in plain words, as a marketing manager would say it (OFF-2 preview, OFF-5
//! Configuration tab): "15% off, at most ₹500, on Nike and Adidas shoes including sale items,
//! Mon–Fri 16:00–18:00 at 3 stores, once per customer, first 1,000 redemptions".

use super::*;
use crate::domain::money::{format_amount, format_count, format_percent};
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

fn date_text(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

impl OfferRules {
    /// The offer in plain words.
    pub fn describe(&self, n: &Names) -> Description {
        let money = |m: i64| format_amount(m, &n.currency, n.digits);
        let r = &self.redemption;

        let discount = match self.discount {
            Discount::Fixed { amount } => format!("{} off", money(amount)),
            Discount::Percent {
                basis_points,
                cap: None,
            } => format!("{} off", format_percent(basis_points)),
            Discount::Percent {
                basis_points,
                cap: Some(cap),
            } => format!(
                "{} off, at most {}",
                format_percent(basis_points),
                money(cap)
            ),
        };
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
        let mut headline = format!("{discount}, {products} {sale}");
        if !when.is_empty() {
            headline.push_str(&format!(", {}", when.join(" ")));
        }
        headline.push_str(&format!(" {place}"));
        headline.push_str(&format!(", {}", per_customer_text(r)));
        if let Some(cap) = r.total_cap {
            headline.push_str(&format!(", first {} redemptions", format_count(cap)));
        }

        let mut offer = vec![format!("Name: {}", self.name)];
        offer.push(match self.expiry {
            OfferExpiry::Fixed(d) => format!("Ends on {}", date_text(d)),
            OfferExpiry::WithCampaign => "Ends along with the campaign that claims it".into(),
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
        coupons.push(match self.coupon_expiry {
            CouponExpiry::WithOffer => {
                "Coupons expire with the offer (never, when used by a loyalty program)".into()
            }
            CouponExpiry::DaysFromIssue(d) => format!(
                "Coupons expire {} after issue (never after the offer ends)",
                plural(d as i64, "day", "days")
            ),
            CouponExpiry::MonthEndsFromIssue(m) => {
                format!(
                    "Coupons expire at the {} after issue (never after the offer ends)",
                    if m == 1 {
                        "end of the month".to_string()
                    } else {
                        format!("{m}th month-end")
                    }
                )
            }
        });

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
            _ => issual.push("No limit of coupons per customer".into()),
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
        redemption.push(per_customer_sentence(r));
        redemption.push(format!("Redeemable {place}"));
        match (r.min_bill, r.max_bill) {
            (Some(lo), Some(hi)) => {
                redemption.push(format!("On bills between {} and {}", money(lo), money(hi)))
            }
            (Some(lo), None) => redemption.push(format!("On bills of {} or more", money(lo))),
            (None, Some(hi)) => redemption.push(format!("On bills up to {}", money(hi))),
            (None, None) => {}
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

fn scope_text(scope: &[(ScopeKind, i64)], n: &Names) -> String {
    if scope.is_empty() {
        return "at any store".into();
    }
    let mut parts = Vec::new();
    for kind in ScopeKind::ALL {
        let ids: Vec<i64> = scope
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect();
        match ids.len() {
            0 => {}
            1 => parts.push(format!(
                "{} {}",
                kind.noun(1),
                n.scope
                    .get(&(kind, ids[0]))
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", ids[0]))
            )),
            k => parts.push(format!("{k} {}", kind.noun(k))),
        }
    }
    format!("at {}", join_and(&parts))
}

fn per_customer_text(r: &RedemptionRules) -> String {
    match r.multiple {
        None => "once per coupon".into(),
        Some(MultipleRedemption {
            per_customer_max: Some(1),
            ..
        }) => "once per customer".into(),
        Some(MultipleRedemption {
            per_customer_max: Some(m),
            ..
        }) => format!("up to {m} times per customer"),
        Some(MultipleRedemption {
            per_customer_max: None,
            ..
        }) => "any number of times".into(),
    }
}

fn per_customer_sentence(r: &RedemptionRules) -> String {
    match r.multiple {
        None => "Each coupon can be redeemed once".into(),
        Some(m) => {
            let mut s = match m.per_customer_max {
                Some(max) => format!(
                    "A coupon can be redeemed more than once, up to {} per customer",
                    plural(max as i64, "time", "times")
                ),
                None => "A coupon can be redeemed any number of times".into(),
            };
            if let Some(g) = m.gap_days {
                s.push_str(&format!(
                    ", at least {} between a customer's redemptions",
                    plural(g as i64, "day", "days")
                ));
            }
            s
        }
    }
}
