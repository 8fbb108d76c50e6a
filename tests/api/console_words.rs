//! The console says what happened in words (issue 13, items 7 and 15): the audit log shows an
//! edit as a Field / Before / After table with the form's labels and the offer's name, never
//! raw JSON; counts in summaries agree with their nouns; a campaign's or program's page shows
//! its offers with their state and counts.

use crate::helpers::{Browser, TestApp, spawn_app, spawn_app_without_worker};
use crate::issuing::offer_with;
use crate::offers::{FAR, form_pairs, offer_in};
use offerdesk::domain::masters::NewConsumer;
use offerdesk::domain::offer::form::OfferForm;
use offerdesk::domain::user::Actor;
use reqwest::StatusCode;

async fn admin(app: &TestApp) -> Browser {
    let email = app.create_org_admin("Acme").await;
    app.signed_in(&email).await
}

/// The audit table of a page (the layout has JSON of its own in htmx attributes).
fn audit_table(page: &str) -> &str {
    let start = page
        .find("<div id=\"audit-table\">")
        .expect("an audit table");
    let rest = &page[start..];
    &rest[..rest.find("<nav class=\"pager\"").unwrap_or(rest.len())]
}

/// The audit entry (its outer row, nested tables and all) that mentions `needle`.
fn entry_with<'a>(table: &'a str, needle: &str) -> &'a str {
    let marker = "<tr><td class=\"nowrap\">";
    let at = table
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {table}"));
    let start = table[..at].rfind(marker).expect("an entry");
    let end = table[at..].find(marker).map_or(table.len(), |e| at + e);
    &table[start..end]
}

/// The `<tr>` of a table that mentions `needle`.
fn row_with<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {html}"));
    let start = html[..at].rfind("<tr").expect("a row");
    let end = at + html[at..].find("</tr>").expect("row end");
    &html[start..end]
}

#[tokio::test]
async fn an_offer_edit_reads_as_a_table_of_labelled_fields_under_the_offers_name() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let id = offer_in(&app, "Acme", "Welcome", FAR).await;
    let org = app.org_id("Acme").await;
    let before = app.store.get_offer(org, id).await.unwrap();
    let mut form = OfferForm::from_rules(&before.rules, 2);
    form.offer_code = before.offer_code.clone();
    assert_ne!(
        form.include_sale, "on",
        "the sample offer leaves sale items out"
    );
    form.name = "Welcome back".into();
    form.include_sale = "on".into();
    form.expires_on = "2099-06-30".into();
    let mut pairs = vec![("csrf_token".to_string(), b.csrf.clone())];
    pairs.extend(form_pairs(&form));
    let saved = b
        .client
        .post(format!("{}/offers/{id}/edit", b.base))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    let page = b.get("/admin/audit?entity=offer").await;
    assert_eq!(page.status, StatusCode::OK);
    let table = audit_table(&page.body);
    let entry = entry_with(table, "Edited offer Welcome back");
    assert!(
        entry.contains(&format!("<a href=\"/offers/{id}\">Welcome back</a>")),
        "the offer's name, linked: {entry}"
    );
    assert!(!table.contains("offer #"), "{table}");
    assert!(
        entry.contains("<th>Field</th><th>Before</th><th>After</th>"),
        "{entry}"
    );
    for (label, old, new) in [
        ("Offer name", "Welcome", "Welcome back"),
        ("Expiry date", "31 Dec 2099", "30 Jun 2099"),
        ("Applicable on sale items", "No", "Yes"),
    ] {
        assert!(
            entry.contains(&format!(
                "<td class=\"muted\">{label}</td><td>{old}</td><td>{new}</td>"
            )),
            "{label}: {old} → {new} in {entry}"
        );
    }
    assert!(
        !entry.contains("Discount for each coupon"),
        "only changed fields are listed"
    );
    for json in [
        "{\"",
        "{&quot;",
        "{&#34;",
        "\"before\"",
        "&#34;before",
        "<pre>",
    ] {
        assert!(!table.contains(json), "no raw JSON ({json}) in {table}");
    }
}

#[tokio::test]
async fn one_customer_is_one_customer_in_the_audit_log() {
    let app = spawn_app_without_worker().await;
    let b = admin(&app).await;
    let offer = offer_with(&app, "Once", |f| f.max_per_customer = "1".into()).await;
    let upload = b
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "twice.csv",
            "type,value\nMOBILE,9000000001\nMOBILE,9000000001\n",
        )
        .await;
    assert_eq!(upload.status, StatusCode::SEE_OTHER, "{}", upload.body);
    app.run_queued_jobs().await;
    let table = audit_table(&b.get("/admin/audit?entity=offer").await.body).to_string();
    assert!(
        table.contains("Issued 1 coupon; 1 customer refused"),
        "{table}"
    );
    assert!(!table.contains("1 customers") && !table.contains("1 coupons"));
}

#[tokio::test]
async fn a_programs_page_lists_its_offers_with_state_and_counts() {
    let app = spawn_app().await;
    let b = admin(&app).await;
    let org = app.org_id("Acme").await;
    let club = app
        .store
        .create_consumer(
            org,
            &NewConsumer::parse("Club", "loyalty", "", "").unwrap(),
            &Actor::system("test"),
        )
        .await
        .unwrap();
    let welcome = offer_in(&app, "Acme", "Welcome", FAR).await;
    let summer = offer_in(&app, "Acme", "Summer", "2020-06-30").await;
    for offer in [welcome, summer] {
        offerdesk::app::claim::claim(&app.store, org, offer, club, &Actor::system("test"))
            .await
            .unwrap()
            .expect("claimed");
    }
    for mobile in ["9800000001", "9800000002"] {
        let issued = b
            .post(
                &format!("/offers/{welcome}/coupons/issue?as={club}"),
                &[("kind", "MOBILE"), ("value", mobile)],
            )
            .await;
        assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    }

    let page = b.get(&format!("/admin/consumers/{club}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body;
    assert!(
        body.contains("<th>State</th><th class=\"num\">Issued</th><th class=\"num\">Redeemed</th>"),
        "the dashboard's columns with the state: {body}"
    );
    let active = row_with(&body, &format!("<a href=\"/offers/{welcome}\">Welcome</a>"));
    assert!(active.contains(">Active</span>"), "{active}");
    assert!(active.contains("10% off"), "{active}");
    assert!(active.contains("31 Dec 2099"), "{active}");
    assert!(
        active.contains("<td class=\"num\">2</td><td class=\"num\">0</td>"),
        "issued and redeemed: {active}"
    );
    assert!(
        active.contains(&format!(
            "href=\"/offers/{welcome}/coupons?as={club}\" class=\"issue-as\""
        )),
        "{active}"
    );
    let expired = row_with(&body, &format!("<a href=\"/offers/{summer}\">Summer</a>"));
    assert!(expired.contains(">Expired</span>"), "{expired}");
    assert!(expired.contains("30 Jun 2020"), "{expired}");
    assert!(
        body.contains("1 active, 1 expired · 2 coupons issued · 0 redeemed"),
        "{body}"
    );
    assert!(body.contains("Create offer for Club"));
}
