//! The Incentives console: wizard, preview, create, dashboard, offer page, edit, roles,
//! isolation — over HTTP on both databases.

use crate::helpers::{Browser, TestApp, spawn_app};
use chrono::NaiveDate;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
use offerdesk::domain::user::{Actor, Role};
use reqwest::StatusCode;

pub const FAR: &str = "2099-12-31";

/// Creates an offer straight through the store (for list and edit tests).
pub async fn offer_in(app: &TestApp, org: &str, name: &str, expires_on: &str) -> OfferId {
    let org = app.store.find_org_by_name(org).await.unwrap().unwrap();
    let form = OfferForm {
        name: name.into(),
        expires_on: expires_on.into(),
        discount_value: "10".into(),
        ..OfferForm::defaults()
    };
    // A context dated long ago lets tests make offers that have already expired.
    let ctx = OfferContext {
        digits: 2,
        today: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        ..Default::default()
    };
    let rules = parse(&form, &ctx).unwrap();
    app.store
        .create_offer(org.id, &rules, None, None, &Actor::system("test"))
        .await
        .unwrap()
}

/// The form as posted pairs (multi-selects repeat their key).
pub fn form_pairs(f: &OfferForm) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (k, val) in serde_json::to_value(f).unwrap().as_object().unwrap() {
        match val {
            serde_json::Value::String(s) => pairs.push((k.clone(), s.clone())),
            serde_json::Value::Array(items) => pairs.extend(
                items
                    .iter()
                    .map(|i| (k.clone(), i.as_str().unwrap().to_string())),
            ),
            _ => {}
        }
    }
    pairs
}

async fn marketing(app: &TestApp) -> Browser {
    app.create_org_admin("Acme").await;
    let email = app.create_user("Acme", Role::Marketing).await;
    app.signed_in(&email).await
}

#[tokio::test]
async fn the_wizard_validates_each_step_keeps_input_and_creates_the_offer_only_at_the_end() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let brand = app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Brand,
            "NIKE",
            "Nike",
        )
        .await;

    let start = b.get("/offers/new").await;
    assert_eq!(start.location.as_deref(), Some("/offers/new/step/1"));
    let p = b
        .post(
            "/offers/new/step/1",
            &[
                ("name", ""),
                ("expiry_type", "fixed"),
                ("expires_on", "2001-01-01"),
                ("pos_code", "GLOW"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("Offer name is required"));
    assert!(p.body.contains("Expiry date must be today or later"));
    assert!(p.body.contains("value=\"GLOW\""), "typed values are kept");

    let p = b
        .post(
            "/offers/new/step/1",
            &[
                ("name", "Glow15"),
                ("expiry_type", "fixed"),
                ("expires_on", FAR),
                ("pos_code", "GLOW"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/offers/new/step/2"));
    // A reload (or coming back later) shows what was typed.
    assert!(
        b.get("/offers/new/step/1")
            .await
            .body
            .contains("value=\"Glow15\"")
    );

    let p = b
        .post(
            "/offers/new/step/2",
            &[
                ("discount_type", "PERC"),
                ("discount_value", "150"),
                ("applies_to", "selected"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Value must be a percentage more than 0 and at most 100")
    );
    assert!(
        p.body
            .contains("Categories choose at least one category or brand for selected products")
    );
    // Back keeps the (invalid) input without checking it.
    let back = b
        .post(
            "/offers/new/step/2?nav=back",
            &[("discount_type", "PERC"), ("discount_value", "150")],
        )
        .await;
    assert_eq!(back.location.as_deref(), Some("/offers/new/step/1"));
    assert!(
        b.get("/offers/new/step/2")
            .await
            .body
            .contains("value=\"150\"")
    );
    let brand_id = brand.to_string();
    let p = b
        .post(
            "/offers/new/step/2",
            &[
                ("discount_type", "PERC"),
                ("discount_value", "15"),
                ("discount_cap", "500"),
                ("applies_to", "selected"),
                ("brands", &brand_id),
                ("include_sale", "on"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/offers/new/step/3"));

    let p = b
        .post(
            "/offers/new/step/3",
            &[
                ("delivery", "system"),
                ("generation", "common"),
                ("common_code", "glow15"),
                ("coupon_expiry", "days"),
                ("coupon_expiry_n", "30"),
                ("code_length", "10"),
                ("code_charset", "unambiguous"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/offers/new/step/4"));

    let p = b
        .post(
            "/offers/new/step/4",
            &[
                ("redemption_start", "issue"),
                ("time_slots", "22:00-21:00x"),
                ("min_bill", "5000"),
                ("max_bill", "1000"),
                ("poc_reminder_days", "3"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Time slots `22:00-21:00x` must look like 16:00-18:00")
    );
    assert!(
        p.body
            .contains("Maximum bill must not be less than the minimum bill amount")
    );
    let p = b
        .post(
            "/offers/new/step/4",
            &[
                ("redemption_start", "issue"),
                ("weekdays", "mon"),
                ("weekdays", "tue"),
                ("weekdays", "wed"),
                ("weekdays", "thu"),
                ("weekdays", "fri"),
                ("time_slots", "16:00-18:00"),
                ("max_per_customer", "1"),
                ("total_redemption_cap", "1000"),
                ("poc_reminder_days", "3"),
            ],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/offers/new/preview"));
    assert!(
        app.store.offer_names(org.id).await.unwrap().is_empty(),
        "nothing is created before “Create offer”"
    );

    let preview = b.get("/offers/new/preview").await;
    assert_eq!(preview.status, StatusCode::OK);
    let headline = "15% off, at most ₹500, on Nike products including sale items, Mon–Fri 16:00–18:00 at any store, once per customer, first 1,000 redemptions";
    assert!(preview.body.contains(headline), "{}", preview.body);
    assert!(
        preview
            .body
            .contains("One common code for everyone: GLOW15")
    );
    assert!(
        preview
            .body
            .contains("Coupons are valid for 30 days counting the issue day")
    );

    let created = b.post("/offers/new", &[]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let offer_page = b.get(created.location.as_deref().unwrap()).await;
    assert!(offer_page.body.contains(headline));
    assert!(offer_page.body.contains("Created offer Glow15."));
    assert_eq!(app.store.offer_names(org.id).await.unwrap().len(), 1);
    // The draft is gone: a new wizard starts empty.
    b.get("/offers/new").await;
    assert!(
        !b.get("/offers/new/step/1")
            .await
            .body
            .contains("value=\"Glow15\"")
    );

    // A second offer may not reuse the common code.
    for (step, fields) in [
        (
            1,
            vec![
                ("name", "Copy"),
                ("expiry_type", "fixed"),
                ("expires_on", FAR),
            ],
        ),
        (
            2,
            vec![
                ("discount_type", "ABS"),
                ("discount_value", "200"),
                ("applies_to", "all"),
            ],
        ),
        (
            3,
            vec![
                ("delivery", "system"),
                ("generation", "common"),
                ("common_code", "GLOW15"),
                ("coupon_expiry", "offer"),
            ],
        ),
        (
            4,
            vec![("redemption_start", "issue"), ("poc_reminder_days", "3")],
        ),
    ] {
        let page = b.post(&format!("/offers/new/step/{step}"), &fields).await;
        if step == 3 {
            // Caught at its own step, naming the offer that has it.
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                page.body.contains("is already used by the offer Glow15"),
                "{}",
                page.body
            );
        } else {
            assert_eq!(page.status, StatusCode::SEE_OTHER);
        }
    }
    // Creating anyway (the step skipped) is refused by the database's unique index.
    let dup = b.post("/offers/new", &[]).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.body.contains("is already used"), "{}", dup.body);
}

#[tokio::test]
async fn the_offer_page_has_configuration_and_information_tabs() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let config = b.get(&format!("/offers/{id}")).await.body;
    assert!(
        config.contains("10% off, on all products except sale items at any store, once per coupon")
    );
    assert!(config.contains("Unique codes of 10 letters and digits without look-alikes"));
    let info = b.get(&format!("/offers/{id}?tab=information")).await.body;
    let code = app
        .store
        .get_offer(
            app.store
                .find_org_by_name("Acme")
                .await
                .unwrap()
                .unwrap()
                .id,
            id,
        )
        .await
        .unwrap()
        .offer_code;
    for fact in [
        format!("<dd>{id}</dd>"),
        code,
        "Not claimed".to_string(),
        "<dd>0%</dd>".to_string(),
        "Never".to_string(),
    ] {
        assert!(info.contains(&fact), "missing {fact}");
    }
}

#[tokio::test]
async fn edits_are_audited_and_immutables_are_refused() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let other = offer_in(&app, "Acme", "Other", FAR).await;
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let other_code = app.store.get_offer(org.id, other).await.unwrap().offer_code;
    let edit = b.get(&format!("/offers/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    let before = app.store.get_offer(org.id, id).await.unwrap();
    let mut form = OfferForm::from_rules(&before.rules, 2);
    form.offer_code = before.offer_code.clone();

    let post = |f: &OfferForm| {
        let mut pairs: Vec<(String, String)> = vec![("csrf_token".into(), b.csrf.clone())];
        let v = serde_json::to_value(f).unwrap();
        for (k, val) in v.as_object().unwrap() {
            match val {
                serde_json::Value::String(s) => pairs.push((k.clone(), s.clone())),
                serde_json::Value::Array(items) => pairs.extend(
                    items
                        .iter()
                        .map(|i| (k.clone(), i.as_str().unwrap().to_string())),
                ),
                _ => {}
            }
        }
        b.client
            .post(format!("{}/offers/{id}/edit", b.base))
            .form(&pairs)
            .send()
    };

    // Crafted posts that change the expiry type or the way codes are made are refused.
    for (field, value) in [("expiry_type", "campaign"), ("generation", "common")] {
        let mut crafted = form.clone();
        match field {
            "expiry_type" => crafted.expiry_type = value.into(),
            _ => {
                crafted.generation = value.into();
                crafted.common_code = "NEWCODE".into();
            }
        }
        let r = post(&crafted).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("cannot be changed after the offer is created")
        );
    }
    // The offer code is unique per org.
    let mut taken = form.clone();
    taken.offer_code = other_code.to_lowercase();
    let r = post(&taken).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Offer code is already used by another offer of this organisation")
    );
    assert_eq!(
        app.store.get_offer(org.id, id).await.unwrap().rules,
        before.rules,
        "refused edits change nothing"
    );

    let mut renamed = form.clone();
    renamed.name = "Welcome back".into();
    renamed.offer_code = "WELCOME-1".into();
    let r = post(&renamed).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = app.store.get_offer(org.id, id).await.unwrap();
    assert_eq!(
        (after.rules.name.as_str(), after.offer_code.as_str()),
        ("Welcome back", "WELCOME-1")
    );
    let (audit, _) = app
        .store
        .list_audit(org.id, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert_eq!(audit[0].summary, "Edited offer Welcome back");
    let details: serde_json::Value =
        serde_json::from_str(audit[0].details.as_deref().unwrap()).unwrap();
    assert_eq!(details["name"]["before"], "Welcome");
    assert_eq!(details["name"]["after"], "Welcome back");
    assert_eq!(details["offer_code"]["after"], "WELCOME-1");
    assert!(
        details.get("discount_value").is_none(),
        "only changed fields are recorded"
    );
}

#[tokio::test]
async fn dashboard_searches_filters_sorts_and_pages_in_place() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    for i in 1..=23 {
        offer_in(&app, "Acme", &format!("Summer {i:02}"), FAR).await;
    }
    offer_in(&app, "Acme", "Winter expired", "2001-01-01").await;
    offer_in(&app, "Acme", "Winter current", FAR).await;

    let full = b.get("/offers").await;
    assert!(full.body.contains("<html") && full.body.contains("25 offers · page 1 of 2"));
    assert!(full.body.contains("Winter current"), "newest first");
    let page2 = b.get_htmx("/offers?q=&active=&sort=modified&page=2").await;
    assert!(!page2.body.contains("<html"), "htmx gets the table only");
    assert!(page2.body.contains("page 2 of 2") && page2.body.contains("Summer 01"));

    let search = b.get_htmx("/offers?q=winter").await.body;
    assert!(
        search.contains("2 offers")
            && search.contains("Winter expired")
            && !search.contains("Summer")
    );
    let active = b.get_htmx("/offers?q=winter&active=on").await.body;
    assert!(active.contains("1 offer ") && !active.contains("Winter expired"));
    let created = b.get_htmx("/offers?sort=created&q=summer").await.body;
    assert!(created.find("Summer 23").unwrap() < created.find("Summer 04").unwrap());
    // The URL is the view: a full load of the same query shows the same rows.
    let reload = b.get("/offers?q=winter&active=on").await.body;
    assert!(
        reload.contains("<html")
            && reload.contains("Winter current")
            && !reload.contains("Winter expired")
    );
    assert!(reload.contains("value=\"winter\""));
}

#[tokio::test]
async fn roles_and_orgs_are_enforced_on_offers() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let viewer = app
        .signed_in(&app.create_user("Acme", Role::Viewer).await)
        .await;
    let csm = app
        .signed_in(&app.create_user("Acme", Role::Csm).await)
        .await;
    assert_eq!(viewer.get("/offers").await.status, StatusCode::OK);
    assert_eq!(
        viewer.get(&format!("/offers/{id}")).await.status,
        StatusCode::OK
    );
    for b in [&viewer, &csm] {
        assert_eq!(b.get("/offers/new").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            b.post("/offers/new/step/1", &[("name", "X")]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            b.post("/offers/new", &[]).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        viewer.get(&format!("/offers/{id}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .post(&format!("/offers/{id}/edit"), &[("name", "Hacked")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        csm.get(&format!("/offers/{id}/edit")).await.status,
        StatusCode::OK,
        "CSMs edit offers"
    );
    assert!(
        !viewer
            .get("/offers")
            .await
            .body
            .contains("id=\"create-offer\"")
    );

    app.create_org_admin("Globex").await;
    let globex = app.signed_in("admin@globex.example.com").await;
    assert_eq!(
        globex.get(&format!("/offers/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        globex.get(&format!("/offers/{id}/edit")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!globex.get("/offers").await.body.contains("Welcome"));
}

/// The loyalty program "Club" of Acme; its id.
async fn club(app: &TestApp) -> i64 {
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    app.store
        .create_consumer(
            org.id,
            &offerdesk::domain::masters::NewConsumer::parse("Club", "loyalty", "", "").unwrap(),
            &Actor::system("t"),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn an_offer_created_from_a_consumer_is_claimed_by_it() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let consumer = club(&app).await;
    let page = b.get(&format!("/admin/consumers/{consumer}")).await.body;
    assert!(page.contains(&format!("action=\"/offers/new/for/{consumer}\"")));
    let started = b.post(&format!("/offers/new/for/{consumer}"), &[]).await;
    assert_eq!(started.location.as_deref(), Some("/offers/new/step/1"));
    assert!(b.get("/offers/new/step/1").await.body.contains("for Club"));
    for (step, fields) in [
        (
            1,
            vec![
                ("name", "Club reward"),
                ("expiry_type", "fixed"),
                ("expires_on", FAR),
            ],
        ),
        (
            2,
            vec![
                ("discount_type", "ABS"),
                ("discount_value", "200"),
                ("applies_to", "all"),
            ],
        ),
        (
            3,
            vec![
                ("delivery", "system"),
                ("generation", "unique"),
                ("code_length", "8"),
                ("code_charset", "numeric"),
                ("coupon_expiry", "offer"),
            ],
        ),
        (
            4,
            vec![("redemption_start", "issue"), ("poc_reminder_days", "3")],
        ),
    ] {
        assert_eq!(
            b.post(&format!("/offers/new/step/{step}"), &fields)
                .await
                .status,
            StatusCode::SEE_OTHER,
            "step {step}"
        );
    }
    let created = b.post("/offers/new", &[]).await;
    let location = created.location.unwrap();
    assert!(
        b.get(&location)
            .await
            .body
            .contains("Created offer Club reward.")
    );
    let id: OfferId = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        app.store
            .get_offer(app.org_id("Acme").await, id)
            .await
            .unwrap()
            .claimed_by
            .map(|c| c.0),
        Some(consumer)
    );
    // Shown only in the consumer's context (OFF-6), not on the Incentives dashboard.
    assert!(!b.get("/offers").await.body.contains("Club reward"));
    assert!(
        b.get(&format!("/offers/{id}?tab=information"))
            .await
            .body
            .contains("Loyalty program: Club")
    );
    let consumer_page = b.get(&format!("/admin/consumers/{consumer}")).await.body;
    assert!(
        consumer_page.contains("Club reward"),
        "the consumer page lists its offers"
    );
}

#[tokio::test]
async fn redemption_can_be_restricted_by_a_csv_of_store_codes() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let zone = app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "NORTH",
            "North",
        )
        .await;
    for code in ["S1", "S2"] {
        app.add_store("Acme", code, zone).await;
    }
    b.get("/offers/new").await;
    let bad = b
        .upload(
            "/offers/new/scope",
            &[],
            "scope.csv",
            "type,code\nSTORE,S1\nSHOP,S2\nSTORE,S9\n",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("Line 3: type must be STORE, TILL, ZONE or CONCEPT, not `SHOP`")
    );
    assert!(bad.body.contains("Line 4: no store with code S9"));
    let (draft, _) = app
        .store
        .get_draft(
            app.store
                .find_credentials("marketing@acme.example.com")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(draft.stores.is_empty(), "nothing added");
    let ok = b
        .upload(
            "/offers/new/scope",
            &[],
            "scope.csv",
            "type,code\nSTORE,s1\nSTORE,S2\nZONE,NORTH\n",
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/offers/new/step/4"));
    let step = b.get("/offers/new/step/4").await.body;
    assert!(step.contains("Added 3 redemption restrictions from scope.csv."));
    let ids = app.store.store_ids(org.id).await.unwrap();
    for (field, id) in [
        ("stores", ids["S1"]),
        ("stores", ids["S2"]),
        ("zones", zone),
    ] {
        assert!(
            step.contains(&format!("name=\"{field}\" value=\"{id}\" checked")),
            "{field} {id} is ticked in the pickers"
        );
    }
}

#[tokio::test]
async fn an_offers_restriction_can_be_extended_by_csv_on_the_edit_page() {
    use offerdesk::domain::offer::ScopeKind;
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let zone = app
        .add_coded(
            "Acme",
            offerdesk::store::masters::CodedKind::Zone,
            "NORTH",
            "North",
        )
        .await;
    let s1 = app.add_store("Acme", "S1", zone).await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let org = app.org_id("Acme").await;
    let bad = b
        .upload(
            &format!("/offers/{id}/scope"),
            &[],
            "scope.csv",
            "type,code\nSTORE,S1\nSTORE,NOPE\n",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Line 3: no store with code NOPE"));
    assert!(
        app.store
            .get_offer(org, id)
            .await
            .unwrap()
            .rules
            .redemption
            .scope
            .is_empty()
    );
    let ok = b
        .upload(
            &format!("/offers/{id}/scope"),
            &[],
            "scope.csv",
            "type,code\nSTORE,S1\nZONE,north\n",
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let scope = app
        .store
        .get_offer(org, id)
        .await
        .unwrap()
        .rules
        .redemption
        .scope;
    assert_eq!(scope.len(), 2);
    assert!(scope.contains(&(ScopeKind::Store, s1)) && scope.contains(&(ScopeKind::Zone, zone)));
    let (audit, _) = app
        .store
        .list_audit(org, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert!(audit[0].details.as_deref().unwrap().contains("\"stores\""));
}

#[tokio::test]
async fn specific_customers_only_needs_an_uploaded_customer_list() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    b.get("/offers/new").await;
    let step3 = [
        ("delivery", "system"),
        ("generation", "unique"),
        ("code_length", "10"),
        ("code_charset", "unambiguous"),
        ("coupon_expiry", "offer"),
        ("specific_customers_only", "on"),
    ];
    let p = b.post("/offers/new/step/3", &step3).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Specific customers only needs the customer list")
    );
    let bad = b
        .upload(
            "/offers/new/audience",
            &[],
            "customers.csv",
            "type,value\nMOBILE,98765\nEMAIL,asha@example.com\nEMAIL,ASHA@example.com\n",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Line 2: `98765` is not a mobile number"));
    assert!(
        bad.body
            .contains("Line 4: EMAIL asha@example.com is repeated (first on line 3)")
    );
    assert!(
        bad.body.contains("Customer list: 0 customers"),
        "nothing applied"
    );
    let ok = b
        .upload(
            "/offers/new/audience",
            &[],
            "customers.csv",
            "type,value\nMOBILE,+91 98765 43210\nEMAIL,asha@example.com\nEXTERNAL_ID,C-1\n",
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/offers/new/step/3"));
    assert!(
        b.get("/offers/new/step/3")
            .await
            .body
            .contains("Customer list: 3 customers")
    );
    for (step, fields) in [
        (
            1,
            vec![
                ("name", "VIP only"),
                ("expiry_type", "fixed"),
                ("expires_on", FAR),
            ],
        ),
        (
            2,
            vec![
                ("discount_type", "ABS"),
                ("discount_value", "200"),
                ("applies_to", "all"),
            ],
        ),
        (3, step3.to_vec()),
        (
            4,
            vec![("redemption_start", "issue"), ("poc_reminder_days", "3")],
        ),
    ] {
        assert_eq!(
            b.post(&format!("/offers/new/step/{step}"), &fields)
                .await
                .status,
            StatusCode::SEE_OTHER,
            "step {step}"
        );
    }
    let created = b.post("/offers/new", &[]).await;
    let id: OfferId = created
        .location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        app.store.offer_audience_count(id).await.unwrap(),
        3,
        "the draft's list became the offer's"
    );
    // Replaced from the edit page, audited.
    let p = b
        .upload(
            &format!("/offers/{id}/audience"),
            &[],
            "c.csv",
            "type,value\nEMAIL,ravi@example.com\n",
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.offer_audience_count(id).await.unwrap(), 1);
    let (audit, _) = app
        .store
        .list_audit(app.org_id("Acme").await, Some("offer"), 1, 0)
        .await
        .unwrap();
    assert_eq!(audit[0].summary, "Replaced the customer list: 1 customer");
}

/// Seed 001: "only available when offers are created from the incentives section but can be
/// claimed in any module" — a campaign's or program's wizard refuses randomized codes at the
/// codes step, with the reason next to the choice.
#[tokio::test]
async fn an_offer_created_from_a_consumer_cannot_have_randomized_codes() {
    let app = spawn_app().await;
    let b = marketing(&app).await;
    let consumer = club(&app).await;
    b.post(&format!("/offers/new/for/{consumer}"), &[]).await;
    let page = b
        .post(
            "/offers/new/step/3",
            &[
                ("delivery", "system"),
                ("generation", "randomized"),
                ("sample_code", "TEST12345"),
                ("coupon_expiry", "offer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("made only by offers created in Incentives"),
        "{}",
        page.body
    );
}
