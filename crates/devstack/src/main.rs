//! `devstack`: the local stack (serve, seed, reset, report). See the README's "Local stack".

#![recursion_limit = "256"]

mod commands;

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
    /// Prints an ID token of the local user pool for the fitness app's user USER_ID (valid 1 h),
    /// for the `Authorization` header of the app's routes.
    Token { user_id: String },
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
        Command::Token { user_id } => commands::token(&user_id),
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
