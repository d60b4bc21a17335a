//! `demo <flow> [FILE...]` | `demo all`: a flow's demo step against the running API (the local
//! stack's, from `.devstack/env`); `make demo` runs `demo all`. See `docs/local-stack.md`.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "demo",
    about = "A flow's demo step against the running API: its sample requests and what became of them"
)]
struct Cli {
    /// A flow (rentals, formulas, tasks, orders, fitness) or `all`.
    flow: String,
    /// The files to post; the flow's samples (`events/demo-<flow>/`) when none are given.
    files: Vec<String>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = if cli.flow == "all" && cli.files.is_empty() {
        load::demo::all().await
    } else {
        load::demo::run(&cli.flow, cli.files).await
    };
    if let Err(e) = result {
        eprintln!("demo: {}", e.summary());
        std::process::exit(1);
    }
}
