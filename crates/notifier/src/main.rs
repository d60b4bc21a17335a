#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use notifier::{Config, Notifier};
use platform::dynamo::{ProcessedMarkers, RejectionLog};
use platform::notify::NotifyClient;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let config = Config::from_env()?;
    let dynamo = aws_sdk_dynamodb::Client::new(&platform::aws::sdk_config().await);
    let notifier = Notifier {
        client: NotifyClient::new(config.notify)?,
        markers: ProcessedMarkers::new(dynamo.clone(), config.markers_table),
        rejections: RejectionLog::new(dynamo, config.rejections_table),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, Error>(notifier.handle(event.payload).await?)
    }))
    .await
}
