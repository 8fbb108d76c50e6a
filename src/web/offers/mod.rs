//! The Incentives console (OFF-1..6): dashboard, create-offer wizard, offer page, edit.

pub mod claim;
pub mod coupons;
pub mod dashboard;
pub mod edit;
pub mod files;
pub mod page;
pub mod performance;
pub mod revoke;
pub mod sections;
pub mod sharing;
pub mod wizard;

use crate::domain::ids::OfferId;
use crate::domain::offer::describe::Names;
use crate::store::Store;
use crate::store::masters::{CodedKind, CodedRow, ConsumerRow, PocRow, StoreListRow, TillListRow};
use crate::web::WebError;
use crate::web::auth::CurrentUser;
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/offers", web::get().to(dashboard::list))
        .route("/offers/new", web::get().to(wizard::start))
        .route("/offers/new", web::post().to(wizard::create))
        .route("/offers/new/discard", web::post().to(wizard::discard))
        .route(
            "/offers/new/for/{consumer}",
            web::post().to(wizard::start_for_consumer),
        )
        .route("/offers/new/preview", web::get().to(wizard::preview))
        .route("/offers/new/scope", web::post().to(wizard::upload_scope))
        .route(
            "/offers/new/audience",
            web::post().to(wizard::upload_audience),
        )
        .route("/offers/new/step/{n}", web::get().to(wizard::show_step))
        .route("/offers/new/step/{n}", web::post().to(wizard::save_step))
        .route("/offers/{id}", web::get().to(page::show))
        .route("/offers/{id}/coupons", web::get().to(coupons::tab))
        .route("/offers/{id}/coupons.csv", web::get().to(files::export))
        .route(
            "/offers/{id}/coupons/generate",
            web::post().to(coupons::generate),
        )
        .route("/offers/{id}/coupons/issue", web::post().to(coupons::issue))
        .route(
            "/offers/{id}/coupons/{coupon}/resend",
            web::post().to(coupons::resend),
        )
        .route("/offers/{id}/coupons/upload", web::post().to(files::upload))
        .route(
            "/offers/{id}/coupons/bulk-issue",
            web::post().to(files::bulk_issue),
        )
        .route("/offers/{id}/jobs/{job}", web::get().to(files::job))
        .route(
            "/offers/{id}/jobs/{job}/result",
            web::get().to(files::job_result),
        )
        .route(
            "/offers/{id}/jobs/{job}/retry",
            web::post().to(files::retry),
        )
        .route("/offers/{id}/claim", web::get().to(claim::show))
        .route("/offers/{id}/claim", web::post().to(claim::claim))
        .route("/offers/{id}/revoke", web::get().to(revoke::show))
        .route("/offers/{id}/revoke", web::post().to(revoke::revoke))
        .route("/offers/{id}/sharing", web::post().to(sharing::save))
        .route(
            "/offers/{id}/sharing/publish",
            web::post().to(sharing::publish),
        )
        .route(
            "/offers/{id}/sharing/unpublish",
            web::post().to(sharing::unpublish),
        )
        .route("/offers/{id}/referrals", web::get().to(sharing::referrals))
        .route("/offers/{id}/edit", web::get().to(edit::show))
        .route("/offers/{id}/edit", web::post().to(edit::save))
        .route("/offers/{id}/edit/preview", web::post().to(edit::preview))
        .route("/offers/{id}/edit/back", web::post().to(edit::back))
        .route("/offers/{id}/scope", web::post().to(edit::upload_scope))
        .route(
            "/offers/{id}/audience",
            web::post().to(edit::upload_audience),
        );
}

/// The org's minor-unit digits for its currency.
pub fn digits(user: &CurrentUser) -> u32 {
    user.currency.minor_digits()
}

/// Today in the org's time zone.
pub fn today(user: &CurrentUser) -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&user.time_zone)
        .date_naive()
}

/// Everything the offer form's pickers list.
pub struct Pickers {
    pub categories: Vec<CodedRow>,
    pub brands: Vec<CodedRow>,
    pub stores: Vec<StoreListRow>,
    pub tills: Vec<TillListRow>,
    pub zones: Vec<CodedRow>,
    pub concepts: Vec<CodedRow>,
    pub pocs: Vec<PocRow>,
    pub offers: Vec<(i64, String)>,
    pub currency: String,
}

impl Pickers {
    pub async fn load(
        store: &Store,
        user: &CurrentUser,
        except_offer: Option<OfferId>,
    ) -> Result<Pickers, WebError> {
        let org = user.org_id;
        Ok(Pickers {
            categories: store.list_coded(org, CodedKind::Category).await?,
            brands: store.list_coded(org, CodedKind::Brand).await?,
            stores: store.list_stores(org).await?,
            tills: store.list_tills(org, None).await?,
            zones: store.list_coded(org, CodedKind::Zone).await?,
            concepts: store.list_coded(org, CodedKind::Concept).await?,
            pocs: store.list_pocs(org).await?,
            offers: store
                .offer_names(org)
                .await?
                .into_iter()
                .filter(|(id, _)| Some(OfferId(*id)) != except_offer)
                .collect(),
            currency: user.currency.code().to_string(),
        })
    }
}

/// "Outbound campaign: Diwali blast" for a claimed offer.
pub fn consumer_text(
    kind: Option<crate::domain::masters::ConsumerKind>,
    name: Option<&str>,
) -> String {
    match (kind, name) {
        (Some(k), Some(n)) => format!("{}: {n}", k.label()),
        _ => "Not claimed".into(),
    }
}

/// The consumer an offer is being created for (OFF-6), if the org has it.
pub async fn consumer_of(
    store: &Store,
    user: &CurrentUser,
    id: Option<i64>,
) -> Result<Option<ConsumerRow>, WebError> {
    match id {
        Some(id) => Ok(Some(store.get_consumer(user.org_id, id).await?)),
        None => Ok(None),
    }
}

pub async fn names(store: &Store, user: &CurrentUser) -> Result<Names, WebError> {
    let mut names = store
        .names_for_description(user.org_id, user.currency.code(), digits(user))
        .await?;
    names.today = Some(today(user));
    Ok(names)
}

/// The names an offer's description needs, with the consumer that claimed it (or, for a
/// wizard draft, will claim it) and that consumer's end date.
pub async fn names_for(
    store: &Store,
    user: &CurrentUser,
    consumer: Option<i64>,
) -> Result<Names, WebError> {
    let mut n = names(store, user).await?;
    if let Some(c) = consumer_of(store, user, consumer).await? {
        n.claimed_by = Some((c.name, c.ends_on));
    }
    Ok(n)
}

/// (kind, code) → id of every store, till, zone and concept of the org.
pub async fn scope_codes(
    state: &crate::web::AppState,
    user: &CurrentUser,
) -> Result<std::collections::HashMap<(crate::domain::offer::ScopeKind, String), i64>, WebError> {
    use crate::store::masters::CodedKind;
    let store = &state.store;
    let mut codes = std::collections::HashMap::new();
    for s in store.list_stores(user.org_id).await? {
        codes.insert((crate::domain::offer::ScopeKind::Store, s.code), s.id);
    }
    for t in store.list_tills(user.org_id, None).await? {
        codes.insert((crate::domain::offer::ScopeKind::Till, t.code), t.id);
    }
    for (kind, coded) in [
        (crate::domain::offer::ScopeKind::Zone, CodedKind::Zone),
        (crate::domain::offer::ScopeKind::Concept, CodedKind::Concept),
    ] {
        for r in store.list_coded(user.org_id, coded).await? {
            codes.insert((kind, r.code), r.id);
        }
    }
    Ok(codes)
}

/// Parses an uploaded CSV with `parse`, or reports that no file was chosen.
pub fn parse_upload<T>(
    upload: &crate::web::csrf::CsrfUpload,
    parse: impl FnOnce(&[u8]) -> Result<T, Vec<crate::domain::masters::LineError>>,
) -> Result<T, Vec<crate::domain::masters::LineError>> {
    if upload.file.is_empty() {
        Err(vec![crate::domain::masters::LineError {
            line: 0,
            message: "choose a CSV file to upload".into(),
        }])
    } else {
        parse(&upload.file)
    }
}
