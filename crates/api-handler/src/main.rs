#![recursion_limit = "256"]

use api_handler::{Services, router};
use lambda_http::{Error, run};
use platform::config::Vars;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let services = Services::from_vars(&sdk, &Vars::from_env()?)?;
    run(router(services)).await
}
