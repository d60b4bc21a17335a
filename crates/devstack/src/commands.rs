//! The commands that work on a running stack: seed, reset, report, and the measurements of the
//! stand-ins themselves (ceilings, footprint).

use devstack::emulator::workspace_root;
use devstack::serve::PREFIX;
use devstack::stackenv::{StackEnv, state_dir};
use devstack::{DevError, Result, Topology, provision, report, sdk_config, seed};
use std::path::PathBuf;
use std::time::Duration;

/// `seed`: writes the reference data that is missing.
pub async fn seed() -> Result<()> {
    with_stack(|sdk, r, _| async move {
        let report = seed::seed(
            &aws_sdk_dynamodb::Client::new(&sdk),
            &Topology::system()?,
            &r,
        )
        .await?;
        println!(
            "seed: {} items written, {} already present",
            report.written, report.already_present
        );
        Ok(())
    })
    .await
}

/// `reset`: empties the queues, restores the reference data, clears processing state and the
/// notifications received.
pub async fn reset() -> Result<()> {
    with_stack(|sdk, r, env| async move {
        let topology = Topology::system()?;
        // Queues first: a message still on its way would write state into the cleared tables.
        seed::empty_queues(&aws_sdk_sqs::Client::new(&sdk), &r).await?;
        let report = seed::reset(&aws_sdk_dynamodb::Client::new(&sdk), &topology, &r).await?;
        let notify = env.get("NOTIFY_URL")?;
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

/// `report [--all]`: the running stack's tables (a screenful each, or every row), notifications
/// and dead letters.
pub async fn report(all: bool) -> Result<()> {
    let rows = if all { usize::MAX } else { report::SCREENFUL };
    with_stack(|sdk, r, env| async move {
        let notify = env.get("NOTIFY_URL")?;
        let topology = Topology::system()?;
        let snapshot = report::snapshot(&sdk, &topology, &r, &notify).await?;
        print!("{}", report::render_at_most(&snapshot, rows));
        Ok(())
    })
    .await
}

/// `ceilings [CLIENTS] [SECONDS]`: the emulators' and the function path's own ceilings at
/// CLIENTS concurrent callers for SECONDS each; the table on stdout, the figures in
/// `target/load/ceilings/report.json`.
pub async fn ceilings(clients: usize, seconds: u64) -> Result<()> {
    with_stack(|sdk, r, env| async move {
        let invoke_api = env.get("LAMBDA_RUNTIME_URL")?;
        let path = workspace_root().join("events/api-handler/get-user-rentals.json");
        let event = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|e| DevError::Setup(format!("{}: {e}", path.display())))?;
        let messaging = env.optional("DEVSTACK_MESSAGING").unwrap_or("SQS");
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
/// `FOOTPRINT_BIN_DIR`) fed `events/<function>/footprint.json` INVOCATIONS times against the
/// running stack; the table on stdout, the figures in `target/footprint/report.json`. Fails if
/// a function answers an invocation with an error.
pub async fn footprint(invocations: usize) -> Result<()> {
    use devstack::footprint::{Subject, measure, render};
    let root = workspace_root();
    let bin_dir = std::env::var_os("FOOTPRINT_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release"));
    let functions_env = StackEnv::read_file(&state_dir().join("functions.env"))?;
    let env: Vec<(String, String)> = functions_env.vars().clone().into_iter().collect();
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

/// Runs `f` against the running stack: its SDK config, its resources, its env file.
async fn with_stack<F, Fut>(f: F) -> Result<()>
where
    F: FnOnce(aws_config::SdkConfig, provision::Resources, StackEnv) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let env = StackEnv::read()?;
    let sdk = sdk_config(&env.endpoints()?).await;
    // Provisioning is idempotent: here it only looks the resources up.
    let resources = provision(&sdk, &Topology::system()?, PREFIX).await?;
    f(sdk, resources, env).await
}
