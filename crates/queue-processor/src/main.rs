#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use platform::dynamo::{DynamoFormulaStore, DynamoStatsStore, DynamoTaskStore, RejectionLog};
use queue_processor::{Config, QueueProcessor, RecordingExecutor};

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init();
    let config = Config::from_env()?;
    let dynamo = aws_sdk_dynamodb::Client::new(&platform::aws::sdk_config().await);
    let processor = QueueProcessor {
        stats: DynamoStatsStore::new(dynamo.clone(), config.stats_table, config.markers_table),
        formulas: DynamoFormulaStore::new(
            dynamo.clone(),
            config.formulas_table,
            config.outbox_table.clone(),
        ),
        tasks: DynamoTaskStore::new(dynamo.clone(), config.tasks_table, config.outbox_table),
        executor: RecordingExecutor,
        max_receive_count: config.max_receive_count,
        rejections: RejectionLog::new(dynamo, config.rejections_table),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, Error>(processor.handle(event.payload).await?)
    }))
    .await
}
