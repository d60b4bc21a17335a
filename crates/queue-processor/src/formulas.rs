//! Formulas: each submitted formula is processed once.

use crate::flow::ConsumerFlow;
use domain::formulas::{FormulaSubmitted, ProcessFormula};
use platform::ConfigError;
use platform::consumer::Registry;
use platform::dynamo::formula_store::DynamoFormulaStore;
use platform::wiring::Aws;
use std::sync::Arc;

pub const FLOW: ConsumerFlow = ConsumerFlow {
    name: "formulas",
    functions: &[],
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(registry: Registry, aws: &Aws) -> Result<Registry, ConfigError> {
    let store = DynamoFormulaStore::reader(aws.dynamo.clone(), aws.vars.table("formulas")?);
    Ok(registry.on::<FormulaSubmitted>(ProcessFormula(Arc::new(store))))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(registry: Registry, ports: &platform::wiring::Ports) -> Registry {
    use domain::formulas::memory::InMemoryFormulaStore;
    registry.on::<FormulaSubmitted>(ProcessFormula(ports.port::<InMemoryFormulaStore>()))
}
