//! A flow's load, behind one trait: its name and weight, what it sets up before the attack, one
//! user's step, and what must hold once the run is over. Each scenario owns its state (what the
//! API accepted from it) and its invariants; [`crate::scenarios::all`] lists them, one line
//! per flow.

use crate::harness::{Check, Harness};
use crate::scenarios::all;
use goose::prelude::*;
use std::sync::Arc;
use std::time::Duration;

#[async_trait::async_trait]
pub trait Scenario: Send + Sync {
    /// Its name on the command line.
    fn name(&self) -> &'static str;
    /// Its share of a `mixed` run's users.
    fn weight(&self) -> usize;
    /// Its transaction's name in goose's report.
    fn step_name(&self) -> &'static str;
    /// What a local stack started for the run should be given (a flow's settings, by variable
    /// name), so that the checks settle within the run; `load SCENARIO --stack-settings` prints
    /// them for the scripts that start the stack.
    fn stack_settings(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Before the attack (the stock the orders take from, say).
    async fn setup(&self, _h: &Harness) -> Result<(), String> {
        Ok(())
    }
    /// One user's next request(s).
    async fn step(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult;
    /// How many accepted items its checks will read.
    fn accepted(&self) -> usize;
    /// What must hold after the run, read through the API; a check whose reads fail fails.
    async fn check(&self, h: &Harness, http: &reqwest::Client, settle: Duration) -> Vec<Check>;
}

/// The scenarios of a run: one flow's by name, or every flow's for `mixed`.
pub fn chosen(name: &str) -> Result<Vec<Arc<dyn Scenario>>, String> {
    let all = all();
    if name == "mixed" {
        return Ok(all);
    }
    let names: Vec<&str> = all.iter().map(|s| s.name()).collect();
    let known = names.join(", ");
    all.into_iter()
        .find(|s| s.name() == name)
        .map(|s| vec![s])
        .ok_or_else(|| format!("unknown scenario {name}: one of {known}, mixed"))
}

/// `scenario` as a goose scenario of `weight`, each step held to the user's rate in the open
/// model.
pub fn goose(
    scenario: Arc<dyn Scenario>,
    weight: usize,
    h: &Arc<Harness>,
) -> Result<goose::prelude::Scenario, String> {
    let name = scenario.name();
    let step_name = scenario.step_name();
    let h = h.clone();
    let f: TransactionFunction = Arc::new(move |user| {
        let (scenario, h) = (scenario.clone(), h.clone());
        Box::pin(async move {
            if let Some(pacer) = &h.pacer {
                pacer.wait(user.weighted_users_index).await;
            }
            scenario.step(user, &h).await
        })
    });
    goose::prelude::Scenario::new(name)
        .set_weight(weight)
        .map(|s| s.register_transaction(Transaction::new(f).set_name(step_name)))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_has_one_scenario_by_a_name_of_its_own() {
        let names: Vec<&str> = all().iter().map(|s| s.name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            names.len(),
            "two scenarios share a name: {names:?}"
        );
        assert!(
            names.iter().all(|n| *n != "mixed"),
            "`mixed` is every scenario"
        );
        assert_eq!(chosen("mixed").unwrap().len(), names.len());
        for name in &names {
            assert_eq!(chosen(name).unwrap()[0].name(), *name);
        }
        assert!(
            all().iter().all(|s| s.weight() > 0),
            "a scenario without weight"
        );
        let unknown = chosen("nope").err().unwrap();
        assert!(unknown.contains(&names.join(", ")), "{unknown}");
    }

    #[test]
    fn the_settings_scenarios_ask_of_a_stack_are_settings_topology_json_declares() {
        let topology = platform::topology::Topology::system().unwrap();
        let asked: Vec<(&str, &str)> = all()
            .iter()
            .flat_map(|s| s.stack_settings().iter().copied())
            .collect();
        assert!(
            asked.contains(&("FITNESS_NUDGE_AFTER_SECONDS", "90")),
            "{asked:?}"
        );
        for (name, value) in asked {
            assert!(
                topology.local_setting(name).is_some(),
                "{name} is not a setting of topology.json's settings"
            );
            assert!(value.parse::<u64>().is_ok(), "{name}={value}");
        }
    }
}
