//! `smoke [FLOW...]`: each flow's smoke step against a stage (`--host`, `API_URL`, or the running
//! local stack), authenticated as the stage's clients are; exits non-zero when one fails. See
//! `docs/operations.md`, "Smoke run".

use clap::Parser;
use load::{auth, smoke};
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "smoke",
    about = "One short authenticated request sequence per flow against a stage, each with its invariant"
)]
struct Cli {
    /// Flows to run (every flow's when none; an unknown name is refused with the list).
    flows: Vec<String>,
    /// The stage's API (default: `API_URL`, else the running local stack's).
    #[arg(long, env = "API_URL")]
    host: Option<String>,
    #[command(flatten)]
    credentials: auth::Credentials,
    /// How long a step waits for the work it queued.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("smoke: {e}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> Result<bool, String> {
    let api = load::stack::api_url(cli.host.clone())?;
    let auth = cli.credentials.auth(&api).await?;
    let stage = smoke::Stage::new(api.clone(), auth, Duration::from_secs(cli.timeout_secs))?;
    println!(
        "smoke run {} against {api}, app user {}",
        stage.run, stage.app_user
    );
    let outcomes = smoke::run(&stage, &cli.flows).await?;
    for o in &outcomes {
        let (verdict, line) = match &o.result {
            Ok(line) => ("PASS", line),
            Err(line) => ("FAIL", line),
        };
        println!(
            "  {:<9} {verdict}  {line}  [{}]",
            o.flow,
            smoke::seconds(o.took)
        );
    }
    let passed = outcomes.iter().filter(|o| o.result.is_ok()).count();
    println!("smoke: {passed} of {} flows passed", outcomes.len());
    Ok(passed == outcomes.len())
}
