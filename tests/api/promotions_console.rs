//! The Promotions console over HTTP (PRM-1): the list and its filters, the wizard's per-step
//! checks with inline errors, saving live (then a cart gets it through the cart API), pause /
//! put live / end, the frozen limits of a live promotion, the org's cap of live promotions,
//! CSRF and roles.

use crate::helpers::{Browser, TestApp, spawn_app};
use crate::integration::Api;
use offerdesk::domain::ids::PromotionId;
use offerdesk::domain::promotion::Status;
use offerdesk::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin@acme.example.com";

/// Every input of "buy 2 or more of category PANTS, get 1 of category BELTS at 50% off"
/// with one more limit, as the wizard posts it (all steps' fields together).
pub fn pants_and_belt(name: &str) -> Vec<(&'static str, String)> {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive();
    [
        ("name", name),
        ("kind", "automatic"),
        ("starts", today.to_string().as_str()),
        ("p1_measure", "quantity"),
        ("p1_at_least", "2"),
        ("p1_inc_categories", "PANTS"),
        ("target", "products"),
        ("criteria", "filter"),
        ("b_inc_categories", "BELTS"),
        ("reward_quantity", "1"),
        ("value_type", "percent"),
        ("value", "50"),
        ("stacking", "stackable"),
        ("per_cart", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// The fields with `changes` applied (a field set to "" is dropped).
pub fn with(
    fields: &[(&'static str, String)],
    changes: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = fields
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    out.extend(
        changes
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, v.to_string())),
    );
    out
}

pub async fn post(
    b: &Browser,
    path: &str,
    fields: &[(&'static str, String)],
) -> crate::helpers::Page {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &pairs).await
}

/// Saves the wizard's fields as a new promotion (`status` draft or live); its id.
pub async fn save(b: &Browser, fields: &[(&'static str, String)], status: &str) -> i64 {
    let page = post(b, "/promotions/new", &with(fields, &[("status", status)])).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.unwrap();
    location
        .strip_prefix("/promotions/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("saved to {location}"))
}

async fn setup() -> (TestApp, Api, Browser) {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let b = app.signed_in(ADMIN).await;
    (app, api, b)
}

fn line(sku: &str, quantity: i64, unit_price: i64, category: &str) -> Value {
    json!({"sku": sku, "quantity": quantity, "unitPrice": unit_price, "category": category})
}

async fn open_cart(api: &Api, id: &str, lines: Vec<Value>) -> Value {
    let (status, v) = api
        .put(
            &format!("/carts/{id}"),
            json!({"state": "open", "lines": lines}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn status_of(app: &TestApp, id: i64) -> Status {
    let org = app.org_id("Acme").await;
    app.store
        .get_promotion(org, PromotionId(id))
        .await
        .unwrap()
        .status
}

#[tokio::test]
async fn the_list_shows_every_promotion_and_filters_by_name_and_status() {
    let (_app, _api, b) = setup().await;
    let belt = save(&b, &pants_and_belt("Two pants, belt half price"), "live").await;
    let shoes = with(
        &pants_and_belt("Shoe week"),
        &[
            ("p1_inc_categories", "SHOES"),
            ("b_inc_categories", "SOCKS"),
        ],
    );
    save(&b, &shoes, "draft").await;

    let all = b.get("/promotions").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body.contains("href=\"/promotions\""),
        "the nav links it"
    );
    assert!(all.body.contains("Two pants, belt half price") && all.body.contains("Shoe week"));
    assert!(
        all.body.contains(
            "Buy 2 or more of category PANTS, get 1 of category BELTS at 50% off, \
             stackable with other promotions"
        ),
        "each row says in words what it gives: {}",
        all.body
    );
    assert!(all.body.contains("status-live") && all.body.contains("status-draft"));
    assert!(all.body.contains("id=\"new-promotion\""));

    let live = b.get("/promotions?status=live").await.body;
    assert!(live.contains("Two pants") && !live.contains("Shoe week"));
    let drafts = b.get("/promotions?status=draft&q=").await.body;
    assert!(!drafts.contains("Two pants") && drafts.contains("Shoe week"));
    let searched = b.get("/promotions?q=SHOE").await.body;
    assert!(!searched.contains("Two pants") && searched.contains("Shoe week"));
    let none = b.get("/promotions?q=nothing-like-it").await.body;
    assert!(none.contains("No promotions match."));

    // htmx gets the table alone.
    let partial = b.get_htmx("/promotions?status=live").await;
    assert!(
        partial
            .body
            .trim_start()
            .starts_with("<div id=\"promotion-table\">")
    );
    assert!(
        !partial.body.contains("<html") && partial.body.contains(&format!("/promotions/{belt}"))
    );
}

/// Posts `fields` to step `n` ("Next"): the answer.
async fn next(b: &Browser, n: usize, fields: &[(&'static str, String)]) -> crate::helpers::Page {
    post(
        b,
        &format!("/promotions/new/step/{n}"),
        &with(fields, &[("nav", "next")]),
    )
    .await
}

/// A bad step: the step, its bad inputs, the inline message, a value kept on the page.
type Case = (
    usize,
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

#[tokio::test]
async fn each_step_refuses_a_bad_value_inline_and_keeps_what_was_typed() {
    let (_app, _api, b) = setup().await;
    let good = with(
        &pants_and_belt("Happy hour"),
        &[
            ("kind", "code"),
            ("codes", "HAPPY1, HAPPY2"),
            ("stores", "s1"),
        ],
    );
    let cases: [Case; 10] = [
        (
            1,
            vec![("name", "")],
            "Name is required",
            "value=\"HAPPY1, HAPPY2\"",
        ),
        (
            1,
            vec![("codes", "")],
            "needs at least one code",
            "value=\"\"",
        ),
        (
            1,
            vec![("ends", "2020-01-01")],
            "The validity must end after it starts",
            "value=\"2020-01-01\"",
        ),
        (
            3,
            vec![("hours", "25:00–26:00")],
            "is not a window such as 16:00–18:00",
            "value=\"s1\"",
        ),
        (
            4,
            vec![("cart_amount", "12,50.5.0")],
            "Cart amount must be an amount such as 500",
            "value=\"12,50.5.0\"",
        ),
        (
            4,
            vec![("cart_amount", "1,500.50")],
            "A cart amount condition is standalone only",
            "value=\"1,500.50\"",
        ),
        (
            4,
            vec![("p1_inc_categories", "")],
            "name the products to include or to exclude",
            "value=\"2\"",
        ),
        (
            5,
            vec![("value", "150")],
            "The value must be a percentage more than 0 and at most 100",
            "value=\"150\"",
        ),
        (
            6,
            vec![("per_cart", "0")],
            "Times per cart must be a whole number",
            "value=\"0\"",
        ),
        (
            6,
            vec![("g_reset", "every_days"), ("global_uses", "100")],
            "The number of days is required",
            "value=\"100\"",
        ),
    ];
    for (step, bad, message, kept) in cases {
        let page = next(&b, step, &with(&good, &bad)).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "step {step} with {bad:?}: {}",
            page.body
        );
        assert!(
            page.body.contains(message),
            "step {step} {bad:?} says {message:?}: {}",
            page.body
        );
        assert!(
            page.body.contains("class=\"field-error"),
            "inline next to the field"
        );
        assert!(page.body.contains(kept), "step {step} keeps {kept:?}");
        assert!(
            page.body
                .contains(&format!("action=\"/promotions/new/step/{step}\"")),
            "the same step again"
        );
        // The other steps' values ride along.
        assert!(
            page.body
                .contains("name=\"b_inc_categories\" value=\"BELTS\"")
                || step == 5
        );
    }
    // A good step moves on; the preview says it in words; Back keeps everything.
    for step in 1..=5 {
        let page = next(&b, step, &good).await;
        assert_eq!(page.status, StatusCode::OK, "step {step}: {}", page.body);
        assert!(
            page.body
                .contains(&format!("action=\"/promotions/new/step/{}\"", step + 1))
        );
    }
    let preview = next(&b, 6, &good).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(
        "Buy 2 or more of category PANTS, get 1 of category BELTS at 50% off, stackable with other promotions"
    ), "{}", preview.body);
    assert!(
        preview
            .body
            .contains("Code-linked: applies only when the code HAPPY1 or HAPPY2 is entered")
    );
    assert!(preview.body.contains("Only at store S1"));
    assert!(preview.body.contains("Applies at most 1 time in one cart"));
    let back = post(
        &b,
        "/promotions/new/step/6",
        &with(&good, &[("nav", "show")]),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(back.body.contains("name=\"per_cart\" value=\"1\""));
    let back = post(
        &b,
        "/promotions/new/step/4",
        &with(&good, &[("nav", "back")]),
    )
    .await;
    assert!(back.body.contains("action=\"/promotions/new/step/3\""));
    assert!(back.body.contains("name=\"stores\" value=\"s1\""));
}

#[tokio::test]
async fn saved_live_it_applies_to_carts_and_people_typed_amounts_are_exact() {
    let (_app, api, b) = setup().await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive()
        .to_string();
    let fields: Vec<(&'static str, String)> = [
        ("name", "Hundred off over 1,500.50"),
        ("kind", "automatic"),
        ("starts", today.as_str()),
        ("cart_amount", "1,500.50"),
        ("target", "cart"),
        ("value_type", "amount"),
        ("value", "100"),
        ("stacking", "stackable"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    let id = save(&b, &fields, "live").await;
    let page = b.get(&format!("/promotions/{id}")).await;
    assert!(
        page.body
            .contains("Spend ₹1,500.50 or more, get ₹100 off the whole cart"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Saved the promotion Hundred off over 1,500.50 live.")
    );

    let at = open_cart(&api, "C-1", vec![line("TV", 1, 150_050, "TV")]).await;
    assert_eq!(at["discount"], 10_000, "{at}");
    assert_eq!(at["applied"][0]["id"], id);
    let below = open_cart(&api, "C-2", vec![line("TV", 1, 150_049, "TV")]).await;
    assert_eq!(below["discount"], 0, "{below}");
}

#[tokio::test]
async fn pause_put_live_and_end_move_it_and_carts_follow() {
    let (app, api, b) = setup().await;
    let id = save(&b, &pants_and_belt("Belt deal"), "draft").await;
    let cart = || {
        vec![
            line("PANT-1", 2, 150_000, "PANTS"),
            line("BELT-1", 1, 80_000, "BELTS"),
        ]
    };
    let page = b.get(&format!("/promotions/{id}")).await.body;
    assert!(page.contains("id=\"move-live\"") && !page.contains("id=\"move-paused\""));
    assert!(!page.contains("id=\"move-ended\""), "a draft cannot end");
    assert_eq!(
        open_cart(&api, "D-1", cart()).await["discount"],
        0,
        "a draft applies to nothing"
    );

    let moves = [
        ("live", Status::Live, 40_000, ["move-paused", "move-ended"]),
        ("paused", Status::Paused, 0, ["move-live", "move-ended"]),
        ("live", Status::Live, 40_000, ["move-paused", "move-ended"]),
    ];
    for (i, (to, status, discount, buttons)) in moves.into_iter().enumerate() {
        let done = b
            .post(&format!("/promotions/{id}/status"), &[("to", to)])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{to}: {}", done.body);
        assert_eq!(status_of(&app, id).await, status);
        let page = b.get(&format!("/promotions/{id}")).await.body;
        for button in buttons {
            assert!(
                page.contains(&format!("id=\"{button}\"")),
                "{to} offers {button}"
            );
        }
        let v = open_cart(&api, &format!("M-{i}"), cart()).await;
        assert_eq!(v["discount"], discount, "{to}: {v}");
        if discount > 0 {
            let belt = v["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["sku"] == "BELT-1")
                .unwrap();
            assert_eq!(belt["discount"], 40_000);
        }
    }
    let ended = b
        .post(&format!("/promotions/{id}/status"), &[("to", "ended")])
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    let page = b.get(&format!("/promotions/{id}")).await.body;
    assert!(
        !page.contains("id=\"move-"),
        "an ended promotion has no move left"
    );
    assert_eq!(open_cart(&api, "E-1", cart()).await["discount"], 0);
    // A move its life does not allow is refused on the page, nothing changes.
    let refused = b
        .post(&format!("/promotions/{id}/status"), &[("to", "live")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .body
            .contains("a ended promotion cannot become live")
            || refused.body.contains("cannot become live")
    );
    assert_eq!(status_of(&app, id).await, Status::Ended);
}

#[tokio::test]
async fn a_live_promotions_limits_are_read_only_and_a_crafted_change_is_refused() {
    let (app, _api, b) = setup().await;
    let fields = pants_and_belt("Frozen limits");
    let id = save(&b, &fields, "live").await;
    let edit = b.get(&format!("/promotions/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(
        edit.body.contains("value=\"Frozen limits\""),
        "the form shows the promotion"
    );
    let limits = post(
        &b,
        &format!("/promotions/{id}/edit/step/6"),
        &with(&fields, &[("nav", "show")]),
    )
    .await;
    assert!(
        limits.body.contains("its limits can no longer change"),
        "{}",
        limits.body
    );
    assert!(limits.body.contains("Applies at most 1 time in one cart"));
    assert!(
        !limits.body.contains("<input name=\"per_cart\""),
        "no editable limit input"
    );

    // A crafted post changing a limit is refused by the use case and shown.
    let crafted = post(
        &b,
        &format!("/promotions/{id}/edit"),
        &with(&fields, &[("per_cart", "5")]),
    )
    .await;
    assert_eq!(crafted.status, StatusCode::CONFLICT, "{}", crafted.body);
    assert!(
        crafted.body.contains("its limits cannot change (perCart)"),
        "{}",
        crafted.body
    );
    let org = app.org_id("Acme").await;
    let stored = app.store.get_promotion(org, PromotionId(id)).await.unwrap();
    assert_eq!(stored.promotion.limits.per_cart, Some(1));

    // Everything else may change.
    let renamed = post(
        &b,
        &format!("/promotions/{id}/edit"),
        &with(&fields, &[("name", "Renamed"), ("value", "40")]),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let stored = app.store.get_promotion(org, PromotionId(id)).await.unwrap();
    assert_eq!(stored.promotion.name, "Renamed");
    assert_eq!(stored.status, Status::Live);
}

#[tokio::test]
async fn the_live_cap_is_set_in_settings_and_refusals_are_shown_plainly() {
    let (app, _api, b) = setup().await;
    let org = b.get("/admin/org").await.body;
    assert!(
        org.contains("name=\"live_promotion_cap\" value=\"250\""),
        "the default cap"
    );
    for bad in ["0", "10001", "many"] {
        let page = b
            .post(
                "/admin/org",
                &[
                    ("name", "Acme"),
                    ("currency", "INR"),
                    ("time_zone", "Asia/Kolkata"),
                    ("live_promotion_cap", bad),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            page.body
                .contains("Live promotions at most must be a whole number from 1 to 10,000")
        );
        assert!(
            page.body.contains(&format!("value=\"{bad}\"")),
            "keeps what was typed"
        );
    }
    let saved = b
        .post(
            "/admin/org",
            &[
                ("name", "Acme"),
                ("currency", "INR"),
                ("time_zone", "Asia/Kolkata"),
                ("live_promotion_cap", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store
            .get_org(app.org_id("Acme").await)
            .await
            .unwrap()
            .live_promotion_cap,
        1
    );

    save(&b, &pants_and_belt("First"), "live").await;
    let second = with(
        &pants_and_belt("Second"),
        &[("kind", "code"), ("codes", "SECOND"), ("status", "live")],
    );
    let refused = post(&b, "/promotions/new", &second).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .body
            .contains("the organisation already has 1 live promotions"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"save-draft\""),
        "the preview, to save it as a draft"
    );
    // As a draft it is saved; then its code is taken for a third one.
    save(&b, &with(&second, &[("status", "")]), "draft").await;
    let third = with(&second, &[("name", "Third"), ("status", "draft")]);
    let taken = post(&b, "/promotions/new", &third).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(
        taken.body.contains(
            "Codes already used in this organisation (by a coupon or another promotion): SECOND"
        ),
        "{}",
        taken.body
    );
    assert!(
        taken.body.contains("action=\"/promotions/new/step/1\""),
        "shown on the Basics step"
    );
}

#[tokio::test]
async fn without_the_csrf_token_nothing_is_saved_and_a_viewer_cannot_create() {
    let (app, _api, b) = setup().await;
    let id = save(&b, &pants_and_belt("Guarded"), "live").await;
    let fields = with(&pants_and_belt("No token"), &[("status", "live")]);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = b.post_raw("/promotions/new", &pairs).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = b
        .post_raw(&format!("/promotions/{id}/status"), &[("to", "paused")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, id).await, Status::Live);
    let org = app.org_id("Acme").await;
    assert_eq!(app.store.list_promotions(org).await.unwrap().len(), 1);

    let viewer = app
        .signed_in(&app.create_user("Acme", Role::Viewer).await)
        .await;
    let list = viewer.get("/promotions").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("id=\"new-promotion\""));
    assert_eq!(
        viewer.get("/promotions/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&viewer, "/promotions/new", &fields).await.status,
        StatusCode::FORBIDDEN
    );
    let page = viewer.get(&format!("/promotions/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"move-") && !page.body.contains("id=\"edit-promotion\""));
    assert_eq!(app.store.list_promotions(org).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_sku_list_uploaded_as_csv_joins_the_condition_and_bad_lines_are_named() {
    let (_app, _api, b) = setup().await;
    let fields = with(
        &pants_and_belt("From a file"),
        &[
            ("p1_inc_categories", ""),
            ("p1_inc_skus", "PANT-1"),
            ("nav", "upload"),
        ],
    );
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The helper names the file input "file"; this step reads `{list}_csv`.
    let mut form = reqwest::multipart::Form::new().text("csrf_token", b.csrf.clone());
    for (k, v) in &pairs {
        form = form.text(k.to_string(), v.to_string());
    }
    let csv = "sku\nPANT-2\n\"PANT-3\",Chinos\n";
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("pants.csv");
    form = form.part("p1_inc_skus_csv", part);
    let r = b
        .client
        .post(format!("{}/promotions/new/step/4", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("Added 2 SKUs from pants.csv."), "{body}");
    assert!(body.contains("PANT-1, PANT-2, PANT-3"), "{body}");

    let mut form = reqwest::multipart::Form::new().text("csrf_token", b.csrf.clone());
    for (k, v) in &pairs {
        form = form.text(k.to_string(), v.to_string());
    }
    let bad = "sku\nPANT-2\n\u{1}BAD\n";
    form = form.part(
        "p1_inc_skus_csv",
        reqwest::multipart::Part::bytes(bad.as_bytes().to_vec()).file_name("bad.csv"),
    );
    let r = b
        .client
        .post(format!("{}/promotions/new/step/4", b.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("bad.csv was not read: line 3"), "{body}");
    assert!(!body.contains("PANT-2"), "a refused file adds nothing");
}

#[tokio::test]
async fn a_promotions_page_shows_its_carts_and_discount_and_the_list_its_top_promotions() {
    let (_app, api, b) = setup().await;
    let id = save(&b, &pants_and_belt("Belt deal"), "live").await;
    let page = b.get(&format!("/promotions/{id}")).await;
    assert!(
        page.body.contains("No cart used this promotion"),
        "{}",
        page.body
    );
    let cart = |state: &str| {
        json!({"state": state, "lines": [line("PANT-1", 2, 150000, "PANTS"),
                                          line("BELT-1", 1, 80000, "BELTS")]})
    };
    for id in ["U-1", "U-2", "U-3"] {
        let (status, v) = api.put(&format!("/carts/{id}"), cart("closed")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    // An open cart records nothing; a cancelled one stops counting.
    api.put("/carts/U-4", cart("open")).await;
    api.put("/carts/U-3", cart("cancelled")).await;
    let page = b.get(&format!("/promotions/{id}")).await;
    let tile = |name: &str| {
        let at = page.body.find(&format!("id=\"usage-{name}\"")).unwrap();
        page.body[at..]
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(tile("carts"), "2", "two carts closed and not cancelled");
    assert_eq!(tile("discount"), "₹800", "40,000 paise twice");
    assert_eq!(tile("average"), "₹400");
    assert!(
        page.body.contains("<svg class=\"chart\""),
        "a chart is drawn"
    );
    let list = b.get("/promotions").await;
    let top = &list.body[list
        .body
        .find("id=\"top-promotions\"")
        .expect("top promotions")..];
    assert!(top.contains("Belt deal") && top.contains("₹800"), "{top}");
}

/// The wizard's product condition slots 2 and 3 filled in on top of `pants_and_belt`: a spend
/// on shirts and a Wrangler item that is not W-OLD.
fn three_product_conditions(name: &str) -> Vec<(&'static str, String)> {
    with(
        &pants_and_belt(name),
        &[
            ("p2_measure", "amount"),
            ("p2_at_least", "1,000"),
            ("p2_inc_categories", "SHIRTS"),
            ("p3_measure", "quantity"),
            ("p3_at_least", "1"),
            ("p3_inc_brands", "Wrangler"),
            ("p3_exc_skus", "W-OLD"),
        ],
    )
}

#[tokio::test]
async fn the_wizard_saves_three_product_conditions_and_the_api_reads_them_back() {
    let (_app, api, b) = setup().await;
    let fields = three_product_conditions("Outfit");
    // The third slot takes an uploaded SKU list like the first.
    let mut form = reqwest::multipart::Form::new().text("csrf_token", b.csrf.clone());
    for (k, v) in with(&fields, &[("nav", "upload")]) {
        form = form.text(k, v);
    }
    let csv = reqwest::multipart::Part::bytes(b"sku\nW-OLD-2\n".to_vec()).file_name("old.csv");
    let r = b
        .client
        .post(format!("{}/promotions/new/step/4", b.base))
        .multipart(form.part("p3_exc_skus_csv", csv))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("Added 1 SKUs from old.csv."), "{body}");
    assert!(body.contains(">W-OLD, W-OLD-2</textarea>"), "{body}");
    assert!(body.contains("id=\"more-cond-3\" open"), "slot 3 is open");
    assert!(
        !body.contains("id=\"more-cond-4\" open"),
        "slot 4 stays folded"
    );
    let fields = with(&fields, &[("p3_exc_skus", "W-OLD, W-OLD-2")]);

    let step = next(&b, 4, &fields).await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    assert!(
        step.body.contains("action=\"/promotions/new/step/5\""),
        "{}",
        step.body
    );
    let preview = post(&b, "/promotions/new/preview", &fields).await;
    assert!(
        preview.body.contains(
            "Buy 2 or more of category PANTS and spend ₹1,000 or more on category SHIRTS and \
             buy 1 or more of brand Wrangler (not SKUs W-OLD or W-OLD-2), get 1 of"
        ),
        "{}",
        preview.body
    );
    let id = save(&b, &fields, "live").await;

    let (status, read) = api.get(&format!("/promotions/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    let c = read["promotion"]["conditions"].as_array().unwrap();
    assert_eq!(c.len(), 3, "{read}");
    assert_eq!(c[0]["type"], "productQuantity");
    assert_eq!(c[0]["atLeast"], 2);
    assert_eq!(c[0]["products"]["include"]["categories"], json!(["PANTS"]));
    assert_eq!(c[1]["type"], "productAmount");
    assert_eq!(c[1]["atLeast"], 100_000);
    assert_eq!(c[1]["products"]["include"]["categories"], json!(["SHIRTS"]));
    assert_eq!(c[2]["type"], "productQuantity");
    assert_eq!(c[2]["atLeast"], 1);
    assert_eq!(c[2]["products"]["include"]["brands"], json!(["Wrangler"]));
    let mut excluded: Vec<&str> = c[2]["products"]["exclude"]["skus"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    excluded.sort_unstable();
    assert_eq!(excluded, ["W-OLD", "W-OLD-2"]);

    let page = b.get(&format!("/promotions/{id}")).await;
    for line in [
        "Buy 2 or more of category PANTS",
        "Spend ₹1,000 or more on category SHIRTS",
        "Buy 1 or more of brand Wrangler (not SKUs W-OLD or W-OLD-2)",
    ] {
        assert!(page.body.contains(line), "{line}: {}", page.body);
    }
}

/// "10% off the items" with `n` product conditions (categories C1 …), as the API takes it;
/// it starts at midnight in India, the org's time zone, as the wizard's dates do.
fn with_product_conditions(n: usize) -> Value {
    let conditions: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"type": "productQuantity",
                "products": {"include": {"categories": [format!("C{i}")]}}, "atLeast": i})
        })
        .collect();
    json!({
        "name": format!("{n} conditions"),
        "kind": {"type": "automatic"},
        "validity": {"starts": "2025-12-31T18:30:00Z"},
        "conditions": conditions,
        "benefit": {"target": {"type": "conditionItems"},
            "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable"
    })
}

#[tokio::test]
async fn the_api_refuses_a_fifth_product_condition_naming_the_field() {
    let (app, api, _b) = setup().await;
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": with_product_conditions(5)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "promotion.conditions", "{v}");
    assert_eq!(
        v["error"]["message"],
        "conditions must have at most 4 product conditions (it has 5)"
    );
    let org = app.org_id("Acme").await;
    assert!(app.store.list_promotions(org).await.unwrap().is_empty());

    // Four are fine; an edit to five is refused the same way and changes nothing.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": with_product_conditions(4)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (status, v) = api
        .put(
            &format!("/promotions/{id}"),
            json!({"promotion": with_product_conditions(5)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["field"], "promotion.conditions", "{v}");
    let (_, read) = api.get(&format!("/promotions/{id}")).await;
    assert_eq!(read["promotion"]["conditions"].as_array().unwrap().len(), 4);
}

/// The wizard form's hidden inputs (name, value), without the CSRF token; the values are
/// plain, so only the references askama writes for them are decoded.
fn hidden_of(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|tag| {
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                tag[start..start + tag[start..].find('"').unwrap()]
                    .replace("&#x27;", "'")
                    .replace("&#39;", "'")
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&")
            };
            (attr("name"), attr("value"))
        })
        .filter(|(k, _)| k != "csrf_token")
        .collect()
}

async fn post_pairs(b: &Browser, path: &str, pairs: &[(String, String)]) -> crate::helpers::Page {
    let fields: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post(path, &fields).await
}

#[tokio::test]
async fn an_api_made_promotion_with_three_product_conditions_is_edited_with_all_three() {
    let (_app, api, b) = setup().await;
    let (status, v) = api
        .post(
            "/promotions",
            json!({"promotion": with_product_conditions(3)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let id = v["id"].as_i64().unwrap();
    let before = v["promotion"].clone();

    let edit = b.get(&format!("/promotions/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.location);
    let mut fields = hidden_of(&edit.body);
    for (i, category) in ["C1", "C2", "C3"].iter().enumerate() {
        let n = i + 1;
        assert!(
            fields.contains(&(format!("p{n}_inc_categories"), category.to_string()))
                && fields.contains(&(format!("p{n}_at_least"), n.to_string())),
            "slot {n}: {fields:?}"
        );
    }
    fields.extend(
        [
            ("name", "3 conditions"),
            ("kind", "automatic"),
            ("starts", "2026-01-01"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut shown = fields.clone();
    shown.push(("nav".into(), "show".into()));
    let step = post_pairs(&b, &format!("/promotions/{id}/edit/step/4"), &shown).await;
    assert_eq!(step.status, StatusCode::OK);
    for n in 1..=3 {
        assert!(
            step.body.contains(&format!(
                "<input name=\"p{n}_inc_categories\" value=\"C{n}\""
            )),
            "slot {n}: {}",
            step.body
        );
    }
    assert!(step.body.contains("id=\"more-cond-3\" open"));
    assert!(!step.body.contains("id=\"more-cond-4\" open"));

    // Saved without a change, the rules stay what the API made.
    let preview = post_pairs(&b, &format!("/promotions/{id}/edit/preview"), &fields).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let saved = post_pairs(
        &b,
        &format!("/promotions/{id}/edit"),
        &hidden_of(&preview.body),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, read) = api.get(&format!("/promotions/{id}")).await;
    assert_eq!(read["promotion"], before);
}
