//! Files in and out of the Coupons tab: code uploads and audience files received as
//! background jobs, the jobs' progress panels (htmx polls them), their result files and
//! retries, and the coupons' export.

use super::coupons::{Acting, Forms, ListQuery, coupon_view, show_errors, when};
use crate::domain::ids::{JobId, OfferId};
use crate::domain::money::format_count;
use crate::domain::offer::Generation;
use crate::domain::user::Permission;
use crate::store::StoreError;
use crate::store::jobs::{CHUNK_BYTES, JobKind, JobRow, JobStatus};
use crate::web::auth::CurrentUser;
use crate::web::csrf::{CsrfForm, verify};
use crate::web::error::{render, see_other};
use crate::web::{AppState, Chrome, WebError, is_htmx};
use actix_session::{Session, SessionExt};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::HashMap;

/// Largest file a job accepts (streamed to the database in 1 MB chunks, never held whole).
const MAX_JOB_FILE_BYTES: u64 = 1024 * 1024 * 1024;
/// Coupons per database read of an export.
const EXPORT_PAGE: i64 = 5_000;

/// A job as the progress panel shows it.
pub struct JobView {
    pub id: JobId,
    pub offer_id: OfferId,
    pub label: &'static str,
    pub status: String,
    pub file_name: String,
    pub percent: u64,
    pub progress_text: String,
    pub summary: String,
    pub error: String,
    pub has_result: bool,
    pub started: String,
    pub can_retry: bool,
    pub csrf: String,
}

impl JobView {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed")
    }
}

pub(super) async fn job_view(
    state: &AppState,
    user: &CurrentUser,
    job: &JobRow,
) -> Result<JobView, WebError> {
    let (percent, progress_text) = match (job.status.as_str(), state.jobs.progress(job.id)) {
        ("running", Some((done, total))) if total > 0 => {
            let unit = if job.kind == JobKind::Generate {
                format!(
                    "{} of {} codes",
                    format_count(done as i64),
                    format_count(total as i64)
                )
            } else {
                format!(
                    "{} of {} MB read",
                    done / 1_000_000,
                    total.div_ceil(1_000_000)
                )
            };
            ((done * 100 / total).min(100), unit)
        }
        ("running", _) => (0, "Working…".into()),
        ("queued", _) => (0, "Waiting to start…".into()),
        _ => (100, String::new()),
    };
    Ok(JobView {
        id: job.id,
        offer_id: job.offer_id,
        label: job.kind.label(),
        status: job.status.as_str().to_string(),
        file_name: job.file_name.clone().unwrap_or_default(),
        percent,
        progress_text,
        summary: job.summary.clone().unwrap_or_default(),
        error: job.error.clone().unwrap_or_default(),
        has_result: job.finished() && state.store.job_has_result(job.id).await?,
        started: when(Some(job.created_at), user.time_zone),
        // Retry helps a job stopped by an error or a crash; one refused for its file (bad
        // lines, the claim rule) would fail the same way: fix the file and upload it again.
        can_retry: job.status == JobStatus::Failed
            && job.error.as_deref().is_some_and(|e| e.contains("retry"))
            && user.can(Permission::ManageOffers),
        csrf: user.csrf.clone(),
    })
}

/// Receives a job's CSV file: text fields first (the CSRF token is checked before the first
/// byte of the file is stored), then the file streamed into the job's input in 1 MB chunks.
/// `Ok(Err(message))` is a problem the person fixes (no file, empty, too large).
async fn receive_job_file(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &CurrentUser,
    offer_id: OfferId,
    kind: JobKind,
    params: serde_json::Value,
) -> Result<Result<JobId, String>, WebError> {
    let session = req.get_session();
    let header_token = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut received: Option<(JobId, u64)> = None;
    let unreadable = |e: &dyn std::fmt::Display| {
        WebError::BadRequest(format!("the upload could not be read: {e}"))
    };
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| unreadable(&e))?;
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let Some(file_name) = file_name else {
            let name = field.name().unwrap_or("").to_string();
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                value.extend_from_slice(&chunk.map_err(|e| unreadable(&e))?);
                if value.len() > 4096 {
                    return Err(WebError::BadRequest(format!(
                        "the field {name} is too long"
                    )));
                }
            }
            fields.insert(name, String::from_utf8_lossy(&value).into_owned());
            continue;
        };
        verify(
            &session,
            header_token
                .as_deref()
                .or(fields.get("csrf_token").map(String::as_str)),
        )?;
        if received.is_some() || file_name.is_empty() {
            while field.next().await.is_some() {}
            continue;
        }
        let job = state
            .store
            .create_job(
                user.org_id,
                offer_id,
                kind,
                params.clone(),
                Some(&file_name),
                true,
                Some(user.id),
            )
            .await?;
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
        let (mut seq, mut total) = (0i64, 0u64);
        let result: Result<Result<(), String>, WebError> = async {
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| unreadable(&e))?;
                total += chunk.len() as u64;
                if total > MAX_JOB_FILE_BYTES {
                    return Ok(Err("the file is larger than 1 GB; split it".to_string()));
                }
                buf.extend_from_slice(&chunk);
                while buf.len() >= CHUNK_BYTES {
                    let rest = buf.split_off(CHUNK_BYTES);
                    let full = std::mem::replace(&mut buf, rest);
                    state.store.append_job_input(job, seq, full).await?;
                    seq += 1;
                }
            }
            if !buf.is_empty() {
                state
                    .store
                    .append_job_input(job, seq, std::mem::take(&mut buf))
                    .await?;
            }
            Ok(Ok(()))
        }
        .await;
        match result {
            Ok(Ok(())) => received = Some((job, total)),
            Ok(Err(m)) => {
                state.store.discard_job(job).await?;
                return Ok(Err(m));
            }
            Err(e) => {
                state.store.discard_job(job).await?;
                return Err(e);
            }
        }
    }
    verify(
        &session,
        header_token
            .as_deref()
            .or(fields.get("csrf_token").map(String::as_str)),
    )?;
    match received {
        None => Ok(Err("choose a CSV file to upload".into())),
        Some((job, 0)) => {
            state.store.discard_job(job).await?;
            Ok(Err("the file is empty".into()))
        }
        Some((job, bytes)) => {
            state.store.queue_job(job, bytes as i64).await?;
            state.jobs.wake();
            Ok(Ok(job))
        }
    }
}

/// Uploads existing codes (COD-3) as a background job.
pub async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<OfferId>,
    acting: web::Query<Acting>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let offer_id = path.into_inner();
    let acting = acting.consumer();
    let offer = state.store.get_offer(user.org_id, offer_id).await?;
    let Generation::Upload { with_customers } = offer.rules.generation else {
        let forms = Forms {
            acting,
            upload_error: "only offers with uploaded codes take code uploads".into(),
            ..Forms::default()
        };
        return show_errors(&state, &user, &session, offer_id, forms).await;
    };
    let params = serde_json::json!({"with_customers": with_customers, "actor": user.email, "consumer": acting});
    match receive_job_file(
        &req,
        payload,
        &state,
        &user,
        offer_id,
        JobKind::UploadCodes,
        params,
    )
    .await?
    {
        Ok(_) => {
            Chrome::flash(
                &session,
                "Upload received — every line is being checked; the progress is shown below.",
            );
            Ok(see_other(&format!(
                "/offers/{offer_id}/coupons{}",
                Acting::suffix(acting)
            )))
        }
        Err(m) => {
            let forms = Forms {
                acting,
                upload_error: m,
                ..Forms::default()
            };
            show_errors(&state, &user, &session, offer_id, forms).await
        }
    }
}

/// Issues to every customer of an uploaded audience file (ISS-1 bulk) as a background job.
pub async fn bulk_issue(
    req: HttpRequest,
    payload: web::Payload,
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<OfferId>,
    acting: web::Query<Acting>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let offer_id = path.into_inner();
    let acting = acting.consumer();
    let ctx = crate::app::issue::context(&state.store, user.org_id, offer_id).await?;
    // Refused before the file is taken: every line would be refused for the same reason.
    if let Err(refusal) =
        crate::domain::issue::check_issuer(&ctx.claimed_by, &ctx.rules.expiry, acting)
    {
        let forms = Forms {
            acting,
            bulk_error: format!("Nothing was issued: {refusal}."),
            ..Forms::default()
        };
        return show_errors(&state, &user, &session, offer_id, forms).await;
    }
    let params = serde_json::json!({"actor": user.email, "consumer": acting});
    match receive_job_file(
        &req,
        payload,
        &state,
        &user,
        offer_id,
        JobKind::BulkIssue,
        params,
    )
    .await?
    {
        Ok(_) => {
            Chrome::flash(
                &session,
                "Audience file received: every line is checked first, then coupons are issued — the progress and the result are shown below.",
            );
            Ok(see_other(&format!(
                "/offers/{offer_id}/coupons{}",
                Acting::suffix(acting)
            )))
        }
        Err(m) => {
            let forms = Forms {
                acting,
                bulk_error: m,
                ..Forms::default()
            };
            show_errors(&state, &user, &session, offer_id, forms).await
        }
    }
}

#[derive(Template)]
#[template(path = "partials/job.html")]
struct JobPartial {
    job: JobView,
}

#[derive(Debug, Deserialize)]
pub struct PollQuery {
    #[serde(default)]
    poll: u8,
}

/// One job's progress panel (htmx polls it while the job runs). When a polled job finishes the
/// page reloads so that the counts and the list show the result.
pub async fn job(
    req: HttpRequest,
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(OfferId, JobId)>,
    q: web::Query<PollQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let (offer_id, job_id) = path.into_inner();
    let job = state.store.get_job(user.org_id, job_id).await?;
    if job.offer_id != offer_id {
        return Err(WebError::NotFound);
    }
    if q.poll == 1 && is_htmx(&req) && job.finished() {
        return Ok(HttpResponse::Ok()
            .insert_header(("HX-Refresh", "true"))
            .finish());
    }
    let view = job_view(&state, &user, &job).await?;
    render(StatusCode::OK, &JobPartial { job: view })
}

/// A job's result file (issued codes and refusals, or the line report of a refused upload),
/// streamed chunk by chunk.
pub async fn job_result(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(OfferId, JobId)>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let (offer_id, job_id) = path.into_inner();
    let job = state.store.get_job(user.org_id, job_id).await?;
    if job.offer_id != offer_id || !state.store.job_has_result(job_id).await? {
        return Err(WebError::NotFound);
    }
    let store = state.store.clone();
    let body = futures_util::stream::unfold(Some(0i64), move |seq| {
        let store = store.clone();
        async move {
            let seq = seq?;
            match store.job_file_chunk(job_id, "result", seq).await {
                Ok(Some(data)) => {
                    Some((Ok::<_, actix_web::Error>(Bytes::from(data)), Some(seq + 1)))
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(job = %job_id, error = %e, "reading a result file failed");
                    None
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"job-{job_id}-result.csv\""),
        ))
        .streaming(body))
}

/// Queues a failed job again.
pub async fn retry(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(OfferId, JobId)>,
    _form: CsrfForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::ManageOffers)?;
    let (offer_id, job_id) = path.into_inner();
    let job = state.store.get_job(user.org_id, job_id).await?;
    if job.offer_id != offer_id {
        return Err(WebError::NotFound);
    }
    match state.store.retry_job(user.org_id, job_id).await {
        Ok(()) => {
            state.jobs.wake();
            Chrome::flash(&session, "The job was queued again.");
        }
        Err(StoreError::Conflict(m)) => Chrome::flash(&session, &m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&format!("/offers/{offer_id}/coupons")))
}

/// The offer's coupons (with the tab's filters) as CSV, read and sent page by page.
pub async fn export(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<OfferId>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    user.require(Permission::View)?;
    let offer_id = path.into_inner();
    let offer = state.store.get_offer(user.org_id, offer_id).await?;
    let store = state.store.clone();
    let (org_id, tz) = (user.org_id, user.time_zone);
    let today = super::today(&user);
    let first = query.into_inner().to_store(today, EXPORT_PAGE);
    let body = futures_util::stream::unfold(Some((first, true)), move |cursor| {
        let store = store.clone();
        async move {
            let (mut q, header) = cursor?;
            let rows = match store.list_coupons(org_id, offer_id, &q).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(offer = %offer_id, error = %e, "exporting coupons failed");
                    return None;
                }
            };
            if rows.is_empty() && !header {
                return None;
            }
            let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 80));
            if header {
                let _ = crate::domain::csv_safe::write_record(
                    &mut w,
                    &[
                        "code",
                        "status",
                        "customer_type",
                        "customer",
                        "issued_at",
                        "valid_till",
                        "redeemed_at",
                    ],
                );
            }
            for r in &rows {
                let v = coupon_view(r, today, tz, false);
                let _ = crate::domain::csv_safe::write_record(
                    &mut w,
                    &[
                        v.code.as_str(),
                        v.status,
                        r.identifier_type.as_deref().unwrap_or(""),
                        v.customer.as_str(),
                        &r.issued_at
                            .map(|t| t.with_timezone(&tz).to_rfc3339())
                            .unwrap_or_default(),
                        // ISO dates in files, for spreadsheets and programs.
                        &r.valid_till.map(|d| d.to_string()).unwrap_or_default(),
                        &r.redeemed_at
                            .map(|t| t.with_timezone(&tz).to_rfc3339())
                            .unwrap_or_default(),
                    ],
                );
            }
            let bytes = w.into_inner().unwrap_or_default();
            let next = if rows.len() as i64 == q.limit {
                q.after = rows.last().map(|r| r.id).unwrap_or(q.after);
                Some((q, false))
            } else {
                None
            };
            Some((Ok::<_, actix_web::Error>(Bytes::from(bytes)), next))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}-coupons.csv\"", offer.offer_code),
        ))
        .streaming(body))
}
