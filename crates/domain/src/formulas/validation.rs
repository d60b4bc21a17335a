//! `POST /formulas` bodies: every field problem is reported, each with its own code.

use super::formula::{Concentration, Material, MaterialName, NewFormula};
use crate::validation::{Field, FieldCode, Problems, TextRule, ValidationError};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;

pub const MAX_NAME_LEN: usize = 200;
pub const MAX_MATERIAL_NAME_LEN: usize = 100;
pub const MAX_MATERIALS: usize = 50;

/// The formula flow's own field codes.
impl FieldCode {
    pub const EMPTY_NAME: Self = Self::new("empty_name");
    pub const NO_MATERIALS: Self = Self::new("no_materials");
    pub const TOO_MANY_MATERIALS: Self = Self::new("too_many_materials");
    pub const DUPLICATE_MATERIAL: Self = Self::new("duplicate_material");
    pub const INVALID_CONCENTRATION: Self = Self::new("invalid_concentration");
    pub const CONCENTRATION_OUT_OF_RANGE: Self = Self::new("concentration_out_of_range");
    pub const TOTAL_EXCEEDS_100: Self = Self::new("total_exceeds_100");
}

/// Every field code of this flow, for the API's list of codes.
pub const CODES: &[FieldCode] = &[
    FieldCode::EMPTY_NAME,
    FieldCode::NO_MATERIALS,
    FieldCode::TOO_MANY_MATERIALS,
    FieldCode::DUPLICATE_MATERIAL,
    FieldCode::INVALID_CONCENTRATION,
    FieldCode::CONCENTRATION_OUT_OF_RANGE,
    FieldCode::TOTAL_EXCEEDS_100,
];

const NAME: TextRule = TextRule::single_line(MAX_NAME_LEN).non_empty(FieldCode::EMPTY_NAME);
const MATERIAL_NAME: TextRule =
    TextRule::single_line(MAX_MATERIAL_NAME_LEN).non_empty(FieldCode::EMPTY);

/// A JSON number or numeric string as an exact decimal. Numbers pass through their shortest
/// round-trip text, which is exact for up to 15 significant digits; a string is always exact.
fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(&text).ok()
    } else {
        Decimal::from_str_exact(&text).ok()
    }
}

/// A concentration: a decimal number in (0, 100].
fn concentration(p: &mut Problems, field: &Field<'_, '_>) -> Option<Concentration> {
    let value = p.required(field)?;
    let Some(d) = decimal(value) else {
        p.add(
            field,
            FieldCode::INVALID_CONCENTRATION,
            "concentration must be a decimal number",
        );
        return None;
    };
    let c = Concentration::new(d);
    if c.is_none() {
        p.add(
            field,
            FieldCode::CONCENTRATION_OUT_OF_RANGE,
            "concentration must be greater than 0 and at most 100",
        );
    }
    c
}

impl NewFormula {
    pub fn from_json(body: &Value) -> Result<Self, ValidationError> {
        let mut p = Problems::new("formula");
        let o = p.root(body)?;
        let name = p.text(&o.field("name"), &NAME);
        let materials_field = o.field("materials");
        let items = p.array(
            &materials_field,
            1..=MAX_MATERIALS,
            FieldCode::NO_MATERIALS,
            FieldCode::TOO_MANY_MATERIALS,
        );
        let mut materials = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, item) in items.iter().flatten().enumerate() {
            let Some(m) = p.object(item, "a material") else {
                continue;
            };
            let name_field = m.field("name");
            let name = p.text(&name_field, &MATERIAL_NAME);
            let concentration = concentration(&mut p, &m.field("concentration"));
            if let Some(n) = &name
                && let Some(&first) = seen.get(&n.to_lowercase())
            {
                p.add(
                    &name_field,
                    FieldCode::DUPLICATE_MATERIAL,
                    format!("material {n:?} is already listed at materials[{first}]"),
                );
                continue;
            }
            if let Some(n) = &name {
                seen.insert(n.to_lowercase(), i);
            }
            if let (Some(name), Some(concentration)) = (name, concentration) {
                materials.push(Material {
                    name: MaterialName::new(name),
                    concentration,
                });
            }
        }
        let total: Decimal = materials.iter().map(|m| m.concentration.value()).sum();
        if total > Decimal::ONE_HUNDRED {
            p.add(
                &materials_field,
                FieldCode::TOTAL_EXCEEDS_100,
                format!("concentrations add up to {total}, more than 100"),
            );
        }
        p.finish(|| {
            Some(Self {
                name: name?,
                materials,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formulas::Fingerprint;
    use proptest::prelude::*;
    use serde_json::json;

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        NewFormula::from_json(&body)
            .unwrap_err()
            .details
            .into_iter()
            .map(|d| (d.field, d.code.as_str()))
            .collect()
    }

    fn ok(body: Value) -> NewFormula {
        NewFormula::from_json(&body).unwrap()
    }

    #[test]
    fn accepts_the_example() {
        let f = ok(
            json!({"name": " Summer Breeze ", "materials": [{"name": "Bergamot Oil", "concentration": 15.5}]}),
        );
        assert_eq!(f.name, "Summer Breeze");
        assert_eq!(f.materials[0].concentration.to_string(), "15.5");
    }

    #[test]
    fn each_field_problem_has_its_code() {
        let c = |v| codes(v);
        assert_eq!(
            c(json!({"name": "  ", "materials": [{"name": "a", "concentration": 1}]})),
            [("name".into(), "empty_name")]
        );
        assert_eq!(
            c(json!({"name": "n", "materials": []})),
            [("materials".into(), "no_materials")]
        );
        assert_eq!(
            c(json!({"name": "n"})),
            [("materials".into(), "missing_field")]
        );
        assert_eq!(
            c(
                json!({"name": "n", "materials": [{"name": "Rose", "concentration": 1}, {"name": " rose ", "concentration": 2}]})
            ),
            [("materials[1].name".into(), "duplicate_material")]
        );
        for bad in [json!("x"), json!(true), json!([1])] {
            assert_eq!(
                c(json!({"name": "n", "materials": [{"name": "a", "concentration": bad}]})),
                [("materials[0].concentration".into(), "invalid_concentration")]
            );
        }
        for out in [json!(0), json!(-1), json!(100.01), json!("0.0")] {
            assert_eq!(
                c(json!({"name": "n", "materials": [{"name": "a", "concentration": out}]})),
                [(
                    "materials[0].concentration".into(),
                    "concentration_out_of_range"
                )]
            );
        }
        assert_eq!(
            c(
                json!({"name": "n", "materials": [{"name": "a", "concentration": 60}, {"name": "b", "concentration": 40.01}]})
            ),
            [("materials".into(), "total_exceeds_100")]
        );
        let many: Vec<Value> = (0..=MAX_MATERIALS)
            .map(|i| json!({"name": format!("m{i}"), "concentration": 1}))
            .collect();
        assert_eq!(
            c(json!({"name": "n", "materials": many})),
            [("materials".into(), "too_many_materials")]
        );
        assert_eq!(c(json!([])), [("$".into(), "invalid_type")]);
        assert_eq!(
            c(json!({"name": "a\u{7}b", "materials": [{"name": "a", "concentration": 1}]})),
            [("name".into(), "control_character")]
        );
    }

    #[test]
    fn reports_all_problems_at_once() {
        let found = codes(json!({"name": 7, "materials": [{"concentration": "abc"}, 5]}));
        assert_eq!(
            found,
            [
                ("name".into(), "invalid_type"),
                ("materials[0].name".into(), "missing_field"),
                ("materials[0].concentration".into(), "invalid_concentration"),
                ("materials[1]".into(), "invalid_type"),
            ]
        );
    }

    #[test]
    fn exactly_100_is_allowed_and_decimals_are_exact() {
        let f = ok(
            json!({"name": "n", "materials": [{"name": "a", "concentration": 33.3}, {"name": "b", "concentration": "66.7"}]}),
        );
        let total: Decimal = f.materials.iter().map(|m| m.concentration.value()).sum();
        assert_eq!(total, Decimal::ONE_HUNDRED);
        ok(json!({"name": "n", "materials": [{"name": "a", "concentration": 1e2}]}));
    }

    fn make_up(entries: &[(&str, Value)]) -> Fingerprint {
        let materials: Vec<Value> = entries
            .iter()
            .map(|(n, c)| json!({"name": n, "concentration": c}))
            .collect();
        ok(json!({"name": "any", "materials": materials})).fingerprint()
    }

    #[test]
    fn fingerprint_ignores_order_name_case_and_decimal_notation() {
        let a = make_up(&[("Bergamot Oil", json!(15.5)), ("Rose", json!(10))]);
        assert_eq!(
            a,
            make_up(&[
                ("rose", json!("10.000")),
                (" BERGAMOT OIL ", json!("15.50"))
            ])
        );
        assert_ne!(
            a,
            make_up(&[("Bergamot Oil", json!(15.5)), ("Rose", json!(10.1))])
        );
        assert_ne!(a, make_up(&[("Bergamot Oil", json!(15.5))]));
        assert_ne!(
            a,
            make_up(&[("Bergamot", json!(15.5)), ("Rose", json!(10))])
        );
    }

    proptest! {
        #[test]
        fn any_permutation_or_rewrite_gives_the_same_fingerprint(
            cents in proptest::collection::btree_map("[a-z]{1,8}", 1u32..=1000, 1..8),
            seed in any::<u64>(),
        ) {
            let entries: Vec<(String, Decimal)> =
                cents.into_iter().map(|(n, c)| (n, Decimal::new(i64::from(c), 2))).collect();
            let original: Vec<Value> = entries.iter()
                .map(|(n, d)| json!({"name": n, "concentration": d.to_string()}))
                .collect();
            let mut rewritten: Vec<Value> = entries.iter()
                .map(|(n, d)| json!({"name": format!(" {} ", n.to_uppercase()), "concentration": format!("{d}000")}))
                .collect();
            let len = rewritten.len();
            rewritten.rotate_left((seed as usize) % len);
            let a = NewFormula::from_json(&json!({"name": "x", "materials": original})).unwrap().fingerprint();
            let b = NewFormula::from_json(&json!({"name": "y", "materials": rewritten})).unwrap().fingerprint();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn any_change_of_a_concentration_changes_the_fingerprint(
            cents in proptest::collection::btree_map("[a-z]{1,8}", 1u32..=1000, 1..8),
            which in any::<prop::sample::Index>(),
            delta in 1u32..100,
        ) {
            let entries: Vec<(String, u32)> = cents.into_iter().collect();
            let changed = which.index(entries.len());
            let body = |bump: bool| {
                let materials: Vec<Value> = entries.iter().enumerate()
                    .map(|(i, (n, c))| {
                        let c = if bump && i == changed { c + delta } else { *c };
                        json!({"name": n, "concentration": Decimal::new(i64::from(c), 2).to_string()})
                    })
                    .collect();
                json!({"name": "x", "materials": materials})
            };
            let a = NewFormula::from_json(&body(false)).unwrap().fingerprint();
            let b = NewFormula::from_json(&body(true)).unwrap().fingerprint();
            prop_assert_ne!(a, b);
        }
    }
}
