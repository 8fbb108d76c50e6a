//! The job worker at shutdown and without it (issue 14.9): a job interrupted by a graceful stop
//! goes back to the queue at once and the next instance takes it without waiting for the lease;
//! an instance started without the worker leaves jobs to another (or to `run-jobs`).

use crate::helpers::{TestApp, TestDb, spawn_app_on, test_settings};
use crate::integration::Api;
use offerdesk::domain::ids::OfferId;
use offerdesk::startup::Application;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

async fn newest_job(app: &TestApp, offer: OfferId) -> Option<offerdesk::store::jobs::JobRow> {
    let org = app.org_id("Acme").await;
    app.store
        .list_jobs(org, offer, 1)
        .await
        .unwrap()
        .into_iter()
        .next()
}

/// Waits (up to `secs`) for the offer's newest job to be in `status`.
async fn wait_for_status(app: &TestApp, offer: OfferId, status: &str, secs: u64) -> bool {
    for _ in 0..secs * 20 {
        if newest_job(app, offer)
            .await
            .is_some_and(|j| j.status.as_str() == status)
        {
            return true;
        }
        // Not a job wait: this test watches a real worker pick up and release a running job.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_job_interrupted_by_a_graceful_stop_is_taken_at_once_by_the_next_instance() {
    let db = Arc::new(TestDb::new().await);
    // The first instance, whose stop we control.
    let first = Application::build(test_settings(db.url())).await.unwrap();
    let stop = first.stop_handle();
    let address = format!("http://127.0.0.1:{}", first.port());
    let store = first.store().clone();
    let running = tokio::spawn(first.run_until_stopped());
    let app = TestApp {
        address,
        store,
        db: db.clone(),
    };
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Big", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31",
            "codeType": "UNIQUE", "codeLength": 12}))
        .await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin
        .post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", "3000000")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        wait_for_status(&app, offer, "running", 20).await,
        "the job starts"
    );

    // SIGTERM's graceful stop: the job goes back to the queue, its lease given up.
    stop.stop(true).await;
    running.await.unwrap().unwrap();
    // The stopped instance closed its pools: look with a store of our own.
    let app = TestApp {
        store: offerdesk::store::Store::open(db.url()).await.unwrap(),
        ..app
    };
    let job = newest_job(&app, offer).await.unwrap();
    assert_eq!(job.status.as_str(), "queued", "{job:?}");
    assert_eq!(job.attempts, 0, "the interrupted attempt is not counted");
    let org = app.org_id("Acme").await;
    let coupons = app.store.get_offer(org, offer).await.unwrap().coupon_count;
    assert_eq!(coupons, 0, "nothing of the interrupted run was kept");

    // The next instance takes it at once, not after the 2-minute lease.
    let next = spawn_app_on(db.clone()).await;
    assert!(
        wait_for_status(&next, offer, "running", 10).await,
        "the next instance runs it within seconds"
    );
}

#[tokio::test]
async fn an_instance_without_the_worker_leaves_jobs_to_run_jobs() {
    let db = Arc::new(TestDb::new().await);
    let mut settings = test_settings(db.url());
    settings.worker = false;
    let quiet = Application::build(settings.clone()).await.unwrap();
    let address = format!("http://127.0.0.1:{}", quiet.port());
    let store = quiet.store().clone();
    tokio::spawn(quiet.run_until_stopped());
    let app = TestApp {
        address,
        store,
        db: db.clone(),
    };
    let api = Api::of(&app, "Acme", 1000).await;
    let offer = api
        .series(json!({"name": "Small", "discountType": "ABS", "discountValue": 100, "validTill": "2099-12-31"}))
        .await;
    let admin = app.signed_in("admin@acme.example.com").await;
    let page = admin
        .post(
            &format!("/offers/{offer}/coupons/generate"),
            &[("count", "50")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Not a job wait: longer than a worker's 2-second poll, so a worker would have taken it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        newest_job(&app, offer).await.unwrap().status.as_str(),
        "queued"
    );
    let report = offerdesk::cli::run_jobs(&app.store, &settings, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(report.jobs_run, 1);
    assert_eq!(
        newest_job(&app, offer).await.unwrap().status.as_str(),
        "done"
    );
}
