use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    offerdesk::telemetry::init();
    offerdesk::cli::run(offerdesk::cli::Cli::parse()).await
}
