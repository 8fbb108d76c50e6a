//! Claiming an offer for a campaign or program from the console (CLM-1): a picker of the
//! consumers that may claim it now, then the claim itself (the rules live in
//! `store::claims`). Admins and marketing managers only.

use super::names;
use crate::domain::claim::{ClaimCandidate, ClaimRefusal};
use crate::domain::ids::OfferId;
use crate::domain::masters::ConsumerKind;
use crate::domain::user::Permission;
use crate::store::StoreError;
use crate::store::offers::OfferRecord;
use crate::web::auth::CurrentUser;
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::extract::*;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct ClaimForm {
    #[serde(default)]
    consumer_id: String,
}

/// A consumer in the picker.
pub struct ConsumerOption {
    pub id: i64,
    pub name: String,
    /// "1 Nov 2026 – 31 Dec 2026", or "No end date".
    pub runs: String,
    /// Listed but not choosable (an outbound campaign that holds an offer): why.
    pub note: String,
}

impl ConsumerOption {
    pub fn enabled(&self) -> bool {
        self.note.is_empty()
    }
}

/// The picker's consumers of one kind.
pub struct ConsumerGroup {
    pub label: &'static str,
    pub options: Vec<ConsumerOption>,
}

#[derive(Template)]
#[template(path = "pages/offer_claim.html")]
struct ClaimPage {
    chrome: Chrome,
    offer_id: OfferId,
    offer_name: String,
    offer_code: String,
    headline: String,
    ends_with_campaign: bool,
    /// "Kind: name" of the consumer holding the offer; empty when unclaimed.
    claimed_by: String,
    groups: Vec<ConsumerGroup>,
    /// Whether any consumer may be chosen.
    any_enabled: bool,
    /// Consumers left out of the picker, and why ("ended campaigns: Summer sale").
    hidden: Vec<String>,
    chosen: i64,
    error: String,
    can_add_consumers: bool,
}

fn runs(c: &crate::domain::claim::ClaimConsumer) -> String {
    match (c.starts_on, c.ends_on) {
        (Some(s), Some(e)) => format!("{} – {}", s.format("%-d %b %Y"), e.format("%-d %b %Y")),
        (None, Some(e)) => format!("until {}", e.format("%-d %b %Y")),
        _ => "No end date".into(),
    }
}

/// Sorts the candidates into the picker's groups and the hidden notes.
fn picker(candidates: Vec<ClaimCandidate>) -> (Vec<ConsumerGroup>, Vec<String>) {
    let mut ended = Vec::new();
    let mut no_end = Vec::new();
    let mut groups: Vec<ConsumerGroup> = ConsumerKind::ALL
        .iter()
        .map(|k| ConsumerGroup {
            label: k.label(),
            options: Vec::new(),
        })
        .collect();
    for ClaimCandidate { consumer, verdict } in candidates {
        let note = match verdict {
            Ok(()) => String::new(),
            Err(ClaimRefusal::HoldsAnOffer { offer, .. }) => {
                format!("Holds “{offer}”; an outbound campaign holds one offer")
            }
            Err(ClaimRefusal::CampaignEnded { ended: end, .. }) => {
                ended.push(format!(
                    "{} (ended {})",
                    consumer.name,
                    end.format("%-d %b %Y")
                ));
                continue;
            }
            Err(ClaimRefusal::NoCampaignEnd(name)) => {
                no_end.push(name);
                continue;
            }
            // The offer has an owner: the page shows it instead of a picker.
            Err(ClaimRefusal::AlreadyClaimed(_)) => continue,
        };
        let Some(group) = ConsumerKind::ALL.iter().position(|x| *x == consumer.kind) else {
            continue;
        };
        groups[group].options.push(ConsumerOption {
            id: consumer.id,
            runs: runs(&consumer),
            name: consumer.name,
            note,
        });
    }
    groups.retain(|g| !g.options.is_empty());
    let mut hidden = Vec::new();
    if !ended.is_empty() {
        hidden.push(format!("Ended campaigns: {}.", ended.join(", ")));
    }
    if !no_end.is_empty() {
        hidden.push(format!(
            "Without an end date (this offer ends along with the campaign that claims it): {}.",
            no_end.join(", ")
        ));
    }
    (groups, hidden)
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    offer: &OfferRecord,
    chosen: i64,
    error: String,
) -> Result<ClaimPage, WebError> {
    let facts = crate::store::claims::claim_offer_of(offer);
    let (groups, hidden) = if facts.claimed_by.is_some() {
        (Vec::new(), Vec::new())
    } else {
        picker(crate::app::claim::candidates(&state.store, user.org_id, &facts).await?)
    };
    let headline = offer
        .rules
        .describe(&names(&state.store, user).await?)
        .headline;
    Ok(ClaimPage {
        chrome: Chrome::new(user, session, "offers"),
        offer_id: offer.id,
        offer_name: facts.name,
        offer_code: facts.offer_code,
        headline,
        ends_with_campaign: facts.ends_with_campaign,
        claimed_by: facts.claimed_by.map(|(_, label)| label).unwrap_or_default(),
        any_enabled: groups
            .iter()
            .any(|g| g.options.iter().any(ConsumerOption::enabled)),
        groups,
        hidden,
        chosen,
        error,
        can_add_consumers: user.can(Permission::ManageConsumers),
    })
}

/// `GET /offers/{id}/claim`: the picker, or who holds the offer.
pub async fn show(
    MyOffer { user, offer, .. }: MyOffer<ToManage>,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, WebError> {
    let p = page(&state, &user, &session, &offer, 0, String::new()).await?;
    render(StatusCode::OK, &p)
}

/// A refusal as a sentence.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// `POST /offers/{id}/claim`: claims the offer for the chosen consumer; a refusal re-shows the
/// picker (422) with the reason and the choice.
pub async fn claim(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<OfferId>,
    CsrfForm(form): CsrfForm<ClaimForm>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let offer_id = path.into_inner();
    // 404 for an offer of another org before anything else.
    let offer = state.store.get_offer(user.org_id, offer_id).await?;
    let chosen: i64 = form.consumer_id.trim().parse().unwrap_or(0);
    let error = if chosen <= 0 {
        "Choose the campaign or program to claim the offer for.".to_string()
    } else {
        match crate::app::claim::claim(&state.store, user.org_id, offer_id, chosen, &user.actor())
            .await
        {
            Ok(Ok(done)) => {
                let message = if done.already {
                    format!("Already claimed by {}.", done.consumer.label())
                } else {
                    format!("Claimed by {}.", done.consumer.label())
                };
                Chrome::flash(&session, &message);
                return Ok(see_other(&format!("/offers/{offer_id}?tab=information")));
            }
            Ok(Err(refusal)) => sentence(&refusal.to_string()),
            Err(StoreError::NotFound) => {
                "That campaign or program does not exist; choose one from the list.".to_string()
            }
            Err(e) => return Err(e.into()),
        }
    };
    // Read again: a refused claim may have lost a race, and the page shows the owner then.
    let offer = state.store.get_offer(user.org_id, offer.id).await?;
    let p = page(&state, &user, &session, &offer, chosen, error).await?;
    render(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::claim::ClaimConsumer;
    use chrono::NaiveDate;

    fn candidate(id: i64, kind: &str, verdict: Result<(), ClaimRefusal>) -> ClaimCandidate {
        ClaimCandidate {
            consumer: ClaimConsumer {
                id,
                name: format!("C{id}"),
                kind: ConsumerKind::parse("kind", kind).unwrap(),
                starts_on: None,
                ends_on: None,
            },
            verdict,
        }
    }

    #[test]
    fn the_picker_hides_ended_campaigns_and_disables_a_full_outbound_campaign() {
        let ended = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let (groups, hidden) = picker(vec![
            candidate(1, "loyalty", Ok(())),
            candidate(
                2,
                "outbound",
                Err(ClaimRefusal::HoldsAnOffer {
                    consumer: "C2".into(),
                    offer: "Welcome".into(),
                }),
            ),
            candidate(
                3,
                "dvs",
                Err(ClaimRefusal::CampaignEnded {
                    consumer: "C3".into(),
                    ended,
                }),
            ),
        ]);
        let labels: Vec<&str> = groups.iter().map(|g| g.label).collect();
        assert_eq!(labels, ["Outbound campaign", "Loyalty program"]);
        assert!(!groups[0].options[0].enabled());
        assert!(groups[0].options[0].note.contains("Welcome"));
        assert!(groups[1].options[0].enabled());
        assert_eq!(hidden, ["Ended campaigns: C3 (ended 31 Jan 2026)."]);
    }

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(sentence("the offer is x"), "The offer is x.");
    }
}
