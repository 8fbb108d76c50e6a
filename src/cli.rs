//! The `offerdesk` command line (OPS-1, OPS-2).

use crate::config::Settings;
use crate::domain::api_key;
use crate::domain::org::{Currency, OrgSettings, parse_time_zone};
use crate::domain::user::{Actor, NewPassword, Role};
use crate::passwords;
use crate::startup::Application;
use crate::store::Store;
use crate::store::api_keys::DEFAULT_RATE_LIMIT;
use crate::store::orgs::NewUser;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "offerdesk",
    version,
    about = "Offer Management System: offers, coupon codes, issuance, redemption, reminders"
)]
pub struct Cli {
    /// A KEY=VALUE file of settings (environment variables win); also OFFERDESK_CONFIG.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and the API (the default).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Create an admin user, and the org if it does not exist yet.
    CreateAdmin {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// At least 10 characters; generated and printed when omitted.
        #[arg(long)]
        password: Option<String>,
        /// IANA time zone of a new org.
        #[arg(long, default_value = "Asia/Kolkata")]
        timezone: String,
        /// ISO currency of a new org.
        #[arg(long, default_value = "INR")]
        currency: String,
    },
    /// Create an API key for an integration; prints the key alone on stdout (shown only once).
    CreateApiKey {
        /// The name of an existing org.
        #[arg(long)]
        org: String,
        /// What the key is for, e.g. "Checkout integration" (at most 100 characters).
        #[arg(long)]
        name: String,
        /// Requests per second the key may make (1-100000).
        #[arg(long, default_value_t = DEFAULT_RATE_LIMIT)]
        rate_limit: u32,
        /// The campaign or program (consumer) the key acts for, by name.
        #[arg(long)]
        consumer: Option<String>,
    },
    /// Run every due scheduled job once as of an instant, then exit: reminders, outbox
    /// delivery and queued background jobs (for cron, and for testing schedules).
    RunJobs {
        /// The instant to run as of (RFC 3339, e.g. 2027-03-10T10:00:00+05:30); default now.
        #[arg(long)]
        now: Option<String>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            Store::open(&settings.database_url).await?;
            println!(
                "database is up to date ({})",
                crate::store::redact_url(&settings.database_url)
            );
            Ok(())
        }
        Command::CreateAdmin {
            org,
            email,
            password,
            timezone,
            currency,
        } => {
            let store = Store::open(&settings.database_url).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(passwords::generate);
            let org_settings = OrgSettings {
                name: crate::domain::parse_name("org", &org, 120)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                currency: Currency::parse("currency", &currency)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                time_zone: parse_time_zone("timezone", &timezone)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            let (org_name, email) = create_admin(&store, &org_settings, &email, &password).await?;
            println!("created admin {email} in org {org_name}");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::CreateApiKey {
            org,
            name,
            rate_limit,
            consumer,
        } => {
            let store = Store::open(&settings.database_url).await?;
            let key = create_api_key(&store, &org, &name, consumer.as_deref(), rate_limit).await?;
            // The key alone on stdout, so that `KEY=$(offerdesk create-api-key …)` works.
            eprintln!("created API key {name} in org {org}; it is shown only this once");
            println!("{key}");
            Ok(())
        }
        Command::RunJobs { now } => {
            let now = match now {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .with_context(|| format!("--now must be an RFC 3339 instant, got {t}"))?
                    .with_timezone(&chrono::Utc),
                None => chrono::Utc::now(),
            };
            let store = Store::open(&settings.database_url).await?;
            let report = run_jobs(&store, &settings, now).await?;
            println!("{report}");
            store.close().await;
            Ok(())
        }
    }
}

/// `run-jobs`: queued background jobs, then reminders and outbox delivery, as of `now`.
pub async fn run_jobs(
    store: &Store,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<crate::scheduler::RunReport> {
    let jobs = crate::app::jobs::Jobs::new(store.clone());
    let mut ran = 0;
    while jobs.run_once(now).await?.is_some() {
        ran += 1;
    }
    let mut report = crate::scheduler::Scheduler::new(store.clone(), settings)?
        .run_once(now)
        .await?;
    report.jobs_run = ran;
    Ok(report)
}

/// Creates an API key in the existing org `org`, optionally bound to the consumer named
/// `consumer`; returns the key in clear (it cannot be read back later).
pub async fn create_api_key(
    store: &Store,
    org: &str,
    name: &str,
    consumer: Option<&str>,
    rate_limit: u32,
) -> anyhow::Result<String> {
    let name = api_key::parse_key_name("name", name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rate_limit = api_key::parse_rate_limit("rate-limit", &rate_limit.to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let org_row = store
        .find_org_by_name(org)
        .await?
        .with_context(|| format!("there is no org named {org:?}"))?;
    let consumer_id = match consumer {
        None => None,
        Some(c) => Some(
            store
                .list_consumers(org_row.id)
                .await?
                .into_iter()
                .find(|row| row.name == c)
                .map(|row| row.id)
                .with_context(|| {
                    format!("there is no campaign or program named {c:?} in org {org:?}")
                })?,
        ),
    };
    let (_, key) = store
        .create_api_key(
            org_row.id,
            &name,
            consumer_id,
            rate_limit,
            &Actor::system("cli"),
        )
        .await
        .context("creating the API key")?;
    Ok(key)
}

/// Creates the org if missing, then an admin user in it.
pub async fn create_admin(
    store: &Store,
    org: &OrgSettings,
    email: &str,
    password: &str,
) -> anyhow::Result<(String, String)> {
    let email =
        crate::domain::user::Email::parse("email", email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = NewPassword::parse("password", password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = Actor::system("cli");
    let org_row = match store.find_org_by_name(&org.name).await? {
        Some(o) => o,
        None => store.create_org(org, &actor).await?,
    };
    let hash = passwords::hash(password.expose().to_string()).await?;
    let user = NewUser {
        email: email.clone(),
        name: "Administrator".into(),
        password_hash: hash,
        role: Role::Admin,
    };
    store
        .create_user(org_row.id, &user, &actor)
        .await
        .context("creating the admin")?;
    Ok((org_row.name, email.to_string()))
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(?settings, "starting");
    let app = Application::build(settings.clone()).await?;
    if app.store().count_users().await? == 0 {
        // First start: make an admin so that nobody needs a third command to get in.
        let password = passwords::generate();
        let org = OrgSettings {
            name: "My Organisation".into(),
            currency: Currency::parse("currency", "INR").map_err(|e| anyhow::anyhow!("{e}"))?,
            time_zone: chrono_tz::Asia::Kolkata,
        };
        let (_, email) =
            create_admin(app.store(), &org, "admin@offerdesk.local", &password).await?;
        println!();
        println!(
            "  No users yet, so an admin was created. Sign in at {}/login",
            settings.base_url
        );
        println!("    email:    {email}");
        println!("    password: {password}");
        println!("  (change it under Account; add people under Users)");
        println!();
    }
    println!(
        "offerdesk is serving on http://{} ({})",
        display_bind(&settings.bind, app.port()),
        app.store().backend_name()
    );
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

fn display_bind(bind: &str, port: u16) -> String {
    match bind.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => bind.to_string(),
    }
}
