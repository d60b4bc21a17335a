//! Event-source mappings, as Lambda runs them in AWS: poll the source, hand the function a batch
//! in Lambda's event format, and honour its partial-batch response.

mod invoker;
mod limits;
mod sqs;
mod stream;

pub use invoker::{InvokeError, Invoker};
pub use limits::{API_CONCURRENCY, Limit, Limited, TIMEOUT_MARGIN, limits};
pub use sqs::{PollStats, SqsSource};
pub use stream::StreamSource;

use crate::emulator::Messaging;
use crate::provision::Resources;
use crate::topology::{EventSource, Topology};
use std::sync::Arc;
use std::time::Duration;
use tracing::warn;

/// Every event source of the topology, ready to poll.
pub struct Bridge {
    /// Each queue mapping with the number of pollers its `max_concurrency` allows.
    pub queues: Vec<(Arc<SqsSource>, u32)>,
    pub streams: Vec<StreamSource>,
}

impl Bridge {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        topology: &Topology,
        resources: &Resources,
        messaging: Messaging,
    ) -> crate::Result<Self> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut bridge = Bridge {
            queues: vec![],
            streams: vec![],
        };
        for source in &topology.event_sources {
            match source {
                // As many pollers as the mapping may run invocations at once. A FIFO queue hands
                // out no message of a group while another of that group is in flight, so no two
                // pollers ever hold messages of one group.
                EventSource::Queue {
                    queue,
                    function,
                    batch_size,
                    max_concurrency,
                } => {
                    let q = resources.queue(queue)?;
                    let source = SqsSource::new(sqs.clone(), &q.url, &q.arn, function, *batch_size)
                        .waking_on_release(messaging.wakes_long_polls_on_release());
                    bridge
                        .queues
                        .push((Arc::new(source), max_concurrency.unwrap_or(1).max(1)));
                }
                EventSource::Stream {
                    table,
                    function,
                    batch_size,
                } => {
                    bridge.streams.push(StreamSource::new(
                        sdk,
                        resources.table(table)?,
                        function,
                        *batch_size,
                    ));
                }
            }
        }
        Ok(bridge)
    }

    /// Polls every source until the task is dropped. A failing poll is logged and retried after
    /// a pause, like an event-source mapping that keeps trying.
    pub async fn run<I: Invoker + 'static>(self, invoker: Arc<I>) {
        let mut tasks = tokio::task::JoinSet::new();
        for (source, pollers) in self.queues {
            for _ in 0..pollers {
                let (source, invoker) = (source.clone(), invoker.clone());
                tasks.spawn(async move { poll_queue(&source, &*invoker).await });
            }
        }
        for source in self.streams {
            let invoker = invoker.clone();
            tasks.spawn(async move {
                loop {
                    match source.poll_once(&*invoker).await {
                        Ok(0) => tokio::time::sleep(Duration::from_millis(250)).await,
                        Ok(_) => {}
                        Err(e) => {
                            warn!(function = source.function(), error = %e, "stream poll failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// One poller of a queue mapping, until the task is dropped.
pub async fn poll_queue<I: Invoker>(source: &SqsSource, invoker: &I) {
    loop {
        match source.poll_once(invoker).await {
            Ok(stats) if stats.failed > 0 => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(_) => {}
            Err(e) => {
                warn!(function = source.function(), error = %e, "queue poll failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) in front of every
/// function, as `cargo lambda invoke` and the AWS SDKs call it, held to the functions' limits:
/// a function's error comes back as Lambda reports it (`200` with `X-Amz-Function-Error`).
pub async fn serve_invoke_api<I: Invoker + 'static>(
    listener: tokio::net::TcpListener,
    invoker: Arc<I>,
) {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    async fn invoke<I: Invoker + 'static>(
        State(invoker): State<Arc<I>>,
        Path(function): Path<String>,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        let payload = if body.is_empty() {
            serde_json::Value::Null
        } else {
            match serde_json::from_slice(&body) {
                Ok(p) => p,
                Err(e) => {
                    let error = serde_json::json!({"errorType": "InvalidRequestContentException", "errorMessage": e.to_string()});
                    return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
                }
            }
        };
        match invoker.invoke(&function, payload).await {
            Ok(answer) => axum::Json(answer).into_response(),
            Err(InvokeError::Function { detail, .. }) => {
                let error = serde_json::json!({"errorType": "Unhandled", "errorMessage": detail});
                let mut response = axum::Json(error).into_response();
                response.headers_mut().insert(
                    "x-amz-function-error",
                    axum::http::HeaderValue::from_static("Unhandled"),
                );
                response
            }
            Err(e @ InvokeError::Transport { .. }) => {
                let error = serde_json::json!({"errorType": "ServiceException", "errorMessage": e.to_string()});
                (StatusCode::BAD_GATEWAY, axum::Json(error)).into_response()
            }
        }
    }
    let app = axum::Router::new()
        .route(
            "/2015-03-31/functions/{function}/invocations",
            axum::routing::post(invoke::<I>),
        )
        .with_state(invoker);
    if let Err(e) = axum::serve(listener, app).await {
        warn!(error = %e, "invoke API stopped");
    }
}
