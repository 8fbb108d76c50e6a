//! The wizard's Earning step (seed 003 "Earning criteria", "Duration", "Communication",
//! "Limits"): its inputs read into the engine's `Holding` — what earns an earned promotion (a
//! single activity or a milestone), the redemption window, the maximum earning per customer
//! with its reset period, the messages — the form of a stored one, and the engine's holding
//! problems put on the input they are about.

use super::form::{NotInForm, PromotionForm, Step, opt, set_period};
use super::read::Reader;
use crate::domain::money::amount_input;
use crate::domain::promotion::Kind;
use crate::domain::promotion::holding::{
    Earning, HoldMessages, HoldReminder, Holding, Measure, MessageChannel, Milestone,
    TrackerWindow, text_problem,
};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// The event types the form names (value, label); any other is a custom event.
pub const EVENTS: [(&str, &str); 4] = [
    ("transaction", "A transaction"),
    ("registration", "Registering"),
    ("profile_update", "Updating their profile"),
    ("custom", "Another event, named below"),
];

/// The channels of a held promotion's messages (value, label).
pub const CHANNELS: [(&str, &str); 4] = [
    ("preferred", "The customer's preferred channel"),
    ("sms", "SMS"),
    ("email", "Email"),
    ("push", "Push notification"),
];

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Reader<'_> {
    /// The holding of an earned or reward promotion; the others hold nothing (what the step's
    /// inputs say then is left aside).
    pub(super) fn holding(&mut self, kind: &Kind, starts: NaiveDate) -> Holding {
        if !matches!(kind, Kind::Earned | Kind::Reward) {
            return Holding::default();
        }
        let s = Step::Earning;
        let earning = matches!(kind, Kind::Earned).then(|| self.earning());
        let window_days = self
            .count(s, "window_days", "The redemption window")
            .map(to_u32);
        let max_per_customer = self
            .count(s, "max_per_customer", "The maximum per customer")
            .map(to_u32);
        let max_per_customer_reset = self.period(s, "h_reset", starts);
        Holding {
            window_days,
            max_per_customer,
            max_per_customer_reset,
            earning,
            messages: self.messages(),
        }
    }

    fn earning(&mut self) -> Earning {
        let s = Step::Earning;
        let event = match self.choice(
            s,
            "earn_event",
            "The event",
            &[
                "transaction",
                "",
                "registration",
                "profile_update",
                "custom",
            ],
        ) {
            "custom" => {
                let name = self.raw("earn_custom").to_lowercase();
                if name.is_empty() {
                    self.problems.push(
                        s,
                        "earn_custom",
                        "Name the event as your systems send it, e.g. app_review",
                    );
                }
                name
            }
            "" => "transaction".into(),
            named => named.into(),
        };
        let min_amount = self.amount(s, "earn_min", "The minimum amount");
        let attributes = self.attribute_lines();
        let milestone = match self.choice(
            s,
            "earn_type",
            "What earns it",
            &["single", "", "milestone"],
        ) {
            "milestone" => self.milestone(),
            _ => None,
        };
        Earning {
            event,
            min_amount,
            attributes,
            milestone,
        }
    }

    /// `key=value`, one a line (commas belong to the value).
    fn attribute_lines(&mut self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for line in self.f.earn_attributes.lines().map(str::trim) {
            if line.is_empty() {
                continue;
            }
            let problem = match line.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                    match out.entry(k.trim().to_string()) {
                        Entry::Occupied(named) => {
                            Some(format!("Attributes: {} is named twice", named.key()))
                        }
                        Entry::Vacant(slot) => {
                            slot.insert(v.trim().to_string());
                            None
                        }
                    }
                }
                _ => Some(format!(
                    "Attributes: {line:?} is not a pair such as channel=app"
                )),
            };
            if let Some(p) = problem {
                self.problems.push(Step::Earning, "earn_attributes", p);
            }
        }
        out
    }

    fn milestone(&mut self) -> Option<Milestone> {
        let s = Step::Earning;
        let measure = match self.choice(s, "ms_measure", "Count", &["count", "", "sum"]) {
            "sum" => Measure::Sum,
            _ => Measure::Count,
        };
        let window = match self.choice(
            s,
            "ms_window",
            "Counted over",
            &["life", "", "calendar_month"],
        ) {
            "calendar_month" => TrackerWindow::CalendarMonth,
            _ => TrackerWindow::Life,
        };
        let target = match measure {
            Measure::Count => self.required_count(s, "ms_target", "The target"),
            Measure::Sum => self.required_amount(s, "ms_target", "The target amount"),
        }?;
        Some(Milestone {
            measure,
            target,
            window,
        })
    }

    fn messages(&mut self) -> HoldMessages {
        let s = Step::Earning;
        let channel = match self.choice(
            s,
            "msg_channel",
            "The channel",
            &["preferred", "", "sms", "email", "push"],
        ) {
            "sms" => MessageChannel::Sms,
            "email" => MessageChannel::Email,
            "push" => MessageChannel::Push,
            _ => MessageChannel::Preferred,
        };
        let text = |raw: &str| Some(raw.trim().to_string()).filter(|t| !t.is_empty());
        let on_earning = text(&self.f.msg_earning);
        let reminder_text = text(&self.f.msg_reminder_text);
        let days = self.raw("msg_reminder_days").to_string();
        let reminder = match (days.is_empty(), reminder_text) {
            (true, None) => None,
            (false, None) => {
                self.problems.push(
                    s,
                    "msg_reminder_text",
                    "The reminder's text is required (or clear its days to send none)",
                );
                None
            }
            (true, Some(_)) => {
                self.problems.push(
                    s,
                    "msg_reminder_days",
                    "Days before is required: 0 sends the reminder on the last day",
                );
                None
            }
            (false, Some(text)) => match days.replace(',', "").parse::<u32>() {
                Ok(days_before) => Some(HoldReminder { days_before, text }),
                Err(_) => {
                    self.problems.push(
                        s,
                        "msg_reminder_days",
                        "Days before must be a whole number such as 2 (0: on the last day)",
                    );
                    None
                }
            },
        };
        HoldMessages {
            channel,
            on_earning,
            reminder,
        }
    }
}

/// Fills the earning step's inputs from a stored holding; refused when one of its attributes
/// cannot be written as a `key=value` line.
pub(super) fn set_holding(
    f: &mut PromotionForm,
    h: &Holding,
    digits: u32,
) -> Result<(), NotInForm> {
    let money = |m: i64| amount_input(m, digits);
    if let Some(e) = &h.earning {
        if EVENTS.iter().any(|(v, _)| *v == e.event && *v != "custom") {
            f.earn_event = e.event.clone();
        } else {
            f.earn_event = "custom".into();
            f.earn_custom = e.event.clone();
        }
        f.earn_min = e.min_amount.map(money).unwrap_or_default();
        let fits = |s: &str| !s.is_empty() && s.trim() == s && !s.contains(['\n', '\r']);
        if e.attributes
            .iter()
            .any(|(k, v)| !fits(k) || !fits(v) || k.contains('='))
        {
            return Err(NotInForm(
                "an earning attribute has a line break, an = in its key, or spaces around it \
                 (made through the API); edit it through the API"
                    .into(),
            ));
        }
        f.earn_attributes = e
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(m) = e.milestone {
            f.earn_type = "milestone".into();
            let (measure, target) = match m.measure {
                Measure::Count => ("count", m.target.to_string()),
                Measure::Sum => ("sum", money(m.target)),
            };
            f.ms_measure = measure.into();
            f.ms_target = target;
            f.ms_window = match m.window {
                TrackerWindow::Life => "life",
                TrackerWindow::CalendarMonth => "calendar_month",
            }
            .into();
        }
    }
    f.window_days = opt(h.window_days.map(i64::from));
    f.max_per_customer = opt(h.max_per_customer.map(i64::from));
    set_period(f, "h_reset", h.max_per_customer_reset);
    let m = &h.messages;
    f.msg_channel = m.channel.as_str().into();
    f.msg_earning = m.on_earning.clone().unwrap_or_default();
    if let Some(r) = &m.reminder {
        f.msg_reminder_days = r.days_before.to_string();
        f.msg_reminder_text = r.text.clone();
    }
    Ok(())
}

/// The earning step's input an engine problem with the holding is about, and the problem in
/// the step's words (the engine names the API's fields). A message it does not know is shown
/// above the step's inputs.
pub fn holding_input(message: &str, f: &PromotionForm) -> (&'static str, String) {
    let has = |part: &str| message.contains(part);
    let text_input = || {
        if text_problem(f.msg_earning.trim()).is_some() && !f.msg_earning.trim().is_empty() {
            "msg_earning"
        } else {
            "msg_reminder_text"
        }
    };
    let (input, words): (&'static str, String) = if has("needs `earning`") {
        ("earn_event", "Choose the event that earns it".into())
    } else if has("only an earned promotion has `earning`") {
        (
            "holding",
            "Only an earned promotion is earned by events".into(),
        )
    } else if has("`earning.event`") {
        let input = if f.earn_event == "custom" {
            "earn_custom"
        } else {
            "earn_event"
        };
        (
            input,
            "The event name must be 1 to 40 lower-case letters, digits or _, e.g. app_review"
                .into(),
        )
    } else if has("amounts and targets") {
        let milestone = f.earn_type == "milestone";
        if milestone && !f.ms_target.trim().is_empty() {
            ("ms_target", "The target must be more than zero".into())
        } else {
            (
                "earn_min",
                "The minimum amount must be more than zero".into(),
            )
        }
    } else if has("`windowDays`") {
        (
            "window_days",
            "The redemption window must be 1 to 3,650 days".into(),
        )
    } else if has("`maxPerCustomerReset`") {
        (
            "h_reset",
            "A reset period needs a maximum per customer to reset".into(),
        )
    } else if has("`maxPerCustomer`") {
        (
            "max_per_customer",
            "The maximum per customer must be at least 1".into(),
        )
    } else if has("must count between") {
        (
            "h_reset_n",
            super::words::capitalized(&format!("the reset period {message}")),
        )
    } else if has("reminder") {
        (
            "msg_reminder_days",
            "A reminder goes at most 365 days before the last day".into(),
        )
    } else if has("message text") {
        (text_input(), super::words::capitalized(message))
    } else {
        (
            "holding",
            super::words::capitalized(&message.replace('`', "")),
        )
    };
    (input, words)
}
