//! Delivery of outbox messages (REM-3): email through SMTP (`lettre`), SMS as a JSON POST to
//! an HTTP gateway. A failed delivery is an `Err` with the reason; the outbox keeps the
//! message and retries it later.

use crate::config::Settings;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// One message to deliver.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
}

/// The configured transports; each is absent when its URL is not set (messages then wait in the
/// outbox with the reason).
#[derive(Clone)]
pub struct Notifier {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    sms_url: Option<String>,
    push_url: Option<String>,
    http: reqwest::Client,
    /// The most one delivery may take, start to end.
    deadline: Duration,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("smtp", &self.smtp.is_some())
            .field("sms", &self.sms_url.is_some())
            .field("push", &self.push_url.is_some())
            .finish()
    }
}

/// The body POSTed to `SMS_GATEWAY_URL`.
#[derive(Debug, serde::Serialize)]
pub struct SmsBody<'a> {
    pub to: &'a str,
    pub text: &'a str,
}

/// The body POSTed to `PUSH_WEBHOOK_URL`: the customer as the org knows them (an external
/// id, a mobile or an email), a title and the text.
#[derive(Debug, serde::Serialize)]
pub struct PushBody<'a> {
    pub to: &'a str,
    pub title: &'a str,
    pub text: &'a str,
}

impl Notifier {
    /// Transports from `SMTP_URL` (`smtp://host:port` plain, `smtps://…` TLS, `…?tls=required`
    /// STARTTLS; user:password@ for AUTH) and `SMS_GATEWAY_URL`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Notifier> {
        let smtp = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
                    .timeout(Some(Duration::from_secs(
                        settings.delivery_timeout_secs.clamp(1, 10),
                    )))
                    .build(),
            ),
            None => None,
        };
        let from = settings
            .mail_from
            .parse()
            .map_err(|e| anyhow::anyhow!("OFFERDESK_MAIL_FROM is not an address: {e}"))?;
        let deadline = Duration::from_secs(settings.delivery_timeout_secs.max(1));
        Ok(Notifier {
            smtp,
            from,
            sms_url: settings.sms_gateway_url.clone(),
            push_url: settings.push_webhook_url.clone(),
            http: reqwest::Client::builder().timeout(deadline).build()?,
            deadline,
        })
    }

    /// The most one delivery may take.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Delivers one message, or says why it could not be delivered now. The whole exchange
    /// (connect, greeting, every command, the data) has one deadline: lettre's own timeout
    /// covers only part of it, and a server that accepts and then never answers must fail the
    /// attempt rather than hold the delivery loop.
    pub async fn deliver(&self, m: &Outgoing) -> Result<(), String> {
        let attempt = async {
            match m.channel.as_str() {
                "email" => self.email(m).await,
                "sms" => self.sms(m).await,
                "push" => self.push(m).await,
                other => Err(format!("unknown channel {other}")),
            }
        };
        match tokio::time::timeout(self.deadline, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "{}: no answer within {} s; will retry",
                match m.channel.as_str() {
                    "email" => "SMTP",
                    "push" => "Push webhook",
                    _ => "SMS gateway",
                },
                self.deadline.as_secs()
            )),
        }
    }

    async fn email(&self, m: &Outgoing) -> Result<(), String> {
        let smtp = self
            .smtp
            .as_ref()
            .ok_or("SMTP_URL is not set; the message waits in the outbox")?;
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|e| format!("bad recipient {}: {e}", m.recipient))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject);
        let message = match &m.body_html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                m.body_text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.body_text.clone()),
            ),
        }
        .map_err(|e| format!("could not build the email: {e}"))?;
        smtp.send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }

    async fn sms(&self, m: &Outgoing) -> Result<(), String> {
        let url = self
            .sms_url
            .as_ref()
            .ok_or("SMS_GATEWAY_URL is not set; the message waits in the outbox")?;
        let body = SmsBody {
            to: &m.recipient,
            text: &m.body_text,
        };
        self.post_json(url, &body, "SMS gateway").await
    }

    async fn push(&self, m: &Outgoing) -> Result<(), String> {
        let url = self
            .push_url
            .as_ref()
            .ok_or("PUSH_WEBHOOK_URL is not set; the message waits in the outbox")?;
        let body = PushBody {
            to: &m.recipient,
            title: &m.subject,
            text: &m.body_text,
        };
        self.post_json(url, &body, "Push webhook").await
    }

    /// POSTs `body` as JSON to `url`; a non-2xx answer is a failure named after `what`.
    async fn post_json<B: serde::Serialize>(
        &self,
        url: &str,
        body: &B,
        what: &str,
    ) -> Result<(), String> {
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("{what} answered {}", response.status()))
        }
    }
}
