//! An offer's customers' side in the console (issue #18): the offer page's "Customers' side"
//! section — public link and poster (publish, take down), whether and how its coupons may be
//! shared, the referral reward — and the Referrals view (`/offers/{id}/referrals`). Changing
//! it takes the permission to edit the offer; every role that reads offers sees it.

use super::page::{self, OfferHead};
use super::today;
use crate::domain::FieldErrors;
use crate::domain::ids::OfferId;
use crate::domain::offer::CodeKind;
use crate::domain::sharing::{
    RewardOffer, ShareMode, SharedOffer, SharingChoice, decide_sharing, reward_refusal,
};
use crate::domain::user::Permission;
use crate::store::offer_sharing::{ReferralCounts, ShareListRow};
use crate::store::offers::OfferRecord;
use crate::web::auth::{CurrentUser, Empty};
use crate::web::csrf::CsrfForm;
use crate::web::error::{render, see_other};
use crate::web::extract::*;
use crate::web::{AppState, Chrome, WebError};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// The sharing form as posted (an unticked box is absent).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SharingForm {
    #[serde(default)]
    shareable: Option<String>,
    #[serde(default)]
    share_mode: String,
    #[serde(default)]
    referral_offer_id: String,
}

impl SharingForm {
    fn choice(&self) -> SharingChoice {
        SharingChoice {
            shareable: self.shareable.is_some(),
            mode: self.share_mode.clone(),
            referral_offer_id: self.referral_offer_id.clone(),
        }
    }
}

/// A share mode as the form offers it.
pub struct ModeOption {
    pub value: &'static str,
    pub label: &'static str,
    pub words: &'static str,
}

/// An offer in the reward picker.
pub struct RewardOption {
    pub id: i64,
    pub name: String,
}

/// The offer page's "Customers' side" section.
pub struct SharingPanel {
    pub offer_id: OfferId,
    /// The public link and the poster's, when published.
    pub link: Option<(String, String)>,
    /// A common-code offer: sharing cannot be turned on.
    pub common: bool,
    pub can_edit: bool,
    /// Saved or as typed.
    pub shareable: bool,
    pub mode: String,
    pub referral: String,
    /// The saved settings in words (what a reader without the form sees).
    pub saved_shareable: bool,
    pub saved_mode_label: &'static str,
    pub saved_reward: String,
    /// The saved reward offer cannot be issued now: why (rewards will be refused).
    pub reward_warning: String,
    pub modes: Vec<ModeOption>,
    pub rewards: Vec<RewardOption>,
    /// Offers left out of the reward picker, and why.
    pub hidden_rewards: Vec<String>,
    pub errors: FieldErrors,
}

impl SharingPanel {
    pub fn error(&self, field: &str) -> &str {
        self.errors.get(field)
    }

    /// Loads the section; `form` (with its errors) is what the user typed when a save was
    /// refused.
    pub async fn load(
        state: &AppState,
        user: &CurrentUser,
        offer: &OfferRecord,
        form: Option<SharingForm>,
        errors: FieldErrors,
    ) -> Result<SharingPanel, WebError> {
        let saved = state.store.offer_sharing(user.org_id, offer.id).await?;
        let base = state.settings.base_url.trim_end_matches('/');
        let link = saved
            .public_token
            .as_ref()
            .map(|t| (format!("{base}/get/{t}"), format!("{base}/get/{t}/poster")));
        let today = today(user);
        let mut rewards = Vec::new();
        let mut hidden = Vec::new();
        let mut saved_reward = "None".to_string();
        let mut reward_warning = String::new();
        for r in state.store.reward_offers(user.org_id, offer.id).await? {
            let refusal = reward_refusal(&r, today);
            if Some(r.id) == saved.referral_offer_id {
                saved_reward = r.name.clone();
                if let Some(why) = &refusal {
                    reward_warning = format!(
                        "The reward offer {why}: friends' redemptions are not rewarded until another is chosen."
                    );
                }
            }
            match refusal {
                None => rewards.push(RewardOption {
                    id: r.id.get(),
                    name: r.name,
                }),
                Some(_) => hidden.push(hidden_reason(&r, today)),
            }
        }
        let form = form.unwrap_or_else(|| SharingForm {
            shareable: saved.shareable.then(|| "on".into()),
            share_mode: saved.mode.as_str().into(),
            referral_offer_id: saved
                .referral_offer_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        });
        Ok(SharingPanel {
            offer_id: offer.id,
            link,
            common: offer.rules.generation.code_kind() == CodeKind::Common,
            can_edit: user.can(Permission::EditOffers),
            shareable: form.shareable.is_some(),
            mode: form.share_mode,
            referral: form.referral_offer_id.trim().to_string(),
            saved_shareable: saved.shareable,
            saved_mode_label: saved.mode.label(),
            saved_reward,
            reward_warning,
            modes: [ShareMode::Transfer, ShareMode::Fresh]
                .into_iter()
                .map(|m| ModeOption {
                    value: m.as_str(),
                    label: m.label(),
                    words: m.words(),
                })
                .collect(),
            rewards,
            hidden_rewards: hidden,
            errors,
        })
    }
}

/// "Summer 10% (ended 3 Dec 2026)" for the note under the reward picker.
fn hidden_reason(r: &RewardOffer, today: chrono::NaiveDate) -> String {
    use crate::domain::issue::offer_ends_on;
    match (offer_ends_on(&r.expiry, r.campaign_end), &r.claimed_by) {
        (Some(end), _) if today > end => format!("{} (ended {})", r.name, end.format("%-d %b %Y")),
        (_, Some((_, by))) => format!("{} (claimed by {by})", r.name),
        _ => format!("{} (waits for a campaign to claim it)", r.name),
    }
}

fn back_to(offer: OfferId) -> String {
    format!("/offers/{offer}#customers-side")
}

/// `POST /offers/{id}/sharing`: whether and how its coupons may be shared, and the reward.
pub async fn save(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<SharingForm>,
) -> Result<HttpResponse, WebError> {
    let choice = form.choice();
    let reward = match choice.referral_offer_id.trim().parse::<OfferId>() {
        Ok(id) => state.store.reward_offer(user.org_id, id).await?,
        Err(_) => None,
    };
    let shared = SharedOffer {
        id: offer.id,
        code_kind: offer.rules.generation.code_kind(),
    };
    match decide_sharing(&shared, &choice, reward.as_ref(), today(&user)) {
        Ok(valid) => {
            state
                .store
                .set_offer_sharing(user.org_id, offer.id, &valid, &user.actor())
                .await?;
            Chrome::flash(&session, "Sharing settings saved.");
            Ok(see_other(&back_to(offer.id)))
        }
        Err(errors) => {
            let panel = SharingPanel::load(&state, &user, &offer, Some(form), errors).await?;
            page::render_configuration(
                &state,
                &user,
                &session,
                &offer,
                panel,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /offers/{id}/sharing/publish`: gives the offer its public link and poster.
pub async fn publish(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    state
        .store
        .publish_offer(user.org_id, offer.id, &user.actor())
        .await?;
    Chrome::flash(
        &session,
        "The offer is published: its link and poster now give customers a coupon.",
    );
    Ok(see_other(&back_to(offer.id)))
}

/// `POST /offers/{id}/sharing/unpublish`: takes the link and poster down.
pub async fn unpublish(
    MyOffer { user, offer, .. }: MyOffer<ToEdit>,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, WebError> {
    state
        .store
        .unpublish_offer(user.org_id, offer.id, &user.actor())
        .await?;
    Chrome::flash(
        &session,
        "The public link is taken down: the link and its poster no longer give coupons.",
    );
    Ok(see_other(&back_to(offer.id)))
}

/// Shares listed per page of the Referrals view.
const PAGE_SIZE: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<i64>,
}

/// One share as the Referrals view shows it.
pub struct ShareView {
    pub shared_at: String,
    pub owner: String,
    pub channel: String,
    pub claimed_at: String,
    pub friend: String,
    /// "Redeemed", "Not yet", or "" before a claim.
    pub friend_redeemed: String,
    pub redeemed: bool,
    /// The reward coupon's code, if one was issued.
    pub reward_code: String,
    /// Why no reward, or what it waits for.
    pub reward_text: String,
}

#[derive(Template)]
#[template(path = "pages/offer_referrals.html")]
struct ReferralsPage {
    chrome: Chrome,
    head: OfferHead,
    counts: ReferralCounts,
    shareable: bool,
    reward_name: String,
    shares: Vec<ShareView>,
    page: i64,
    more: bool,
}

/// Masks a customer's identifier for staff lists: enough to tell people apart, not enough to
/// reach them — a mobile keeps its country code and last 4 digits (`+91••••••3210`,
/// `••••••3210`), an email the first letters of its name and its domain (`as•••@example.com`),
/// another identifier its first and last 2 characters (`CU•••••89`).
pub fn masked(kind: &str, identifier: &str) -> String {
    let chars: Vec<char> = identifier.chars().collect();
    if let Some((name, domain)) = identifier.split_once('@') {
        let head: String = name.chars().take(2.min(name.chars().count() / 2)).collect();
        return format!("{head}•••@{domain}");
    }
    if kind == "MOBILE" {
        // The national number is the last 10 digits; what comes before is the country code.
        let country: String = chars[..chars.len().saturating_sub(10)].iter().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        return format!("{country}••••••{tail}");
    }
    if chars.len() <= 6 {
        let last: String = chars[chars.len().saturating_sub(2)..].iter().collect();
        return format!("•••{last}");
    }
    let h: String = chars[..2].iter().collect();
    let t: String = chars[chars.len() - 2..].iter().collect();
    format!("{h}•••••{t}")
}

fn at(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map(|t| crate::domain::offer::describe::time_text(t, tz))
        .unwrap_or_default()
}

fn view(r: ShareListRow, tz: Tz) -> ShareView {
    let who = |kind: &str, id: &str, guest: bool| {
        if guest {
            "a guest".to_string()
        } else {
            masked(kind, id)
        }
    };
    let claimed = r.claimed_at.is_some();
    let redeemed = r.friend_redeemed();
    let reward_text = match (&r.reward_code, &r.reward_note, r.rewarded_at) {
        (Some(_), _, _) => String::new(),
        (None, Some(note), _) => format!("No reward: {note}"),
        (None, None, Some(_)) => "No reward was issued".into(),
        (None, None, None) if redeemed => "Being issued".into(),
        (None, None, None) if claimed => "When the friend uses their coupon".into(),
        _ => String::new(),
    };
    ShareView {
        shared_at: at(Some(r.created_at), tz),
        owner: who(&r.owner_type, &r.owner, r.owner_guest),
        channel: match (r.channel.as_str(), &r.sent_to) {
            ("sms", Some(to)) => format!("SMS to {}", masked("MOBILE", to)),
            ("sms", None) => "SMS".into(),
            _ => "Link".into(),
        },
        claimed_at: if claimed {
            at(r.claimed_at, tz)
        } else {
            "Not claimed".into()
        },
        friend: match (&r.friend_type, &r.friend) {
            (Some(k), Some(f)) => who(k, f, r.friend_guest.unwrap_or(false)),
            _ => String::new(),
        },
        friend_redeemed: if !claimed {
            String::new()
        } else if redeemed {
            "Redeemed".into()
        } else {
            "Not yet".into()
        },
        redeemed,
        reward_code: r.reward_code.unwrap_or_default(),
        reward_text,
    }
}

/// `GET /offers/{id}/referrals`: the offer's shares, claims, friends' redemptions and rewards.
pub async fn referrals(
    MyOffer { user, offer, .. }: MyOffer<ToView>,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, WebError> {
    let page = q.page.unwrap_or(1).max(1);
    let store = &state.store;
    let counts = store.referral_counts(user.org_id, offer.id).await?;
    let mut rows = store
        .offer_shares(user.org_id, offer.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        .await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let sharing = store.offer_sharing(user.org_id, offer.id).await?;
    let reward_name = match sharing.referral_offer_id {
        Some(id) => store
            .reward_offer(user.org_id, id)
            .await?
            .map(|r| r.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let headline = offer
        .rules
        .describe(
            &super::names_for(&state.store, &user, offer.claimed_by.as_ref().map(|c| c.0)).await?,
        )
        .headline;
    let p = ReferralsPage {
        chrome: Chrome::new(&user, &session, "offers"),
        head: OfferHead::new(&offer, headline, "referrals", &user),
        counts,
        shareable: sharing.shareable,
        reward_name,
        shares: rows.into_iter().map(|r| view(r, user.time_zone)).collect(),
        page,
        more,
    };
    render(StatusCode::OK, &p)
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn identifiers_are_masked_by_kind() {
        assert_eq!(masked("MOBILE", "+919876543210"), "+91••••••3210");
        assert_eq!(masked("MOBILE", "9876543210"), "••••••3210");
        assert_eq!(masked("EMAIL", "asha@example.com"), "as•••@example.com");
        assert_eq!(masked("EMAIL", "a@example.com"), "•••@example.com");
        assert_eq!(masked("EXTERNAL_ID", "CUST-000189"), "CU•••••89");
        assert_eq!(masked("EXTERNAL_ID", "C12"), "•••12");
        assert_eq!(masked("MOBILE", ""), "••••••");
    }
}
