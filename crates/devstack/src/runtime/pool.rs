//! A function's pool of instances behind its Runtime API, and every function's pools as one
//! invoker ([`LocalLambda`]).

use super::{Outcome, RuntimeApi, spawn_instance};
use crate::bridge::InvokeError;
use crate::{DevError, Result};
use axum::body::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracing::{info, warn};

/// A function's instances: started when invocations need them, up to `max`.
pub struct Pool {
    function: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    max: usize,
    api: RuntimeApi,
    instances: std::sync::Mutex<Vec<tokio::process::Child>>,
    /// The binary's modification time when the running instances were started.
    build: std::sync::Mutex<Option<SystemTime>>,
}

impl Pool {
    pub async fn start(
        function: &str,
        binary: PathBuf,
        env: Vec<(String, String)>,
        log: PathBuf,
        max: usize,
    ) -> Result<Arc<Self>> {
        if !binary.exists() {
            return Err(DevError::Setup(format!(
                "{} is missing: build it first (cargo build --workspace --bins)",
                binary.display()
            )));
        }
        let pool = Arc::new(Self {
            function: function.to_owned(),
            binary,
            env,
            log,
            max: max.max(1),
            api: RuntimeApi::start().await?,
            instances: std::sync::Mutex::new(Vec::new()),
            build: std::sync::Mutex::new(None),
        });
        tokio::spawn(Self::supervise(Arc::downgrade(&pool)));
        Ok(pool)
    }

    fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.binary)
            .and_then(|m| m.modified())
            .ok()
    }

    /// Starts an instance when none is idle and the pool is not full.
    fn scale(&self) {
        if self.api.idle() > 0 {
            return;
        }
        let Ok(mut instances) = self.instances.lock() else {
            return;
        };
        if instances.len() >= self.max {
            return;
        }
        let log = self.log.as_path();
        match spawn_instance(
            &self.function,
            &self.binary,
            &self.env,
            &self.api,
            Some(log),
        ) {
            Ok(child) => {
                if instances.is_empty()
                    && let Ok(mut build) = self.build.lock()
                {
                    *build = self.modified();
                }
                instances.push(child);
            }
            Err(e) => warn!(function = %self.function, error = %e, "cannot start an instance"),
        }
    }

    /// Every second: forgets instances that exited, and stops all of them once the binary was
    /// rebuilt, so that the next invocations run the new build.
    async fn supervise(pool: std::sync::Weak<Self>) {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Some(pool) = pool.upgrade() else { return };
            let rebuilt = {
                let build = pool.build.lock().ok().and_then(|b| *b);
                let now = pool.modified();
                build.is_some() && now.is_some() && now != build
            };
            let Ok(mut instances) = pool.instances.lock() else {
                continue;
            };
            if rebuilt {
                info!(function = %pool.function, "binary rebuilt: restarting its instances");
                for child in instances.iter_mut() {
                    let _ = child.start_kill();
                }
                instances.clear();
                if let Ok(mut build) = pool.build.lock() {
                    *build = None;
                }
                continue;
            }
            instances.retain_mut(|child| match child.try_wait() {
                Ok(Some(status)) => {
                    warn!(function = %pool.function, %status, "instance exited");
                    false
                }
                Ok(None) => true,
                Err(_) => false,
            });
        }
    }

    fn kill_one(&self) {
        let Ok(mut instances) = self.instances.lock() else {
            return;
        };
        if instances.is_empty() {
            return;
        }
        let i = fastrand::usize(..instances.len());
        if instances[i].start_kill().is_ok() {
            crate::chaos::chaos().killed();
            warn!(function = %self.function, "chaos: instance killed during an invocation");
        }
        instances.remove(i);
    }

    /// One invocation, answered by one of the pool's instances.
    pub async fn invoke(
        self: &Arc<Self>,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, InvokeError> {
        self.scale();
        let outcome = match crate::chaos::chaos().kill_after(&self.function) {
            // Chaos: an instance dies a moment into this invocation, which then fails at once,
            // as Lambda reports a runtime that exited. Whatever the handler had done by then
            // stays done; a late answer from a surviving instance is refused.
            Some(after) => {
                tokio::select! {
                    outcome = self.api.invoke(payload, timeout) => outcome,
                    () = tokio::time::sleep(after) => {
                        self.kill_one();
                        return Err(InvokeError::Function {
                            function: self.function.clone(),
                            detail: "Runtime exited: an instance was killed (chaos)".into(),
                        });
                    }
                }
            }
            None => self.api.invoke(payload, timeout).await,
        };
        match outcome {
            Some(Outcome::Response(body)) => Ok(body),
            Some(Outcome::Error(detail)) => Err(InvokeError::Function {
                function: self.function.clone(),
                detail,
            }),
            None => Err(InvokeError::Function {
                function: self.function.clone(),
                detail: match self.api.init_error() {
                    Some(e) => format!("failed to initialize: {e}"),
                    None => format!("timed out after {}s", timeout.as_secs()),
                },
            }),
        }
    }
}

/// The stack's functions, each a [`Pool`] of its own instances: the invoker behind the
/// gateway, the event-source bridge and the Invoke API.
pub struct LocalLambda {
    pools: std::collections::BTreeMap<String, (Arc<Pool>, Duration)>,
}

impl LocalLambda {
    /// A pool per function of `limits`, running `bin_dir/<function>` with `env`, logging to
    /// `logs/lambda-<function>.log`.
    pub async fn start(
        limits: &std::collections::BTreeMap<String, crate::bridge::Limit>,
        bin_dir: &Path,
        env: &[(String, String)],
        logs: &Path,
    ) -> Result<Self> {
        let mut pools = std::collections::BTreeMap::new();
        for (function, limit) in limits {
            let pool = Pool::start(
                function,
                bin_dir.join(function),
                env.to_vec(),
                logs.join(format!("lambda-{function}.log")),
                usize::try_from(limit.concurrency).unwrap_or(1),
            )
            .await?;
            pools.insert(
                function.clone(),
                (pool, limit.timeout + crate::bridge::TIMEOUT_MARGIN),
            );
        }
        Ok(Self { pools })
    }
}

impl crate::bridge::Invoker for LocalLambda {
    async fn invoke(
        &self,
        function: &str,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, InvokeError> {
        let Some((pool, timeout)) = self.pools.get(function) else {
            return Err(InvokeError::Transport {
                function: function.to_owned(),
                detail: "no such function in the topology".into(),
            });
        };
        let body = serde_json::to_vec(&payload).map_err(|e| InvokeError::Transport {
            function: function.to_owned(),
            detail: e.to_string(),
        })?;
        let answer = pool.invoke(Bytes::from(body), *timeout).await?;
        serde_json::from_slice(&answer).map_err(|e| InvokeError::Function {
            function: function.to_owned(),
            detail: format!("answer is not JSON: {e}"),
        })
    }
}
