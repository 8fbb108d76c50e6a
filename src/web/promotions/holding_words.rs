//! An earned or reward promotion's holding in words, as `domain::promotion::holding` and
//! `app::holds` do it: what earns it (only events from its start, recorded while it is live),
//! the redemption window (the day it is got is day 1, never past the promotion's end), the
//! maximum per customer with its reset period, and the messages.

use super::words::Writer;
use crate::domain::money::{format_count, plural};
use crate::domain::promotion::holding::{
    Earning, Holding, Measure, MessageChannel, Milestone, TrackerWindow,
};
use crate::domain::promotion::{Kind, Period, Promotion};

/// "1st", "2nd", "3rd", "11th", "1,001st".
pub fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{}{suffix}", format_count(n))
}

/// The event as a noun: "transaction", "profile update", "app_review event".
fn event_noun(event: &str) -> String {
    match event {
        "transaction" | "registration" => event.to_string(),
        "profile_update" => "profile update".into(),
        custom => format!("{custom} event"),
    }
}

fn with_article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

/// "once", "twice", "3 times".
fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => plural(i64::from(n), "time", "times"),
    }
}

impl Writer<'_> {
    /// What an event must be besides its type: " of ₹500 or more with channel = app".
    fn qualifiers(&self, e: &Earning) -> String {
        let mut out = String::new();
        if let Some(min) = e.min_amount {
            out.push_str(&format!(" of {} or more", self.money(min)));
        }
        if !e.attributes.is_empty() {
            let pairs: Vec<String> = e
                .attributes
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            let (first, last) = pairs.split_at(pairs.len() - 1);
            let listed = if first.is_empty() {
                last[0].clone()
            } else {
                format!("{} and {}", first.join(", "), last[0])
            };
            let noun = if pairs.len() == 1 {
                "attribute"
            } else {
                "attributes"
            };
            out.push_str(&format!(" with {noun} {listed}"));
        }
        out
    }

    fn milestone(&self, e: &Earning, m: Milestone) -> String {
        let noun = event_noun(&e.event);
        let what = format!("{noun}{}", self.qualifiers(e));
        match (m.measure, m.window) {
            (Measure::Count, TrackerWindow::Life) => format!(
                "Earned on the customer's {} {what}, counted over the promotion's life \
                 (the count never starts again: earned once at most)",
                ordinal(m.target)
            ),
            (Measure::Count, TrackerWindow::CalendarMonth) => format!(
                "Earned on the customer's {} {what} in a calendar month (the count starts \
                 again on the 1st: earned once a month at most)",
                ordinal(m.target)
            ),
            (Measure::Sum, TrackerWindow::Life) => format!(
                "Earned when the amounts of the customer's {noun}s{} add up to {} over the \
                 promotion's life (earned once at most)",
                self.qualifiers(e),
                self.money(m.target)
            ),
            (Measure::Sum, TrackerWindow::CalendarMonth) => format!(
                "Earned when the amounts of the customer's {noun}s{} add up to {} in a \
                 calendar month (the total starts again on the 1st: earned once a month at \
                 most)",
                self.qualifiers(e),
                self.money(m.target)
            ),
        }
    }

    /// What earns it, in words.
    pub fn earning(&self, e: &Earning) -> Vec<String> {
        let mut out = vec![match e.milestone {
            None => format!(
                "Earned by {}{}",
                with_article(&event_noun(&e.event)),
                self.qualifiers(e)
            ),
            Some(m) => self.milestone(e, m),
        }];
        out.push(format!(
            "Only {}s made while it runs, and recorded while it is live, count",
            event_noun(&e.event)
        ));
        out
    }

    fn reset(&self, p: &Period) -> String {
        match p {
            Period::CalendarMonth => " per calendar month".into(),
            other => format!(", {}", self.period(other)),
        }
    }

    /// The redemption window and the maximum per customer: the restrictions that cannot
    /// change once the promotion has been live.
    pub fn holding_limits(&self, p: &Promotion) -> Vec<String> {
        let h = &p.holding;
        let got = match p.kind {
            Kind::Reward => "acquired",
            _ => "earned",
        };
        let window = match (h.window_days, p.validity.ends) {
            (Some(n), _) => format!(
                "Held {} from the day {got} (that day counts as day 1), never past the \
                 promotion's end",
                plural(i64::from(n), "day", "days")
            ),
            (None, Some(_)) => "Held until the promotion ends".into(),
            (None, None) => {
                "Held while the promotion runs (it has no end date and no window)".into()
            }
        };
        let max = match (h.max_per_customer, &h.max_per_customer_reset) {
            (Some(n), None) => format!("{} at most {} per customer", cap(got), times(n)),
            (Some(n), Some(reset)) => format!(
                "{} at most {} per customer{}",
                cap(got),
                times(n),
                self.reset(reset)
            ),
            (None, _) => "No maximum per customer".into(),
        };
        vec![window, max]
    }

    fn channel(c: MessageChannel) -> &'static str {
        match c {
            MessageChannel::Preferred => "by the customer's preferred channel",
            MessageChannel::Sms => "by SMS",
            MessageChannel::Email => "by email",
            MessageChannel::Push => "by push notification",
        }
    }

    /// The messages, in words.
    pub fn hold_messages(&self, p: &Promotion) -> Vec<String> {
        let m = &p.holding.messages;
        let by = Self::channel(m.channel);
        let on = match p.kind {
            Kind::Reward => "acquiring",
            _ => "earning",
        };
        let mut out = Vec::new();
        if let Some(text) = &m.on_earning {
            out.push(format!("On {on}, {by}: “{text}”"));
        }
        if let Some(r) = &m.reminder {
            let when = match r.days_before {
                0 => "on the last day to use it".to_string(),
                n => format!(
                    "{} before the last day to use it",
                    plural(i64::from(n), "day", "days")
                ),
            };
            let mut line = format!(
                "Reminder {by} {when}, at 10:00, if not used by then: “{}”",
                r.text
            );
            if p.holding.window_days.is_none() && p.validity.ends.is_none() {
                line.push_str(" (none goes while it has no end date and no window)");
            }
            out.push(line);
        }
        if out.is_empty() {
            out.push("No messages".into());
        }
        out
    }

    /// The sections of an earned or reward promotion: what earns it (earned ones), then how
    /// long and how often it is held and its messages; none for the others.
    pub fn holding(&self, p: &Promotion) -> Vec<(&'static str, Vec<String>)> {
        let h: &Holding = &p.holding;
        let mut sections = Vec::new();
        let mut held = match p.kind {
            Kind::Earned => {
                if let Some(e) = &h.earning {
                    sections.push(("Earning", self.earning(e)));
                }
                Vec::new()
            }
            Kind::Reward => vec![
                "Acquired with points or money in another system, recorded through the API"
                    .to_string(),
            ],
            _ => return sections,
        };
        held.extend(self.holding_limits(p));
        held.extend(self.hold_messages(p));
        sections.push(("Holding and messages", held));
        sections
    }
}

fn cap(s: &str) -> String {
    super::words::capitalized(s)
}
