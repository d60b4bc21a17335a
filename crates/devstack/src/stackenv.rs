//! The running local stack's state directory and the `env` file `devstack serve` writes there:
//! the one reader of `.devstack/env` (the CLI's commands, the operator tool, the load tool and
//! the tests all read the stack through it).

use crate::emulator::workspace_root;
use crate::{DevError, Endpoints, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the stack keeps its logs and `env` file: `.devstack/`, or `DEVSTACK_DIR` (tests run a
/// stack of their own beside a running one).
pub fn state_dir() -> PathBuf {
    std::env::var_os("DEVSTACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".devstack"))
}

/// The variables of an env file the stack wrote (`env`, `functions.env`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackEnv(BTreeMap<String, String>);

impl StackEnv {
    /// `.devstack/env` of the running stack (in [`state_dir`]).
    pub fn read() -> Result<Self> {
        Self::read_file(&state_dir().join("env"))
    }

    /// An env file: `NAME=value` lines.
    pub fn read_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|_| {
            DevError::Setup(format!(
                "{} not found: is the stack up? (make up)",
                path.display()
            ))
        })?;
        Ok(Self::parse(&text))
    }

    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect(),
        )
    }

    /// Writes `vars` to `path` at once (a reader never sees half a file).
    pub fn write(path: &Path, vars: &BTreeMap<String, String>) -> Result<()> {
        let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)?;
        Ok(())
    }

    /// A value the stack wrote; missing or empty is an error that says to restart it.
    pub fn get(&self, name: &str) -> Result<String> {
        self.0
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| {
                DevError::Setup(format!(
                    "{name} is missing from the stack's env file: restart the stack (make down up)"
                ))
            })
    }

    /// A value the stack wrote, if it did.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The endpoints of the stack's emulators.
    pub fn endpoints(&self) -> Result<Endpoints> {
        Ok(Endpoints {
            messaging: self.get("AWS_ENDPOINT_URL_SQS")?,
            dynamodb: self.get("AWS_ENDPOINT_URL_DYNAMODB")?,
        })
    }

    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_and_a_missing_value_says_what_to_do() {
        let dir = std::env::temp_dir().join(format!("stackenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("env");
        let vars: BTreeMap<String, String> = [
            ("API_URL", "http://127.0.0.1:3000"),
            ("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("EMPTY", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        StackEnv::write(&path, &vars).unwrap();
        let env = StackEnv::read_file(&path).unwrap();
        assert_eq!(env.vars(), &vars);
        assert_eq!(env.get("API_URL").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(env.endpoints().unwrap().dynamodb, "http://127.0.0.1:8000");
        assert_eq!(env.optional("EMPTY"), None);
        let missing = env.get("EMPTY").unwrap_err().to_string();
        assert!(missing.contains("restart the stack"), "{missing}");
        let absent = StackEnv::read_file(&dir.join("nothing"))
            .unwrap_err()
            .to_string();
        assert!(absent.contains("is the stack up?"), "{absent}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
