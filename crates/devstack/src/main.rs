//! `devstack serve | seed | reset | replay FILE... | report` — see the README's "Local stack".

#![recursion_limit = "256"]

use devstack::bridge::{API_CONCURRENCY, Bridge, Invoker, Limited, limits};
use devstack::emulator::{Emulator, Messaging, workspace_root};
use devstack::faults::{FaultProxy, Faults};
use devstack::runtime::LocalLambda;
use devstack::sink::Sink;
use devstack::{
    DevError, Endpoints, Result, Topology, gateway, provision, report, sdk_config, seed,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

mod fitness;
mod orders;
mod submit;

/// Prefix of every resource the local stack creates.
const PREFIX: &str = "local-";
const API_FUNCTION: &str = "api-handler";

struct Ports {
    messaging: u16,
    dynamodb: u16,
    lambda: u16,
    api: u16,
    notify: u16,
}

/// A number from the environment (a port, a limit), or `default`.
fn number<T>(var: &'static str, default: T) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    platform::config::parsed_or(var, default).map_err(|e| DevError::Setup(e.to_string()))
}

impl Ports {
    fn from_env() -> Result<Self> {
        Ok(Self {
            messaging: number("DEVSTACK_MESSAGING_PORT", 4566)?,
            dynamodb: number("DEVSTACK_DYNAMODB_PORT", 8000)?,
            lambda: number("DEVSTACK_LAMBDA_PORT", 9000)?,
            api: number("DEVSTACK_API_PORT", 3000)?,
            notify: number("DEVSTACK_NOTIFY_PORT", 3001)?,
        })
    }
}

/// Where the stack keeps its logs and `env` file: `.devstack/`, or `DEVSTACK_DIR` (tests run a
/// stack of their own beside a running one).
fn state_dir() -> PathBuf {
    std::env::var_os("DEVSTACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".devstack"))
}

#[tokio::main]
async fn main() {
    platform::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve().await,
        Some("seed") => {
            with_stack(|sdk, r, _| async move {
                let report =
                    seed::seed(&aws_sdk_dynamodb::Client::new(&sdk), &Topology::system()?, &r)
                        .await?;
                println!(
                    "seed: {} items written, {} already present",
                    report.written, report.already_present
                );
                Ok(())
            })
            .await
        }
        Some("reset") => {
            with_stack(|sdk, r, env| async move {
                let topology = Topology::system()?;
                // Queues first: a message still on its way would write state into the cleared
                // tables.
                seed::empty_queues(&aws_sdk_sqs::Client::new(&sdk), &r).await?;
                let report =
                    seed::reset(&aws_sdk_dynamodb::Client::new(&sdk), &topology, &r).await?;
                let notify = env_value(&env, "NOTIFY_URL")?;
                reqwest::Client::new()
                    .delete(format!("{notify}/v1/notify"))
                    .send()
                    .await?;
                println!(
                    "reset: reference data restored ({} items), processing state cleared",
                    report.written
                );
                Ok(())
            })
            .await
        }
        Some("replay") => replay(&args[1..]).await,
        Some("formulas") => submit::formulas(&args[1..]).await,
        Some("tasks") => submit::tasks(&args[1..]).await,
        Some("fitness") => fitness::fitness(&args[1..]).await,
        Some("orders") => match args.get(1) {
            Some(file) => orders::orders(file).await,
            None => Err(DevError::Setup("usage: devstack orders SCENARIO.json".into())),
        },
        Some("dlq") => dead_letters().await,
        Some("redrive") => match args.get(1) {
            Some(queue) => redrive(queue).await,
            None => Err(DevError::Setup(
                "usage: devstack redrive QUEUE (a queue of topology.json, e.g. fitness-events)"
                    .into(),
            )),
        },
        Some("footprint") => footprint(&args[1..]).await,
        Some("ceilings") => ceilings(&args[1..]).await,
        Some("report") => print_report(args.get(1).map(String::as_str)).await,
        _ => Err(DevError::Setup(
            "usage: devstack serve | seed | reset | replay FILE... | formulas FILE... | tasks FILE... | orders SCENARIO | fitness FILE... | report [--all] | dlq | redrive QUEUE | footprint [INVOCATIONS] | ceilings [CLIENTS] [SECONDS]"
                .into(),
        )),
    };
    if let Err(e) = result {
        // The whole error (an SDK's can run to pages) goes to the log; the terminal gets a line.
        let log = state_dir().join("logs").join("devstack-cli.log");
        let _ = std::fs::create_dir_all(state_dir().join("logs"));
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| {
                use std::io::Write;
                writeln!(f, "{} {args:?}: {e:?}", chrono::Utc::now().to_rfc3339())
            });
        eprintln!("devstack: {} (details in {})", e.summary(), log.display());
        std::process::exit(1);
    }
}

/// `report [--all]`: the running stack's tables (a screenful each, or every row), notifications
/// and dead letters.
async fn print_report(option: Option<&str>) -> Result<()> {
    let rows = match option {
        None => report::SCREENFUL,
        Some("--all") => usize::MAX,
        Some(other) => {
            return Err(DevError::Setup(format!(
                "usage: devstack report [--all], not {other:?}"
            )));
        }
    };
    with_stack(|sdk, r, env| async move {
        let notify = env_value(&env, "NOTIFY_URL")?;
        let topology = Topology::system()?;
        let snapshot = report::snapshot(&sdk, &topology, &r, &notify).await?;
        print!("{}", report::render_at_most(&snapshot, rows));
        Ok(())
    })
    .await
}

/// `ceilings [CLIENTS] [SECONDS]`: the emulators' and the function path's own ceilings at
/// CLIENTS (500) concurrent callers for SECONDS (10) each; the table on stdout, the figures in
/// `target/load/ceilings/report.json`.
async fn ceilings(args: &[String]) -> Result<()> {
    let arg = |i: usize, default: u64| -> Result<u64> {
        args.get(i).map_or(Ok(default), |a| {
            a.parse()
                .map_err(|_| DevError::Setup(format!("expected a number, not {a}")))
        })
    };
    let clients = arg(0, 500)? as usize;
    let seconds = arg(1, 10)?;
    with_stack(|sdk, r, env| async move {
        let invoke_api = env_value(&env, "LAMBDA_RUNTIME_URL")?;
        let path = workspace_root().join("events/api-handler/get-user-rentals.json");
        let event = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|e| DevError::Setup(format!("{}: {e}", path.display())))?;
        let messaging = env.get("DEVSTACK_MESSAGING").map_or("SQS", String::as_str);
        let rows = devstack::ceilings::measure(
            &sdk,
            &r,
            messaging,
            &invoke_api,
            event,
            clients,
            Duration::from_secs(seconds),
        )
        .await?;
        print!("{}", devstack::ceilings::render(&rows));
        let out = workspace_root().join("target/load/ceilings");
        std::fs::create_dir_all(&out)?;
        let report = serde_json::json!({"date": chrono::Utc::now().to_rfc3339(), "ceilings": rows});
        std::fs::write(out.join("report.json"), format!("{report:#}\n"))?;
        Ok(())
    })
    .await
}

/// `footprint [INVOCATIONS]`: every function's release binary (`target/release/`, or
/// `FOOTPRINT_BIN_DIR`) fed `events/<function>/footprint.json` INVOCATIONS times (1000)
/// against the running stack; the table on stdout, the figures in
/// `target/footprint/report.json`. Fails if a function answers an invocation with an error.
async fn footprint(args: &[String]) -> Result<()> {
    use devstack::footprint::{Subject, measure, render};
    let invocations = match args.first() {
        Some(n) => n
            .parse()
            .map_err(|_| DevError::Setup(format!("INVOCATIONS must be a number, not {n}")))?,
        None => 1000,
    };
    let root = workspace_root();
    let bin_dir = std::env::var_os("FOOTPRINT_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release"));
    let env: Vec<(String, String)> = read_env_file("functions.env")?.into_iter().collect();
    let mut rows = Vec::new();
    for function in Topology::system()?.functions {
        let name = function.name.as_str();
        let zip = root.join(format!("target/lambda/{name}/bootstrap.zip"));
        let subject = Subject {
            function: name,
            binary: bin_dir.join(name),
            event: root.join(format!("events/{name}/footprint.json")),
            env: &env,
            zip: zip.exists().then_some(zip),
        };
        rows.push(measure(&subject, invocations).await?);
    }
    print!("{}", render(&rows));
    let out = root.join("target/footprint");
    std::fs::create_dir_all(&out)?;
    let report = serde_json::json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "invocations": invocations,
        "functions": rows,
    });
    std::fs::write(out.join("report.json"), format!("{report:#}\n"))?;
    match rows.iter().find(|r| r.function_errors > 0) {
        Some(r) => Err(DevError::Setup(format!(
            "{} answered {} of {invocations} invocations with an error (see its sample event)",
            r.function, r.function_errors
        ))),
        None => Ok(()),
    }
}

/// A value `serve` writes to `.devstack/env`.
pub(crate) fn env_value(env: &BTreeMap<String, String>, name: &str) -> Result<String> {
    env.get(name)
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| {
            DevError::Setup(format!(
                "{name} is missing from .devstack/env: restart the stack (make down && make up)"
            ))
        })
}

/// Reads `.devstack/env` written by `serve`.
pub(crate) fn read_env() -> Result<BTreeMap<String, String>> {
    read_env_file("env")
}

/// Reads an env file `serve` wrote into the state directory (`env`, `functions.env`).
fn read_env_file(name: &str) -> Result<BTreeMap<String, String>> {
    let path = state_dir().join(name);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        DevError::Setup(format!(
            "{} not found: is the stack up? (make up)",
            path.display()
        ))
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

/// Runs `f` against the running stack: its SDK config, its resources, its env file.
async fn with_stack<F, Fut>(f: F) -> Result<()>
where
    F: FnOnce(aws_config::SdkConfig, provision::Resources, BTreeMap<String, String>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let env = read_env()?;
    let endpoints = Endpoints::from_vars(&env)?;
    let sdk = sdk_config(&endpoints).await;
    // Provisioning is idempotent: here it only looks the resources up.
    let resources = provision(&sdk, &Topology::system()?, PREFIX).await?;
    f(sdk, resources, env).await
}

/// The queues the DLQ commands work on: the local stack's when it is up, else the AWS
/// environment whose stacks are named `STACK_PREFIX` (e.g. `Rentals-dev`), with the credentials
/// and region of the usual AWS variables and profiles.
async fn operated_queues() -> Result<(aws_sdk_sqs::Client, String, &'static str)> {
    if let Ok(env) = read_env() {
        let endpoints = Endpoints::from_vars(&env)?;
        let sdk = sdk_config(&endpoints).await;
        return Ok((
            aws_sdk_sqs::Client::new(&sdk),
            PREFIX.to_owned(),
            "the local stack",
        ));
    }
    let stack = std::env::var("STACK_PREFIX").map_err(|_| {
        DevError::Setup(
            "no local stack (make up) and no STACK_PREFIX (e.g. Rentals-dev) naming an AWS environment"
                .into(),
        )
    })?;
    let sdk = platform::aws::sdk_config().await;
    Ok((aws_sdk_sqs::Client::new(&sdk), format!("{stack}-"), "AWS"))
}

async fn dead_letters() -> Result<()> {
    let (sqs, prefix, where_) = operated_queues().await?;
    let topology = Topology::system()?;
    println!("dead-letter queues of {where_} ({prefix}*):");
    println!(
        "  {:<16} {:>6}  {:<24}  sample",
        "queue", "count", "oldest sent"
    );
    for d in devstack::dlq::report(&sqs, &topology, &prefix).await? {
        let oldest = d
            .oldest_sent_ms
            .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "-".into());
        let sample: String = d.sample.unwrap_or_default().chars().take(160).collect();
        println!("  {:<16} {:>6}  {oldest:<24}  {sample}", d.queue, d.count);
    }
    Ok(())
}

async fn redrive(queue: &str) -> Result<()> {
    let (sqs, prefix, where_) = operated_queues().await?;
    let topology = Topology::system()?;
    let moved = devstack::dlq::redrive(&sqs, &topology, &prefix, queue).await?;
    println!("redrive {queue} ({where_}): {moved} messages moved from {queue}-dlq back to {queue}");
    Ok(())
}

fn write_env_file(path: &Path, vars: &BTreeMap<String, String>) -> Result<()> {
    let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)?;
    Ok(())
}

async fn serve() -> Result<()> {
    let started = Instant::now();
    let ports = Ports::from_env()?;
    let shares = devstack::chaos::check_env()?;
    if shares != devstack::chaos::Shares::default() {
        info!(?shares, "chaos: injecting failures around the functions");
    }
    let dir = state_dir();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let _ = std::fs::remove_file(dir.join("env"));

    let which = Messaging::from_env()?;
    let messaging_log = logs.join(format!("{}.log", which.name()));
    let dynamodb_log = logs.join("dynamodb-local.log");
    let (messaging, dynamodb) = tokio::try_join!(
        Emulator::messaging(which, ports.messaging, Some(&messaging_log)),
        Emulator::dynamodb_local(ports.dynamodb, Some(&dynamodb_log)),
    )?;
    info!(messaging = which.name(), sqs_sns = %messaging.endpoint, dynamodb = %dynamodb.endpoint, "emulators are up");
    let endpoints = Endpoints {
        messaging: messaging.endpoint.clone(),
        dynamodb: dynamodb.endpoint.clone(),
    };
    let sdk = sdk_config(&endpoints).await;
    // The functions reach DynamoDB through the fault injector when faults are asked for; the
    // stack's own tooling (seed, reset, report) never does.
    let mut faults_url = None;
    let functions_endpoints = match Faults::from_env()? {
        Some(faults) => {
            let proxy = FaultProxy::new(&dynamodb.endpoint, faults, seed_from_clock());
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let url = format!("http://{}", listener.local_addr()?);
            info!(?faults, %url, "injecting DynamoDB faults for the functions");
            tokio::spawn(devstack::faults::serve(listener, proxy));
            faults_url = Some(format!("{url}/faults"));
            Endpoints {
                dynamodb: url,
                ..endpoints.clone()
            }
        }
        None => endpoints.clone(),
    };
    let topology = Topology::system()?;
    let resources = provision(&sdk, &topology, PREFIX).await?;
    let seeded = seed::seed(&aws_sdk_dynamodb::Client::new(&sdk), &topology, &resources).await?;
    info!(written = seeded.written, "reference data seeded");

    let notify_url = format!("http://127.0.0.1:{}", ports.notify);
    let api_url = format!("http://127.0.0.1:{}", ports.api);
    let lambda_url = format!("http://127.0.0.1:{}", ports.lambda);

    let mut functions_env = resources.env.clone();
    for (k, v) in functions_endpoints.env() {
        functions_env.insert(k.into(), v.into());
    }
    // Passed through from `make up`'s environment, so a local run can use a short window.
    let nudge_after = std::env::var("FITNESS_NUDGE_AFTER_SECONDS")
        .unwrap_or_else(|_| domain::fitness::DEFAULT_NUDGE_AFTER_SECONDS.to_string());
    info!(seconds = %nudge_after, "fitness nudge window");
    functions_env.insert("FITNESS_NUDGE_AFTER_SECONDS".into(), nudge_after.clone());
    for (k, v) in [
        ("AWS_REGION", provision::REGION),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("NOTIFY_URL", notify_url.as_str()),
        // The local gateway uses stage "local"; routes do not include the stage.
        ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true"),
        ("RUST_LOG", "info"),
    ] {
        functions_env.insert(k.into(), v.into());
    }
    write_env_file(&dir.join("functions.env"), &functions_env)?;

    let sink = Arc::new(Sink::default());
    let sink_listener = tokio::net::TcpListener::bind(("127.0.0.1", ports.notify)).await?;
    tokio::spawn(devstack::sink::serve(sink_listener, sink));

    // Each function runs as many invocations at once as the topology gives it: a pool of its
    // own instances (the optimized build in target/debug, started on demand up to that many)
    // behind a Runtime API of devstack's, and one Invoke API (the `LAMBDA_RUNTIME_URL`) that
    // holds each function to its limit.
    let api_concurrency = number("DEVSTACK_API_CONCURRENCY", API_CONCURRENCY)?;
    let limits = limits(&topology, api_concurrency);
    let env: Vec<(String, String)> = functions_env.clone().into_iter().collect();
    let lambda =
        LocalLambda::start(&limits, &workspace_root().join("target/debug"), &env, &logs).await?;
    warm_up(&lambda, &topology).await?;
    let invoker = Arc::new(Limited::new(lambda, &limits));
    let invoke_listener = tokio::net::TcpListener::bind(("127.0.0.1", ports.lambda)).await?;
    tokio::spawn(devstack::bridge::serve_invoke_api(
        invoke_listener,
        invoker.clone(),
    ));

    let api_listener = tokio::net::TcpListener::bind(("127.0.0.1", ports.api)).await?;
    let throttle = gateway::Throttle::new(
        number("DEVSTACK_API_RATE_LIMIT", gateway::LOCAL_RATE_LIMIT)?,
        number("DEVSTACK_API_BURST_LIMIT", gateway::LOCAL_BURST_LIMIT)?,
    );
    let api_invoker = invoker.clone();
    let gw = gateway::Gateway::configured(
        move |function: String, payload: serde_json::Value| {
            let invoker = api_invoker.clone();
            async move { invoker.invoke(&function, payload).await }
        },
        API_FUNCTION,
        gateway::INTEGRATION_TIMEOUT,
        Some(throttle),
    );
    tokio::spawn(async move { axum::serve(api_listener, gw.router()).await });

    let bridge = Bridge::new(&sdk, &topology, &resources, which)?;
    tokio::spawn(bridge.run(invoker));

    let public_env: BTreeMap<String, String> = [
        ("API_URL", api_url.clone()),
        ("AWS_ENDPOINT_URL_SQS", endpoints.messaging.clone()),
        ("AWS_ENDPOINT_URL_SNS", endpoints.messaging.clone()),
        ("DEVSTACK_MESSAGING", which.name().to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoints.dynamodb.clone()),
        (
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
            endpoints.dynamodb.clone(),
        ),
        ("NOTIFY_URL", notify_url),
        ("LAMBDA_RUNTIME_URL", lambda_url),
        ("FITNESS_NUDGE_AFTER_SECONDS", nudge_after.clone()),
        // What the fault injector has injected (empty when faults are off).
        ("DEVSTACK_FAULTS_URL", faults_url.unwrap_or_default()),
        ("AWS_REGION", provision::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    write_env_file(&dir.join("env"), &public_env)?;
    info!(%api_url, seconds = started.elapsed().as_secs(), "local stack ready");

    wait_for_shutdown().await;
    info!("stopping");
    let _ = std::fs::remove_file(dir.join("env"));
    Ok(())
}

/// Invokes every function once with an empty batch, so each has an instance running before the
/// stack reports ready.
async fn warm_up(invoker: &impl Invoker, topology: &Topology) -> Result<()> {
    let functions: Vec<&str> = topology.functions.iter().map(|f| f.name.as_str()).collect();
    for function in functions {
        let payload = if function == API_FUNCTION {
            serde_json::json!({"httpMethod": "GET", "path": "/warm-up", "headers": {}, "requestContext": {"stage": "local", "httpMethod": "GET"}, "body": null, "isBase64Encoded": false, "resource": "/{proxy+}", "multiValueHeaders": {}, "queryStringParameters": null, "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null})
        } else {
            serde_json::json!({"Records": []})
        };
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match invoker.invoke(function, payload.clone()).await {
                Ok(_) => break,
                Err(e) if attempt < 120 => {
                    if attempt % 10 == 1 {
                        info!(function, error = %e, "waiting for the function");
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(DevError::Setup(format!("{function} did not start: {e}"))),
            }
        }
        info!(
            function,
            ms = started.elapsed().as_millis() as u64,
            "function ready"
        );
    }
    Ok(())
}

fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

async fn wait_for_shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Posts each return event file to the API in order and waits for each to be decided, then for
/// the asynchronous side effects to settle.
async fn replay(files: &[String]) -> Result<()> {
    let env = read_env()?;
    let api = env_value(&env, "API_URL")?;
    let http = reqwest::Client::new();
    let mut completed = std::collections::BTreeSet::new();
    println!(
        "== Replaying {} return events through {api} ==",
        files.len()
    );
    for file in files {
        let (name, status, answer) =
            submit::post_file(&http, &format!("{api}/rentals/returns"), file).await?;
        let Some(id) = answer["return_id"].as_str() else {
            println!("  {name:<28} HTTP {status} {answer}");
            continue;
        };
        let outcome = wait_decided(&http, &api, id).await?;
        if outcome["status"] == "completed" {
            completed.insert(id.to_owned());
        }
        let detail = outcome["rental_id"]
            .as_str()
            .or(outcome["reason"].as_str())
            .unwrap_or("");
        println!(
            "  {name:<28} HTTP {status} {id}  {} {detail}",
            outcome["status"].as_str().unwrap_or("?")
        );
    }
    wait_side_effects(&http, &env, completed.len()).await
}

async fn wait_decided(http: &reqwest::Client, api: &str, id: &str) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: serde_json::Value = http
            .get(format!("{api}/rentals/returns/{id}"))
            .send()
            .await?
            .json()
            .await?;
        if v["status"] != "pending" || Instant::now() > deadline {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Notifications and stats follow completions asynchronously (outbox → relay → topic → queues).
async fn wait_side_effects(
    http: &reqwest::Client,
    env: &BTreeMap<String, String>,
    completed: usize,
) -> Result<()> {
    let notify = env_value(env, "NOTIFY_URL")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received: Vec<serde_json::Value> = http
            .get(format!("{notify}/v1/notify"))
            .send()
            .await?
            .json()
            .await?;
        if received.len() >= completed {
            return Ok(());
        }
        if Instant::now() > deadline {
            println!(
                "  (still waiting for notifications: {} of {completed})",
                received.len()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
