//! `demo <flow> [FILE...]` | `demo all`: a flow's demo step against the running API (the local
//! stack's, from `.devstack/env`); `make demo` runs `demo all`. See `docs/local-stack.md`.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "demo",
    about = "A flow's demo step against the running API: its sample requests and what became of them"
)]
struct Cli {
    /// A flow with a demo step, or `all` (an unknown name is refused with the list).
    flow: String,
    /// The files to post; the flow's samples (`events/demo-<flow>/`) when none are given.
    files: Vec<String>,
    /// Print the settings the step(s) ask of a stack started for them (`NAME=VALUE` lines) and
    /// exit.
    #[arg(long)]
    stack_settings: bool,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if cli.stack_settings {
        for (name, value) in load::demo::stack_settings(&cli.flow) {
            println!("{name}={value}");
        }
        return;
    }
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
