#![recursion_limit = "256"]

use api_handler::{Services, router};
use lambda_http::Error;
use platform::config::Vars;

#[tokio::main]
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
