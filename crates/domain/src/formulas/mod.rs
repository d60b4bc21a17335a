//! Flow 3: fragrance formula submissions, unique by their material make-up.

mod formula;
mod service;
mod validation;

pub use formula::{
    Concentration, Fingerprint, Formula, FormulaStatus, Material, MaterialName, NewFormula,
};
pub use service::submit_formula;
pub use validation::{MAX_MATERIAL_NAME_LEN, MAX_MATERIALS, MAX_NAME_LEN};
