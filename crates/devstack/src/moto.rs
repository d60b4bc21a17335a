//! The emulator's lifecycle: moto from the project's virtualenv, started through
//! `scripts/moto_server.py` (which serializes DynamoDB requests so that transactions are
//! isolated as in DynamoDB), on a loopback port, stopped when dropped.

use crate::{DevError, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

/// The workspace root, where `.venv/` lives.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtualenv's Python, which has moto installed (`MOTO_PYTHON` overrides it).
pub fn moto_python() -> PathBuf {
    std::env::var_os("MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"))
}

/// A port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl MotoServer {
    /// Starts moto on a free port, logging to `log` (or nowhere), and waits until it answers.
    pub async fn start(log: Option<&Path>) -> Result<Self> {
        Self::start_on(free_port()?, log).await
    }

    pub async fn start_on(port: u16, log: Option<&Path>) -> Result<Self> {
        let binary = moto_python();
        if !binary.exists() {
            return Err(DevError::Setup(format!(
                "{} not found: run `make venv` (or set MOTO_PYTHON)",
                binary.display()
            )));
        }
        let (out, err) = match log {
            Some(path) => {
                let f = std::fs::File::create(path)?;
                (Stdio::from(f.try_clone()?), Stdio::from(f))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let child = Command::new(&binary)
            .arg(workspace_root().join("scripts/moto_server.py"))
            .args(["127.0.0.1", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| DevError::Setup(format!("cannot start {}: {e}", binary.display())))?;
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready(Duration::from_secs(60)).await?;
        Ok(server)
    }

    async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            let answer = client
                .get(format!("{}/moto-api/", self.endpoint))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(DevError::Setup(format!(
                    "moto did not answer at {} within {timeout:?}",
                    self.endpoint
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
