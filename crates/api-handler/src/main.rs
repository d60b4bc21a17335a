#![recursion_limit = "256"]

use api_handler::{Services, router};
use lambda_http::Error;
use platform::config::Vars;

// One thread: an instance handles one event at a time, and below 1,769 MB Lambda gives it less
// than one vCPU; a multi-threaded runtime would only hand each I/O wake-up between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let services = Services::from_vars(&sdk, &Vars::from_env()?)?;
    // Metrics flushed after every request, as the consumers do (platform::metrics::run).
    match platform::metrics::collector() {
        Some(metrics) => {
            metrics_cloudwatch_embedded::lambda::service::run_http(metrics, router(services)).await
        }
        None => lambda_http::run(router(services)).await,
    }
}
