#![recursion_limit = "256"]

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use outbox_relay::{Config, handle};
use platform::dynamo::RejectionLog;
use platform::outbox::AwsPublisher;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let config = Config::from_env()?;
    let sdk = platform::aws::sdk_config().await;
    let publisher = AwsPublisher::new(
        aws_sdk_sns::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        config.topic_arn,
        config.work_queue_url,
    );
    let rejections =
        RejectionLog::new(aws_sdk_dynamodb::Client::new(&sdk), config.rejections_table);
    run(service_fn(|event: LambdaEvent<Event>| async {
        Ok::<_, Error>(handle(event.payload, &publisher, &rejections).await)
    }))
    .await
}
