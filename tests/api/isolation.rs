//! Org isolation: a user of org A never sees org B's rows; B's ids answer 404.

use crate::helpers::spawn_app;
use offerdesk::domain::masters::{MasterCode, NewCodedName, NewConsumer, NewPoc, StoreRow};
use offerdesk::domain::user::Actor;
use offerdesk::store::masters::CodedKind;
use reqwest::StatusCode;

#[tokio::test]
async fn a_user_of_one_org_gets_404_for_another_orgs_records() {
    let app = spawn_app().await;
    let a_admin = app.create_org_admin("Acme").await;
    app.create_org_admin("Globex").await;
    let b_org = app.store.find_org_by_name("Globex").await.unwrap().unwrap();
    let actor = Actor::system("test");
    let zone_id = app
        .store
        .create_coded(
            b_org.id,
            CodedKind::Zone,
            &NewCodedName::parse("GZ", "Globex zone").unwrap(),
            &actor,
        )
        .await
        .unwrap();
    let row = StoreRow {
        code: MasterCode::parse("c", "GLOBEX-1").unwrap(),
        name: "Globex Store".into(),
        zone_id,
        concept_id: None,
    };
    app.store
        .create_store(b_org.id, &row, &actor)
        .await
        .unwrap();
    let store_id = app.store.store_ids(b_org.id).await.unwrap()["GLOBEX-1"];
    let poc_id = app
        .store
        .create_poc(
            b_org.id,
            &NewPoc::parse("Gus", "gus@globex.example.com").unwrap(),
            &actor,
        )
        .await
        .unwrap();
    let consumer_id = app
        .store
        .create_consumer(
            b_org.id,
            &NewConsumer::parse("Globex Club", "loyalty", "", "").unwrap(),
            &actor,
        )
        .await
        .unwrap();

    let a = app.signed_in(&a_admin).await;
    for path in [
        format!("/admin/stores/{store_id}"),
        format!("/admin/pocs/{poc_id}"),
        format!("/admin/consumers/{consumer_id}"),
    ] {
        assert_eq!(a.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Deleting another org's POC is a 404 and leaves it in place.
    assert_eq!(
        a.post(&format!("/admin/pocs/{poc_id}/delete"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.store.list_pocs(b_org.id).await.unwrap().len(), 1);
    // Lists show only the own org's rows; another org's zone cannot be chosen for a store.
    for path in [
        "/admin/structure",
        "/admin/pocs",
        "/admin/consumers",
        "/admin/audit",
    ] {
        let body = a.get(path).await.body;
        assert!(
            !body.contains("Globex") && !body.contains("globex"),
            "{path} leaks the other org"
        );
    }
    let a_org = app.store.find_org_by_name("Acme").await.unwrap().unwrap();
    let a_zone = app
        .store
        .create_coded(
            a_org.id,
            CodedKind::Zone,
            &NewCodedName::parse("AZ", "Acme zone").unwrap(),
            &actor,
        )
        .await
        .unwrap();
    let p = a
        .post(
            "/admin/stores",
            &[
                ("code", "A1"),
                ("name", "Sneaky"),
                ("zone_id", &zone_id.to_string()),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("choose a zone of this organisation"));
    assert!(app.store.list_stores(a_org.id).await.unwrap().is_empty());
    // Store codes are per org: Acme may use Globex's code.
    let p = a
        .post(
            "/admin/stores",
            &[
                ("code", "GLOBEX-1"),
                ("name", "Same code"),
                ("zone_id", &a_zone.to_string()),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}
