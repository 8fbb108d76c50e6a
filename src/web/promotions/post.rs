//! What a wizard step posts: its fields, url-encoded or as a multipart form with SKU lists
//! uploaded as CSV files, after the CSRF token was checked. One extractor for both, because
//! the steps with uploads post multipart and the others need not.

use super::form::{PRODUCT_SLOTS, Problems, PromotionForm, Step};
use crate::web::WebError;
use crate::web::csrf::{self, MAX_UPLOAD_BYTES};
use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use std::collections::HashMap;

/// One uploaded file: the input's name, the file's name and its bytes.
pub struct Upload {
    pub input: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A posted wizard form whose CSRF token has been checked.
pub struct WizardPost {
    pub fields: HashMap<String, String>,
    /// Files chosen (inputs left empty are not listed).
    pub uploads: Vec<Upload>,
}

impl WizardPost {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

fn bad(message: impl Into<String>) -> actix_web::Error {
    WebError::BadRequest(message.into()).into()
}

async fn read_multipart(
    req: &HttpRequest,
    payload: Payload,
) -> Result<(HashMap<String, String>, Vec<Upload>), actix_web::Error> {
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut fields = HashMap::new();
    let mut uploads = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| bad(format!("the form could not be read: {e}")))?;
        let name = field.name().unwrap_or("").to_string();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| bad(format!("the form could not be read: {e}")))?;
            total += chunk.len();
            if total > MAX_UPLOAD_BYTES {
                return Err(bad("the form is larger than 20 MB"));
            }
            value.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) if !value.is_empty() || !file_name.is_empty() => uploads.push(Upload {
                input: name,
                file_name,
                bytes: value,
            }),
            Some(_) => {}
            None => {
                fields.insert(name, String::from_utf8_lossy(&value).into_owned());
            }
        }
    }
    Ok((fields, uploads))
}

impl FromRequest for WizardPost {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let multipart = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let body = (!multipart).then(|| web::Bytes::from_request(&req, payload));
        let payload = payload.take();
        Box::pin(async move {
            let (fields, uploads) = match body {
                Some(body) => {
                    let body = body.await?;
                    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                        .map_err(|e| bad(format!("the form could not be read: {e}")))?;
                    (pairs.into_iter().collect(), Vec::new())
                }
                None => read_multipart(&req, payload).await?,
            };
            let submitted = req
                .headers()
                .get("X-CSRF-Token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| fields.get("csrf_token").cloned());
            csrf::verify(&req.get_session(), submitted.as_deref())?;
            if let Some((name, _)) = fields
                .iter()
                .find(|(k, v)| crate::domain::has_control(k) || crate::domain::has_control(v))
            {
                let name: String = name.chars().filter(|c| !c.is_control()).collect();
                return Err(bad(format!(
                    "The field `{name}` contains a control character (such as NUL); nothing was saved."
                )));
            }
            Ok(WizardPost { fields, uploads })
        })
    }
}

/// The most SKUs one uploaded list may hold.
pub const MAX_SKUS: usize = 10_000;

/// The SKUs of an uploaded CSV: the first column of each line, an optional `sku` header and
/// blank lines skipped, spreadsheet quotes taken off. Every bad line is reported.
pub fn skus_of_csv(bytes: &[u8]) -> Result<Vec<String>, Vec<String>> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![
            "the file is not UTF-8 text (save it as CSV UTF-8)".into(),
        ]);
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut skus: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let first = line.split(',').next().unwrap_or("").trim();
        let sku = first.trim_matches('"').trim();
        if sku.is_empty() || (i == 0 && sku.eq_ignore_ascii_case("sku")) {
            continue;
        }
        if crate::domain::has_control(sku) || sku.chars().count() > 64 {
            problems.push(format!(
                "line {}: a SKU has at most 64 characters and no control characters",
                i + 1
            ));
        } else if seen.insert(sku.to_string()) {
            skus.push(sku.to_string());
        }
    }
    if skus.len() > MAX_SKUS {
        problems.push(format!("the file has more than {MAX_SKUS} SKUs"));
    }
    if skus.is_empty() && problems.is_empty() {
        problems.push("the file has no SKU (one SKU per line, header sku optional)".into());
    }
    if problems.is_empty() {
        Ok(skus)
    } else {
        Err(problems)
    }
}

/// Whether an uploaded CSV of SKUs (`{input}_csv`) may fill `input`: the SKU lists of the
/// product conditions' and the benefit's filters, and the benefit's SKUs.
fn is_sku_list(input: &str) -> bool {
    ["crit_skus", "crit_sku"].contains(&input)
        || PRODUCT_SLOTS.iter().chain(&["b"]).any(|prefix| {
            input
                .strip_prefix(prefix)
                .is_some_and(|rest| rest == "_inc_skus" || rest == "_exc_skus")
        })
}

fn step_of(input: &str) -> Step {
    PromotionForm::FIELDS
        .iter()
        .find(|(name, _)| *name == input)
        .map_or(Step::Basics, |(_, step)| *step)
}

/// Adds the SKUs of the uploaded CSVs to their lists: what was added, and the files refused
/// (every bad line named; a refused file adds nothing).
pub fn apply_uploads(f: &mut PromotionForm, post: &WizardPost) -> (Vec<String>, Problems) {
    let mut notes = Vec::new();
    let mut problems = Problems::default();
    for upload in &post.uploads {
        let Some(input) = upload.input.strip_suffix("_csv").filter(|i| is_sku_list(i)) else {
            continue;
        };
        let step = step_of(input);
        match skus_of_csv(&upload.bytes) {
            Ok(skus) if input == "crit_sku" && skus.len() != 1 => problems.push(
                step,
                input,
                format!(
                    "{}: the file must hold exactly one SKU (it has {})",
                    upload.file_name,
                    skus.len()
                ),
            ),
            Ok(skus) if input == "crit_sku" => {
                f.crit_sku = skus[0].clone();
                notes.push(format!("SKU {} read from {}.", skus[0], upload.file_name));
            }
            Ok(skus) => {
                f.add_skus(input, &skus);
                notes.push(format!(
                    "Added {} SKUs from {}.",
                    crate::domain::money::format_count(skus.len() as i64),
                    upload.file_name
                ));
            }
            Err(lines) => problems.push(
                step,
                input,
                format!("{} was not read: {}", upload.file_name, lines.join("; ")),
            ),
        }
    }
    (notes, problems)
}
