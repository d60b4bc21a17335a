//! Flow 3: fragrance formula submissions, unique by their material make-up.

pub mod events;
mod formula;
mod ids;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod ports;
mod service;
mod validation;

pub use ids::FormulaId;

pub use events::FormulaSubmitted;
pub use formula::{
    Concentration, Fingerprint, Formula, FormulaStatus, Material, MaterialName, NewFormula,
};
pub use service::{ProcessFormula, submit_formula};
pub use validation::{CODES as FIELD_CODES, MAX_MATERIAL_NAME_LEN, MAX_MATERIALS, MAX_NAME_LEN};

/// The bodies this flow reads from outside (see [`crate::edge`]).
pub const EDGE: crate::edge::Edge = crate::edge::Edge {
    json: &[crate::edge::Parser {
        name: "formula",
        parse: |v| NewFormula::from_json(v).map(drop),
        sample: r#"{"name": "Rose", "materials": [{"name": "a", "concentration": 10}]}"#,
        fields: &["name", "materials", "concentration"],
    }],
    text: &[],
};
