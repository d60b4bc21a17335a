//! `load SCENARIO [goose options]` — see the README's "Load".
//!
//! Runs a goose attack of one flow's clients (or all of them, `mixed`) against `--host`
//! (default: `API_URL`, else the local stack's `.devstack/env`), then checks through the API that
//! everything it accepted was done, and writes `summary.txt`, `report.json` and `latency.svg`
//! (and goose's own HTML report) under `target/load/<scenario>/`. Exits non-zero when a request
//! was lost to transport, a timeout or a 5xx, or an invariant does not hold.

use load::{auth, harness, hops, pace, record, report, scenario, stack};

use clap::Parser;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "load",
    about = "Load scenarios per flow, with invariants checked afterwards"
)]
struct Cli {
    /// A flow's scenario (rentals has two: reads, returns) or mixed, every one weighted; an
    /// unknown name is refused with the list
    scenario: String,
    #[command(flatten)]
    credentials: auth::Credentials,
    /// The open model: every user sends this many requests a second, whatever the answers
    /// take (500 users × 1 = 500 requests/s offered). Without it each user sends its next
    /// request as soon as the last is answered: a closed loop, which measures a ceiling.
    #[arg(long)]
    rate: Option<f64>,
    /// How long accepted work may take to be done after the load stops.
    #[arg(long, default_value_t = 180)]
    settle_secs: u64,
    /// The share of requests (0.005 = 0.5 %) that may end in a transport error, a timeout or a
    /// 5xx for the run to pass; 0 (the default) allows none.
    #[arg(long, default_value_t = 0.0)]
    error_budget: f64,
    /// Measure only (for a target that processes nothing, such as the router alone).
    #[arg(long)]
    skip_invariants: bool,
    /// Print the settings the scenario(s) ask of a local stack started for the run
    /// (`NAME=VALUE` lines) and exit.
    #[arg(long)]
    stack_settings: bool,
    /// Where the reports go (a folder per scenario).
    #[arg(long, default_value = "target/load")]
    out: PathBuf,
    #[command(flatten)]
    goose: GooseConfiguration,
}

/// The API to load: `--host`, `API_URL`, or the running local stack's.
fn api_url(cli: &Cli) -> Result<String, String> {
    let given = cli.goose.host.clone().filter(|h| !h.is_empty());
    stack::api_url(given.or_else(|| std::env::var("API_URL").ok()))
}

/// Whether the API runs on this machine, so that its processes can be read.
fn is_local(api: &str) -> bool {
    let host = api
        .split("://")
        .nth(1)
        .unwrap_or(api)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

async fn run(cli: Cli) -> Result<bool, String> {
    let api = api_url(&cli)?;
    let h = Arc::new(harness(&cli, &api).await?);
    let chosen = scenario::chosen(&cli.scenario)?;
    let dir = cli.out.join(&cli.scenario);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let users = cli.goose.users.unwrap_or(500);

    let local = is_local(&api);
    let faults_url = local.then(injected_faults_url).flatten();
    let faults_before = match &faults_url {
        Some(url) => fault_counts(url).await,
        None => None,
    };
    let before = local.then(hops::Snapshot::take);
    attack(&cli, &api, &h, &chosen, &dir).await?;

    let samples = h.recorder.samples();
    let cpu = before
        .map(|before| {
            hops::split(
                &before,
                &hops::Snapshot::take(),
                samples.len(),
                hops::TICKS_PER_SECOND,
            )
        })
        .unwrap_or_default();
    eprintln!(
        "load: {} requests sent; {} accepted items to check (for up to {} s)",
        samples.len(),
        chosen.iter().map(|s| s.accepted()).sum::<usize>(),
        cli.settle_secs
    );
    let checks = if cli.skip_invariants {
        vec![]
    } else {
        check(&h, &chosen, Duration::from_secs(cli.settle_secs)).await?
    };
    let mut summary = report::Summary::new(&cli.scenario, &api, users, &samples, checks);
    summary.hops = cpu;
    summary.error_budget = cli.error_budget;
    summary.offered = h.pacer.as_ref().map(|p| report::Offered {
        per_user: p.per_user(),
        requests_per_second: p.per_user() * users as f64,
        late: p.late(),
    });
    if let (Some(url), Some(before)) = (&faults_url, faults_before) {
        summary.injected_faults = fault_counts(url)
            .await
            .map(|after| fault_delta(&before, &after));
    }
    write_reports(&cli, &api, &dir, &summary, &samples)?;
    print_summary(&summary, &dir);
    Ok(summary.passed())
}

/// The run's harness: the API, its authentication ([`auth::Credentials`]), the open model's
/// pacer (`--rate`).
async fn harness(cli: &Cli, api: &str) -> Result<harness::Harness, String> {
    let auth = cli.credentials.auth(api).await?;
    let pacer = match cli.rate {
        None => None,
        Some(rate) => Some(
            pace::Pacer::new(rate)
                .ok_or_else(|| format!("--rate {rate}: a positive number of requests a second"))?,
        ),
    };
    Ok(harness::Harness::new(api.to_owned(), auth, pacer))
}

/// The goose attack of the chosen scenarios (each weighted when there are several), after each
/// one's setup.
async fn attack(
    cli: &Cli,
    api: &str,
    h: &Arc<harness::Harness>,
    chosen: &[Arc<dyn scenario::Scenario>],
    dir: &std::path::Path,
) -> Result<(), String> {
    let mut attack =
        GooseAttack::initialize_with_config(cli.goose.clone()).map_err(|e| e.to_string())?;
    for s in chosen {
        let weight = if chosen.len() > 1 { s.weight() } else { 1 };
        attack = attack.register_scenario(scenario::goose(s.clone(), weight, h)?);
        s.setup(h).await?;
    }
    let report = dir.join("goose.html");
    let goose_error = |e: GooseError| e.to_string();
    attack
        .set_default(GooseDefault::Host, api)
        .map_err(goose_error)?
        .set_default(GooseDefault::Users, 500)
        .map_err(goose_error)?
        .set_default(GooseDefault::IncreaseRate, "100")
        .map_err(goose_error)?
        .set_default(GooseDefault::RunTime, 60)
        .map_err(goose_error)?
        .set_default(GooseDefault::NoPrintMetrics, true)
        .map_err(goose_error)?
        .set_default(GooseDefault::ReportFile, report.to_string_lossy().as_ref())
        .map_err(goose_error)?
        .execute()
        .await
        .map_err(goose_error)?;
    Ok(())
}

/// Every chosen scenario's checks, read through the API. The scenarios wait for their work
/// side by side: a check's wait (the fitness timers' window, a drain of the task groups) counts
/// from the end of the attack, not from the end of the checks before it.
async fn check(
    h: &harness::Harness,
    chosen: &[Arc<dyn scenario::Scenario>],
    settle: Duration,
) -> Result<Vec<harness::Check>, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let each = futures::future::join_all(chosen.iter().map(|s| s.check(h, &http, settle))).await;
    Ok(each.into_iter().flatten().collect())
}

/// What the fault injector injected between two of its counts.
fn fault_delta(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let d = |k: &str| {
        after[k]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(before[k].as_u64().unwrap_or(0))
    };
    serde_json::json!({"conflicts": d("conflicts"), "throttles": d("throttles"),
                       "server_errors": d("server_errors"), "lost_answers": d("lost_answers"),
                       "forwarded": d("forwarded")})
}

fn write_reports(
    cli: &Cli,
    api: &str,
    dir: &std::path::Path,
    summary: &report::Summary,
    samples: &[record::Sample],
) -> Result<(), String> {
    let title = format!("{} against {api}: latency per second", cli.scenario);
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write("latency.svg", report::chart(&title, samples))?;
    write(
        "report.json",
        serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?,
    )?;
    write("summary.txt", format!("{}\n", summary.line()))
}

fn print_summary(summary: &report::Summary, dir: &std::path::Path) {
    for check in &summary.invariants {
        let verdict = if check.passed() { "ok  " } else { "FAIL" };
        println!("  {verdict} {} ({} checked)", check.name, check.checked);
        for failure in check.failures.iter().take(10) {
            println!("       {failure}");
        }
    }
    if !summary.hops.is_empty() {
        print!(
            "CPU per hop during the attack:\n{}",
            hops::render(&summary.hops)
        );
    }
    if let Some(f) = &summary.injected_faults {
        println!("injected into DynamoDB calls during the run (the functions retried each): {f}");
    }
    println!("{}", summary.line());
    println!("report: {}", dir.display());
}

/// The local stack's fault injector, when it runs (`DEVSTACK_DYNAMODB_FAULTS`).
fn injected_faults_url() -> Option<String> {
    stack::value("DEVSTACK_FAULTS_URL")
}

async fn fault_counts(url: &str) -> Option<serde_json::Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if cli.stack_settings {
        match scenario::chosen(&cli.scenario) {
            Ok(chosen) => {
                let settings: std::collections::BTreeMap<_, _> = chosen
                    .iter()
                    .flat_map(|s| s.stack_settings().iter().copied())
                    .collect();
                for (name, value) in settings {
                    println!("{name}={value}");
                }
                return;
            }
            Err(e) => {
                eprintln!("load: {e}");
                std::process::exit(2);
            }
        }
    }
    match run(cli).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    }
}
