//! `devstack`: the local stack (serve, seed, reset, report), each flow's demo step, and the
//! stand-ins' own measurements. See the README's "Local stack".

#![recursion_limit = "256"]

mod commands;
mod demo;

use clap::{Parser, Subcommand};
use devstack::stackenv::state_dir;

#[derive(Parser)]
#[command(
    name = "devstack",
    about = "The local stack: AWS stand-ins, the functions, the API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the whole stack until stopped (`make up` starts it in the background).
    Serve,
    /// Writes the reference data that is missing.
    Seed,
    /// Empties the queues, restores the reference data and clears processing state.
    Reset,
    /// The tables, notifications and dead letters of the running stack.
    Report {
        /// Every row, not a screenful per table.
        #[arg(long)]
        all: bool,
    },
    /// A flow's demo step against the running API (`all`: every flow's, with its samples).
    Demo {
        /// A flow (rentals, formulas, tasks, orders, fitness) or `all`.
        flow: String,
        /// The files to post; the flow's samples (`events/demo-<flow>/`) when none are given.
        files: Vec<String>,
    },
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
    platform::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => devstack::serve::serve().await,
        Command::Seed => commands::seed().await,
        Command::Reset => commands::reset().await,
        Command::Report { all } => commands::report(all).await,
        Command::Demo { flow, files } if flow == "all" && files.is_empty() => demo::all().await,
        Command::Demo { flow, files } => demo::run(&flow, files).await,
        Command::Footprint { invocations } => commands::footprint(invocations).await,
        Command::Ceilings { clients, seconds } => commands::ceilings(clients, seconds).await,
    };
    if let Err(e) = result {
        // The whole error (an SDK's can run to pages) goes to the log; the terminal gets a line.
        let logs = state_dir().join("logs");
        let log = logs.join("devstack-cli.log");
        let _ = std::fs::create_dir_all(&logs);
        let args: Vec<String> = std::env::args().skip(1).collect();
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
