//! Rentals: a completed rental counts towards its user's stats; return scans are decided by the
//! flow's own function, [`returns::FUNCTION`].

pub mod returns;

use crate::flow::ConsumerFlow;
use domain::rentals::{ProjectStats, RentalCompleted};
use platform::ConfigError;
use platform::consumer::Registry;
use platform::dynamo::stats_store::DynamoStatsProjection;
use platform::wiring::Aws;
use std::sync::Arc;

pub const FLOW: ConsumerFlow = ConsumerFlow {
    name: "rentals",
    functions: &[returns::FUNCTION],
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(registry: Registry, aws: &Aws) -> Result<Registry, ConfigError> {
    let stats = DynamoStatsProjection::new(
        aws.dynamo.clone(),
        aws.vars.table("user-stats")?,
        aws.vars.table("processed")?,
    );
    Ok(registry.on::<RentalCompleted>(ProjectStats(Arc::new(stats))))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(registry: Registry, ports: &platform::wiring::Ports) -> Registry {
    use domain::rentals::memory::InMemoryStatsStore;
    registry.on::<RentalCompleted>(ProjectStats(ports.port::<InMemoryStatsStore>()))
}
