//! Static files are embedded in the binary and served under content-hashed names with a long
//! cache (issue 14.8): the binary copied alone to an empty directory serves a styled console.

use crate::helpers::spawn_app;
use reqwest::StatusCode;

/// The `href` of the page's stylesheet link.
fn stylesheet(html: &str) -> String {
    let marker = "<link rel=\"stylesheet\" href=\"";
    let start = html.find(marker).expect("a stylesheet link") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn pages_link_hashed_assets_served_with_a_long_cache() {
    let app = spawn_app().await;
    let login = reqwest::get(format!("{}/login", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let css = stylesheet(&login);
    assert!(
        css.starts_with("/static/app.") && css.ends_with(".css") && css != "/static/app.css",
        "{css}"
    );
    let r = reqwest::get(format!("{}{css}", app.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(r.text().await.unwrap().contains(".topbar"));
    // The plain name still answers (old links), revalidated each time; unknown files are 404.
    let r = reqwest::get(format!("{}/static/app.css", app.address))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let r = reqwest::get(format!("{}/static/nothing.css", app.address))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_binary_copied_alone_serves_a_styled_console() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("offerdesk");
    std::fs::copy(env!("CARGO_BIN_EXE_offerdesk"), &binary).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(&binary)
        .current_dir(dir.path())
        .env_clear()
        .env("OFFERDESK_BIND", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", "sqlite:alone.db")
        .env("OFFERDESK_SCHEDULER", "false")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut login = None;
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/login")).await {
            login = Some(r.text().await.unwrap());
            break;
        }
        // Not a job wait: the copied binary is still starting to listen.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let login = login.expect("the copied binary serves");
    let css = reqwest::get(format!("{base}{}", stylesheet(&login)))
        .await
        .unwrap();
    let status = css.status();
    let body = css.text().await.unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, StatusCode::OK);
    assert!(body.len() > 1000 && body.contains(".topbar"), "styled");
    assert!(
        !dir.path().join("static").exists(),
        "no static folder beside it"
    );
}
