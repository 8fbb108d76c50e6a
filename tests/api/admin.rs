//! Admin pages: org settings, users, structure, catalog, POCs, consumers, uploads, audit log.

use crate::helpers::{Browser, PASSWORD, TestApp, spawn_app};
use reqwest::StatusCode;

async fn admin(app: &TestApp) -> Browser {
    let email = app.create_org_admin("Acme").await;
    app.signed_in(&email).await
}

#[tokio::test]
async fn org_settings_are_validated_saved_and_audited() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let p = b
        .post(
            "/admin/org",
            &[
                ("name", "Acme Retail"),
                ("currency", "XXX"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Currency must be a supported ISO currency code such as INR")
    );
    assert!(
        p.body
            .contains("Time zone must be an IANA time zone such as Asia/Kolkata")
    );
    assert!(
        p.body.contains("value=\"Acme Retail\""),
        "the typed name is kept"
    );
    let org = app
        .store
        .find_org_by_name("Acme")
        .await
        .unwrap()
        .expect("nothing changed");

    let p = b
        .post(
            "/admin/org",
            &[
                ("name", "Acme Retail"),
                ("currency", "AED"),
                ("time_zone", "Asia/Dubai"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let saved = app.store.get_org(org.id).await.unwrap();
    assert_eq!(
        (
            saved.name.as_str(),
            saved.currency.code(),
            saved.time_zone.name()
        ),
        ("Acme Retail", "AED", "Asia/Dubai")
    );
    let audit = b.get("/admin/audit").await.body;
    assert!(audit.contains("Changed org settings"));
    assert!(
        audit.contains("Asia/Dubai") && audit.contains("Asia/Kolkata"),
        "before and after are shown"
    );
}

#[tokio::test]
async fn admins_add_users_change_roles_and_deactivate() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let p = b
        .post(
            "/admin/users",
            &[
                ("email", "not-an-email"),
                ("name", ""),
                ("role", "boss"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "Email must be an email address like name@example.com",
        "Name is required",
        "Role must be one of admin, marketing, csm, viewer",
        "Password must be at least 10 characters",
    ] {
        assert!(p.body.contains(msg), "missing {msg}");
    }
    assert!(p.body.contains("value=\"not-an-email\""));

    let p = b
        .post(
            "/admin/users",
            &[
                ("email", "Mia@Acme.example.com"),
                ("name", "Mia"),
                ("role", "marketing"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = b
        .post(
            "/admin/users",
            &[
                ("email", "mia@acme.example.com"),
                ("name", "Mia 2"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("Email is already used by another user"));

    let mia = app.signed_in("mia@acme.example.com").await;
    assert!(mia.get("/").await.body.contains("Marketing manager"));

    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let users = app.store.list_users(org.id).await.unwrap();
    let mia_id = users
        .iter()
        .find(|u| u.email == "mia@acme.example.com")
        .unwrap()
        .id;
    let admin_id = users
        .iter()
        .find(|u| u.email == "admin@acme.example.com")
        .unwrap()
        .id;
    b.post(
        &format!("/admin/users/{mia_id}"),
        &[("action", "role"), ("role", "csm")],
    )
    .await;
    assert!(
        mia.get("/").await.body.contains("CSM"),
        "role changes apply at once"
    );

    // The last admin cannot demote or deactivate themselves away.
    b.post(
        &format!("/admin/users/{admin_id}"),
        &[("action", "role"), ("role", "viewer")],
    )
    .await;
    let page = b.get("/admin/users").await.body;
    assert!(page.contains("Not changed: the org must keep at least one active admin."));
    assert_eq!(
        app.store.get_user(org.id, admin_id).await.unwrap().role,
        "admin"
    );
    b.post(
        &format!("/admin/users/{mia_id}"),
        &[("action", "deactivate")],
    )
    .await;
    assert!(!app.store.get_user(org.id, mia_id).await.unwrap().active);
    assert_eq!(mia.get("/").await.status, StatusCode::SEE_OTHER);
    b.post(
        &format!("/admin/users/{mia_id}"),
        &[("action", "reactivate")],
    )
    .await;
    assert!(app.store.get_user(org.id, mia_id).await.unwrap().active);
}

#[tokio::test]
async fn stores_and_tills_are_added_and_validated() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let page = b.get("/admin/structure").await.body;
    assert!(page.contains("Add a zone first"));
    assert_eq!(
        b.post("/admin/zones", &[("code", "north"), ("name", "North")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        b.post("/admin/concepts", &[("code", "OUTLET"), ("name", "Outlet")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let p = b
        .post("/admin/zones", &[("code", "NORTH"), ("name", "Again")])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("Code is already used by another zone"));

    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let zones = app
        .store
        .coded_ids(org.id, offerdesk::store::masters::CodedKind::Zone)
        .await
        .unwrap();
    let zone = zones["NORTH"].to_string();
    let p = b
        .post(
            "/admin/stores",
            &[("code", "bad code!"), ("name", "Mall"), ("zone_id", &zone)],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains(
            "Code may contain only letters, digits, &#39;-&#39;, &#39;_&#39; and &#39;.&#39;"
        ) || p.body.contains("Code may contain only letters")
    );
    assert!(p.body.contains("value=\"Mall\""), "values are kept");
    assert_eq!(
        b.post(
            "/admin/stores",
            &[("code", "s1"), ("name", "Mall Road"), ("zone_id", &zone)]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let p = b
        .post(
            "/admin/stores",
            &[("code", "S1"), ("name", "Twin"), ("zone_id", &zone)],
        )
        .await;
    assert!(p.body.contains("Code is already used by another store"));
    let store = app.store.store_ids(org.id).await.unwrap()["S1"];
    assert_eq!(
        b.post(
            "/admin/tills",
            &[
                ("code", "T1"),
                ("name", "Till one"),
                ("store_id", &store.to_string())
            ]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let p = b
        .post(
            "/admin/tills",
            &[
                ("code", "T1"),
                ("name", "Twin"),
                ("store_id", &store.to_string()),
            ],
        )
        .await;
    assert!(p.body.contains("Code is already used by another till"));

    let detail = b.get(&format!("/admin/stores/{store}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(
        detail.body.contains("Mall Road")
            && detail.body.contains("Till one")
            && detail.body.contains("North")
    );
}

#[tokio::test]
async fn store_csv_upload_reports_every_bad_line_and_applies_nothing() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    let bad = "code,name,zone,concept\nS1,Store one,NORTH,\nS1,Dup,NORTH,\n,No code,NORTH,\nS3,Three,SOUTH,\nS4,Four,NORTH,NOPE\nS5\n";
    let p = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "stores")],
            "stores.csv",
            bad,
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "Line 3: code S1 is repeated (first on line 2)",
        "Line 4: code is required",
        "Line 5: zone: no zone with code SOUTH",
        "Line 6: concept: no concept with code NOPE",
        "Line 7: expected 4 columns (code,name,zone,concept), found 1",
    ] {
        assert!(p.body.contains(msg), "missing `{msg}`");
    }
    assert!(p.body.contains("Nothing was uploaded: 5 problems"));
    let org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    assert!(
        app.store.list_stores(org.id).await.unwrap().is_empty(),
        "nothing applied"
    );

    let good = "code,name,zone,concept\nS1,Store one,north,\nS2,Store two,NORTH,\n";
    let p = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "stores")],
            "stores.csv",
            good,
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(
        b.get("/admin/structure")
            .await
            .body
            .contains("Uploaded stores: 2 created, 0 updated.")
    );
    let again = "code,name,zone,concept\nS2,Store two renamed,NORTH,\nS3,Store three,NORTH,\n";
    b.upload(
        "/admin/structure/upload",
        &[("kind", "stores")],
        "stores.csv",
        again,
    )
    .await;
    let page = b.get("/admin/structure").await.body;
    assert!(page.contains("Uploaded stores: 1 created, 1 updated."));
    assert!(page.contains("Store two renamed"));

    let tills = "code,name,store\nT1,Till 1,S1\nT2,Till 2,S9\n";
    let p = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "tills")],
            "tills.csv",
            tills,
        )
        .await;
    assert!(p.body.contains("Line 3: store: no store with code S9"));
    assert!(app.store.list_tills(org.id, None).await.unwrap().is_empty());
    let tills = "code,name,store\nT1,Till 1,S1\nT2,Till 2,S2\n";
    assert_eq!(
        b.upload(
            "/admin/structure/upload",
            &[("kind", "tills")],
            "tills.csv",
            tills
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.store.list_tills(org.id, None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn catalog_by_form_and_csv() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    assert_eq!(
        b.post("/admin/categories", &[("code", "SHOES"), ("name", "Shoes")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let p = b.post("/admin/brands", &[("code", ""), ("name", "")]).await;
    assert!(p.body.contains("Code is required") && p.body.contains("Name is required"));
    let p = b
        .upload(
            "/admin/catalog/upload",
            &[("kind", "brands")],
            "brands.csv",
            "name,code\nNike,NIKE\n",
        )
        .await;
    assert!(p.body.contains("Line 1: the header must be `code,name`"));
    let p = b
        .upload(
            "/admin/catalog/upload",
            &[("kind", "brands")],
            "brands.csv",
            "code,name\nNIKE,Nike\nADIDAS,Adidas\n",
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = b.get("/admin/catalog").await.body;
    assert!(page.contains("Uploaded brands: 2 created, 0 updated."));
    assert!(page.contains("Adidas") && page.contains("Shoes"));
}

#[tokio::test]
async fn pocs_and_consumers() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let p = b
        .post("/admin/pocs", &[("name", "Asha"), ("email", "asha@")])
        .await;
    assert!(p.body.contains("Email must be an email address"));
    assert!(p.body.contains("value=\"Asha\""));
    assert_eq!(
        b.post(
            "/admin/pocs",
            &[("name", "Asha"), ("email", "asha@acme.example.com")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let p = b
        .post(
            "/admin/pocs",
            &[("name", "Asha 2"), ("email", "ASHA@acme.example.com")],
        )
        .await;
    assert!(p.body.contains("Email is already used by another POC"));

    let p = b
        .post(
            "/admin/consumers",
            &[
                ("name", "Diwali blast"),
                ("kind", "outbound"),
                ("starts_on", "2026-11-01"),
                ("ends_on", "2026-10-01"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("End date must be on or after the start date")
    );
    assert!(p.body.contains("value=\"Diwali blast\""));
    let p = b
        .post(
            "/admin/consumers",
            &[
                ("name", "Diwali blast"),
                ("kind", "outbound"),
                ("starts_on", "2026-10-01"),
                ("ends_on", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        b.post(
            "/admin/consumers",
            &[("name", "Club",), ("kind", "loyalty")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let page = b.get("/admin/consumers").await.body;
    assert!(
        page.contains("Outbound campaign")
            && page.contains("1 Oct 2026 – 1 Nov 2026")
            && page.contains("Loyalty program")
    );
}

#[tokio::test]
async fn audit_log_lists_changes_and_filters_in_place() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post(
        "/admin/pocs",
        &[("name", "Asha"), ("email", "asha@acme.example.com")],
    )
    .await;
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    let full = b.get("/admin/audit").await;
    assert!(full.body.contains("Added POC Asha") && full.body.contains("asha@acme.example.com"));
    assert!(full.body.contains("admin@acme.example.com"), "who did it");
    let poc = app.store.list_pocs(app.org_id("Acme").await).await.unwrap()[0].id;
    assert!(
        full.body
            .contains(&format!("<a href=\"/admin/pocs/{poc}\">Asha</a>")),
        "entries name and link to the record"
    );
    assert!(full.body.contains("<html"));
    let partial = b.get_htmx("/admin/audit?entity=zone").await;
    assert!(!partial.body.contains("<html"), "htmx gets the table only");
    assert!(partial.body.contains("Added zone NORTH"));
    assert!(!partial.body.contains("Added POC"));
    let reload = b.get("/admin/audit?entity=zone").await;
    assert!(
        reload.body.contains("<html") && !reload.body.contains("Added POC"),
        "the filtered URL works as a full page"
    );
}

#[tokio::test]
async fn a_poc_that_offers_remind_cannot_be_removed() {
    use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post(
        "/admin/pocs",
        &[("name", "Asha"), ("email", "asha@acme.example.com")],
    )
    .await;
    let org = app.org_id("Acme").await;
    let poc = app.store.list_pocs(org).await.unwrap()[0].id;
    let form = OfferForm {
        name: "Reminded".into(),
        expires_on: "2099-12-31".into(),
        discount_value: "10".into(),
        poc_reminder: "on".into(),
        poc_ids: vec![poc.to_string()],
        ..OfferForm::defaults()
    };
    let ctx = OfferContext {
        digits: 2,
        today: chrono::Utc::now().date_naive(),
        pocs: [poc].into(),
        ..Default::default()
    };
    let rules = parse(&form, &ctx).unwrap();
    app.store
        .create_offer(
            org,
            &rules,
            None,
            None,
            &offerdesk::domain::user::Actor::system("t"),
        )
        .await
        .unwrap();
    let p = b.post(&format!("/admin/pocs/{poc}/delete"), &[]).await;
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/admin/pocs/{poc}").as_str())
    );
    assert!(
        b.get(&format!("/admin/pocs/{poc}"))
            .await
            .body
            .contains("Not removed: asha@acme.example.com gets the expiry reminders of Reminded")
    );
    assert_eq!(app.store.list_pocs(org).await.unwrap().len(), 1);
}
