//! Tracing set-up: JSON lines in Lambda (CloudWatch parses them), readable text elsewhere.
//! `RUST_LOG` sets the filter; the default is `info` for this workspace and `warn` for libraries.

use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str = "warn,domain=info,platform=info,api_handler=info,rental_return=info,\
notifier=info,queue_processor=info,outbox_relay=info,devstack=info";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // try_init: a second call (tests, several binaries in one process) is harmless.
    let _ = if in_lambda {
        // Lambda adds its own timestamps; the span list carries the runtime's request id.
        builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .without_time()
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
