//! The one place the API is built: every flow of [`FLOWS`] from configuration for the function
//! (and for integration tests against the emulators), or in memory for unit tests and
//! benchmarks, with what every route shares (the idempotency store).

use crate::cors::AllowedOrigins;
use crate::flow::Routes;
use crate::routes::FLOWS;
use platform::ConfigError;
use platform::config::Vars;
use platform::idempotency::{DynamoIdempotencyStore, IdempotencyStore};
use platform::wiring::Aws;
use std::sync::Arc;

/// The routes of every flow, the store their idempotent POSTs share and the origins whose pages
/// may read the answers.
#[derive(Clone)]
pub struct Services {
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub routes: Routes,
    pub cors: AllowedOrigins,
}

impl Services {
    /// The AWS adapters, named by `vars` (see `infrastructure/topology.json`, api-handler).
    pub fn from_vars(sdk: &aws_config::SdkConfig, vars: &Vars) -> Result<Self, ConfigError> {
        let aws = Aws::new(sdk, vars);
        let routes = FLOWS.iter().try_fold(Routes::default(), |routes, flow| {
            Ok::<_, ConfigError>(routes.merge((flow.from_aws)(&aws)?))
        })?;
        Ok(Self {
            idempotency: Arc::new(DynamoIdempotencyStore::new(
                aws.dynamo.clone(),
                vars.table("idempotency")?,
            )),
            routes,
            cors: AllowedOrigins::from_vars(vars)?,
        })
    }

    /// Every flow over in-memory ports: a test arranges and inspects state through
    /// `ports.port::<T>()`, the same instances the routes use.
    #[cfg(any(test, feature = "memory"))]
    pub fn in_memory(ports: &Ports) -> Self {
        Self {
            idempotency: ports.port::<platform::idempotency::memory::InMemoryIdempotencyStore>(),
            routes: FLOWS.iter().fold(Routes::default(), |routes, flow| {
                routes.merge((flow.in_memory)(ports))
            }),
            cors: AllowedOrigins::clone(&ports.port::<AllowedOrigins>()),
        }
    }
}

#[cfg(any(test, feature = "memory"))]
pub use platform::wiring::Ports;

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
