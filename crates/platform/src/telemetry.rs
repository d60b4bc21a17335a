//! Tracing set-up: JSON lines in Lambda (CloudWatch parses them), readable text elsewhere.
//!
//! The filter: `RUST_LOG` when set; else Lambda's log level (`AWS_LAMBDA_LOG_LEVEL`, which the
//! function's advanced logging controls set) for this workspace's crates, libraries at `warn` (or
//! `error` when that is the level); else `info` for this workspace and `warn` for libraries.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// This workspace's crates, which log at the chosen level: the shared ones, the local stack's
/// and each function's (a function's crate is named as the function in topology.json).
fn crates() -> Vec<String> {
    let functions = crate::topology::Topology::system()
        .map(|t| t.functions.into_iter().map(|f| f.name.replace('-', "_")))
        .into_iter()
        .flatten();
    ["domain", "platform", "devstack"]
        .into_iter()
        .map(str::to_owned)
        .chain(functions)
        .collect()
}

/// The filter directives for `RUST_LOG` and `AWS_LAMBDA_LOG_LEVEL` as the environment gives them.
pub fn filter_directives(rust_log: Option<&str>, lambda_level: Option<&str>) -> String {
    if let Some(explicit) = rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        return explicit.to_owned();
    }
    let level = match lambda_level
        .map(|l| l.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("TRACE") => "trace",
        Some("DEBUG") => "debug",
        Some("WARN") => "warn",
        Some("ERROR" | "FATAL") => "error",
        _ => "info",
    };
    let libraries = if level == "error" { "error" } else { "warn" };
    let mut directives = vec![libraries.to_owned()];
    directives.extend(crates().iter().map(|c| format!("{c}={level}")));
    directives.join(",")
}

pub fn init() {
    let directives = filter_directives(
        std::env::var("RUST_LOG").ok().as_deref(),
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
    );
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new(filter_directives(None, None)));
    // try_init: a second call (tests, several binaries in one process) is harmless.
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        let _ = lambda_subscriber(filter, std::io::stdout).try_init();
    } else {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .compact()
            .try_init();
    }
}

/// The subscriber of a function in Lambda: JSON lines, each with the span list (the runtime's
/// request id, the message and event ids), without timestamps (Lambda adds its own). Public so
/// that a test can read exactly what CloudWatch would receive.
pub fn lambda_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .without_time()
        .with_writer(writer)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    #[test]
    fn rust_log_wins_then_lambda_s_level_then_info() {
        assert_eq!(filter_directives(Some("debug"), Some("ERROR")), "debug");
        let default = filter_directives(None, None);
        assert!(default.starts_with("warn,domain=info,"), "{default}");
        assert_eq!(
            filter_directives(Some("  "), None),
            default,
            "an empty RUST_LOG is unset"
        );
        let debug = filter_directives(None, Some("DEBUG"));
        assert!(
            debug.starts_with("warn,") && debug.contains("queue_processor=debug"),
            "{debug}"
        );
        let error = filter_directives(None, Some("fatal"));
        assert!(
            error.starts_with("error,") && error.contains("api_handler=error"),
            "{error}"
        );
        assert_eq!(
            filter_directives(None, Some("LOUD")),
            default,
            "an unknown level is info"
        );
        for function in Topology::system().unwrap().functions {
            let own = format!("{}=info", function.name.replace('-', "_"));
            assert!(default.contains(&own), "{own} in {default}");
        }
        for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] {
            assert!(EnvFilter::try_new(filter_directives(None, Some(level))).is_ok());
        }
    }
}
