//! `ops`: operator commands against a deployed environment, or the local stack when it is up.

use clap::{Parser, Subcommand};
use devstack::stackenv::StackEnv;
use ops::{OpsError, Result};
use platform::topology::Topology;

#[derive(Parser)]
#[command(
    name = "ops",
    about = "Dead letters of a deployed environment (STACK_PREFIX, e.g. Rentals-dev, with the usual AWS credentials) or of the local stack when it is up"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What sits in each dead-letter queue: count, oldest, a sample.
    Dlq,
    /// Moves QUEUE's dead letters back to QUEUE (a queue of topology.json, e.g. fitness-events).
    Redrive { queue: String },
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    platform::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dlq => dead_letters().await,
        Command::Redrive { queue } => redrive(&queue).await,
    };
    if let Err(e) = result {
        eprintln!("ops: {e}");
        std::process::exit(1);
    }
}

/// The queues to work on: the local stack's when it is up, else the AWS environment whose
/// stacks are named `STACK_PREFIX`, with the credentials and region of the usual AWS variables
/// and profiles.
async fn operated_queues() -> Result<(aws_sdk_sqs::Client, String, &'static str)> {
    if let Ok(env) = StackEnv::read() {
        let endpoints = env.endpoints().map_err(|e| OpsError(e.to_string()))?;
        let sdk = devstack::sdk_config(&endpoints).await;
        let prefix = devstack::serve::PREFIX.to_owned();
        return Ok((aws_sdk_sqs::Client::new(&sdk), prefix, "the local stack"));
    }
    let stack = std::env::var("STACK_PREFIX").map_err(|_| {
        OpsError(
            "no local stack (make up) and no STACK_PREFIX (e.g. Rentals-dev) naming an AWS environment"
                .into(),
        )
    })?;
    let sdk = platform::aws::sdk_config().await;
    Ok((aws_sdk_sqs::Client::new(&sdk), format!("{stack}-"), "AWS"))
}

fn topology() -> Result<Topology> {
    Topology::system().map_err(|e| OpsError(e.to_string()))
}

async fn dead_letters() -> Result<()> {
    let (sqs, prefix, where_) = operated_queues().await?;
    println!("dead-letter queues of {where_} ({prefix}*):");
    println!(
        "  {:<16} {:>6}  {:<24}  sample",
        "queue", "count", "oldest sent"
    );
    for d in ops::report(&sqs, &topology()?, &prefix).await? {
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
    let moved = ops::redrive(&sqs, &topology()?, &prefix, queue).await?;
    println!("redrive {queue} ({where_}): {moved} messages moved from {queue}-dlq back to {queue}");
    Ok(())
}
