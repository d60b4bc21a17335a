#![recursion_limit = "256"]

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent};
use outbox_relay::Relay;
use platform::config::Vars;

// One thread: an instance handles one event at a time, and below 1,769 MB Lambda gives it less
// than one vCPU; a multi-threaded runtime would only hand each I/O wake-up between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let relay = Relay::from_vars(&sdk, &Vars::from_env()?)?;
    let relay = &relay;
    platform::metrics::run(move |event: LambdaEvent<Event>| async move {
        let budget = Relay::budget(event.context.deadline);
        Ok::<_, Error>(relay.handle(event.payload, budget).await)
    })
    .await
}
