use crate::formulas::FormulaId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A percentage in (0, 100], exact, kept in normal form (`15.50` is `15.5`) so that equal
/// amounts compare and hash equal however they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Concentration(Decimal);

impl Concentration {
    pub fn new(value: Decimal) -> Option<Self> {
        (value > Decimal::ZERO && value <= Decimal::ONE_HUNDRED).then(|| Self(value.normalize()))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Concentration {
    type Error = String;
    fn try_from(d: Decimal) -> Result<Self, String> {
        Self::new(d).ok_or_else(|| format!("concentration {d} is not in (0, 100]"))
    }
}

impl From<Concentration> for Decimal {
    fn from(c: Concentration) -> Decimal {
        c.0
    }
}

impl fmt::Display for Concentration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A material's name as submitted (trimmed); it compares by its case-folded form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaterialName(String);

impl MaterialName {
    pub(crate) fn new(trimmed: String) -> Self {
        Self(trimmed)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form names compare in: trimmed, lower-cased (Unicode-aware).
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub name: MaterialName,
    pub concentration: Concentration,
}

/// Identity of a make-up: SHA-256 of the materials sorted by folded name, each with its
/// normalised concentration. The formula's name and the order of materials play no part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(materials: &[Material]) -> Self {
        let mut parts: Vec<(String, String)> = materials
            .iter()
            .map(|m| (m.name.folded(), m.concentration.to_string()))
            .collect();
        parts.sort();
        let mut h = Sha256::new();
        h.update(b"formula-makeup-v1");
        for (name, concentration) in parts {
            h.update([0]);
            h.update(name.as_bytes());
            h.update([0]);
            h.update(concentration.as_bytes());
        }
        Self(format!("fp_{}", hex::encode(h.finalize())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated submission, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFormula {
    pub name: String,
    pub materials: Vec<Material>,
}

impl NewFormula {
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.materials)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormulaStatus {
    /// Stored and queued for processing.
    Pending,
    Processed,
}

/// A stored formula.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formula {
    pub formula_id: FormulaId,
    pub name: String,
    pub materials: Vec<Material>,
    pub fingerprint: Fingerprint,
    pub status: FormulaStatus,
}

impl Formula {
    /// Processing moves a pending formula to processed, once: `false` when it already was.
    pub fn mark_processed(&mut self) -> bool {
        let first = self.status == FormulaStatus::Pending;
        self.status = FormulaStatus::Processed;
        first
    }
}
