//! Console defects of issue #13 ("the console tells the truth and is pleasant to use"): the
//! audit log's "What" column, the tills table's store column, where a refused structure or
//! catalog upload is shown, and stores and tills named by name on offer pages.

use crate::helpers::{Browser, TestApp, spawn_app};
use offerdesk::domain::user::Role;
use reqwest::StatusCode;

async fn admin(app: &TestApp) -> Browser {
    let email = app.create_org_admin("Acme").await;
    app.signed_in(&email).await
}

/// Text without tags, entities read, whitespace collapsed.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The audit page's "What" cells as (record, kind), newest first.
fn what_cells(page: &str) -> Vec<(String, String)> {
    let marker = "<br><small class=\"muted\">";
    let mut cells = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find(marker) {
        let before = &rest[..i];
        let cell_start = before.rfind("<td>").expect("the What cell") + "<td>".len();
        let after = &rest[i + marker.len()..];
        let kind_end = after.find("</small>").unwrap();
        cells.push((text(&before[cell_start..]), text(&after[..kind_end])));
        rest = &after[kind_end..];
    }
    cells
}

/// The HTML of the table row that contains `needle`.
fn row_with<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in page"));
    let start = html[..at].rfind("<tr>").unwrap();
    let end = at + html[at..].find("</tr>").unwrap();
    &html[start..end]
}

#[tokio::test]
async fn the_audit_log_says_what_changed_without_repeating_its_kind() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let org = app.org_id("Acme").await;
    // One of every master, by form and by upload, and a POC that is removed again.
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    b.post("/admin/concepts", &[("code", "OUTLET"), ("name", "Outlet")])
        .await;
    let zone = app
        .store
        .coded_ids(org, offerdesk::store::masters::CodedKind::Zone)
        .await
        .unwrap()["NORTH"];
    b.post(
        "/admin/stores",
        &[
            ("code", "S1"),
            ("name", "Mall Road"),
            ("zone_id", &zone.to_string()),
        ],
    )
    .await;
    let store = app.store.store_ids(org).await.unwrap()["S1"];
    b.post(
        "/admin/tills",
        &[
            ("code", "T-01"),
            ("name", "Front counter"),
            ("store_id", &store.to_string()),
        ],
    )
    .await;
    for (path, kind, csv) in [
        ("/admin/structure", "zones", "code,name\nSOUTH,South\n"),
        (
            "/admin/structure",
            "concepts",
            "code,name\nPREMIUM,Premium\n",
        ),
        (
            "/admin/structure",
            "stores",
            "code,name,zone,concept\nS2,High Street,SOUTH,\n",
        ),
        (
            "/admin/structure",
            "tills",
            "code,name,store\nT-02,Back counter,S1\n",
        ),
        (
            "/admin/catalog/upload",
            "categories",
            "code,name\nSHOES,Shoes\n",
        ),
        ("/admin/catalog/upload", "brands", "code,name\nNIKE,Nike\n"),
    ] {
        let p = b.upload(path, &[("kind", kind)], "x.csv", csv).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{kind}: {}", p.body);
    }
    b.post(
        "/admin/pocs",
        &[("name", "Asha"), ("email", "asha@acme.example.com")],
    )
    .await;
    let poc = app.store.list_pocs(org).await.unwrap()[0].id;
    b.post(&format!("/admin/pocs/{poc}/delete"), &[]).await;

    let page = b.get("/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    let cells = what_cells(&page.body);
    assert!(cells.len() >= 14, "every entry is listed: {cells:?}");
    for (record, kind) in &cells {
        assert!(
            !record.is_empty() && !record.contains(kind.as_str()),
            "the What column says {kind:?} twice: {record:?} / {kind:?}"
        );
    }
    let has = |record: &str, kind: &str| {
        assert!(
            cells.iter().any(|(r, k)| r == record && k == kind),
            "no {record:?} / {kind:?} in {cells:?}"
        );
    };
    has("Front counter", "Till");
    has("Mall Road", "Store");
    has("North", "Zone");
    has("Outlet", "Concept");
    has("Acme", "Organisation");
    has("admin@acme.example.com", "User");
    for kind in [
        "Zones",
        "Concepts",
        "Stores",
        "Tills",
        "Categories",
        "Brands",
    ] {
        has("CSV upload", kind);
    }
    // The removed POC is named by its number (its name is in the summary next to it), and
    // links nowhere.
    has(&format!("#{poc}"), "POC · removed");
    assert!(!page.body.contains(&format!("href=\"/admin/pocs/{poc}\"")));
    // An upload links to the page that lists what it uploaded.
    assert!(page.body.contains(
        "<a href=\"/admin/structure\">CSV upload</a><br><small class=\"muted\">Tills</small>"
    ));
    assert!(page.body.contains(
        "<a href=\"/admin/catalog\">CSV upload</a><br><small class=\"muted\">Brands</small>"
    ));
    // The filter's partial reads the same.
    let tills = b.get_htmx("/admin/audit?entity=till").await.body;
    assert_eq!(
        what_cells(&tills),
        vec![
            ("CSV upload".to_string(), "Tills".to_string()),
            ("Front counter".to_string(), "Till".to_string()),
        ]
    );
}

#[tokio::test]
async fn the_tills_table_names_each_tills_store() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    let csv = "code,name,zone,concept\nS1,Mall Road,NORTH,\nS2,High Street,NORTH,\n";
    b.upload("/admin/structure", &[("kind", "stores")], "s.csv", csv)
        .await;
    let csv = "code,name,store\nT-01,Front counter,S1\nT-02,Kiosk,S2\n";
    let p = b
        .upload("/admin/structure", &[("kind", "tills")], "t.csv", csv)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = b.get("/admin/structure").await.body;
    let tills = &page[page.find("<h2>Tills (2)</h2>").expect("tills section")..];
    assert_eq!(
        text(row_with(tills, "T-01")),
        "T-01 Front counter Mall Road S1"
    );
    assert_eq!(text(row_with(tills, "T-02")), "T-02 Kiosk High Street S2");
    let org = app.org_id("Acme").await;
    let s1 = app.store.store_ids(org).await.unwrap()["S1"];
    assert!(
        row_with(tills, "T-01").contains(&format!(
            "<a href=\"/admin/stores/{s1}\">Mall Road</a> <small class=\"muted\">S1</small>"
        )),
        "the store's name links to it, its code is small"
    );
}

#[tokio::test]
async fn a_refused_structure_upload_is_shown_at_the_structure_pages_address() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    // The form posts to the page's own URL: that is what the address bar shows afterwards.
    let page = b.get("/admin/structure").await.body;
    assert!(page.contains(
        "<form method=\"post\" action=\"/admin/structure\" enctype=\"multipart/form-data\" class=\"grid-form\" id=\"upload-structure\">"
    ));
    let bad = "code,name,zone,concept\nS1,Store one,NORTH,\nS1,Dup,NORTH,\n,No code,NORTH,\nS3,Three,SOUTH,\n";
    let p = b
        .upload("/admin/structure", &[("kind", "stores")], "stores.csv", bad)
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p.location, None, "shown where it was posted");
    for msg in [
        "Nothing was uploaded: 3 problems in stores file stores.csv",
        "Line 3: code S1 is repeated (first on line 2)",
        "Line 4: code is required",
        "Line 5: zone: no zone with code SOUTH",
    ] {
        assert!(p.body.contains(msg), "missing `{msg}`");
    }
    assert!(
        p.body.contains("action=\"/admin/structure\" enctype"),
        "the form can be sent again from the re-rendered page"
    );
    let org = app.org_id("Acme").await;
    assert!(app.store.list_stores(org).await.unwrap().is_empty());
    // Opening the address afterwards shows the page without the old report.
    let again = b.get("/admin/structure").await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again.body.contains("Nothing was uploaded"));

    let good = "code,name,zone,concept\nS1,Store one,NORTH,\n";
    let p = b
        .upload(
            "/admin/structure",
            &[("kind", "stores")],
            "stores.csv",
            good,
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/admin/structure"));

    // The former address still works the same way.
    let p = b
        .upload(
            "/admin/structure/upload",
            &[("kind", "tills")],
            "tills.csv",
            "code,name,store\nT1,Till 1,S9\n",
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("Line 2: store: no store with code S9"));

    // Same checks as before: only admins, only with the form's token.
    let viewer = app.create_user("Acme", Role::Viewer).await;
    let v = app.signed_in(&viewer).await;
    let csv = "code,name,zone,concept\nS9,Nine,NORTH,\n";
    let p = v
        .upload("/admin/structure", &[("kind", "stores")], "s.csv", csv)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let mut forged = app.signed_in("admin@acme.example.com").await;
    forged.csrf = "forged".into();
    let p = forged
        .upload("/admin/structure", &[("kind", "stores")], "s.csv", csv)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.list_stores(org).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_catalog_upload_is_shown_at_the_catalog_pages_address() {
    use offerdesk::store::masters::CodedKind;
    let app = spawn_app().await;
    let b = admin(&app).await;
    let org = app.org_id("Acme").await;
    // The form posts to the page's own URL: that is what the address bar shows afterwards.
    let page = b.get("/admin/catalog").await.body;
    assert!(page.contains(
        "<form method=\"post\" action=\"/admin/catalog\" enctype=\"multipart/form-data\" class=\"grid-form\" id=\"upload-catalog\">"
    ));
    assert!(!page.contains("/admin/catalog/upload"));
    let bad = "code,name\nSHOES,Shoes\nSHOES,Boots\n,No code\nBAGS,\nHATS,Hats,extra\n";
    let p = b
        .upload(
            "/admin/catalog",
            &[("kind", "categories")],
            "categories.csv",
            bad,
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p.location, None, "shown where it was posted");
    for msg in [
        "Nothing was uploaded: 4 problems in categories file categories.csv",
        "Line 3: code SHOES is repeated (first on line 2)",
        "Line 4: code is required",
        "Line 5: name is required",
        "Line 6: expected 2 columns (code,name), found 3",
    ] {
        assert!(p.body.contains(msg), "missing `{msg}`");
    }
    assert!(!p.body.contains("Line 2:"), "the good line is not reported");
    assert!(
        p.body.contains("action=\"/admin/catalog\" enctype"),
        "the form can be sent again from the re-rendered page"
    );
    let categories = || async {
        app.store
            .list_coded(org, CodedKind::Category)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(categories().await, 0, "nothing was applied");
    // Opening the address afterwards shows the page without the old report.
    let again = b.get("/admin/catalog").await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again.body.contains("Nothing was uploaded"));

    let p = b
        .upload(
            "/admin/catalog",
            &[("kind", "categories")],
            "categories.csv",
            "code,name\nSHOES,Shoes\n",
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/admin/catalog"));
    assert_eq!(categories().await, 1);

    // The former address still works the same way.
    let p = b
        .upload(
            "/admin/catalog/upload",
            &[("kind", "brands")],
            "brands.csv",
            "code,name\nNIKE,Nike\nNIKE,Nike again\n",
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("Line 3: code NIKE is repeated (first on line 2)")
    );
    let brands = || async {
        app.store
            .list_coded(org, CodedKind::Brand)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(brands().await, 0);

    // Same checks as before: only admins, only with the form's token.
    let viewer = app.create_user("Acme", Role::Viewer).await;
    let v = app.signed_in(&viewer).await;
    let csv = "code,name\nADIDAS,Adidas\n";
    let p = v
        .upload("/admin/catalog", &[("kind", "brands")], "b.csv", csv)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let mut forged = app.signed_in("admin@acme.example.com").await;
    forged.csrf = "forged".into();
    let p = forged
        .upload("/admin/catalog", &[("kind", "brands")], "b.csv", csv)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(brands().await, 0);
    assert_eq!(categories().await, 1);
}

#[tokio::test]
async fn offer_pages_and_the_audit_log_name_stores_and_tills() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    let csv = "code,name,zone,concept\nS1,Mall Road,NORTH,\nS2,High Street,NORTH,\n";
    b.upload("/admin/structure", &[("kind", "stores")], "s.csv", csv)
        .await;
    // Two tills named alike in different stores; two named alike in one store.
    let csv = "code,name,store\nT-01,Front counter,S1\nT-02,Front counter,S2\nK-1,Kiosk,S1\nK-2,Kiosk,S1\n";
    let p = b
        .upload("/admin/structure", &[("kind", "tills")], "t.csv", csv)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let id = crate::offers::offer_in(&app, "Acme", "Welcome", crate::offers::FAR).await;
    let p = b
        .upload(
            &format!("/offers/{id}/scope"),
            &[],
            "scope.csv",
            "type,code\nTILL,T-01\nTILL,K-2\nSTORE,S2\n",
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);

    // The tills picker: each till by its name and its store's name, the code muted; the code
    // joins the name only where two tills of one store share it.
    let edit = b.get(&format!("/offers/{id}/edit")).await.body;
    let picker = &edit[edit.find("id=\"picker-tills\"").expect("tills picker")..];
    let picker = &picker[..picker.find("</fieldset>").unwrap()];
    for (label, code) in [
        ("Front counter (Mall Road)", "T-01"),
        ("Front counter (High Street)", "T-02"),
        ("Kiosk (Mall Road, K-1)", "K-1"),
        ("Kiosk (Mall Road, K-2)", "K-2"),
    ] {
        assert!(
            picker.contains(&format!(
                "data-label=\"{label}\"> <span>{label} <small>{code}</small></span>"
            )),
            "{label} / {code} in {picker}"
        );
    }
    assert!(!picker.contains("store S1") && !picker.contains("store S2"));

    // The Configuration tab names the places.
    let page = text(&b.get(&format!("/offers/{id}")).await.body);
    assert!(page.contains("store High Street"), "{page}");
    assert!(page.contains("Front counter"), "{page}");

    // The audit entry of the scope change reads the same names.
    let audit = b.get("/admin/audit?entity=offer").await.body;
    let row = text(row_with(&audit, ">Tills<"));
    assert_eq!(
        row,
        "Tills — Front counter (Mall Road), Kiosk (Mall Road, K-2)"
    );
    let row = text(row_with(&audit, ">Stores<"));
    assert_eq!(row, "Stores — High Street (S2)");
    assert!(!audit.contains("T-01 · S1"));
}

/// In a real browser: after a refused upload the address bar shows the structure page, with
/// every bad line on it. Screenshots of both pages at two widths go to target/screenshots.
#[tokio::test]
async fn in_a_browser_a_refused_upload_keeps_the_structure_pages_address() {
    use crate::browser::{browser, chromedriver, screenshot_path, sign_in, submit, wait_for_text};
    use thirtyfour::prelude::*;
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let b = admin(&app).await;
    b.post("/admin/zones", &[("code", "NORTH"), ("name", "North")])
        .await;
    let csv = "code,name,zone,concept\nS1,Mall Road,NORTH,\nS2,High Street,NORTH,\n";
    b.upload("/admin/structure", &[("kind", "stores")], "s.csv", csv)
        .await;
    let csv = "code,name,store\nT-01,Front counter,S1\nT-02,Kiosk,S2\n";
    b.upload("/admin/structure", &[("kind", "tills")], "t.csv", csv)
        .await;
    b.post(
        "/admin/pocs",
        &[("name", "Asha"), ("email", "asha@acme.example.com")],
    )
    .await;
    let poc = app.store.list_pocs(app.org_id("Acme").await).await.unwrap()[0].id;
    b.post(&format!("/admin/pocs/{poc}/delete"), &[]).await;

    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, "admin@acme.example.com").await;
    web.goto(format!("{base}/admin/structure")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tills.csv");
    std::fs::write(
        &file,
        "code,name,store\nT-03,Till three,S9\nT-04,,S1\nT-05,Till five,S1,extra\n",
    )
    .unwrap();
    thirtyfour::components::SelectElement::new(
        &web.find(By::Css("#upload-structure [name=kind]"))
            .await
            .unwrap(),
    )
    .await
    .unwrap()
    .select_by_value("tills")
    .await
    .unwrap();
    web.find(By::Css("#upload-structure [name=file]"))
        .await
        .unwrap()
        .send_keys(file.display().to_string())
        .await
        .unwrap();
    submit(&web, "upload-structure").await;
    wait_for_text(&web, "Nothing was uploaded: 3 problems").await;
    let url = web.current_url().await.unwrap();
    assert!(url.as_str().ends_with("/admin/structure"), "{url}");
    let report = web
        .find(By::Id("upload-errors"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in ["Line 2:", "Line 3:", "Line 4:"] {
        assert!(report.contains(line), "{line} missing from {report}");
    }
    for width in [1280, 1024] {
        web.set_window_rect(0, 0, width, 1400).await.unwrap();
        web.screenshot(&screenshot_path(&format!("13-structure-refused-{width}")))
            .await
            .unwrap();
    }
    web.goto(format!("{base}/admin/audit")).await.unwrap();
    wait_for_text(&web, "CSV upload").await;
    for width in [1280, 1024] {
        web.set_window_rect(0, 0, width, 1100).await.unwrap();
        web.screenshot(&screenshot_path(&format!("13-audit-{width}")))
            .await
            .unwrap();
    }
    // The settings page says what the org's code prefix does (randomized codes start with it).
    web.goto(format!("{base}/admin/org")).await.unwrap();
    wait_for_text(&web, "randomized common codes start with it").await;
    for width in [1280, 1024] {
        web.set_window_rect(0, 0, width, 900).await.unwrap();
        web.screenshot(&screenshot_path(&format!("13-org-settings-{width}")))
            .await
            .unwrap();
    }
    web.quit().await.unwrap();
}
