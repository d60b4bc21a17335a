//! `measure footprint [INVOCATIONS]` | `measure ceilings [CLIENTS] [SECONDS]`: what the local
//! stack itself costs and carries, measured against the running stack (`make up`): each
//! function's release binary under devstack's Runtime API (`make footprint`), and the
//! stand-ins' own ceilings, which `make load` records beside its run. See `docs/load.md`.

use clap::{Parser, Subcommand};
use devstack::emulator::workspace_root;
use devstack::stackenv::{StackEnv, state_dir};
use devstack::{DevError, Result, Topology, with_stack};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "measure",
    about = "The local stack's own footprint and ceilings"
)]
struct Cli {
    /// Where the report goes (`report.json`): `target/footprint` or `target/load/ceilings` under
    /// the workspace unless given.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every function's release binary, its memory and time per invocation.
    Footprint {
        #[arg(default_value_t = 1000)]
        invocations: usize,
    },
    /// The stand-ins' own ceilings at CLIENTS concurrent callers for SECONDS each.
    Ceilings {
        #[arg(default_value_t = 500)]
        clients: usize,
        #[arg(default_value_t = 10)]
        seconds: u64,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Footprint { invocations } => {
            let out = cli.out.unwrap_or_else(|| root.join("target/footprint"));
            footprint(invocations, out).await
        }
        Command::Ceilings { clients, seconds } => {
            let out = cli.out.unwrap_or_else(|| root.join("target/load/ceilings"));
            ceilings(clients, seconds, out).await
        }
    };
    if let Err(e) = result {
        eprintln!("measure: {}", e.summary());
        std::process::exit(1);
    }
}

/// `ceilings [CLIENTS] [SECONDS]`: the emulators' and the function path's own ceilings at
/// CLIENTS concurrent callers for SECONDS each; the table on stdout, the figures in
/// `out/report.json`.
async fn ceilings(clients: usize, seconds: u64, out: PathBuf) -> Result<()> {
    with_stack(|sdk, r, env| async move {
        let invoke_api = env.get("LAMBDA_RUNTIME_URL")?;
        let path = workspace_root().join("events/api-handler/get-user-rentals.json");
        let event = serde_json::from_slice(&std::fs::read(&path)?)
            .map_err(|e| DevError::Setup(format!("{}: {e}", path.display())))?;
        let messaging = env.optional("DEVSTACK_MESSAGING").unwrap_or("SQS");
        let rows = load::ceilings::measure(
            &sdk,
            &r,
            messaging,
            &invoke_api,
            event,
            clients,
            Duration::from_secs(seconds),
        )
        .await?;
        print!("{}", load::ceilings::render(&rows));
        std::fs::create_dir_all(&out)?;
        let report = serde_json::json!({"date": chrono::Utc::now().to_rfc3339(), "ceilings": rows});
        std::fs::write(out.join("report.json"), format!("{report:#}\n"))?;
        Ok(())
    })
    .await
}

/// `footprint [INVOCATIONS]`: every function's release binary (`target/release/`, or
/// `FOOTPRINT_BIN_DIR`) fed `events/<function>/footprint.json` INVOCATIONS times against the
/// running stack; the table on stdout, the figures in `out/report.json`. Fails if a function
/// answers an invocation with an error.
async fn footprint(invocations: usize, out: PathBuf) -> Result<()> {
    use load::footprint::{Subject, measure, render};
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
