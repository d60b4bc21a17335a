// The SDK's and the runtime's nested futures exceed the default limit when laid out here.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use platform::dynamo::{DynamoRentalStore, RejectionLog};
use rental_return::{Config, handle};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let config = Config::from_env()?;
    let client = aws_sdk_dynamodb::Client::new(&platform::aws::sdk_config().await);
    let store = DynamoRentalStore::new(client.clone(), config.tables);
    let rejections = RejectionLog::new(client, config.rejections_table);
    run(service_fn(|event: LambdaEvent<Value>| async {
        Ok::<_, Error>(handle(&store, &rejections, event.payload).await?)
    }))
    .await
}
