//! How this function wires one flow: its handlers by event type, over the AWS adapters the
//! configuration names or over in-memory ports. The function's registry is every flow of
//! [`crate::FLOWS`] registered in turn.

use platform::ConfigError;
use platform::consumer::Registry;
use platform::function::Function;
use platform::wiring::Aws;

pub struct ConsumerFlow {
    pub name: &'static str,
    /// The Lambda functions of its own the flow brings (rentals' `rental-return`), each named in
    /// topology.json and served by its crate's `main`.
    pub functions: &'static [Function],
    /// Registers the flow's handlers over the AWS adapters.
    pub from_aws: fn(Registry, &Aws) -> Result<Registry, ConfigError>,
    /// Registers the flow's handlers over in-memory ports, for tests.
    #[cfg(any(test, feature = "memory"))]
    pub in_memory: fn(Registry, &platform::wiring::Ports) -> Registry,
}
