//! Flow 3: fragrance formula submissions, unique by their material make-up.

pub mod events;
mod formula;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod ports;
mod service;
mod validation;

pub use events::FormulaSubmitted;
pub use formula::{
    Concentration, Fingerprint, Formula, FormulaStatus, Material, MaterialName, NewFormula,
};
pub use service::{ProcessFormula, submit_formula};
pub use validation::{MAX_MATERIAL_NAME_LEN, MAX_MATERIALS, MAX_NAME_LEN};
