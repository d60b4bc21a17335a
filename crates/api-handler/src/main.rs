#![recursion_limit = "256"]

use api_handler::{Config, Services, router};
use lambda_http::{Error, run};
use platform::dynamo::{DynamoFormulaStore, DynamoRentalStore, DynamoStatsStore, DynamoTaskStore};
use platform::idempotency::DynamoIdempotencyStore;
use platform::sqs::FifoSender;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let config = Config::from_env()?;
    let sdk = platform::aws::sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let outbox_table = config.tables.outbox.clone();
    let services = Services {
        rentals: DynamoRentalStore::new(dynamo.clone(), config.tables),
        stats: DynamoStatsStore::new(dynamo.clone(), config.stats_table, config.markers_table),
        idempotency: DynamoIdempotencyStore::new(dynamo.clone(), config.idempotency_table),
        formulas: DynamoFormulaStore::new(
            dynamo.clone(),
            config.formulas_table,
            outbox_table.clone(),
        ),
        tasks: DynamoTaskStore::new(dynamo, config.tasks_table, outbox_table),
        task_group: config.task_group,
        returns: FifoSender::new(aws_sdk_sqs::Client::new(&sdk), config.returns_queue_url),
    };
    run(router(Arc::new(services))).await
}
