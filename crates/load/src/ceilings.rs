//! `measure ceilings`: what the emulators and the function path can do on their own, measured
//! against the running stack with the project's own clients, so that a load run through the
//! gateway can be read against them:
//! - DynamoDB Local: the rentals-by-user query the reads route makes, through the project's own
//!   `DynamoRentalStore`;
//! - the messaging emulator: `SendMessage` to a FIFO queue of its own (created and deleted
//!   here), as the API does for every return scan and fitness app event, into an empty queue and with 1,000 queued;
//! - the Lambda path without the gateway: api-handler invoked through the local Invoke API
//!   (runtime API, function, DynamoDB Local) with its sample read event.
//!
//! Each runs `clients` callers (the SQS ones 16 senders) in a closed loop for a fixed time.

use devstack::{DevError, Result};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One ceiling: a call, hammered by `clients` callers for a while.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub name: String,
    pub clients: usize,
    pub calls: usize,
    pub errors: usize,
    pub seconds: f64,
    pub calls_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Runs `call` from `clients` concurrent callers, each starting the next call when its last
/// one answered, until `duration` has passed; `call` says whether it succeeded.
pub async fn hammer<F, Fut>(name: &str, clients: usize, duration: Duration, call: F) -> Ceiling
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut n = 0;
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    if !call(client * 1_000_000 + n).await {
                        errors += 1;
                    }
                    latencies.push(begun.elapsed());
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((l, e)) = task.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ceiling {
        name: name.to_string(),
        clients,
        calls: latencies.len(),
        errors,
        seconds,
        calls_per_second: latencies.len() as f64 / seconds.max(f64::EPSILON),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    }
}

/// The ceilings against the running stack.
pub async fn measure(
    sdk: &aws_config::SdkConfig,
    resources: &devstack::Resources,
    messaging: &str,
    invoke_api: &str,
    read_event: serde_json::Value,
    clients: usize,
    duration: Duration,
) -> Result<Vec<Ceiling>> {
    use domain::ids::UserId;
    use domain::rentals::ports::RentalStore;
    use platform::dynamo::rental_store::{DynamoRentalStore, RentalTables};

    let tables = RentalTables {
        users: resources.table("users")?.to_owned(),
        assets: resources.table("assets")?.to_owned(),
        rentals: resources.table("rentals")?.to_owned(),
        returns: resources.table("returns")?.to_owned(),
        outbox: resources.table("outbox")?.to_owned(),
    };
    let store = Arc::new(DynamoRentalStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        tables,
    ));
    let user = UserId::parse("tpg_u0001").map_err(|e| DevError::Setup(e.to_string()))?;
    let dynamodb = hammer(
        "DynamoDB Local: rentals-by-user query",
        clients,
        duration,
        move |_| {
            let (store, user) = (store.clone(), user.clone());
            async move { store.rentals_of(&user).await.is_ok() }
        },
    )
    .await;

    let [sqs_empty, sqs_queued] = sqs_ceilings(sdk, messaging, duration).await?;
    let http = reqwest::Client::new();
    let url = format!("{invoke_api}/2015-03-31/functions/api-handler/invocations");
    let event = Arc::new(read_event);
    let lambda = hammer(
        "Invoke API: api-handler read (runtime API, function, DynamoDB Local)",
        clients,
        duration,
        move |_| {
            let (http, url, event) = (http.clone(), url.clone(), event.clone());
            async move {
                match http.post(url).json(&*event).send().await {
                    Ok(r) => {
                        r.status().is_success() && r.headers().get("x-amz-function-error").is_none()
                    }
                    Err(_) => false,
                }
            }
        },
    )
    .await;
    Ok(vec![dynamodb, sqs_empty, sqs_queued, lambda])
}

/// Senders of the SQS ceilings: as many as the issue that set the endpoint's target measured.
const SQS_SENDERS: usize = 16;
/// Message groups the SQS ceilings spread their sends over.
const SQS_GROUPS: usize = 50;
/// Messages already queued for the second SQS ceiling: an emulator that scans its queue per call
/// slows down as the queue grows; SQS does not.
const SQS_BACKLOG: usize = 1_000;

/// `SendMessage` to a FIFO queue of the ceilings' own (created, then deleted), from
/// [`SQS_SENDERS`] senders with distinct de-duplication ids: once into the empty queue, then
/// with [`SQS_BACKLOG`] messages waiting in it.
async fn sqs_ceilings(
    sdk: &aws_config::SdkConfig,
    backend: &str,
    duration: Duration,
) -> Result<[Ceiling; 2]> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue = sqs
        .create_queue()
        .queue_name(format!("local-ceiling-{:08x}.fifo", fastrand::u32(..)))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .map_err(|e| DevError::Setup(format!("cannot create the measuring queue: {e}")))?
        .queue_url
        .unwrap_or_default();
    let send = |round: usize| {
        let (client, url) = (sqs.clone(), queue.clone());
        move |n: usize| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                client
                    .send_message()
                    .queue_url(url)
                    .message_body(format!("{{\"n\":{n}}}"))
                    .message_group_id(format!("g{}", n % SQS_GROUPS))
                    .message_deduplication_id(format!("{round}-{n}"))
                    .send()
                    .await
                    .is_ok()
            }
        }
    };
    let empty = hammer(
        &format!("{backend}: SQS SendMessage (FIFO), empty queue"),
        SQS_SENDERS,
        duration,
        send(0),
    )
    .await;
    let purged = sqs.purge_queue().queue_url(&queue).send().await;
    if purged.is_err() {
        tracing::warn!("PurgeQueue failed; the backlog ceiling starts from what is queued");
    }
    let fill = send(1);
    for n in 0..SQS_BACKLOG {
        fill(n).await;
    }
    let queued = hammer(
        &format!("{backend}: SQS SendMessage (FIFO), {SQS_BACKLOG} queued"),
        SQS_SENDERS,
        duration,
        send(2),
    )
    .await;
    let _ = sqs.delete_queue().queue_url(queue).send().await;
    Ok([empty, queued])
}

/// The table `ceilings` prints.
pub fn render(rows: &[Ceiling]) -> String {
    let mut out = format!(
        "{:<70} {:>7} {:>9} {:>8} {:>8} {:>7}\n",
        "ceiling", "clients", "calls/s", "p50 ms", "p99 ms", "errors"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<70} {:>7} {:>9.0} {:>8.1} {:>8.1} {:>7}\n",
            r.name, r.clients, r.calls_per_second, r.p50_ms, r.p99_ms, r.errors
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hammer_counts_calls_and_failures_from_every_client() {
        let c = hammer(
            "every third fails",
            4,
            Duration::from_millis(100),
            |n| async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                n % 3 != 0
            },
        )
        .await;
        assert_eq!(c.clients, 4);
        assert!(c.calls >= 4, "{c:?}");
        assert!(c.errors >= 4 && c.errors < c.calls, "{c:?}");
        assert!(c.p50_ms >= 1.0 && c.p99_ms >= c.p50_ms, "{c:?}");
        assert!(c.calls_per_second > 0.0);
    }
}
