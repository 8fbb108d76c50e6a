//! Edit → *Preview changes* → *Update offer* (seed 001 "Preview and update"): the edited offer
//! in plain words with the changed lines marked and nothing saved until Update; Back to
//! editing keeps every typed value — over HTTP on both databases, and in headless Chromium.

use crate::browser::{browser, chromedriver, screenshot_path, sign_in, type_css, wait_for_text};
use crate::helpers::{Browser, Page, TestApp, spawn_app};
use crate::offers::{FAR, form_pairs, offer_in};
use offerdesk::domain::ids::{OfferId, OrgId};
use offerdesk::domain::offer::form::OfferForm;
use offerdesk::domain::user::Role;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;
use std::time::Duration;
use thirtyfour::prelude::*;

const OLD_HEADLINE: &str =
    "10% off, on all products except sale items at any store, once per coupon";
const NEW_HEADLINE: &str =
    "15% off, on all products except sale items at store Store S1, once per coupon";

struct Setup {
    app: TestApp,
    b: Browser,
    org: OrgId,
    id: OfferId,
    store: i64,
    form: OfferForm,
}

/// Acme with stores S1 and S2, an offer "Welcome" (10% off anywhere) and a signed-in
/// marketing manager; `form` is the offer's edit form as saved.
async fn setup() -> Setup {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let email = app.create_user("Acme", Role::Marketing).await;
    let b = app.signed_in(&email).await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "N", "North").await;
    let store = app.add_store("Acme", "S1", zone).await;
    app.add_store("Acme", "S2", zone).await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let org = app.org_id("Acme").await;
    let offer = app.store.get_offer(org, id).await.unwrap();
    let mut form = OfferForm::from_rules(&offer.rules, 2);
    form.offer_code = offer.offer_code.clone();
    Setup {
        app,
        b,
        org,
        id,
        store,
        form,
    }
}

async fn post_form(b: &Browser, path: &str, f: &OfferForm) -> Page {
    let pairs = form_pairs(f);
    let fields: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(path, &fields).await
}

/// Decodes the character references askama writes in attribute values.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').expect("a terminated reference");
        let entity = &tail[1..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") || e.starts_with("#X") => {
                char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap()
            }
            e if e.starts_with('#') => char::from_u32(e[1..].parse().unwrap()).unwrap(),
            e => panic!("unknown entity &{e};"),
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The hidden (name, value) pairs of the preview's form, in order, without the CSRF token.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let form = &html[html.find("id=\"edit-preview\"").expect("the preview form")..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|tag| {
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                unescape(&tag[start..start + tag[start..].find('"').unwrap()])
            };
            (attr("name"), attr("value"))
        })
        .filter(|(k, _)| k != "csrf_token")
        .collect()
}

/// Posts the preview's hidden fields to `path`, as its buttons do.
async fn post_hidden(b: &Browser, path: &str, hidden: &[(String, String)]) -> Page {
    let fields: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(path, &fields).await
}

/// The text of the `<li>` (or headline) that contains `needle`.
fn element_with<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in\n{html}"));
    let start = html[..at]
        .rfind("<li")
        .or(html[..at].rfind("<div"))
        .unwrap();
    let end = at
        + html[at..]
            .find("</li>")
            .or(html[at..].find("</div>"))
            .unwrap();
    &html[start..end]
}

#[tokio::test]
async fn preview_marks_what_changed_and_saves_only_on_update() {
    let s = setup().await;
    let mut edited = s.form.clone();
    edited.discount_value = "15".into();
    edited.stores = vec![s.store.to_string()];

    let before = s.app.store.get_offer(s.org, s.id).await.unwrap();
    let p = post_form(&s.b, &format!("/offers/{}/edit/preview", s.id), &edited).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("Preview changes"));
    // The new headline, marked, with the old one struck through.
    let headline = element_with(&p.body, NEW_HEADLINE);
    assert!(
        headline.contains("diff-changed") && headline.contains("<ins>"),
        "{headline}"
    );
    assert!(headline.contains(&format!("<del class=\"diff-old\"><span class=\"visually-hidden\">Was: </span>{OLD_HEADLINE}</del>")), "{headline}");
    // Each changed line is marked and shows its old wording.
    let discount = element_with(&p.body, "15% off on all products");
    assert!(
        discount.contains("class=\"diff-changed\"")
            && discount.contains("<ins>15% off on all products</ins>")
            && discount.contains("10% off on all products</del>"),
        "{discount}"
    );
    let place = element_with(&p.body, "Redeemable at store Store S1");
    assert!(
        place.contains("class=\"diff-changed\"") && place.contains("Redeemable at any store</del>"),
        "{place}"
    );
    // What did not change is not marked.
    let name = element_with(&p.body, "Name: Welcome");
    assert!(
        name.contains("class=\"diff-same\"") && !name.contains("<del"),
        "{name}"
    );
    assert!(!p.body.contains("Nothing changed"));
    assert!(
        p.body.contains("3 lines change"),
        "headline, discount and place"
    );
    // Nothing is saved yet.
    let unchanged = s.app.store.get_offer(s.org, s.id).await.unwrap();
    assert_eq!(unchanged.rules, before.rules);
    assert_eq!(unchanged.updated_at, before.updated_at);

    // The hidden fields carry every field of the form, as typed.
    let hidden = hidden_inputs(&p.body);
    assert_eq!(hidden, form_pairs(&edited));

    // Update offer posts them to the save route: saved and audited.
    let saved = post_hidden(&s.b, &format!("/offers/{}/edit", s.id), &hidden).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location, Some(format!("/offers/{}", s.id)));
    let after = s.app.store.get_offer(s.org, s.id).await.unwrap();
    assert_eq!(
        after.rules.discount,
        offerdesk::domain::offer::Discount::Percent {
            basis_points: 1500,
            cap: None
        }
    );
    assert_eq!(
        after.rules.redemption.scope,
        vec![(offerdesk::domain::offer::ScopeKind::Store, s.store)]
    );
    let (audit, _) = s
        .app
        .store
        .list_audit(s.org, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert_eq!(audit[0].summary, "Edited offer Welcome");
    let details: serde_json::Value =
        serde_json::from_str(audit[0].details.as_deref().unwrap()).unwrap();
    assert_eq!(details["discount_value"]["before"], "10");
    assert_eq!(details["discount_value"]["after"], "15");
    assert!(details.get("stores").is_some(), "{details}");
    assert!(details.get("name").is_none(), "{details}");
    let page = s.b.get(&format!("/offers/{}", s.id)).await;
    assert!(page.body.contains("Saved offer Welcome."));
    assert!(page.body.contains(NEW_HEADLINE));
}

#[tokio::test]
async fn back_to_editing_keeps_every_typed_value_and_nothing_changed_says_so() {
    let s = setup().await;
    let mut edited = s.form.clone();
    edited.name = "Welcome \"back\" & more".into();
    edited.stores = vec![s.store.to_string()];
    edited.time_slots = "22:00-02:00".into();
    edited.offer_code = "WELCOME-2".into();
    let p = post_form(&s.b, &format!("/offers/{}/edit/preview", s.id), &edited).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(
        p.body.contains("Offer (series) code: WELCOME-2"),
        "the code change is shown"
    );
    let hidden = hidden_inputs(&p.body);
    assert_eq!(hidden, form_pairs(&edited));

    let back = post_hidden(&s.b, &format!("/offers/{}/edit/back", s.id), &hidden).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(back.body.contains("id=\"edit-offer\""));
    assert!(
        back.body
            .contains("value=\"Welcome &#34;back&#34; &#38; more\""),
        "{}",
        back.body
    );
    assert!(back.body.contains("value=\"WELCOME-2\""));
    assert!(back.body.contains("22:00-02:00"));
    assert!(
        back.body
            .contains(&format!("name=\"stores\" value=\"{}\" checked", s.store)),
        "the ticked store stays ticked"
    );
    assert!(!back.body.contains("Nothing was saved. Please correct"));
    assert_eq!(
        s.app.store.get_offer(s.org, s.id).await.unwrap().rules.name,
        "Welcome",
        "going back saves nothing"
    );

    // Previewing the saved values unchanged says so.
    let same = post_form(&s.b, &format!("/offers/{}/edit/preview", s.id), &s.form).await;
    assert_eq!(same.status, StatusCode::OK);
    assert!(same.body.contains("id=\"nothing-changed\""));
    assert!(!same.body.contains("class=\"diff-changed\""));
    assert!(!same.body.contains("<del"));
}

#[tokio::test]
async fn a_bad_value_re_shows_the_form_and_viewers_cannot_preview() {
    let s = setup().await;
    let mut bad = s.form.clone();
    bad.discount_value = "150".into();
    bad.name = "Welcome typed".into();
    let p = post_form(&s.b, &format!("/offers/{}/edit/preview", s.id), &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Value must be a percentage more than 0 and at most 100")
    );
    assert!(p.body.contains("value=\"150\"") && p.body.contains("value=\"Welcome typed\""));
    assert!(p.body.contains("id=\"edit-offer\"") && !p.body.contains("id=\"edit-preview\""));

    // Immutables are refused at the preview as at saving.
    let mut crafted = s.form.clone();
    crafted.expiry_type = "campaign".into();
    let p = post_form(&s.b, &format!("/offers/{}/edit/preview", s.id), &crafted).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("cannot be changed after the offer is created")
    );

    let viewer = s
        .app
        .signed_in(&s.app.create_user("Acme", Role::Viewer).await)
        .await;
    for route in ["preview", "back"] {
        assert_eq!(
            post_form(&viewer, &format!("/offers/{}/edit/{route}", s.id), &s.form)
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{route}"
        );
    }
    // Without the CSRF token nothing is previewed.
    let p =
        s.b.post_raw(&format!("/offers/{}/edit/preview", s.id), &[("name", "X")])
            .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Another org's offer is not found.
    s.app.create_org_admin("Globex").await;
    let globex = s.app.signed_in("admin@globex.example.com").await;
    assert_eq!(
        post_form(&globex, &format!("/offers/{}/edit/preview", s.id), &s.form)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn browser_edit_preview_then_update() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "N", "North").await;
    app.add_store("Acme", "S1", zone).await;
    app.add_store("Acme", "S2", zone).await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, &email).await;

    web.goto(format!("{base}/offers/{id}/edit")).await.unwrap();
    wait_for_text(&web, "Offer (series) code").await;
    type_css(&web, "#edit-offer [name=discount_value]", "15").await;
    web.find(By::Css("#adv-where > summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.find(By::Css("input[name=stores][data-label='Store S1']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let preview = web.find(By::Css("#preview-changes")).await.unwrap();
    preview.scroll_into_view().await.unwrap();
    web.screenshot(&screenshot_path("edit-preview-form-actions"))
        .await
        .unwrap();
    preview.click().await.unwrap();
    wait_for_text(&web, "Nothing is saved yet.").await;
    wait_for_text(&web, NEW_HEADLINE).await;
    let changed = web
        .find(By::XPath(
            "//li[contains(@class,'diff-changed')][contains(., 'Redeemable at store Store S1')]",
        ))
        .await
        .unwrap();
    let old = changed
        .find(By::Css("del"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(old.contains("Redeemable at any store"), "{old}");
    web.screenshot(&screenshot_path("edit-preview-1280"))
        .await
        .unwrap();
    changed.scroll_into_view().await.unwrap();
    web.screenshot(&screenshot_path("edit-preview-1280-redemption"))
        .await
        .unwrap();
    web.set_window_rect(0, 0, 1024, 768).await.unwrap();
    web.screenshot(&screenshot_path("edit-preview-1024"))
        .await
        .unwrap();
    // The page fits the narrower window without scrolling sideways.
    let overflow: bool = web
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(!overflow, "the preview scrolls sideways at 1024 px");
    web.set_window_rect(0, 0, 1280, 900).await.unwrap();

    // Back to editing keeps the typed values; preview again and update.
    web.find(By::Css("#back-to-editing"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    web.query(By::Css("#edit-offer [name=discount_value][value='15']"))
        .wait(Duration::from_secs(10), Duration::from_millis(50))
        .first()
        .await
        .expect("the typed discount is kept");
    assert!(
        web.find(By::Css("input[name=stores][data-label='Store S1']"))
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap()
    );
    web.find(By::Css("#preview-changes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Nothing is saved yet.").await;
    web.find(By::Css("#update-offer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Saved offer Welcome.").await;
    wait_for_text(&web, NEW_HEADLINE).await;
    web.screenshot(&screenshot_path("edit-preview-saved"))
        .await
        .unwrap();
    web.quit().await.unwrap();
}
