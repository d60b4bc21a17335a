use crate::ids::UserId;
use crate::rentals::AssetId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Kinds of reusable container. A rental lists the kinds that may be returned for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssetType {
    #[serde(rename = "clamshell")]
    Clamshell,
    #[serde(rename = "large-bowl")]
    LargeBowl,
    #[serde(rename = "small-bowl")]
    SmallBowl,
    #[serde(rename = "mug")]
    Mug,
    #[serde(rename = "3-compartment")]
    ThreeCompartment,
}

impl AssetType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clamshell => "clamshell",
            Self::LargeBowl => "large-bowl",
            Self::SmallBowl => "small-bowl",
            Self::Mug => "mug",
            Self::ThreeCompartment => "3-compartment",
        }
    }
}

impl fmt::Display for AssetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    #[serde(alias = "id")]
    pub asset_id: AssetId,
    pub asset_type: AssetType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    #[serde(alias = "id")]
    pub user_id: UserId,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_types_round_trip_with_their_wire_names() {
        for t in [
            AssetType::Clamshell,
            AssetType::LargeBowl,
            AssetType::SmallBowl,
            AssetType::Mug,
            AssetType::ThreeCompartment,
        ] {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<AssetType>(&json).unwrap(), t);
        }
        assert!(serde_json::from_str::<AssetType>("\"plate\"").is_err());
    }

    #[test]
    fn reference_data_shape_deserializes() {
        let a: Asset = serde_json::from_str(r#"{"id":"tpg_a1","asset_type":"mug"}"#).unwrap();
        assert_eq!(a.asset_type, AssetType::Mug);
    }
}
