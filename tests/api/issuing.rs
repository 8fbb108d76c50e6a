//! The Coupons tab and what makes coupons, over HTTP on both databases: generation jobs with
//! the code-space refusal, code uploads (every bad line reported, nothing applied), issuing to
//! one customer with each ISS-2 rule's refusal, bulk issue with its result file, randomized and
//! common codes, search, pages, export, and a job interrupted mid-way.

use crate::helpers::{Browser, TestApp, spawn_app, spawn_app_without_worker};
use crate::offers::FAR;
use chrono::NaiveDate;
use offerdesk::app::jobs::Jobs;
use offerdesk::domain::ids::OfferId;
use offerdesk::domain::issue::CustomerRef;
use offerdesk::domain::masters::IdentifierType;
use offerdesk::domain::offer::form::{OfferContext, OfferForm, parse};
use offerdesk::domain::user::{Actor, Role};
use offerdesk::store::jobs::JobKind;
use reqwest::StatusCode;
use std::collections::HashSet;

/// Creates an offer of org "Acme" from the default form changed by `edit`.
pub async fn offer_with(app: &TestApp, name: &str, edit: impl FnOnce(&mut OfferForm)) -> OfferId {
    let org = app.org_id("Acme").await;
    let mut form = OfferForm {
        name: name.into(),
        expires_on: FAR.into(),
        discount_value: "10".into(),
        ..OfferForm::defaults()
    };
    edit(&mut form);
    let ctx = OfferContext {
        digits: 2,
        today: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        offers: app
            .store
            .offer_names(org)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
        audience_size: 1,
        ..Default::default()
    };
    let rules = parse(&form, &ctx).unwrap();
    app.store
        .create_offer(org, &rules, None, None, &Actor::system("test"))
        .await
        .unwrap()
}

async fn acme(app: &TestApp) -> Browser {
    let email = app.create_org_admin("Acme").await;
    app.signed_in(&email).await
}

/// Runs the queued jobs (the app has no worker); the offer's newest job's panel HTML, which
/// shows it finished.
async fn finished_job(app: &TestApp, b: &Browser, offer: OfferId) -> String {
    app.run_queued_jobs().await;
    let page = b.get(&format!("/offers/{offer}/coupons")).await;
    let start = page.body.find("class=\"job job-").expect("a job panel");
    let panel = &page.body[start..];
    let panel = &panel[..panel.find("job-actions").unwrap_or(panel.len())];
    assert!(
        panel.contains("job-done") || panel.contains("job-failed"),
        "the job did not finish: {panel}"
    );
    page.body[start..].to_string()
}

/// Asks for `count` generated codes on the Coupons tab and runs the job; the job's panel.
async fn generate(app: &TestApp, b: &Browser, offer: OfferId, count: &str) -> String {
    let page = b
        .post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", count)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    finished_job(app, b, offer).await
}

/// Uploads an audience (`type,value` lines) for a bulk issue and runs it; the job's summary.
async fn bulk_issue(
    app: &TestApp,
    b: &Browser,
    offer: OfferId,
    lines: impl Iterator<Item = String>,
) -> String {
    let mut csv = String::from("type,value\n");
    for line in lines {
        csv.push_str(&line);
        csv.push('\n');
    }
    b.upload(
        &format!("/offers/{offer}/coupons/bulk-issue"),
        &[],
        "a.csv",
        &csv,
    )
    .await;
    finished_job(app, b, offer).await
}

async fn count(app: &TestApp, offer: OfferId) -> i64 {
    let org = app.org_id("Acme").await;
    app.store.count_coupons(org, offer).await.unwrap()
}

#[tokio::test]
async fn generating_codes_runs_as_a_job_and_the_tab_lists_searches_and_exports_them() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Gen", |f| {
        f.code_length = "8".into();
        f.code_prefix = "GX".into();
        f.code_charset = "alphanumeric".into();
    })
    .await;
    let panel = generate(&app, &b, offer, "1,200").await;
    assert!(panel.contains("Generated 1,200 codes"), "{panel}");
    assert_eq!(count(&app, offer).await, 1200);

    let tab = b.get(&format!("/offers/{offer}/coupons")).await;
    assert!(tab.body.contains("1,200"), "the counter shows the codes");
    assert_eq!(tab.body.matches("status-unissued").count(), 50, "one page");
    let next = tab.body.split("id=\"next-page\"").next().unwrap();
    let href = &next[next.rfind("href=\"").unwrap() + 6..];
    let href = href[..href.find('"').unwrap()]
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let second = b.get(&href).await;
    assert_eq!(second.body.matches("status-unissued").count(), 50);
    assert!(second.body.contains("First page"));

    let export = b.get(&format!("/offers/{offer}/coupons.csv")).await;
    assert_eq!(export.status, StatusCode::OK);
    let lines: Vec<&str> = export.body.lines().collect();
    assert_eq!(
        lines[0],
        "code,status,customer_type,customer,issued_at,valid_till,redeemed_at"
    );
    assert_eq!(lines.len(), 1201);
    let codes: HashSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(codes.len(), 1200);
    assert!(codes.iter().all(|c| c.len() == 10 && c.starts_with("GX")));

    // Search by a code prefix finds that code.
    let one = lines[7].split(',').next().unwrap();
    let found = b
        .get(&format!("/offers/{offer}/coupons?q={}", &one[..9]))
        .await;
    assert!(found.body.contains(one));
    assert!(found.body.matches("status-unissued").count() < 50);
}

#[tokio::test]
async fn a_request_the_code_space_cannot_hold_is_refused_before_it_starts() {
    let app = spawn_app().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Tiny", |f| {
        f.code_length = "4".into();
        f.code_charset = "numeric".into();
    })
    .await;
    let page = b
        .post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", "10000000")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("10000000 codes cannot be made"),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"10000000\""), "keeps the input");
    assert!(!page.body.contains("class=\"job "), "no job was started");
    let page = b
        .post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", "ten")],
        )
        .await;
    assert!(page.body.contains("must be a whole number"));
    assert_eq!(count(&app, offer).await, 0);
}

#[tokio::test]
async fn a_code_upload_reports_every_bad_line_and_applies_nothing() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    let taken = {
        let o = offer_with(&app, "Holder", |f| {
            f.generation = "common".into();
            f.common_code = "TAKEN1".into();
        })
        .await;
        assert!(o.get() > 0);
        "TAKEN1"
    };
    let offer = offer_with(&app, "Vendor", |f| f.generation = "upload".into()).await;
    let csv = format!(
        "code\nGOOD-1\n\n{}\nbad code\ngood-1\n{taken}\nGOOD-2\n",
        "X".repeat(41)
    );
    let page = b
        .upload(
            &format!("/offers/{offer}/coupons/upload"),
            &[],
            "codes.csv",
            &csv,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let panel = finished_job(&app, &b, offer).await;
    for expected in [
        "5 lines of the file have problems; nothing was applied.",
        "Line 3: blank line",
        "Line 4: the code is longer than 40 characters",
        "Line 5: the code `BAD CODE` contains ` `",
        "Line 6: the code GOOD-1 is repeated (first on line 2)",
        "Line 7: the code TAKEN1 already exists in this organisation",
        "Download report",
    ] {
        assert!(panel.contains(expected), "missing {expected}: {panel}");
    }
    assert_eq!(count(&app, offer).await, 0, "nothing applied");
    let job = panel.split("/jobs/").nth(1).unwrap();
    let job: i64 = job[..job.find('/').unwrap()].parse().unwrap();
    let report = b.get(&format!("/offers/{offer}/jobs/{job}/result")).await;
    assert!(
        report.body.starts_with("line,error\n3,blank line\n"),
        "{}",
        report.body
    );

    // The fixed file goes in whole; issuing hands the codes out in upload order.
    let page = b
        .upload(
            &format!("/offers/{offer}/coupons/upload"),
            &[],
            "codes.csv",
            "code\r\nGOOD-1\r\ngood-2\r\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        finished_job(&app, &b, offer)
            .await
            .contains("Uploaded 2 codes")
    );
    let page = b
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[("kind", "MOBILE"), ("value", "+91 98765 43210")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let tab = b.get(page.location.as_deref().unwrap()).await;
    assert!(
        tab.body.contains("Issued GOOD-1 to +919876543210"),
        "{}",
        tab.body
    );
    b.post(
        &format!("/offers/{offer}/coupons/issue"),
        &[("kind", "EMAIL"), ("value", "a@example.com")],
    )
    .await;
    let page = b
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[("kind", "EMAIL"), ("value", "b@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("no unissued codes are left"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn codes_uploaded_with_customers_are_issued_to_them() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Partner", |f| {
        f.generation = "upload".into();
        f.upload_with_customers = "on".into();
    })
    .await;
    let bad = "code,type,value\nP-1,MOBILE,9876543210\nP-2,PHONE,123\nP-3,EMAIL,not-an-email\n";
    b.upload(
        &format!("/offers/{offer}/coupons/upload"),
        &[],
        "c.csv",
        bad,
    )
    .await;
    let panel = finished_job(&app, &b, offer).await;
    assert!(
        panel.contains("Line 3: type must be MOBILE, EMAIL or EXTERNAL_ID"),
        "{panel}"
    );
    assert!(panel.contains("Line 4: `not-an-email` is not an email address"));
    assert_eq!(count(&app, offer).await, 0);
    let good = "code,type,value\nP-1,MOBILE,9876543210\nP-2,EXTERNAL_ID,cust-42\n";
    b.upload(
        &format!("/offers/{offer}/coupons/upload"),
        &[],
        "c.csv",
        good,
    )
    .await;
    assert!(
        finished_job(&app, &b, offer)
            .await
            .contains("issued them to their customers")
    );
    let found = b.get(&format!("/offers/{offer}/coupons?q=cust-42")).await;
    assert!(found.body.contains("P-2") && !found.body.contains("P-1"));
    assert!(found.body.contains("status-issued"));
    let info = b.get(&format!("/offers/{offer}?tab=information")).await;
    assert!(
        info.body.contains("<dt>Coupons issued</dt><dd>2</dd>"),
        "{}",
        info.body
    );
}

async fn issue(b: &Browser, offer: OfferId, kind: &str, value: &str) -> (StatusCode, String) {
    let page = b
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[("kind", kind), ("value", value)],
        )
        .await;
    (page.status, page.body)
}

#[tokio::test]
async fn each_issue_rule_refuses_by_name() {
    let app = spawn_app().await;
    let b = acme(&app).await;
    let org = app.org_id("Acme").await;
    // Max 1 per customer, a cap of 2 in all.
    let capped = offer_with(&app, "Capped", |f| {
        f.max_per_customer = "1".into();
        f.total_issual_cap = "2".into();
    })
    .await;
    assert_eq!(
        issue(&b, capped, "MOBILE", "9000000001").await.0,
        StatusCode::SEE_OTHER
    );
    let (status, body) = issue(&b, capped, "MOBILE", "9000000001").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("already has 1 coupon(s) of this offer"),
        "{body}"
    );
    assert!(body.contains("value=\"9000000001\""), "keeps the input");
    assert_eq!(
        issue(&b, capped, "MOBILE", "9000000002").await.0,
        StatusCode::SEE_OTHER
    );
    let (_, body) = issue(&b, capped, "MOBILE", "9000000003").await;
    assert!(
        body.contains("issual cap of 2 coupons is reached"),
        "{body}"
    );

    // A gap of 30 days between issues.
    let gap = offer_with(&app, "Gap", |f| {
        f.max_per_customer = "3".into();
        f.min_issual_gap_days = "30".into();
    })
    .await;
    issue(&b, gap, "EMAIL", "g@example.com").await;
    let (_, body) = issue(&b, gap, "EMAIL", "G@Example.com").await;
    assert!(
        body.contains("must be 30 days apart; next possible on"),
        "{body}"
    );

    // Past issual of "Capped" within 6 months excludes.
    let past = offer_with(&app, "Past", |f| {
        f.past_issual_offers = vec![capped.to_string()];
    })
    .await;
    let (_, body) = issue(&b, past, "MOBILE", "9000000001").await;
    assert!(
        body.contains("excluded offers in the last 6 months"),
        "{body}"
    );
    assert_eq!(
        issue(&b, past, "MOBILE", "9000000009").await.0,
        StatusCode::SEE_OTHER
    );

    // Specific customers only.
    let listed = offer_with(&app, "Listed", |f| f.specific_customers_only = "on".into()).await;
    app.store
        .replace_offer_audience(
            org,
            listed,
            &[(IdentifierType::Email, "vip@example.com".into())],
            &Actor::system("test"),
        )
        .await
        .unwrap();
    let (_, body) = issue(&b, listed, "EMAIL", "other@example.com").await;
    assert!(body.contains("specific customers only"), "{body}");
    assert_eq!(
        issue(&b, listed, "EMAIL", "VIP@example.com").await.0,
        StatusCode::SEE_OTHER
    );

    // An ended offer.
    let ended = offer_with(&app, "Ended", |f| f.expires_on = "2001-01-31".into()).await;
    let (_, body) = issue(&b, ended, "MOBILE", "9000000001").await;
    assert!(body.contains("the offer ended on 2001-01-31"), "{body}");

    // A bad identifier changes nothing.
    let (status, body) = issue(&b, gap, "MOBILE", "12").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("not a mobile number"));
    let info = app.store.get_offer(org, capped).await.unwrap();
    assert_eq!(
        (info.issued_count, info.coupon_count),
        (2, 2),
        "codes made on demand"
    );
    assert!(info.last_issued_at.is_some());
}

#[tokio::test]
async fn coupon_expiry_follows_the_offer_and_never_outlives_it() {
    let app = spawn_app().await;
    let b = acme(&app).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Kolkata)
        .date_naive();
    let end = today + chrono::Duration::days(3);
    let offer = offer_with(&app, "Short", |f| {
        f.expires_on = end.to_string();
        f.coupon_expiry = "days".into();
        f.coupon_expiry_n = "30".into();
    })
    .await;
    issue(&b, offer, "MOBILE", "9000000001").await;
    let tab = b.get(&format!("/offers/{offer}/coupons")).await;
    assert!(
        tab.body
            .contains(&format!("valid till {}", end.format("%-d %b %Y"))),
        "capped at the offer's end: {}",
        tab.body
    );
}

#[tokio::test]
async fn bulk_issue_gives_every_customer_a_code_or_a_named_refusal_in_a_result_file() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Bulk", |f| f.max_per_customer = "1".into()).await;
    // Bad lines refuse the whole file first.
    let page = b
        .upload(
            &format!("/offers/{offer}/coupons/bulk-issue"),
            &[],
            "audience.csv",
            "type,value\nMOBILE,12\nFAX,1\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let panel = finished_job(&app, &b, offer).await;
    assert!(
        panel.contains("Line 2: `12` is not a mobile number"),
        "{panel}"
    );
    assert!(panel.contains("Line 3: type must be"));
    let org = app.org_id("Acme").await;
    assert_eq!(
        app.store.get_offer(org, offer).await.unwrap().issued_count,
        0
    );

    let mut csv = String::from("type,value\n");
    for i in 0..1_000 {
        csv.push_str(&format!("MOBILE,90000{i:05}\n"));
    }
    csv.push_str("MOBILE,9000000007\nEMAIL,z@example.com\n");
    b.upload(
        &format!("/offers/{offer}/coupons/bulk-issue"),
        &[],
        "a.csv",
        &csv,
    )
    .await;
    let panel = finished_job(&app, &b, offer).await;
    assert!(
        panel.contains("Issued 1,001 coupons; 1 customer refused"),
        "{panel}"
    );
    let job = panel.split("/jobs/").nth(1).unwrap();
    let job: i64 = job[..job.find('/').unwrap()].parse().unwrap();
    let result = b.get(&format!("/offers/{offer}/jobs/{job}/result")).await;
    let lines: Vec<&str> = result.body.lines().collect();
    assert_eq!(lines[0], "line,type,value,result,code,valid_till,reason");
    assert_eq!(lines.len(), 1003);
    assert!(
        lines[1].starts_with("2,MOBILE,+9000000000,issued,")
            || lines[1].starts_with("2,MOBILE,9000000000,issued,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1001].contains("refused") && lines[1001].contains("max_per_customer"),
        "{}",
        lines[1001]
    );
    let codes: HashSet<&str> = lines[1..]
        .iter()
        .filter(|l| l.contains(",issued,"))
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    assert_eq!(codes.len(), 1001, "distinct codes");
    let o = app.store.get_offer(org, offer).await.unwrap();
    assert_eq!(o.issued_count, 1001);
}

#[tokio::test]
async fn randomized_codes_are_unique_at_volume_and_keep_the_samples_shape() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    // ORG-1/COD-4: the fixed half is the org's code prefix (3 letters) and one character that
    // tells the org's randomized offers of that length apart.
    let org = app.org_id("Acme").await;
    let prefix = app.store.get_org(org).await.unwrap().code_prefix;
    assert_eq!(prefix.len(), 3);
    let settings = b.get("/admin/org").await;
    assert!(
        settings.body.contains(&format!(
            "codes like <code>{prefix}0</code> followed by 5 random characters"
        )),
        "{}",
        settings.body
    );
    let first = offer_with(&app, "Personal", |f| {
        f.generation = "randomized".into();
        f.sample_code = "test12345".into();
    })
    .await;
    let second = offer_with(&app, "Personal 2", |f| {
        f.generation = "randomized".into();
        f.sample_code = "TEST99999".into();
    })
    .await;
    let tab = b.get(&format!("/offers/{first}/coupons")).await;
    assert!(tab.body.contains(&format!("fixed part {prefix}0 followed by 5 random alphanumeric characters — 60,466,176 possible codes")), "{}", tab.body);
    let tab = b.get(&format!("/offers/{second}/coupons")).await;
    assert!(
        tab.body
            .contains(&format!("fixed part {prefix}1 followed by 5")),
        "the fixed part is unique in the org: {}",
        tab.body
    );

    let summary = bulk_issue(
        &app,
        &b,
        first,
        (0..3_000).map(|i| format!("EXTERNAL_ID,c{i}")),
    )
    .await;
    assert!(summary.contains("Issued 3,000 coupons; 0 customers refused"));
    let export = b.get(&format!("/offers/{first}/coupons.csv")).await;
    let codes: HashSet<String> = export
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 3_000);
    let fixed = format!("{prefix}0");
    assert!(codes.iter().all(|c| c.len() == 9 && c.starts_with(&fixed)));
    assert!(
        codes
            .iter()
            .all(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric()))
    );
}

/// Single issues start at a random unissued coupon, and a later bulk issue still hands out
/// every generated coupon exactly once before making a new code: the offer's issue cursor
/// never passes an unissued coupon (it catches up past issued ones; `bench soak` found single
/// issues slowing down as they accumulated when it did not move at all).
#[tokio::test]
async fn single_issues_at_random_places_leave_no_generated_coupon_behind() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Scattered", |f| {
        f.code_length = "8".into();
    })
    .await;
    let panel = generate(&app, &b, offer, "100").await;
    assert!(panel.contains("Generated 100 codes"), "{panel}");
    for i in 0..60 {
        let (status, body) = issue(&b, offer, "MOBILE", &format!("97000000{i:02}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let summary = bulk_issue(
        &app,
        &b,
        offer,
        (0..40).map(|i| format!("MOBILE,96000000{i:02}")),
    )
    .await;
    assert!(
        summary.contains("Issued 40 coupons; 0 customers refused"),
        "{summary}"
    );
    let org = app.org_id("Acme").await;
    let o = app.store.get_offer(org, offer).await.unwrap();
    assert_eq!(
        (o.issued_count, o.coupon_count),
        (100, 100),
        "no code made yet"
    );
    // The 101st customer gets a code made on demand.
    let (status, body) = issue(&b, offer, "MOBILE", "9500000000").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let o = app.store.get_offer(org, offer).await.unwrap();
    assert_eq!((o.issued_count, o.coupon_count), (101, 101));
}

/// Issue 15.3: randomized codes use the whole space of their random part (seed 001: a
/// 10-character alphanumeric sample holds "max 60 million unique coupons", 36^5), each code
/// made once, without draw-and-retry. A 5-digit sample has 3 random digits: 1,000 codes.
#[tokio::test]
async fn randomized_codes_use_their_whole_random_space_once_each() {
    let app = spawn_app_without_worker().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Tiny", |f| {
        f.generation = "randomized".into();
        f.sample_code = "98765".into();
    })
    .await;
    let tab = b.get(&format!("/offers/{offer}/coupons")).await;
    assert!(
        tab.body
            .contains("3 random numeric characters — 1,000 possible codes"),
        "{}",
        tab.body
    );
    let summary = bulk_issue(
        &app,
        &b,
        offer,
        (0..1_000).map(|i| format!("EXTERNAL_ID,c{i}")),
    )
    .await;
    assert!(summary.contains("Issued 1,000 coupons"), "{summary}");
    let export = b.get(&format!("/offers/{offer}/coupons.csv")).await;
    let codes: HashSet<String> = export
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 1_000, "every code once");
    let fixed: HashSet<&str> = codes.iter().map(|c| &c[..2]).collect();
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    let random: HashSet<u32> = codes.iter().map(|c| c[2..].parse().unwrap()).collect();
    assert_eq!(random, (0..1_000).collect::<HashSet<u32>>(), "all 000–999");
    // Made in an order that does not count up (the export lists codes as they were made).
    let made: Vec<u32> = export
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap()[2..].parse().unwrap())
        .collect();
    let counting = made.windows(2).filter(|w| w[1] == w[0] + 1).count();
    assert!(counting < 50, "{counting} codes follow the one before");
    // The 1,001st customer is told why.
    let (_, page) = issue(&b, offer, "EXTERNAL_ID", "one-more").await;
    assert!(
        page.contains("every one of the 1,000 codes of this sample"),
        "{page}"
    );
}

#[tokio::test]
async fn a_common_code_is_shared_and_its_limits_hold() {
    let app = spawn_app().await;
    let b = acme(&app).await;
    let offer = offer_with(&app, "Sale", |f| {
        f.generation = "common".into();
        f.common_code = "sale20".into();
        f.max_per_customer = "1".into();
    })
    .await;
    let (status, _) = issue(&b, offer, "MOBILE", "9000000001").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = b.get(&format!("/offers/{offer}/coupons")).await;
    assert!(
        page.body.contains("Issued SALE20 to +9000000001")
            || page.body.contains("Issued SALE20 to 9000000001"),
        "{}",
        page.body
    );
    assert_eq!(
        issue(&b, offer, "MOBILE", "9000000002").await.0,
        StatusCode::SEE_OTHER
    );
    let (_, body) = issue(&b, offer, "MOBILE", "9000000001").await;
    assert!(body.contains("already has 1 coupon(s)"));
    let org = app.org_id("Acme").await;
    let o = app.store.get_offer(org, offer).await.unwrap();
    assert_eq!((o.issued_count, o.coupon_count), (2, 1));
}

#[tokio::test]
async fn an_interrupted_job_applies_nothing_and_runs_whole_when_taken_up_again() {
    let app = spawn_app_without_worker().await;
    app.create_org_admin("Acme").await;
    let org = app.org_id("Acme").await;
    let offer = offer_with(&app, "Big", |f| f.code_length = "12".into()).await;
    // A worker of its own, standing in for a process that dies mid-job (the app runs no
    // worker, so nothing else claims the job). The dying process has its own connections,
    // closed when it "dies".
    let doomed = offerdesk::store::Store::open(app.db.url()).await.unwrap();
    let worker = Jobs::new(doomed.clone());
    let job = app
        .store
        .create_job(
            org,
            offer,
            JobKind::Generate,
            serde_json::json!({"count": 400_000, "actor": "test"}),
            None,
            true,
            None,
        )
        .await
        .unwrap();
    app.store.queue_job(job, 0).await.unwrap();
    let claimed = app
        .store
        .claim_job(chrono::Utc::now(), "test")
        .await
        .unwrap();
    assert_eq!(
        claimed.map(|j| j.id),
        Some(job),
        "the test's claim takes the job"
    );
    // The claim's process "dies": the job stays running with nothing applied.
    assert_eq!(app.store.count_coupons(org, offer).await.unwrap(), 0);
    // Mid-run interruption: run it on our worker and abort the task part-way.
    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let w = worker.clone();
    let task = tokio::spawn(async move { w.run_once(later).await });
    for _ in 0..400 {
        if worker.progress(job).is_some_and(|(done, _)| done > 0) {
            break;
        }
        // Not a wait for the job's end: the job must be caught mid-run, on another task.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    task.abort();
    let _ = task.await;
    doomed.close().await;
    assert_eq!(
        app.store.count_coupons(org, offer).await.unwrap(),
        0,
        "an interrupted job leaves nothing behind"
    );
    let row = app.store.get_job(org, job).await.unwrap();
    assert_eq!(row.status.as_str(), "running");
    // When the lease runs out, the job is taken up again and applied whole.
    let much_later = chrono::Utc::now() + chrono::Duration::minutes(10);
    let restarted = Jobs::new(app.store.clone());
    assert_eq!(restarted.run_once(much_later).await.unwrap(), Some(job));
    let row = app.store.get_job(org, job).await.unwrap();
    assert_eq!(row.status.as_str(), "done", "{:?}", row.error);
    assert_eq!(app.store.count_coupons(org, offer).await.unwrap(), 400_000);
    assert_eq!(
        app.store.get_offer(org, offer).await.unwrap().coupon_count,
        400_000
    );
}

#[tokio::test]
async fn coupon_pages_and_actions_follow_roles_and_orgs() {
    let app = spawn_app().await;
    app.create_org_admin("Acme").await;
    let offer = offer_with(&app, "Roles", |_| {}).await;
    let viewer = app.create_user("Acme", Role::Viewer).await;
    let v = app.signed_in(&viewer).await;
    let tab = v.get(&format!("/offers/{offer}/coupons")).await;
    assert_eq!(tab.status, StatusCode::OK);
    assert!(!tab.body.contains("generate-form") && !tab.body.contains("issue-form"));
    let csm = app.create_user("Acme", Role::Csm).await;
    let c = app.signed_in(&csm).await;
    let tab = c.get(&format!("/offers/{offer}/coupons")).await;
    assert!(tab.body.contains("issue-form") && !tab.body.contains("generate-form"));
    assert_eq!(
        c.post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", "5")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Another org sees nothing of it.
    let other = app.create_org_admin("Globex").await;
    let g = app.signed_in(&other).await;
    assert_eq!(
        g.get(&format!("/offers/{offer}/coupons")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        g.get(&format!("/offers/{offer}/coupons.csv")).await.status,
        StatusCode::NOT_FOUND
    );
    let page = g
        .post(
            &format!("/offers/{offer}/coupons/issue"),
            &[("kind", "MOBILE"), ("value", "9000000001")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let _ = CustomerRef::parse(IdentifierType::Mobile, "9000000001").unwrap();
}
