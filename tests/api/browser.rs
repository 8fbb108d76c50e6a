//! Browser tests in real headless Chromium (chromium + chromium-driver). Skipped with a
//! message when the browser is missing, unless `CI=true`, where that is a failure.

use crate::helpers::{PASSWORD, spawn_app};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use thirtyfour::prelude::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, killed on drop.
pub struct Driver {
    child: Child,
    pub url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver, or `None` (test skipped) when the browser is not installed here.
pub fn chromedriver() -> Option<Driver> {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "CI=true but {CHROMIUM} / {CHROMEDRIVER} are missing: install chromium and chromium-driver"
            );
        }
        eprintln!("SKIPPED browser test: install chromium and chromium-driver to run it");
        return None;
    }
    // Let the OS pick a free port, then hand it to chromedriver.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    // chromedriver announces readiness on stdout.
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("started successfully") => break,
            Some(Ok(_)) => continue,
            _ => panic!("chromedriver exited before it was ready"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().unwrap(),
    })
}

pub async fn browser(driver: &Driver) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!(
        "--user-data-dir={}",
        driver._profile.path().display()
    ))
    .unwrap();
    WebDriver::new(&driver.url, caps)
        .await
        .expect("start chromium")
}

/// Where screenshots go (for people to look at; not asserted).
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.png"))
}

/// Waits (polling the DOM, never sleeping blindly) until the page shows `text`.
pub async fn wait_for_text(web: &WebDriver, text: &str) {
    let found = web
        .query(By::XPath(format!(
            "//*[contains(normalize-space(.), \"{text}\")]"
        )))
        .wait(Duration::from_secs(10), Duration::from_millis(50))
        .first()
        .await;
    if found.is_err() {
        let source = web.source().await.unwrap_or_default();
        panic!("page never showed {text:?}; page was:\n{source}");
    }
}

/// Replaces the text of the input matched by `css`.
pub async fn type_css(web: &WebDriver, css: &str, value: &str) {
    let input = web.find(By::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

pub async fn fill(web: &WebDriver, form: &str, name: &str, value: &str) {
    type_css(web, &format!("#{form} [name=\"{name}\"]"), value).await;
}

pub async fn submit(web: &WebDriver, form: &str) {
    web.find(By::Css(format!("#{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

pub async fn sign_in(web: &WebDriver, base: &str, email: &str) {
    web.goto(format!("{base}/login")).await.unwrap();
    web.find(By::Name("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    web.find(By::Name("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    web.find(By::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(web, "active user").await;
}

#[tokio::test]
async fn an_admin_signs_in_adds_a_store_and_a_poc_and_sees_them_listed() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let web = browser(&driver).await;
    let base = app.address.clone();

    sign_in(&web, &base, &email).await;
    web.screenshot(&screenshot_path("01-overview"))
        .await
        .unwrap();

    web.goto(format!("{base}/admin/structure")).await.unwrap();
    fill(&web, "add-zone", "code", "NORTH").await;
    fill(&web, "add-zone", "name", "North").await;
    submit(&web, "add-zone").await;
    wait_for_text(&web, "Added zone NORTH.").await;

    fill(&web, "add-store", "code", "S1").await;
    fill(&web, "add-store", "name", "Mall Road").await;
    submit(&web, "add-store").await;
    wait_for_text(&web, "Added store S1.").await;
    let table = web
        .find(By::Css("table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains("Mall Road") && table.contains("North (NORTH)"),
        "{table}"
    );
    web.screenshot(&screenshot_path("02-structure"))
        .await
        .unwrap();

    web.goto(format!("{base}/admin/pocs")).await.unwrap();
    fill(&web, "add-poc", "name", "Asha Rao").await;
    fill(&web, "add-poc", "email", "asha@acme.example.com").await;
    submit(&web, "add-poc").await;
    wait_for_text(&web, "Added POC asha@acme.example.com.").await;
    let list = web
        .find(By::Css("table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Asha Rao") && list.contains("asha@acme.example.com"),
        "{list}"
    );
    web.screenshot(&screenshot_path("03-pocs")).await.unwrap();

    // The audit log filters in place through htmx (scripts load under the CSP, the CSRF header
    // is sent) and the URL follows, so reload keeps the view.
    web.goto(format!("{base}/admin/audit")).await.unwrap();
    wait_for_text(&web, "Added store S1").await;
    let select = web.find(By::Name("entity")).await.unwrap();
    thirtyfour::components::SelectElement::new(&select)
        .await
        .unwrap()
        .select_by_value("poc")
        .await
        .unwrap();
    web.query(By::XPath(
        "//div[@id='audit-table'][not(contains(., 'Added store S1'))]",
    ))
    .wait(Duration::from_secs(10), Duration::from_millis(50))
    .first()
    .await
    .expect("the table was filtered in place");
    wait_for_text(&web, "Added POC Asha Rao").await;
    let url = web.current_url().await.unwrap();
    assert!(url.as_str().ends_with("/admin/audit?entity=poc"), "{url}");
    web.screenshot(&screenshot_path("04-audit")).await.unwrap();
    web.quit().await.unwrap();
}

async fn set_value(web: &WebDriver, selector: &str, value: &str) {
    // Date inputs take keyboard input in the browser's locale; set the ISO value directly.
    web.execute(
        &format!("document.querySelector('{selector}').value = '{value}';"),
        vec![],
    )
    .await
    .unwrap();
}

async fn click(web: &WebDriver, css: &str) {
    web.find(By::Css(css)).await.unwrap().click().await.unwrap();
}

async fn type_into(web: &WebDriver, name: &str, value: &str) {
    type_css(web, &format!("[name=\"{name}\"]"), value).await;
}

#[tokio::test]
async fn a_marketer_runs_the_wizard_finds_the_offer_reads_its_tabs_and_edits_it() {
    use offerdesk::store::masters::CodedKind;
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    app.add_coded("Acme", CodedKind::Brand, "NIKE", "Nike")
        .await;
    let zone = app.add_coded("Acme", CodedKind::Zone, "N", "North").await;
    for code in ["S1", "S2", "S3"] {
        app.add_store("Acme", code, zone).await;
    }
    crate::offers::offer_in(&app, "Acme", "Other offer", crate::offers::FAR).await;
    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, &email).await;

    web.goto(format!("{base}/offers")).await.unwrap();
    click(&web, "#create-offer").await;
    wait_for_text(&web, "Offer name & expiry").await;
    type_into(&web, "name", "Glow15").await;
    set_value(&web, "[name=expires_on]", "2099-12-31").await;
    type_into(&web, "pos_code", "GLOW").await;
    click(&web, "button[name=next]").await;

    wait_for_text(&web, "Discount for each coupon").await;
    type_into(&web, "discount_value", "15").await;
    type_into(&web, "discount_cap", "500").await;
    click(&web, "input[name=applies_to][value=selected]").await;
    click(&web, "input[name=brands][data-label='Nike']").await;
    click(&web, "input[name=include_sale]").await;
    click(&web, "button[name=next]").await;

    wait_for_text(&web, "How are codes made?").await;
    click(&web, "input[name=generation][value=common]").await;
    type_into(&web, "common_code", "glow15").await;
    click(&web, "button[name=next]").await;

    wait_for_text(&web, "Advanced settings are optional").await;
    // Each group of advanced settings opens from its summary; pickers are checkboxes.
    for section in ["when", "cap", "where"] {
        click(&web, &format!("#adv-{section} > summary")).await;
    }
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        click(&web, &format!("input[name=weekdays][value={day}]")).await;
    }
    type_into(&web, "time_slots", "16:00-18:00").await;
    type_into(&web, "total_redemption_cap", "1000").await;
    for s in ["Store S1", "Store S2", "Store S3"] {
        click(&web, &format!("input[name=stores][data-label='{s}']")).await;
    }
    web.screenshot(&screenshot_path("05-wizard-advanced"))
        .await
        .unwrap();
    click(&web, "button[name=next]").await;

    let headline = "15% off, at most ₹500, on Nike products including sale items, Mon–Fri 16:00–18:00 at stores Store S1, Store S2 and Store S3, once per customer, first 1,000 redemptions";
    wait_for_text(&web, headline).await;
    web.screenshot(&screenshot_path("06-preview"))
        .await
        .unwrap();
    click(&web, "form[action='/offers/new'] button[type=submit]").await;
    wait_for_text(&web, "Created offer Glow15.").await;

    // Find it on the dashboard by search; the table updates in place and the URL follows.
    web.goto(format!("{base}/offers")).await.unwrap();
    wait_for_text(&web, "Other offer").await;
    type_into(&web, "q", "glow").await;
    web.query(By::XPath(
        "//div[@id='offer-table'][not(contains(., 'Other offer'))]",
    ))
    .wait(Duration::from_secs(10), Duration::from_millis(50))
    .first()
    .await
    .expect("the dashboard filtered in place");
    assert!(web.current_url().await.unwrap().as_str().contains("q=glow"));
    web.screenshot(&screenshot_path("07-dashboard"))
        .await
        .unwrap();
    web.find(By::LinkText("Glow15"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "One common code for everyone: GLOW15").await;
    web.screenshot(&screenshot_path("08-configuration"))
        .await
        .unwrap();
    web.find(By::LinkText("Information"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Redemption rate").await;
    wait_for_text(&web, "Not claimed").await;
    web.screenshot(&screenshot_path("09-information"))
        .await
        .unwrap();

    web.find(By::LinkText("Edit offer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&web, "Offer (series) code").await;
    type_into(&web, "name", "Glow16").await;
    // Edit → Preview changes → Update offer (seed 001).
    click(&web, "#edit-offer button.primary").await;
    wait_for_text(&web, "Nothing is saved yet.").await;
    click(&web, "#update-offer").await;
    wait_for_text(&web, "Saved offer Glow16.").await;
    web.goto(format!("{base}/admin/audit?entity=offer"))
        .await
        .unwrap();
    wait_for_text(&web, "Edited offer Glow16").await;
    let details = web
        .find(By::Css("#audit-table table.audit-changes"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        details.contains("Offer name") && details.contains("Glow15") && details.contains("Glow16"),
        "{details}"
    );
    web.screenshot(&screenshot_path("10-audit-edit"))
        .await
        .unwrap();
    web.quit().await.unwrap();
}

/// Waits up to `secs` for an element matching `css`.
async fn wait_for_css(web: &WebDriver, css: &str, secs: u64) -> bool {
    web.query(By::Css(css))
        .wait(Duration::from_secs(secs), Duration::from_millis(50))
        .first()
        .await
        .is_ok()
}

#[tokio::test]
async fn a_marketer_generates_codes_watches_the_progress_bar_and_exports_them() {
    let Some(driver) = chromedriver() else { return };
    let app = spawn_app().await;
    let email = app.create_org_admin("Acme").await;
    let offer = crate::issuing::offer_with(&app, "Mega", |f| {
        f.code_length = "12".into();
        f.code_charset = "alphanumeric".into();
    })
    .await;
    let web = browser(&driver).await;
    let base = app.address.clone();
    sign_in(&web, &base, &email).await;
    web.goto(format!("{base}/offers/{offer}/coupons"))
        .await
        .unwrap();
    wait_for_text(&web, "No coupons yet").await;

    // A request the format cannot hold is refused in the form, keeping the number typed.
    fill(&web, "generate-form", "count", "99999999999").await;
    submit(&web, "generate-form").await;
    wait_for_text(&web, "must be a whole number from 1 to 50,000,000").await;

    fill(&web, "generate-form", "count", "250000").await;
    submit(&web, "generate-form").await;
    wait_for_text(&web, "Generating 250,000 codes").await;
    assert!(
        wait_for_css(&web, "#jobs progress", 10).await,
        "the progress bar shows while the job runs"
    );
    web.screenshot(&screenshot_path("11-generating"))
        .await
        .unwrap();
    // A reload shows the same job still going (or already done).
    web.refresh().await.unwrap();
    assert!(wait_for_css(&web, "#jobs .job", 5).await);
    // htmx polls the bar; when the job ends the page reloads with the counts and the codes.
    let done = web
        .query(By::XPath(
            "//*[contains(normalize-space(.), \"Generated 250,000 codes\")]".to_string(),
        ))
        .wait(Duration::from_secs(120), Duration::from_millis(200))
        .first()
        .await;
    assert!(done.is_ok(), "the job finished and the page showed it");
    wait_for_text(&web, "250,000").await;
    assert!(wait_for_css(&web, "#coupon-table", 10).await);
    web.screenshot(&screenshot_path("12-coupons"))
        .await
        .unwrap();

    // Export through the link's own address with the browser's session.
    let href = web
        .find(By::Id("export"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let lines = web
        .execute(
            &format!("return fetch('{href}').then(r => r.text()).then(t => t.trim().split('\\n').length);"),
            vec![],
        )
        .await
        .unwrap();
    let lines: u64 = lines.convert().unwrap();
    assert_eq!(lines, 250_001, "a header and every code");
    web.quit().await.unwrap();
}
