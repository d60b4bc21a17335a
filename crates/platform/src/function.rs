//! A Lambda function a flow brings of its own, beside the backbone's (api-handler,
//! queue-processor, notifier, outbox-relay). The flow declares it once, with its handler, in its
//! consumers (`queue_processor`'s `ConsumerFlow::functions`); the function's crate is a `main`
//! that serves that declaration, and the tests' in-process bridge finds it in the same list by its
//! topology.json name, so adding one names it in no shared file but topology.json.

use crate::ConfigError;
use crate::batch::Budget;
use crate::config::Vars;
use crate::wiring::Aws;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use std::time::Duration;

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What the function does with one invocation's payload (an SQS batch, a direct invocation's
/// event, ...), within `budget`.
#[async_trait::async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, payload: Value, budget: Budget) -> Result<Value, HandlerError>;
}

pub struct Function {
    /// Its name in topology.json, which is also its crate's and its binary's.
    pub name: &'static str,
    /// What one record may take before it is cut off and retried; fewer records are started when
    /// less than this is left before the invocation's deadline.
    pub per_record: Duration,
    /// Its handler over the AWS adapters that `aws.vars` names (its `uses` in topology.json).
    pub wire: fn(&Aws) -> Result<Box<dyn Handler>, ConfigError>,
}

impl Function {
    /// The function's whole `main`: configuration from the environment (failing at cold start),
    /// then the Lambda runtime loop.
    pub async fn serve(&self) -> Result<(), lambda_runtime::Error> {
        crate::telemetry::init();
        let sdk = crate::aws::sdk_config().await;
        let vars = Vars::from_env()?;
        let handler = (self.wire)(&Aws::new(&sdk, &vars))?;
        let handler = &*handler;
        let per_record = self.per_record;
        crate::metrics::run(move |event: LambdaEvent<Value>| async move {
            let budget = Budget::until_epoch_ms(event.context.deadline, per_record);
            handler.handle(event.payload, budget).await
        })
        .await
    }
}
