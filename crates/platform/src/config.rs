//! Typed configuration from the environment, read once at start-up. Resource names always come
//! from here; no function hard-codes a table, queue or topic. A function finds a resource by
//! its name in `infrastructure/topology.json`, which names the variable that carries it; a
//! variable that is missing stops the function at cold start, not at its first use.

use crate::topology::Topology;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(String),
    #[error("{0}")]
    Topology(String),
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where configuration is read from: the process environment in a function, a map in tests.
#[derive(Clone)]
pub struct Vars {
    lookup: Lookup,
    topology: Arc<Topology>,
}

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vars")
    }
}

impl Vars {
    /// The process environment, resources named by the system's topology.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            lookup: Arc::new(|name| std::env::var(name).ok()),
            topology: Arc::new(system_topology()?),
        })
    }

    /// `vars` instead of the environment.
    pub fn from_map(vars: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        Ok(Self {
            lookup: Arc::new(move |name| vars.get(name).cloned()),
            topology: Arc::new(system_topology()?),
        })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// A required, non-empty variable.
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.raw(name)
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }

    /// An optional variable parsed as `T`, or `default` when unset.
    pub fn parsed_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        parse_value(name, self.raw(name), default)
    }

    /// A duration given in milliseconds.
    pub fn millis_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        self.parsed_or(name, default.as_millis() as u64)
            .map(Duration::from_millis)
    }

    /// The name of the table `logical` (a table of topology.json).
    pub fn table(&self, logical: &str) -> Result<String, ConfigError> {
        let env = &self.topology.table(logical).map_err(topology_error)?.env;
        self.required(env)
    }

    /// The URL of the queue `logical`.
    pub fn queue_url(&self, logical: &str) -> Result<String, ConfigError> {
        let env = &self.topology.queue(logical).map_err(topology_error)?.env;
        self.required(env)
    }

    /// The ARN of the topic `logical`.
    pub fn topic_arn(&self, logical: &str) -> Result<String, ConfigError> {
        let env = &self.topology.topic(logical).map_err(topology_error)?.env;
        self.required(env)
    }
}

fn system_topology() -> Result<Topology, ConfigError> {
    Topology::system().map_err(topology_error)
}

fn topology_error(e: crate::topology::TopologyError) -> ConfigError {
    ConfigError::Topology(e.to_string())
}

/// An optional variable parsed as `T`, or `default` when unset.
pub fn parsed_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    parse_value(name, std::env::var(name).ok(), default)
}

fn parse_value<T>(name: &str, raw: Option<String>, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match raw {
        Some(v) if !v.trim().is_empty() => {
            v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                value: v,
                reason: e.to_string(),
            })
        }
        _ => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_required_variable_is_named() {
        let vars = Vars::from_map(BTreeMap::new()).unwrap();
        let err = vars.required("PLATFORM_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable PLATFORM_TEST_SURELY_UNSET is required"
        );
    }

    #[test]
    fn optional_values_parse_or_default() {
        assert_eq!(parse_value("N", Some(" 42 ".into()), 1u32).unwrap(), 42);
        assert_eq!(parse_value("N", None, 7u32).unwrap(), 7);
        assert_eq!(parse_value("N", Some("".into()), 7u32).unwrap(), 7);
        let err = parse_value("N", Some("seven".into()), 7u32).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { name, .. } if name == "N"),
            "{err}"
        );
    }

    #[test]
    fn resources_are_found_by_their_topology_name() {
        let vars = Vars::from_map(BTreeMap::from([
            ("TASKS_TABLE".to_owned(), "t-tasks".to_owned()),
            ("TASKS_QUEUE_URL".to_owned(), " ".to_owned()),
        ]))
        .unwrap();
        assert_eq!(vars.table("tasks").unwrap(), "t-tasks");
        assert_eq!(
            vars.queue_url("tasks").unwrap_err().to_string(),
            "environment variable TASKS_QUEUE_URL is required"
        );
        assert!(matches!(
            vars.table("nope").unwrap_err(),
            ConfigError::Topology(_)
        ));
    }
}
