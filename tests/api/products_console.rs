//! The product catalogue and customers' tiers and segments in the console (PRM-1), over HTTP
//! with a signed-in browser: the product form and its inline errors, CSV uploads that are all
//! or nothing, carts of bare SKUs getting their categories from the catalogue, tier-only
//! promotions following the uploaded tiers, a viewer reading but not writing, CSRF, and
//! deleting a product (console and API): refused while a live or paused promotion names it,
//! and a cart of its bare SKU no longer getting its category.

use crate::helpers::{Browser, Page, TestApp, spawn_app};
use crate::integration::Api;
use offerdesk::domain::user::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "admin@acme.example.com";

/// An org "Acme" (INR) with an API key, and its admin signed in.
async fn acme() -> (TestApp, Api, Browser) {
    let app = spawn_app().await;
    let api = Api::of(&app, "Acme", 10_000).await;
    let b = app.signed_in(ADMIN).await;
    (app, api, b)
}

/// How many products the org's catalogue has.
async fn product_count(app: &TestApp) -> i64 {
    let org = app.org_id("Acme").await;
    let q = offerdesk::store::products::ProductQuery {
        limit: 1,
        ..Default::default()
    };
    app.store.list_products(org, &q).await.unwrap().1
}

/// Seed 003's "Buy 2 Pants, Get 1 Belt for 50% off", by category only.
fn pants_and_belt() -> Value {
    json!({
        "name": "Two pants, belt half price",
        "kind": {"type": "automatic"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "conditions": [{"type": "productQuantity",
            "products": {"include": {"categories": ["PANTS"]}}, "atLeast": 2}],
        "benefit": {
            "target": {"type": "products",
                "criteria": {"type": "filter", "products": {"include": {"categories": ["BELTS"]}}},
                "quantity": 1},
            "value": {"type": "percent", "basisPoints": 5000}},
        "stacking": "stackable"
    })
}

/// 10% off the cart for customers of the Gold tier only.
fn gold_ten_off() -> Value {
    json!({
        "name": "Gold ten off",
        "kind": {"type": "automatic"},
        "eligibility": {"tiers": ["Gold"]},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "conditions": [{"type": "cartAmount", "atLeast": 100}],
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable"
    })
}

async fn promotion(api: &Api, rules: Value) -> i64 {
    let (status, v) = api.post("/promotions", json!({"promotion": rules})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["id"].as_i64().unwrap()
}

/// Opens cart `id` of bare SKU lines (no category, brand or attributes), for `mobile` if any.
async fn open_cart(api: &Api, id: &str, lines: &[(&str, i64, i64)], mobile: Option<&str>) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, quantity, unit_price)| {
            json!({"sku": sku, "quantity": quantity, "unitPrice": unit_price})
        })
        .collect();
    let mut body = json!({"state": "open", "codes": [], "lines": lines});
    if let Some(m) = mobile {
        body["customer"] = json!({ "mobile": m });
    }
    let (status, v) = api.put(&format!("/carts/{id}"), body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// A multipart upload of `csv` carrying exactly `fields` (no CSRF token added).
async fn upload_raw(b: &Browser, path: &str, fields: &[(&str, &str)], csv: &str) -> Page {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
        .file_name("x.csv")
        .mime_str("text/csv")
        .unwrap();
    let r = b
        .client
        .post(format!("{}{path}", b.base))
        .multipart(form.part("file", part))
        .send()
        .await
        .unwrap();
    let status = r.status();
    Page {
        status,
        location: None,
        body: r.text().await.unwrap(),
    }
}

const GOOD_PRODUCTS: &str = "sku,name,price,category,brand,attributes\n\
    PANT-1,Slim chinos,\"1,500\",PANTS,Acme,colour=navy; size=32\n\
    BELT-1,Leather belt,800,BELTS,Acme,colour=brown\n";

#[tokio::test]
async fn a_product_form_with_a_bad_price_comes_back_with_the_error_and_the_values() {
    let (app, _api, b) = acme().await;
    let typed = [
        ("sku", "PANT-1"),
        ("name", "Slim chinos"),
        ("price", "1499.505"),
        ("category", "PANTS"),
        ("brand", ""),
        ("attributes", "colour=navy; size=32"),
    ];
    let p = b.post("/products", &typed).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(
        p.body
            .contains("Nothing was saved: fix the fields marked below.")
    );
    assert!(
        p.body
            .contains("Price can have at most 2 decimals in this currency"),
        "{}",
        p.body
    );
    for value in [
        "value=\"PANT-1\"",
        "value=\"Slim chinos\"",
        "value=\"1499.505\"",
        "value=\"PANTS\"",
        "value=\"colour=navy; size=32\"",
    ] {
        assert!(p.body.contains(value), "the form lost `{value}`");
    }
    assert_eq!(product_count(&app).await, 0);

    // Several bad fields: each is named beside its own input.
    let p = b
        .post(
            "/products",
            &[
                ("sku", ""),
                ("name", "Hat"),
                ("price", "-5"),
                ("attributes", "size"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("id=\"sku-error\">SKU is required"));
    assert!(
        p.body
            .contains("id=\"price-error\">Price must not be negative")
    );
    assert!(p.body.contains(
        "id=\"attributes-error\">Attributes: `size` is not key=value (write them like colour=blue; size=M)"
    ));

    // Fixed, it is added and listed with its price in the org's currency.
    let mut fixed = typed;
    fixed[2] = ("price", "1,499.50");
    let p = b.post("/products", &fixed).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/products"));
    let list = b.get("/products").await.body;
    assert!(list.contains("Added product PANT-1 (Slim chinos)."));
    assert!(list.contains("₹1,499.50"));
    assert!(list.contains("colour: navy"));

    // The same SKU cannot be added twice; editing keeps the SKU and replaces the rest.
    let p = b.post("/products", &fixed).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("SKU is already in the catalogue; use Edit on its row to change it"),
        "{}",
        p.body
    );
    let edit = b.get("/products?edit=PANT-1").await;
    assert!(edit.body.contains("Edit product PANT-1"));
    assert!(edit.body.contains("value=\"1499.50\""));
    let p = b
        .post(
            "/products",
            &[
                ("editing", "PANT-1"),
                ("sku", "PANT-1"),
                ("name", "Slim chinos"),
                ("price", "1299"),
                ("category", "PANTS"),
                ("attributes", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let list = b.get("/products").await.body;
    assert!(list.contains("Saved product PANT-1 (Slim chinos)."));
    assert!(list.contains("₹1,299"));
    assert!(!list.contains("colour: navy"));
    assert_eq!(product_count(&app).await, 1);
    // A crafted edit cannot move the product to another SKU.
    let p = b
        .post(
            "/products",
            &[
                ("editing", "PANT-1"),
                ("sku", "PANT-2"),
                ("name", "Slim chinos"),
                ("price", "1299"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body
            .contains("SKU cannot change when editing (it is PANT-1)")
    );
    assert_eq!(product_count(&app).await, 1);
}

#[tokio::test]
async fn a_products_csv_with_two_bad_lines_reports_both_and_writes_nothing() {
    let (app, _api, b) = acme().await;
    let csv = "sku,name,price,category,brand,attributes\n\
               PANT-1,Slim chinos,1500,PANTS,Acme,\n\
               BELT-1,Leather belt,cheap,BELTS,,\n\
               SHOE-1,Runner,2500,SHOES,,\n\
               PANT-1,Chinos again,1600,PANTS,,\n";
    let p = b.upload("/products", &[], "products.csv", csv).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(
        p.body
            .contains("Nothing was uploaded: 2 problems in products file products.csv"),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains("Line 3: price must be an amount such as 500 or 499.50")
    );
    assert!(
        p.body
            .contains("Line 5: SKU PANT-1 is repeated (first on line 2)")
    );
    assert!(!p.body.contains("Line 2:") && !p.body.contains("Line 4:"));
    assert_eq!(product_count(&app).await, 0, "nothing is applied");

    // An empty file is named as such.
    let p = b.upload("/products", &[], "empty.csv", "").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("choose a CSV file to upload"));
}

#[tokio::test]
async fn a_good_csv_fills_the_catalogue_and_a_cart_of_bare_skus_gets_its_categories() {
    let (app, api, b) = acme().await;
    let promo = promotion(&api, pants_and_belt()).await;
    let cart = [("PANT-1", 2, 150_000), ("BELT-1", 1, 80_000)];

    // Before the upload the catalogue does not know the SKUs: nothing applies.
    let before = open_cart(&api, "C-1", &cart, None).await;
    assert_eq!(before["discount"], 0, "{before}");

    let p = b
        .upload("/products", &[], "products.csv", GOOD_PRODUCTS)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let list = b.get("/products").await.body;
    assert!(list.contains("Uploaded products: 2 written (2 new, 0 updated)."));
    assert!(list.contains("₹1,500") && list.contains("₹800"));
    assert_eq!(product_count(&app).await, 2);

    // The till sends SKUs and prices only: the belt's category comes from the catalogue.
    let after = open_cart(&api, "C-2", &cart, None).await;
    assert_eq!(after["discount"], 40_000, "{after}");
    assert_eq!(after["applied"][0]["id"], promo);

    // Uploading again replaces by SKU and says so.
    let again = "sku,name,price,category,brand,attributes\nBELT-1,Leather belt,850,BELTS,Acme,\n";
    let p = b.upload("/products", &[], "again.csv", again).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let list = b.get("/products").await.body;
    assert!(list.contains("Uploaded products: 1 written (0 new, 1 updated)."));
    assert!(list.contains("₹850"));

    // The search (htmx gets the list alone) finds by SKU, name, category or brand.
    let found = b.get_htmx("/products?q=belt").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found
            .body
            .trim_start()
            .starts_with("<div id=\"product-table\">")
    );
    assert!(found.body.contains("BELT-1") && !found.body.contains("PANT-1"));
    let none = b.get("/products?q=zzz").await.body;
    assert!(none.contains("No products match “zzz”."));

    // The template is a file the upload takes as it is.
    let t = b
        .client
        .get(format!("{}/products/template.csv", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), StatusCode::OK);
    assert!(
        t.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let template = t.text().await.unwrap();
    assert!(template.starts_with("sku,name,price,category,brand,attributes\n"));
    let p = b.upload("/products", &[], "t.csv", &template).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
}

#[tokio::test]
async fn uploaded_tiers_decide_who_gets_a_tier_only_promotion() {
    let (_app, api, b) = acme().await;
    let bad = "identifier_type,identifier,tiers,segments\n\
               MOBILE,9800000001,Gold,\n\
               PHONE,9800000002,Silver,\n\
               MOBILE,12,Gold,\n";
    let p = b.upload("/customers/tags", &[], "tags.csv", bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.body.contains("Nothing was uploaded: 2 problems"));
    assert!(
        p.body
            .contains("Line 3: identifier_type must be MOBILE, EMAIL or EXTERNAL_ID, not `PHONE`")
    );
    assert!(p.body.contains(
        "Line 4: identifier `12` is not a mobile number (8 to 15 digits, optionally starting with +)"
    ));
    // Nothing applied: the good first line's customer has no tier.
    let look = b
        .get("/customers/tags?identifier_type=MOBILE&identifier=9800000001")
        .await;
    assert_eq!(look.status, StatusCode::OK);
    assert!(
        look.body
            .contains("No customer <code>MOBILE 9800000001</code>")
    );
    assert!(look.body.contains("No customer has a tier or segment yet."));

    let good = "identifier_type,identifier,tiers,segments\n\
                MOBILE,98000 00001,Gold,new-parents; weekend\n\
                MOBILE,9800000002,Silver,\n";
    let p = b.upload("/customers/tags", &[], "tags.csv", good).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/customers/tags"));
    let look = b
        .get("/customers/tags?identifier_type=MOBILE&identifier=9800000001")
        .await;
    assert!(
        look.body
            .contains("Uploaded tiers and segments: 2 customers written.")
    );
    assert!(look.body.contains("<span class=\"badge\">Gold</span>"));
    assert!(
        look.body
            .contains("<span class=\"badge\">new-parents</span>")
    );
    assert!(look.body.contains("<span class=\"badge\">weekend</span>"));
    // A bad identifier in the look-up is named beside the form.
    let look = b
        .get("/customers/tags?identifier_type=EMAIL&identifier=nope")
        .await;
    assert_eq!(look.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(look.body.contains("`nope` is not an email address"));
    assert!(look.body.contains("value=\"nope\""));

    let promo = promotion(&api, gold_ten_off()).await;
    let cart = [("ANY-1", 1, 100_000)];
    let gold = open_cart(&api, "G-1", &cart, Some("9800000001")).await;
    assert_eq!(gold["discount"], 10_000, "{gold}");
    assert_eq!(gold["applied"][0]["id"], promo);
    let silver = open_cart(&api, "S-1", &cart, Some("9800000002")).await;
    assert_eq!(silver["discount"], 0, "{silver}");
    let stranger = open_cart(&api, "X-1", &cart, Some("9800000009")).await;
    assert_eq!(stranger["discount"], 0, "{stranger}");

    // A line replaces the customer's tiers: moved to Silver, Gold no longer applies.
    let moved = "identifier_type,identifier,tiers,segments\nMOBILE,9800000001,Silver,\n";
    let p = b.upload("/customers/tags", &[], "moved.csv", moved).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let gold_again = open_cart(&api, "G-2", &cart, Some("9800000001")).await;
    assert_eq!(gold_again["discount"], 0, "{gold_again}");
    let page = b.get("/customers/tags").await.body;
    assert!(page.contains("Uploaded tiers and segments: 1 customer written."));
    assert!(!page.contains("<span class=\"badge\">Gold</span>"));

    let t = b
        .client
        .get(format!("{}/customers/tags/template.csv", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), StatusCode::OK);
    let template = t.text().await.unwrap();
    assert!(template.starts_with("identifier_type,identifier,tiers,segments\n"));
    let p = b.upload("/customers/tags", &[], "t.csv", &template).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
}

#[tokio::test]
async fn a_viewer_reads_both_pages_but_cannot_write() {
    let (app, _api, admin) = acme().await;
    let p = admin
        .upload("/products", &[], "products.csv", GOOD_PRODUCTS)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let viewer = app
        .signed_in(&app.create_user("Acme", Role::Viewer).await)
        .await;

    let list = viewer.get("/products").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("PANT-1") && list.body.contains("₹1,500"));
    for form in [
        "id=\"product-form\"",
        "id=\"upload-products\"",
        ">Edit</a>",
        "action=\"/products/delete\"",
    ] {
        assert!(!list.body.contains(form), "a viewer is offered {form}");
    }
    // An edit address shows no form to a viewer.
    let edit = viewer.get("/products?edit=PANT-1").await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(!edit.body.contains("id=\"product-form\""));
    let tags = viewer.get("/customers/tags").await;
    assert_eq!(tags.status, StatusCode::OK);
    assert!(!tags.body.contains("id=\"upload-tags\""));
    assert!(tags.body.contains("id=\"lookup-customer\""));
    assert_eq!(
        viewer
            .get("/customers/tags?identifier_type=MOBILE&identifier=9800000001")
            .await
            .status,
        StatusCode::OK
    );

    let p = viewer
        .post(
            "/products",
            &[("sku", "HAT-1"), ("name", "Hat"), ("price", "10")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Your role does not allow this."));
    let csv = "sku,name,price,category,brand,attributes\nHAT-1,Hat,10,,,\n";
    let p = viewer.upload("/products", &[], "p.csv", csv).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = viewer
        .post("/products/delete", &[("sku", "PANT-1"), ("confirm", "yes")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let tags_csv = "identifier_type,identifier,tiers,segments\nMOBILE,9800000001,Gold,\n";
    let p = viewer
        .upload("/customers/tags", &[], "t.csv", tags_csv)
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(product_count(&app).await, 2, "nothing was written");
    let page = admin.get("/customers/tags").await.body;
    assert!(page.contains("No customer has a tier or segment yet."));
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_refused() {
    let (app, _api, b) = acme().await;
    let typed = [("sku", "HAT-1"), ("name", "Hat"), ("price", "10")];
    let p = b.post_raw("/products", &typed).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Form expired"));
    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&typed);
    assert_eq!(
        b.post_raw("/products", &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    let csv = "sku,name,price,category,brand,attributes\nHAT-1,Hat,10,,,\n";
    assert_eq!(
        upload_raw(&b, "/products", &[], csv).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload_raw(&b, "/products", &[("csrf_token", "not-the-token")], csv)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let tags = "identifier_type,identifier,tiers,segments\nMOBILE,9800000001,Gold,\n";
    assert_eq!(
        upload_raw(&b, "/customers/tags", &[], tags).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(product_count(&app).await, 0);
    assert!(
        b.get("/customers/tags")
            .await
            .body
            .contains("No customer has a tier or segment yet.")
    );
}

#[tokio::test]
async fn uploads_larger_than_one_statement_are_written_whole() {
    let (app, _api, b) = acme().await;
    // More rows than one statement writes (500), so the upload spans several statements of
    // one transaction.
    let mut products = String::from("sku,name,price,category,brand,attributes\n");
    let mut tags = String::from("identifier_type,identifier,tiers,segments\n");
    for i in 0..1201 {
        products.push_str(&format!(
            "SKU-{i:05},Product {i},{},CAT-{},,\n",
            i + 1,
            i % 7
        ));
        tags.push_str(&format!("EXTERNAL_ID,C-{i:05},Gold,seg-{}\n", i % 3));
    }
    let p = b.upload("/products", &[], "big.csv", &products).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(product_count(&app).await, 1201);
    let list = b.get("/products?page=25").await.body;
    assert!(list.contains("Uploaded products: 1201 written (1201 new, 0 updated)."));
    assert!(list.contains("SKU-01200") && list.contains("page 25 of 25"));

    let p = b.upload("/customers/tags", &[], "big.csv", &tags).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = b.get("/customers/tags").await.body;
    assert!(page.contains("Uploaded tiers and segments: 1201 customers written."));
    // Gold on all of them; the three segments split 401 + 400 + 400.
    for row in [
        "Tier</td><td><span class=\"badge\">Gold</span></td><td class=\"num\">1201</td>",
        "Segment</td><td><span class=\"badge\">seg-0</span></td><td class=\"num\">401</td>",
        "Segment</td><td><span class=\"badge\">seg-2</span></td><td class=\"num\">400</td>",
    ] {
        assert!(page.contains(row), "missing {row}");
    }
}

/// `DELETE /api/v2/products/{sku}` (the SKU percent-encoded by the caller).
async fn delete_product(api: &Api, encoded_sku: &str) -> (StatusCode, Value) {
    api.delete(&format!("/products/{encoded_sku}")).await
}

/// The newest audit record of the org: (action, summary).
async fn last_audit(app: &TestApp) -> (String, String) {
    let org = app.org_id("Acme").await;
    let (rows, _) = app.store.list_audit(org, None, 1, 0).await.unwrap();
    (rows[0].action.clone(), rows[0].summary.clone())
}

/// Whether the org's catalogue has `sku`.
async fn has_product(app: &TestApp, sku: &str) -> bool {
    let org = app.org_id("Acme").await;
    app.store.get_product(org, sku).await.unwrap().is_some()
}

#[tokio::test]
async fn a_deleted_product_is_gone_from_the_list_and_its_facts_from_carts() {
    let (app, api, b) = acme().await;
    let promo = promotion(&api, pants_and_belt()).await;
    let p = b
        .upload("/products", &[], "products.csv", GOOD_PRODUCTS)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let cart = [("PANT-1", 2, 150_000), ("BELT-1", 1, 80_000)];
    let before = open_cart(&api, "D-1", &cart, None).await;
    assert_eq!(before["discount"], 40_000, "{before}");
    assert_eq!(before["applied"][0]["id"], promo);

    // Each row offers Delete with a confirm box (no script: the CSP forbids inline ones).
    let list = b.get("/products").await.body;
    assert!(list.contains("<input type=\"hidden\" name=\"sku\" value=\"BELT-1\">"));
    assert!(list.contains("aria-label=\"Confirm deleting BELT-1\""));
    // The list htmx swaps in on a search carries the forms and their token too.
    let found = b.get_htmx("/products?q=belt").await.body;
    assert!(found.contains("action=\"/products/delete\""));
    assert!(found.contains(&format!("name=\"csrf_token\" value=\"{}\"", b.csrf)));

    // Unticked, nothing is deleted and the page says why.
    let p = b.post("/products/delete", &[("sku", "BELT-1")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.body.contains(
        "Product BELT-1 was not deleted: tick “confirm” next to its Delete button first."
    ));
    assert!(has_product(&app, "BELT-1").await);

    // The category promotion names no SKU: the belt may go.
    let p = b
        .post("/products/delete", &[("sku", "BELT-1"), ("confirm", "yes")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/products"));
    let list = b.get("/products").await.body;
    assert!(list.contains("Deleted product BELT-1 (Leather belt)."));
    assert!(!list.contains("<code>BELT-1</code>") && list.contains("<code>PANT-1</code>"));
    assert_eq!(product_count(&app).await, 1);
    assert_eq!(
        last_audit(&app).await,
        (
            "product.deleted".to_string(),
            "Deleted product BELT-1 (Leather belt)".to_string()
        )
    );

    // A till sending the belt's SKU alone no longer gets its category: no belt, no discount.
    let after = open_cart(&api, "D-2", &cart, None).await;
    assert_eq!(after["discount"], 0, "{after}");
    // A line that says its category itself still gets it.
    let (status, told) = api
        .put(
            "/carts/D-3",
            json!({"state": "open", "codes": [], "lines": [
                {"sku": "PANT-1", "quantity": 2, "unitPrice": 150_000},
                {"sku": "BELT-1", "quantity": 1, "unitPrice": 80_000, "category": "BELTS"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{told}");
    assert_eq!(told["discount"], 40_000, "{told}");

    // Deleting it again: the page says it is not there (404), nothing else changes.
    let p = b
        .post("/products/delete", &[("sku", "BELT-1"), ("confirm", "yes")])
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.body);
    assert!(p.body.contains(
        "There is no product BELT-1 in the catalogue. It may have been deleted already."
    ));
    assert_eq!(product_count(&app).await, 1);
}

#[tokio::test]
async fn deleting_without_the_csrf_token_is_refused() {
    let (app, _api, b) = acme().await;
    let p = b
        .upload("/products", &[], "products.csv", GOOD_PRODUCTS)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let fields = [("sku", "PANT-1"), ("confirm", "yes")];
    let p = b.post_raw("/products/delete", &fields).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Form expired"));
    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&fields);
    assert_eq!(
        b.post_raw("/products/delete", &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(product_count(&app).await, 2);
}

/// "Buy 2 pants, get the belt free": the belt by SKU as the benefit.
fn belt_free() -> Value {
    json!({
        "name": "Buy 2 pants, get the belt free",
        "kind": {"type": "automatic"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "conditions": [{"type": "productQuantity",
            "products": {"include": {"categories": ["PANTS"]}}, "atLeast": 2}],
        "benefit": {
            "target": {"type": "products", "criteria": {"type": "sku", "sku": "BELT-1"}, "quantity": 1},
            "value": {"type": "free"}},
        "stacking": "stackable"
    })
}

/// 10% off when the cart has a unit of one of `skus` (a condition's include set).
fn with_skus(name: &str, skus: &[&str]) -> Value {
    json!({
        "name": name,
        "kind": {"type": "automatic"},
        "validity": {"starts": "2026-01-01T00:00:00Z"},
        "conditions": [{"type": "productQuantity",
            "products": {"include": {"skus": skus}}, "atLeast": 1}],
        "benefit": {"target": {"type": "cart"}, "value": {"type": "percent", "basisPoints": 1000}},
        "stacking": "stackable"
    })
}

async fn move_promotion(api: &Api, id: i64, to: &str) {
    let (status, v) = api
        .post(&format!("/promotions/{id}/status"), json!({"status": to}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn a_product_named_by_a_live_or_paused_promotion_is_not_deleted() {
    let (app, api, b) = acme().await;
    let p = b
        .upload("/products", &[], "products.csv", GOOD_PRODUCTS)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let live = promotion(&api, belt_free()).await;
    let paused = promotion(&api, with_skus("Belt buyers", &["BELT-1", "SHOE-1"])).await;
    move_promotion(&api, paused, "paused").await;
    // A draft and an ended promotion naming the belt do not hold it.
    let (status, v) = api
        .post(
            "/promotions",
            json!({"status": "draft", "promotion": with_skus("Draft belt", &["BELT-1"])}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let ended = promotion(&api, with_skus("Old belt", &["BELT-1"])).await;
    move_promotion(&api, ended, "ended").await;
    let audits = app
        .store
        .list_audit(app.org_id("Acme").await, None, 1, 0)
        .await
        .unwrap()
        .1;

    // The console names both promotions that hold it, and deletes nothing.
    let p = b
        .post("/products/delete", &[("sku", "BELT-1"), ("confirm", "yes")])
        .await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
    let said = "Product BELT-1 was not deleted. Used by live promotion “Buy 2 pants, get the belt free” \
                and paused promotion “Belt buyers” — end them or change them first.";
    assert!(p.body.contains(said), "{}", p.body);
    assert!(!p.body.contains("Draft belt") && !p.body.contains("Old belt"));
    assert!(has_product(&app, "BELT-1").await);

    // The API answers 409 with the promotions by id.
    let (status, v) = delete_product(&api, "BELT-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "product_in_use");
    assert_eq!(
        v["error"]["message"],
        "Used by live promotion “Buy 2 pants, get the belt free” and paused promotion “Belt buyers” \
         — end them or change them first"
    );
    assert_eq!(
        v["error"]["promotions"],
        json!([{"id": live, "name": "Buy 2 pants, get the belt free", "status": "live"},
               {"id": paused, "name": "Belt buyers", "status": "paused"}])
    );
    assert!(has_product(&app, "BELT-1").await);
    let audits_after = app
        .store
        .list_audit(app.org_id("Acme").await, None, 1, 0)
        .await
        .unwrap()
        .1;
    assert_eq!(audits, audits_after, "a refused delete records nothing");

    // Another org's key cannot see it; an unknown SKU is 404 in the API's envelope.
    let other = Api::of(&app, "Beta", 100).await;
    let (status, v) = delete_product(&other, "PANT-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["code"], "not_found");
    assert_eq!(
        v["error"]["message"],
        "There is no product PANT-1 in the catalogue."
    );
    assert!(has_product(&app, "PANT-1").await);

    // Once they are ended, it goes (204, no body); a second delete is 404.
    move_promotion(&api, live, "ended").await;
    move_promotion(&api, paused, "ended").await;
    let (status, _) = delete_product(&api, "BELT-1").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!has_product(&app, "BELT-1").await);
    assert_eq!(
        last_audit(&app).await,
        (
            "product.deleted".to_string(),
            "Deleted product BELT-1 (Leather belt)".to_string()
        )
    );
    let (status, v) = delete_product(&api, "BELT-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

    // A SKU with a space and a slash, percent-encoded in the path.
    let (status, v) = api
        .put(
            "/products",
            json!({"products": [{"sku": "HAT 1/2", "name": "Half hat", "price": 500}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = delete_product(&api, "HAT%201%2F2").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    assert!(!has_product(&app, "HAT 1/2").await);

    // The OpenAPI description lists the route.
    let (_, doc) = api.get("/openapi.json").await;
    assert!(doc["paths"]["/api/v2/products/{sku}"]["delete"].is_object());
}
