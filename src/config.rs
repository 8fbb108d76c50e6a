//! Typed settings from environment variables and an optional `KEY=VALUE` file.
//! Environment variables win over the file. Secrets are redacted in `Debug`.

use crate::store::redact_url;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Everything the app reads from its environment.
#[derive(Clone)]
pub struct Settings {
    /// `sqlite:…` (default `sqlite:offerdesk.db`) or `postgres://…`.
    pub database_url: String,
    /// Listen address, default `127.0.0.1:8080`.
    pub bind: String,
    /// The URL people reach the console at (links in emails; https makes cookies Secure).
    pub base_url: String,
    /// Whether the session cookie carries `Secure`.
    pub cookie_secure: bool,
    /// A base64 key of at least 64 bytes for session cookies; when absent one is generated
    /// once and kept in the database, so restarts and other instances share it.
    pub session_key: Option<String>,
    pub smtp_url: Option<String>,
    pub sms_gateway_url: Option<String>,
    /// Push messages (held promotions' messages sent by push): a JSON POST per message.
    pub push_webhook_url: Option<String>,
    /// The sender of emails, `OFFERDESK_MAIL_FROM`.
    pub mail_from: String,
    /// Whether `serve` runs the background scheduler.
    pub scheduler: bool,
    /// Whether `serve` runs the background job worker (`OFFERDESK_WORKER`, default true);
    /// without it, jobs wait for an instance that runs one, or for `offerdesk run-jobs`.
    pub worker: bool,
    /// The most one delivery (a whole SMTP exchange, an SMS gateway call) may take,
    /// `OFFERDESK_DELIVERY_TIMEOUT_SECS` (default 30): a server that stops answering fails the
    /// attempt, never the delivery loop.
    pub delivery_timeout_secs: u64,
    /// A console session unused this long ends, `OFFERDESK_SESSION_IDLE_MINUTES` (default 480).
    pub session_idle_minutes: i64,
    /// A console session ends this long after sign-in whatever its use,
    /// `OFFERDESK_SESSION_MAX_HOURS` (default 168, a week).
    pub session_max_hours: i64,
    /// When set, `GET /metrics` wants `Authorization: Bearer <this>` (`OFFERDESK_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("cookie_secure", &self.cookie_secure)
            .field("session_key", &self.session_key.as_ref().map(|_| "***"))
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field(
                "sms_gateway_url",
                &self.sms_gateway_url.as_deref().map(redact_url),
            )
            .field(
                "push_webhook_url",
                &self.push_webhook_url.as_deref().map(redact_url),
            )
            .field("mail_from", &self.mail_from)
            .field("scheduler", &self.scheduler)
            .field("worker", &self.worker)
            .field("delivery_timeout_secs", &self.delivery_timeout_secs)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_max_hours", &self.session_max_hours)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError(format!(
            "{key} must be true or false, got {v:?}"
        ))),
    }
}

fn parse_positive(key: &str, v: Option<String>, default: u64) -> Result<u64, ConfigError> {
    match v {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError(format!(
                "{key} must be a whole number above 0, got {v:?}"
            ))),
        },
    }
}

/// Reads a `KEY=VALUE` file (blank lines and `#` comments allowed, values may be quoted).
pub fn read_env_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(ConfigError(format!(
                "{}:{}: expected KEY=VALUE",
                path.display(),
                i + 1
            )));
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(v);
        out.insert(k.trim().to_string(), v.to_string());
    }
    Ok(out)
}

impl Settings {
    /// Builds settings from a lookup function (the environment over an optional file).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let bind = get("OFFERDESK_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let base_url = get("OFFERDESK_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        let cookie_secure = match get("OFFERDESK_COOKIE_SECURE") {
            Some(v) => parse_bool("OFFERDESK_COOKIE_SECURE", &v)?,
            None => base_url.starts_with("https://"),
        };
        let scheduler = match get("OFFERDESK_SCHEDULER") {
            Some(v) => parse_bool("OFFERDESK_SCHEDULER", &v)?,
            None => true,
        };
        let worker = match get("OFFERDESK_WORKER") {
            Some(v) => parse_bool("OFFERDESK_WORKER", &v)?,
            None => true,
        };
        Ok(Settings {
            database_url: get("DATABASE_URL").unwrap_or_else(|| "sqlite:offerdesk.db".into()),
            bind,
            base_url,
            cookie_secure,
            session_key: get("OFFERDESK_SESSION_KEY"),
            smtp_url: get("SMTP_URL"),
            sms_gateway_url: get("SMS_GATEWAY_URL"),
            push_webhook_url: get("PUSH_WEBHOOK_URL"),
            mail_from: get("OFFERDESK_MAIL_FROM")
                .unwrap_or_else(|| "offerdesk <noreply@offerdesk.local>".into()),
            scheduler,
            worker,
            delivery_timeout_secs: parse_positive(
                "OFFERDESK_DELIVERY_TIMEOUT_SECS",
                get("OFFERDESK_DELIVERY_TIMEOUT_SECS"),
                30,
            )?,
            session_idle_minutes: parse_positive(
                "OFFERDESK_SESSION_IDLE_MINUTES",
                get("OFFERDESK_SESSION_IDLE_MINUTES"),
                480,
            )? as i64,
            session_max_hours: parse_positive(
                "OFFERDESK_SESSION_MAX_HOURS",
                get("OFFERDESK_SESSION_MAX_HOURS"),
                168,
            )? as i64,
            metrics_token: get("OFFERDESK_METRICS_TOKEN"),
        })
    }

    /// Reads the process environment, over the file at `config` (or `OFFERDESK_CONFIG`) if given.
    pub fn load(config: Option<&Path>) -> Result<Settings, ConfigError> {
        let file_path = config
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("OFFERDESK_CONFIG").map(Into::into));
        let file = match file_path {
            Some(p) => read_env_file(&p)?,
            None => HashMap::new(),
        };
        Settings::from_lookup(|k| std::env::var(k).ok().or_else(|| file.get(k).cloned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned()).unwrap()
    }

    #[test]
    fn defaults() {
        let s = settings(&[]);
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite:offerdesk.db");
        assert!(!s.cookie_secure);
    }

    #[test]
    fn cookies_are_secure_behind_https_unless_overridden() {
        assert!(settings(&[("OFFERDESK_BASE_URL", "https://offers.example.com/")]).cookie_secure);
        assert!(
            !settings(&[
                ("OFFERDESK_BASE_URL", "https://offers.example.com"),
                ("OFFERDESK_COOKIE_SECURE", "false")
            ])
            .cookie_secure
        );
        assert!(settings(&[("OFFERDESK_COOKIE_SECURE", "1")]).cookie_secure);
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://u:pw@h/db"),
            ("OFFERDESK_SESSION_KEY", "topsecret"),
        ]);
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("pw@") && !shown.contains("topsecret"),
            "{shown}"
        );
    }
}
