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

pub async fn fill(web: &WebDriver, form: &str, name: &str, value: &str) {
    let input = web
        .find(By::Css(format!("#{form} [name=\"{name}\"]")))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
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
    wait_for_text(web, "active users").await;
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
