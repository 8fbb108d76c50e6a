//! The role matrix: every mutating console route × every role, allowed or 403 as the README's
//! role table says (written out here, not asked of `Role::can`); and the
//! admin-only pages. A refused request changes nothing.

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use offerdesk::domain::ids::{OfferId, OrgId, UserId};
use offerdesk::domain::masters::{MasterCode, NewCodedName, NewPoc, StoreRow};
use offerdesk::domain::user::{Actor, Role};
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;

struct Fixture {
    zone_id: i64,
    store_id: i64,
    target_user: UserId,
    offer_id: OfferId,
    offer_form: Vec<(String, String)>,
    api_key_id: i64,
    /// A loyalty program the offer can be claimed for (CLM-1).
    claim_consumer: i64,
    /// A coupon of the offer issued to an email customer, to resend (ISS-4).
    resend_coupon: i64,
    /// A queued outbox message, to retry (REM-3).
    outbox_message: i64,
    /// A live promotion each role may try to edit.
    edit_promotion: i64,
    /// A live promotion per role, for that role to pause.
    pause_promotion: Vec<(Role, i64)>,
    /// An earned promotion won on the 3rd transaction, and a customer per role with one.
    tracker_promotion: i64,
    tracker_customer: Vec<(Role, i64)>,
}

async fn fixture(app: &TestApp) -> Fixture {
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let actor = Actor::system("test");
    let zone = NewCodedName::parse("NORTH", "North").unwrap();
    let zone_id = app
        .store
        .create_coded(org.id, CodedKind::Zone, &zone, &actor)
        .await
        .unwrap();
    let row = StoreRow {
        code: MasterCode::parse("c", "S0").unwrap(),
        name: "Store zero".into(),
        zone_id,
        concept_id: None,
    };
    app.store.create_store(org.id, &row, &actor).await.unwrap();
    let store_id = *app
        .store
        .store_ids(org.id)
        .await
        .unwrap()
        .get("S0")
        .unwrap();
    let hash = offerdesk::passwords::hash(PASSWORD.into()).await.unwrap();
    let target = offerdesk::store::orgs::NewUser {
        email: offerdesk::domain::user::Email::parse("e", "target@acme.example.com").unwrap(),
        name: "Target".into(),
        password_hash: hash,
        role: Role::Viewer,
    };
    let target_user = app
        .store
        .create_user(org.id, &target, &actor)
        .await
        .unwrap();
    for role in Role::ALL {
        let poc =
            NewPoc::parse("Victim", &format!("victim-{}@example.com", role.as_str())).unwrap();
        app.store.create_poc(org.id, &poc, &actor).await.unwrap();
    }
    // With a resend text: resending is allowed only when the offer turns it on.
    let offer_id = crate::issuing::offer_with(app, "Matrix offer", |f| {
        f.resend_text = "Your code {code}".into()
    })
    .await;
    let offer = app.store.get_offer(org.id, offer_id).await.unwrap();
    let form = offerdesk::domain::offer::form::OfferForm {
        offer_code: offer.offer_code,
        ..offerdesk::domain::offer::form::OfferForm::from_rules(&offer.rules, 2)
    };
    let (api_key, _) = app
        .store
        .create_api_key(org.id, "Matrix key", None, 200, &actor)
        .await
        .unwrap();
    let claim_consumer = app
        .store
        .create_consumer(
            org.id,
            &offerdesk::domain::masters::NewConsumer::parse("Matrix club", "loyalty", "", "")
                .unwrap(),
            &actor,
        )
        .await
        .unwrap();
    // A product per role, for that role to delete.
    let products: Vec<offerdesk::store::catalogue::NewProduct> = Role::ALL
        .into_iter()
        .map(|role| offerdesk::store::catalogue::NewProduct {
            sku: format!("DEL-{}", role.as_str().to_uppercase()),
            name: "Delete me".into(),
            price: 1000,
            category: None,
            brand: None,
            attributes: Default::default(),
        })
        .collect();
    app.store
        .upsert_products(org.id, &products, &actor)
        .await
        .unwrap();
    let (resend_coupon, outbox_message) = resend_and_retry_targets(app, org.id, offer_id).await;
    let (tracker_promotion, tracker_customer) = tracked_customers(app, org.id).await;
    Fixture {
        zone_id,
        store_id,
        target_user,
        offer_id,
        offer_form: crate::offers::form_pairs(&form),
        api_key_id: api_key.id,
        claim_consumer,
        resend_coupon,
        outbox_message,
        edit_promotion: promotion(app, org.id, "Matrix promotion").await,
        pause_promotion: {
            let mut per_role = Vec::new();
            for role in Role::ALL {
                let name = format!("Pause me {}", role.as_str());
                per_role.push((role, promotion(app, org.id, &name).await));
            }
            per_role
        },
        tracker_promotion,
        tracker_customer,
    }
}

/// A live earned promotion won on the 3rd transaction, and per role a customer with one
/// transaction towards it (for that role to correct).
async fn tracked_customers(app: &TestApp, org_id: OrgId) -> (i64, Vec<(Role, i64)>) {
    use offerdesk::domain::issue::CustomerRef;
    use offerdesk::domain::masters::IdentifierType;
    let rules = serde_json::json!({
        "id": 0, "name": "Matrix third visit", "kind": {"type": "earned"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable",
        "holding": {"earning": {"event": "transaction",
                    "milestone": {"measure": "count", "target": 3}}}
    });
    let rules: offerdesk::domain::promotion::Promotion = serde_json::from_value(rules).unwrap();
    let promotion = offerdesk::app::promotions::create(
        &app.store,
        org_id,
        &rules,
        offerdesk::domain::promotion::Status::Live,
        &Actor::system("test"),
    )
    .await
    .unwrap()
    .unwrap()
    .get();
    // The events go through the API, as a till's would.
    let (_, key) = app
        .store
        .create_api_key(org_id, "Matrix events", None, 1000, &Actor::system("test"))
        .await
        .unwrap();
    let api = crate::integration::Api {
        base: app.address.clone(),
        key,
        http: reqwest::Client::new(),
    };
    let mut customers = Vec::new();
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let mobile = format!("980000090{i}");
        let (status, v) = api
            .post(
                "/events",
                serde_json::json!({"type": "transaction", "eventId": format!("matrix-{}", role.as_str()),
                                   "customer": {"mobile": mobile}, "amount": 1000}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let customer = CustomerRef::parse(IdentifierType::Mobile, &mobile).unwrap();
        let id = offerdesk::app::wallet::customer_by_ref(&app.store, org_id, &customer)
            .await
            .unwrap()
            .unwrap();
        customers.push((role, id.get()));
    }
    (promotion, customers)
}

/// A live promotion named `name`: 10% off the whole cart, as `promotion_form` posts it.
async fn promotion(app: &TestApp, org_id: OrgId, name: &str) -> i64 {
    let rules = serde_json::json!({
        "id": 0, "name": name, "kind": {"type": "automatic"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable"
    });
    let rules: offerdesk::domain::promotion::Promotion = serde_json::from_value(rules).unwrap();
    offerdesk::app::promotions::create(
        &app.store,
        org_id,
        &rules,
        offerdesk::domain::promotion::Status::Live,
        &Actor::system("test"),
    )
    .await
    .unwrap()
    .unwrap()
    .get()
}

/// The promotion wizard's fields of "10% off the whole cart", all steps together.
fn promotion_form(name: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = [
        ("name", name),
        ("kind", "automatic"),
        ("starts", "2026-01-01"),
        ("target", "cart"),
        ("value_type", "percent"),
        ("value", "10"),
        ("stacking", "stackable"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    pairs
}

/// A coupon of `offer` issued to an email customer (resent any number of times) and a queued
/// outbox message (queued again any number of times).
async fn resend_and_retry_targets(app: &TestApp, org_id: OrgId, offer_id: OfferId) -> (i64, i64) {
    use offerdesk::domain::issue::CustomerRef;
    use offerdesk::domain::masters::IdentifierType;
    let ctx = offerdesk::app::issue::context(&app.store, org_id, offer_id)
        .await
        .unwrap();
    let customer = CustomerRef::parse(IdentifierType::Email, "resend@example.com").unwrap();
    let source = offerdesk::app::issue::IssueSource {
        label: "test".into(),
        consumer: None,
    };
    let issued = offerdesk::app::issue::issue_one(
        &app.store,
        &ctx,
        &customer,
        &source,
        &Actor::system("test"),
    )
    .await
    .unwrap()
    .unwrap();
    let coupon = app
        .store
        .list_coupons(
            org_id,
            offer_id,
            &offerdesk::store::coupons::CouponQuery {
                search: issued.code.clone(),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == issued.code)
        .unwrap()
        .id;
    let message = offerdesk::store::outbox::NewMessage {
        org_id,
        kind: "resend",
        channel: "email".into(),
        recipient: "retry@example.com".into(),
        subject: "Retry me".into(),
        body_text: "Retry me".into(),
        body_html: None,
        status: "queued",
        note: None,
        offer_id: Some(offer_id),
        dedupe_key: None,
    };
    let now = chrono::Utc::now();
    app.store.enqueue(&[message], now).await.unwrap();
    let queued = app
        .store
        .list_outbox(
            org_id,
            &offerdesk::store::outbox::OutboxQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (coupon, queued[0].id)
}

enum Body {
    Form(Vec<(String, String)>),
    Upload {
        kind: &'static str,
        csv: String,
    },
    /// A multipart form: text fields plus a CSV file.
    Multipart {
        fields: Vec<(&'static str, &'static str)>,
        csv: String,
    },
}

struct Route {
    path: String,
    /// The roles that may: one of the lists below.
    allowed: &'static [Role],
    body: Body,
}

// Who may do what, written out from the README's role table (SPEC ORG-2) — never asked of the
// code under test (`Role::can`).
/// Org settings, users, stores and tills, catalog, POCs, API keys.
const ADMIN: &[Role] = &[Role::Admin];
/// Create, claim and revoke offers; generate, upload and bulk-issue codes; campaigns and programs.
const MARKETING: &[Role] = &[Role::Admin, Role::Marketing];
/// Edit offers; issue to one customer, resend, revoke a customer's coupons; the outbox.
const CSM: &[Role] = &[Role::Admin, Role::Marketing, Role::Csm];
/// What every signed-in role may post (their own account).
const EVERYONE: &[Role] = &[Role::Admin, Role::Marketing, Role::Csm, Role::Viewer];

fn form(pairs: &[(&str, String)]) -> Body {
    Body::Form(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn routes(f: &Fixture, role: Role, poc_id: i64) -> Vec<Route> {
    let r = role.as_str();
    let up = r.to_uppercase();
    vec![
        Route {
            path: "/admin/org".into(),
            allowed: ADMIN,
            body: form(&[
                ("name", "Acme".into()),
                ("currency", "INR".into()),
                ("time_zone", "Asia/Kolkata".into()),
            ]),
        },
        Route {
            path: "/admin/users".into(),
            allowed: ADMIN,
            body: form(&[
                ("email", format!("new-{r}@acme.example.com")),
                ("name", "New".into()),
                ("role", "viewer".into()),
                ("password", PASSWORD.into()),
            ]),
        },
        Route {
            path: format!("/admin/users/{}", f.target_user),
            allowed: ADMIN,
            body: form(&[("action", "role".into()), ("role", "csm".into())]),
        },
        Route {
            path: "/admin/concepts".into(),
            allowed: ADMIN,
            body: form(&[("code", format!("C-{up}")), ("name", "Concept".into())]),
        },
        Route {
            path: "/admin/zones".into(),
            allowed: ADMIN,
            body: form(&[("code", format!("Z-{up}")), ("name", "Zone".into())]),
        },
        Route {
            path: "/admin/stores".into(),
            allowed: ADMIN,
            body: form(&[
                ("code", format!("S-{up}")),
                ("name", "Store".into()),
                ("zone_id", f.zone_id.to_string()),
            ]),
        },
        Route {
            path: "/admin/tills".into(),
            allowed: ADMIN,
            body: form(&[
                ("code", format!("T-{up}")),
                ("name", "Till".into()),
                ("store_id", f.store_id.to_string()),
            ]),
        },
        Route {
            path: "/admin/structure/upload".into(),
            allowed: ADMIN,
            body: Body::Upload {
                kind: "stores",
                csv: format!("code,name,zone,concept\nU-{up},Uploaded,NORTH,\n"),
            },
        },
        Route {
            path: "/admin/structure".into(),
            allowed: ADMIN,
            body: Body::Upload {
                kind: "stores",
                csv: format!("code,name,zone,concept\nV-{up},Uploaded here,NORTH,\n"),
            },
        },
        Route {
            path: "/admin/categories".into(),
            allowed: ADMIN,
            body: form(&[("code", format!("CAT-{up}")), ("name", "Shoes".into())]),
        },
        Route {
            path: "/admin/brands".into(),
            allowed: ADMIN,
            body: form(&[("code", format!("BR-{up}")), ("name", "Nike".into())]),
        },
        Route {
            path: "/admin/catalog/upload".into(),
            allowed: ADMIN,
            body: Body::Upload {
                kind: "brands",
                csv: format!("code,name\nUB-{up},Uploaded brand\n"),
            },
        },
        Route {
            path: "/admin/catalog".into(),
            allowed: ADMIN,
            body: Body::Upload {
                kind: "brands",
                csv: format!("code,name\nVB-{up},Uploaded here\n"),
            },
        },
        // The product catalogue and customers' tiers and segments (PRM-1): the form and
        // both uploads post to their page's own URL.
        Route {
            path: "/products".into(),
            allowed: ADMIN,
            body: form(&[
                ("sku", format!("P-{up}")),
                ("name", "Product".into()),
                ("price", "10".into()),
            ]),
        },
        Route {
            path: "/products".into(),
            allowed: ADMIN,
            body: Body::Upload {
                kind: "",
                csv: format!("sku,name,price,category,brand,attributes\nUP-{up},Uploaded,10,,,\n"),
            },
        },
        Route {
            path: "/products/delete".into(),
            allowed: ADMIN,
            body: form(&[("sku", format!("DEL-{up}")), ("confirm", "yes".into())]),
        },
        Route {
            path: "/customers/tags".into(),
            allowed: ADMIN,
            body: Body::Upload {
                kind: "",
                csv: format!("identifier_type,identifier,tiers,segments\nEXTERNAL_ID,{r},Gold,\n"),
            },
        },
        Route {
            path: "/admin/pocs".into(),
            allowed: ADMIN,
            body: form(&[
                ("name", "Poc".into()),
                ("email", format!("poc-{r}@example.com")),
            ]),
        },
        Route {
            path: format!("/admin/pocs/{poc_id}/delete"),
            allowed: ADMIN,
            body: form(&[]),
        },
        Route {
            path: "/admin/api-keys".into(),
            allowed: ADMIN,
            body: form(&[
                ("name", format!("Key {r}")),
                ("consumer_id", String::new()),
                ("rate_limit", "200".into()),
            ]),
        },
        Route {
            path: format!("/admin/api-keys/{}/revoke", f.api_key_id),
            allowed: ADMIN,
            body: form(&[("confirm", "yes".into())]),
        },
        Route {
            path: "/admin/consumers".into(),
            allowed: MARKETING,
            body: form(&[("name", format!("Club {r}")), ("kind", "loyalty".into())]),
        },
        Route {
            path: "/offers/new/step/1".into(),
            allowed: MARKETING,
            body: form(&[
                ("name", "Draft".into()),
                ("expiry_type", "fixed".into()),
                ("expires_on", crate::offers::FAR.into()),
            ]),
        },
        Route {
            path: "/offers/new/scope".into(),
            allowed: MARKETING,
            body: Body::Upload {
                kind: "",
                csv: "type,code\nSTORE,S0\n".into(),
            },
        },
        Route {
            path: "/offers/new/discard".into(),
            allowed: MARKETING,
            body: form(&[]),
        },
        Route {
            path: format!("/offers/{}/edit", f.offer_id),
            allowed: CSM,
            body: Body::Form(f.offer_form.clone()),
        },
        Route {
            path: format!("/offers/{}/edit/preview", f.offer_id),
            allowed: CSM,
            body: Body::Form(f.offer_form.clone()),
        },
        Route {
            path: format!("/offers/{}/edit/back", f.offer_id),
            allowed: CSM,
            body: Body::Form(f.offer_form.clone()),
        },
        Route {
            path: format!("/offers/{}/scope", f.offer_id),
            allowed: CSM,
            body: Body::Upload {
                kind: "",
                csv: "type,code\nSTORE,S0\n".into(),
            },
        },
        Route {
            path: "/offers/new/audience".into(),
            allowed: MARKETING,
            body: Body::Upload {
                kind: "",
                csv: format!("type,value\nEMAIL,{r}@example.com\n"),
            },
        },
        Route {
            path: format!("/offers/{}/audience", f.offer_id),
            allowed: CSM,
            body: Body::Upload {
                kind: "",
                csv: format!("type,value\nEMAIL,{r}@example.com\n"),
            },
        },
        Route {
            path: format!("/offers/{}/coupons/generate", f.offer_id),
            allowed: MARKETING,
            body: form(&[("count", "10".into())]),
        },
        Route {
            // Issued for the consumer that claims the offer further down (the claim rule).
            path: format!(
                "/offers/{}/coupons/issue?as={}",
                f.offer_id, f.claim_consumer
            ),
            allowed: CSM,
            body: form(&[
                ("kind", "EMAIL".into()),
                ("value", format!("{r}@example.com")),
            ]),
        },
        Route {
            path: format!(
                "/offers/{}/coupons/bulk-issue?as={}",
                f.offer_id, f.claim_consumer
            ),
            allowed: MARKETING,
            body: Body::Upload {
                kind: "",
                csv: format!("type,value\nEMAIL,bulk-{r}@example.com\n"),
            },
        },
        Route {
            path: format!("/offers/{}/revoke", f.offer_id),
            allowed: MARKETING,
            body: Body::Multipart {
                fields: vec![("mode", "unissued"), ("confirm", "yes")],
                csv: String::new(),
            },
        },
        Route {
            path: format!("/offers/{}/revoke", f.offer_id),
            allowed: CSM,
            body: Body::Multipart {
                fields: vec![("mode", "customers"), ("confirm", "yes")],
                csv: format!("type,value\nEMAIL,{r}@example.com\n"),
            },
        },
        Route {
            path: format!("/offers/{}/coupons/{}/resend", f.offer_id, f.resend_coupon),
            allowed: CSM,
            body: form(&[]),
        },
        Route {
            path: format!("/admin/outbox/{}/retry", f.outbox_message),
            allowed: CSM,
            body: form(&[]),
        },
        // Marketing claims; the admin's repeat of the same claim is a no-op success.
        Route {
            path: format!("/offers/{}/claim", f.offer_id),
            allowed: MARKETING,
            body: form(&[("consumer_id", f.claim_consumer.to_string())]),
        },
        // Promotions: create (and walk the wizard) for marketing; edit for CSM; moves for
        // marketing.
        Route {
            path: "/promotions/new/step/1".into(),
            allowed: MARKETING,
            body: Body::Form(promotion_form(&format!("Step {r}"), &[("nav", "next")])),
        },
        Route {
            path: "/promotions/new/preview".into(),
            allowed: MARKETING,
            body: Body::Form(promotion_form(&format!("Preview {r}"), &[])),
        },
        Route {
            path: "/promotions/new".into(),
            allowed: MARKETING,
            body: Body::Form(promotion_form(
                &format!("Created by {r}"),
                &[("status", "draft")],
            )),
        },
        Route {
            path: format!("/promotions/{}/edit/step/2", f.edit_promotion),
            allowed: CSM,
            body: Body::Form(promotion_form("Matrix promotion", &[("nav", "next")])),
        },
        Route {
            path: format!("/promotions/{}/edit", f.edit_promotion),
            allowed: CSM,
            body: Body::Form(promotion_form(&format!("Edited by {r}"), &[])),
        },
        Route {
            path: format!(
                "/promotions/{}/status",
                f.pause_promotion
                    .iter()
                    .find(|(owner, _)| *owner == role)
                    .map(|(_, id)| *id)
                    .unwrap()
            ),
            allowed: MARKETING,
            body: form(&[("to", "paused".into())]),
        },
        // A tracker correction (issue #17): serving customers.
        Route {
            path: format!(
                "/customers/{}/trackers",
                f.tracker_customer
                    .iter()
                    .find(|(owner, _)| *owner == role)
                    .map(|(_, id)| *id)
                    .unwrap()
            ),
            allowed: CSM,
            body: form(&[
                ("promotion_id", f.tracker_promotion.to_string()),
                ("window", "life".into()),
                ("seen", "1".into()),
                ("progress", "2".into()),
                ("reason", format!("Corrected by {r}")),
            ]),
        },
        Route {
            path: "/account/password".into(),
            allowed: EVERYONE,
            body: form(&[
                ("current", PASSWORD.into()),
                ("new", PASSWORD.into()),
                ("confirm", PASSWORD.into()),
            ]),
        },
    ]
}

/// What an allowed POST answers: a redirect, except where the answer itself must carry the
/// result (a new API key is shown once, in the response, never through a redirect).
fn allowed_status(path: &str) -> StatusCode {
    match path {
        "/admin/api-keys" => StatusCode::OK,
        // The edit preview and "back to editing" answer a page, saving nothing.
        p if p.ends_with("/edit/preview") || p.ends_with("/edit/back") => StatusCode::OK,
        // A promotion wizard step and its preview answer the next page, saving nothing.
        p if p.starts_with("/promotions/") && (p.contains("/step/") || p.ends_with("/preview")) => {
            StatusCode::OK
        }
        _ => StatusCode::SEE_OTHER,
    }
}

#[tokio::test]
async fn every_mutating_route_checks_the_role() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let f = fixture(&app).await;
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    // Admin last: its allowed changes (e.g. the role of the target user) must not affect others.
    for role in [Role::Viewer, Role::Csm, Role::Marketing, Role::Admin] {
        let email = if role == Role::Admin {
            "admin@acme.example.com".to_string()
        } else {
            app.create_user("Acme", role).await
        };
        let b = app.signed_in(&email).await;
        let poc_id = app
            .store
            .list_pocs(org.id)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.email == format!("victim-{}@example.com", role.as_str()))
            .unwrap()
            .id;
        for route in routes(&f, role, poc_id) {
            let audit_before = app.store.list_audit(org.id, None, 1, 0).await.unwrap().1;
            let page = match &route.body {
                Body::Form(pairs) => {
                    let pairs: Vec<(&str, &str)> = pairs
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    b.post(&route.path, &pairs).await
                }
                Body::Upload { kind, csv } => {
                    b.upload(&route.path, &[("kind", kind)], "x.csv", csv).await
                }
                Body::Multipart { fields, csv } => {
                    b.upload(&route.path, fields, "x.csv", csv).await
                }
            };
            let audit_after = app.store.list_audit(org.id, None, 1, 0).await.unwrap().1;
            if route.allowed.contains(&role) {
                assert_eq!(
                    page.status,
                    allowed_status(&route.path),
                    "{} may POST {}: {}",
                    role.as_str(),
                    route.path,
                    page.body
                );
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{} must not POST {}",
                    role.as_str(),
                    route.path
                );
                assert_eq!(
                    audit_before, audit_after,
                    "a refused {} changed something",
                    route.path
                );
            }
        }
    }
}

#[tokio::test]
async fn admin_pages_are_for_admins_and_the_rest_is_readable_by_all() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    for role in Role::ALL {
        let email = if role == Role::Admin {
            "admin@acme.example.com".to_string()
        } else {
            app.create_user("Acme", role).await
        };
        let b = app.signed_in(&email).await;
        for path in [
            "/admin/org",
            "/admin/users",
            "/admin/api-keys",
            "/admin/audit",
        ] {
            let expected = if role == Role::Admin {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                b.get(path).await.status,
                expected,
                "{} GET {path}",
                role.as_str()
            );
        }
        for path in [
            "/",
            "/admin/structure",
            "/admin/catalog",
            "/products",
            "/customers/tags",
            "/customers",
            "/admin/pocs",
            "/admin/consumers",
            "/account",
            "/api-docs",
        ] {
            assert_eq!(
                b.get(path).await.status,
                StatusCode::OK,
                "{} GET {path}",
                role.as_str()
            );
        }
        // Forms are only offered to those who may use them.
        let structure = b.get("/admin/structure").await.body;
        assert_eq!(
            structure.contains("id=\"upload-structure\""),
            role == Role::Admin,
            "{}",
            role.as_str()
        );
        let nav = b.get("/").await.body;
        assert_eq!(nav.contains("href=\"/admin/users\""), role == Role::Admin);
    }
}

#[tokio::test]
async fn promotion_pages_answer_each_role_as_the_role_table_says() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let org = app.org_id("Acme").await;
    let id = promotion(&app, org, "Readable").await;
    // (path, the roles that may open it), written out from the role table.
    let pages: [(String, &[Role]); 4] = [
        ("/promotions".into(), EVERYONE),
        (format!("/promotions/{id}"), EVERYONE),
        ("/promotions/new".into(), MARKETING),
        (format!("/promotions/{id}/edit"), CSM),
    ];
    for role in Role::ALL {
        let email = if role == Role::Admin {
            "admin@acme.example.com".to_string()
        } else {
            app.create_user("Acme", role).await
        };
        let b = app.signed_in(&email).await;
        for (path, allowed) in &pages {
            let expected = if allowed.contains(&role) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                b.get(path).await.status,
                expected,
                "{} GET {path}",
                role.as_str()
            );
        }
        // The buttons are offered to those who may use them.
        let list = b.get("/promotions").await.body;
        assert_eq!(
            list.contains("id=\"new-promotion\""),
            MARKETING.contains(&role),
            "{}",
            role.as_str()
        );
        let page = b.get(&format!("/promotions/{id}")).await.body;
        assert_eq!(
            page.contains("id=\"move-paused\""),
            MARKETING.contains(&role)
        );
        assert_eq!(page.contains("id=\"edit-promotion\""), CSM.contains(&role));
        let nav = b.get("/").await.body;
        assert!(
            nav.contains("href=\"/promotions\""),
            "every role sees the link"
        );
    }
}
