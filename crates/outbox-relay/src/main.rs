#![recursion_limit = "256"]

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent};
use outbox_relay::Relay;
use platform::config::Vars;

#[tokio::main]
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
