//! Orders: a status change raises low-stock alerts and counts in the order analytics.

use crate::flow::ConsumerFlow;
use domain::orders::{CountOrders, OrderStatusChanged, RaiseLowStock};
use platform::ConfigError;
use platform::consumer::Registry;
use platform::dynamo::DynamoOutbox;
use platform::dynamo::order_store::DynamoOrderAnalytics;
use platform::wiring::Aws;
use std::sync::Arc;

pub const FLOW: ConsumerFlow = ConsumerFlow {
    name: "orders",
    functions: &[],
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(registry: Registry, aws: &Aws) -> Result<Registry, ConfigError> {
    let (dynamo, vars) = (&aws.dynamo, aws.vars);
    let outbox = DynamoOutbox::new(dynamo.clone(), vars.table("outbox")?);
    let analytics = DynamoOrderAnalytics::new(
        dynamo.clone(),
        vars.table("order-analytics")?,
        vars.table("processed")?,
    );
    Ok(registry
        .on::<OrderStatusChanged>(RaiseLowStock(Arc::new(outbox)))
        .on::<OrderStatusChanged>(CountOrders(Arc::new(analytics))))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(registry: Registry, ports: &platform::wiring::Ports) -> Registry {
    use domain::orders::memory::{InMemoryOrderAnalytics, InMemoryOutbox};
    registry
        .on::<OrderStatusChanged>(RaiseLowStock(ports.port::<InMemoryOutbox>()))
        .on::<OrderStatusChanged>(CountOrders(ports.port::<InMemoryOrderAnalytics>()))
}
