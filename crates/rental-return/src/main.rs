// The SDK's and the runtime's nested futures exceed the default limit when laid out here.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent};
use platform::config::Vars;
use rental_return::Returns;
use serde_json::Value;

// One thread: an instance handles one event at a time, and below 1,769 MB Lambda gives it less
// than one vCPU; a multi-threaded runtime would only hand each I/O wake-up between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let returns = Returns::from_vars(&sdk, &Vars::from_env()?)?;
    let returns = &returns;
    platform::metrics::run(move |event: LambdaEvent<Value>| async move {
        let budget = Returns::budget(event.context.deadline);
        Ok::<_, Error>(returns.handle(event.payload, budget).await?)
    })
    .await
}
