//! The one place the API's services are built: from configuration for the function (and for
//! integration tests against the emulators), in memory for unit tests and benchmarks. A new flow
//! adds its route state here, once in each.

use crate::routes::{
    fitness::Fitness, formulas::Formulas, orders::Orders, rentals::Rentals, tasks::Tasks,
};
use domain::tasks::TaskGroup;
use platform::ConfigError;
use platform::config::Vars;
use platform::dynamo::{
    DynamoFitnessStore, DynamoFormulaStore, DynamoOrderAnalytics, DynamoOrderStore,
    DynamoRentalStore, DynamoStatsView, DynamoTaskStore, RentalTables,
};
use platform::idempotency::{DynamoIdempotencyStore, IdempotencyStore};
use platform::sqs::FifoSender;
use std::sync::Arc;

/// Everything the routes reach the outside world through, by flow.
#[derive(Clone)]
pub struct Services {
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub rentals: Rentals,
    pub formulas: Formulas,
    pub tasks: Tasks,
    pub orders: Orders,
    pub fitness: Fitness,
}

impl Services {
    /// The AWS adapters, named by `vars` (see `infrastructure/topology.json`, api-handler).
    pub fn from_vars(sdk: &aws_config::SdkConfig, vars: &Vars) -> Result<Self, ConfigError> {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let outbox = vars.table("outbox")?;
        let sqs = aws_sdk_sqs::Client::new(sdk);
        Ok(Self {
            fitness: Fitness {
                queue: Arc::new(FifoSender::new(
                    sqs.clone(),
                    vars.queue_url("fitness-events")?,
                )),
                view: Arc::new(DynamoFitnessStore::reader(
                    dynamo.clone(),
                    vars.table("fitness")?,
                )),
                types: Arc::new(domain::fitness::event_types()),
            },
            idempotency: Arc::new(DynamoIdempotencyStore::new(
                dynamo.clone(),
                vars.table("idempotency")?,
            )),
            rentals: Rentals {
                store: Arc::new(DynamoRentalStore::new(
                    dynamo.clone(),
                    RentalTables::from_vars(vars)?,
                )),
                stats: Arc::new(DynamoStatsView::new(
                    dynamo.clone(),
                    vars.table("user-stats")?,
                )),
                returns: Arc::new(FifoSender::new(
                    sqs.clone(),
                    vars.queue_url("rental-returns")?,
                )),
            },
            formulas: Formulas {
                store: Arc::new(DynamoFormulaStore::new(
                    dynamo.clone(),
                    vars.table("formulas")?,
                    outbox.clone(),
                )),
            },
            tasks: Tasks {
                store: Arc::new(DynamoTaskStore::new(
                    dynamo.clone(),
                    vars.table("tasks")?,
                    outbox.clone(),
                )),
                group: task_group(vars)?,
            },
            orders: {
                let store = Arc::new(DynamoOrderStore::new(
                    dynamo.clone(),
                    vars.table("orders")?,
                    vars.table("inventory")?,
                    outbox,
                ));
                Orders {
                    store: store.clone(),
                    inventory: store,
                    analytics: Arc::new(DynamoOrderAnalytics::reader(
                        dynamo,
                        vars.table("order-analytics")?,
                    )),
                }
            },
        })
    }
}

/// `TASK_MESSAGE_GROUP`, default `tasks`: the one message group of the task stream.
fn task_group(vars: &Vars) -> Result<TaskGroup, ConfigError> {
    let raw = vars.parsed_or("TASK_MESSAGE_GROUP", TaskGroup::DEFAULT.to_owned())?;
    TaskGroup::parse(&raw).ok_or(ConfigError::Invalid {
        name: "TASK_MESSAGE_GROUP".into(),
        value: raw,
        reason: "1-128 printable ASCII characters without spaces".into(),
    })
}

#[cfg(any(test, feature = "memory"))]
pub use memory::InMemory;

#[cfg(any(test, feature = "memory"))]
mod memory {
    use super::*;
    use domain::fitness::memory::{InMemoryAppEventQueue, InMemoryFitness};
    use domain::formulas::memory::InMemoryFormulaStore;
    use domain::orders::memory::{InMemoryOrderAnalytics, InMemoryOrders};
    use domain::rentals::memory::{InMemoryRentalStore, InMemoryReturnQueue, InMemoryStatsStore};
    use domain::tasks::memory::InMemoryTaskStore;
    use platform::idempotency::memory::InMemoryIdempotencyStore;

    /// Every port in memory, kept by its concrete type so tests can arrange and inspect state.
    #[derive(Clone, Default)]
    pub struct InMemory {
        pub idempotency: Arc<InMemoryIdempotencyStore>,
        pub rentals: Arc<InMemoryRentalStore>,
        pub stats: Arc<InMemoryStatsStore>,
        pub returns: Arc<InMemoryReturnQueue>,
        pub formulas: Arc<InMemoryFormulaStore>,
        pub tasks: Arc<InMemoryTaskStore>,
        pub task_group: TaskGroup,
        pub orders: Arc<InMemoryOrders>,
        pub order_analytics: Arc<InMemoryOrderAnalytics>,
        pub app_events: Arc<InMemoryAppEventQueue>,
        pub fitness: Arc<InMemoryFitness>,
    }

    impl InMemory {
        pub fn services(&self) -> Services {
            Services {
                idempotency: self.idempotency.clone(),
                rentals: Rentals {
                    store: self.rentals.clone(),
                    stats: self.stats.clone(),
                    returns: self.returns.clone(),
                },
                formulas: Formulas {
                    store: self.formulas.clone(),
                },
                tasks: Tasks {
                    store: self.tasks.clone(),
                    group: self.task_group.clone(),
                },
                orders: Orders {
                    store: self.orders.clone(),
                    inventory: self.orders.clone(),
                    analytics: self.order_analytics.clone(),
                },
                fitness: Fitness {
                    queue: self.app_events.clone(),
                    view: self.fitness.clone(),
                    types: Arc::new(domain::fitness::event_types()),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every variable the topology gives api-handler is enough to wire it, so a resource the
    /// code needs but `uses` does not declare fails here, not at a cold start in AWS.
    #[tokio::test]
    async fn what_topology_json_declares_is_what_the_wiring_needs() {
        let topology = platform::topology::Topology::system().unwrap();
        let names = topology.env_names("api-handler").unwrap();
        let vars: BTreeMap<String, String> = names
            .iter()
            .map(|n| (n.clone(), format!("value-of-{n}")))
            .collect();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Services::from_vars(&sdk, &Vars::from_map(vars.clone()).unwrap()).unwrap();
        for missing in &names {
            let mut fewer = vars.clone();
            fewer.remove(missing);
            assert!(
                Services::from_vars(&sdk, &Vars::from_map(fewer).unwrap()).is_err(),
                "{missing} is declared but not needed"
            );
        }
    }
}
