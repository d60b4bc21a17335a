#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent};
use platform::config::Vars;
use queue_processor::from_vars;

// One thread: an instance handles one event at a time, and below 1,769 MB Lambda gives it less
// than one vCPU; a multi-threaded runtime would only hand each I/O wake-up between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let sdk = platform::aws::sdk_config().await;
    let consumer = from_vars(&sdk, &Vars::from_env()?)?;
    let consumer = &consumer;
    platform::metrics::run(move |event: LambdaEvent<SqsEvent>| async move {
        let budget = consumer.budget(event.context.deadline);
        Ok::<_, Error>(consumer.handle(event.payload, budget).await?)
    })
    .await
}
