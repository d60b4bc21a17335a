//! Flow 3: fragrance formula submissions, unique by their material make-up.

mod formula;
mod validation;

pub use formula::{Concentration, Fingerprint, Formula, FormulaStatus, Material, MaterialName, NewFormula};
pub use validation::{MAX_MATERIALS, MAX_MATERIAL_NAME_LEN, MAX_NAME_LEN};
