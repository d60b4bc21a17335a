//! `measure footprint`: each function's release binary started as Lambda starts it, against a
//! Lambda Runtime API of our own, and fed its sample event (`events/<function>/`) against the
//! running local stack. Measured per function: cold start (process spawn to the first answer),
//! resident memory after N invocations, and the size of its release zip when `make zips` has
//! built one.
//!
//! The instance runs under devstack's own Runtime API ([`devstack::runtime`]), as in the stack.

use axum::body::Bytes;
use devstack::runtime::{Outcome, RuntimeApi, spawn_instance};
use devstack::{DevError, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The targets a function must meet on the development machine.
pub const COLD_START_TARGET_MS: f64 = 20.0;
pub const RSS_TARGET_MB: f64 = 24.0;
pub const ZIP_TARGET_MB: f64 = 4.0;

/// How long one invocation may take before the run is abandoned.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What `footprint` measured of one function.
#[derive(Debug, Clone, Serialize)]
pub struct Footprint {
    pub function: String,
    pub event: String,
    /// Process spawn to the first request for an event (the runtime's init phase).
    pub init_ms: f64,
    /// Process spawn to the first answer: init plus the first invocation.
    pub cold_start_ms: f64,
    pub warm_p50_ms: f64,
    pub warm_max_ms: f64,
    pub invocations: usize,
    pub function_errors: usize,
    pub rss_mb: f64,
    pub peak_rss_mb: f64,
    pub zip_mb: Option<f64>,
}

impl Footprint {
    /// Whether every figure is within its target (a missing zip is not judged).
    pub fn within_targets(&self) -> bool {
        self.function_errors == 0
            && self.cold_start_ms <= COLD_START_TARGET_MS
            && self.rss_mb <= RSS_TARGET_MB
            && self.zip_mb.is_none_or(|z| z <= ZIP_TARGET_MB)
    }
}

/// What to measure: a function, its binary, its sample event and its environment.
pub struct Subject<'a> {
    pub function: &'a str,
    pub binary: PathBuf,
    pub event: PathBuf,
    pub env: &'a [(String, String)],
    pub zip: Option<PathBuf>,
}

/// Starts `subject`'s binary as a fresh instance, invokes it `invocations` times with its
/// event one after another, and reads its resident memory at the end. A throwaway instance
/// answers the event once before, so that the emulators' own first-call costs (JIT, table
/// caches, connection set-up) are not charged to the function's cold start.
pub async fn measure(subject: &Subject<'_>, invocations: usize) -> Result<Footprint> {
    run(subject, 1).await?;
    run(subject, invocations).await
}

async fn run(subject: &Subject<'_>, invocations: usize) -> Result<Footprint> {
    let event =
        Bytes::from(std::fs::read(&subject.event).map_err(|e| {
            DevError::Setup(format!("cannot read {}: {e}", subject.event.display()))
        })?);
    let api = RuntimeApi::start().await?;
    let started = Instant::now();
    let mut child = spawn_instance(subject.function, &subject.binary, subject.env, &api, None)?;
    let pid = child.id().unwrap_or_default();

    let mut function_errors = 0;
    let mut cold_start = Duration::ZERO;
    let mut warm = Vec::with_capacity(invocations.saturating_sub(1));
    for n in 0..invocations {
        let begun = Instant::now();
        match api.invoke(event.clone(), INVOCATION_TIMEOUT).await {
            Some(Outcome::Response(_)) => {}
            Some(Outcome::Error(e)) => {
                function_errors += 1;
                if function_errors == 1 {
                    tracing::warn!(function = subject.function, error = %e, "function error");
                }
            }
            None => {
                return Err(DevError::Setup(match api.init_error() {
                    Some(e) => format!("{} failed to initialize: {e}", subject.function),
                    None => format!(
                        "{}: invocation {n} got no answer in {INVOCATION_TIMEOUT:?}",
                        subject.function
                    ),
                }));
            }
        }
        if n == 0 {
            cold_start = started.elapsed();
        } else {
            warm.push(begun.elapsed());
        }
    }
    let (rss_kb, peak_kb) = resident_kb(pid)?;
    let _ = child.kill().await;

    warm.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let zip_mb = match &subject.zip {
        Some(zip) => std::fs::metadata(zip)
            .ok()
            .map(|m| m.len() as f64 / (1024.0 * 1024.0)),
        None => None,
    };
    Ok(Footprint {
        function: subject.function.to_string(),
        event: subject.event.display().to_string(),
        init_ms: api
            .first_ready()
            .map_or(0.0, |ready| ms(ready.duration_since(started))),
        cold_start_ms: ms(cold_start),
        warm_p50_ms: warm.get(warm.len() / 2).copied().map_or(0.0, ms),
        warm_max_ms: warm.last().copied().map_or(0.0, ms),
        invocations,
        function_errors,
        rss_mb: rss_kb as f64 / 1024.0,
        peak_rss_mb: peak_kb as f64 / 1024.0,
        zip_mb,
    })
}

/// `VmRSS` and `VmHWM` of a process, in kB.
fn resident_kb(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| DevError::Setup(format!("cannot read the memory of process {pid}: {e}")))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_default()
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// The table `footprint` prints.
pub fn render(rows: &[Footprint]) -> String {
    let mut out = format!(
        "{:<16} {:>9} {:>10} {:>9} {:>9} {:>8} {:>9} {:>8} {:>7}  event\n",
        "function",
        "init (ms)",
        "cold (ms)",
        "warm p50",
        "warm max",
        "RSS MB",
        "peak MB",
        "zip MB",
        "errors"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<16} {:>9.1} {:>10.1} {:>9.2} {:>9.1} {:>8.1} {:>9.1} {:>8} {:>7}  {}{}\n",
            r.function,
            r.init_ms,
            r.cold_start_ms,
            r.warm_p50_ms,
            r.warm_max_ms,
            r.rss_mb,
            r.peak_rss_mb,
            r.zip_mb.map_or("-".into(), |z| format!("{z:.2}")),
            r.function_errors,
            std::fs::read_link(&r.event)
                .ok()
                .or_else(|| Path::new(&r.event).file_name().map(PathBuf::from))
                .map(|f| f.display().to_string())
                .unwrap_or_default(),
            if r.within_targets() {
                ""
            } else {
                "  (over target)"
            },
        ));
    }
    out.push_str(&format!(
        "init: spawn to the first request for an event; cold: spawn to the first answer (init and the\nfirst invocation, with its calls to the emulators); warm: the other invocations, one at a time\ntargets: cold start <= {COLD_START_TARGET_MS} ms, RSS after the run <= {RSS_TARGET_MB} MB, zip <= {ZIP_TARGET_MB} MB\n"
    ));
    out
}
