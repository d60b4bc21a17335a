//! Lambda's concurrency and timeouts, for functions the local stack invokes: each function runs
//! at most as many invocations at once as its topology gives it, and an invocation that runs
//! longer than the function's timeout ends as a timeout, as it does in Lambda. An invocation
//! waiting for a free instance waits in line; the caller bounds that wait (the API front by its
//! integration timeout, the event-source pollers by being no more than the concurrency).

use super::invoker::{InvokeError, Invoker};
use crate::topology::{EventSource, Topology};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What the local stack gives a function fed by nothing but the API, unless
/// `DEVSTACK_API_CONCURRENCY` says otherwise. In AWS it runs up to its `reserved_concurrency` in
/// topology.json; on a laptop the cores are the ceiling long before 16
/// instances are busy, while every instance costs a process start and its memory. Requests
/// beyond it wait for a free instance, within the API's 29 s integration timeout.
pub const API_CONCURRENCY: u32 = 16;

/// Time an invocation may take beyond the function's timeout (process start, transport) before
/// the local stack calls it timed out.
pub const TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// A function's concurrency and timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub concurrency: u32,
    pub timeout: Duration,
}

/// Each function's limit, from the topology: a queue-fed function runs as many invocations as
/// its mappings' `max_concurrency` together allow; a stream-fed one one per shard (the local
/// stream has one); a function nothing maps runs `api_concurrency`.
pub fn limits(topology: &Topology, api_concurrency: u32) -> BTreeMap<String, Limit> {
    topology
        .functions
        .iter()
        .map(|f| {
            let mapped: Vec<u32> = topology
                .event_sources
                .iter()
                .filter(|s| s.function() == f.name)
                .map(|s| match s {
                    EventSource::Queue {
                        max_concurrency, ..
                    } => max_concurrency.unwrap_or(DEFAULT_QUEUE_CONCURRENCY),
                    EventSource::Stream { .. } => 1,
                })
                .collect();
            let concurrency = if mapped.is_empty() {
                api_concurrency
            } else {
                mapped.iter().sum()
            };
            let limit = Limit {
                concurrency: concurrency.max(1),
                timeout: Duration::from_secs(u64::from(f.timeout_seconds)),
            };
            (f.name.clone(), limit)
        })
        .collect()
}

/// An SQS mapping without `maximumConcurrency` scales far beyond what a laptop runs.
const DEFAULT_QUEUE_CONCURRENCY: u32 = 5;

/// An invoker that holds every function to its [`Limit`].
pub struct Limited<I> {
    inner: I,
    functions: BTreeMap<String, (Arc<Semaphore>, Duration)>,
}

impl<I: Invoker> Limited<I> {
    pub fn new(inner: I, limits: &BTreeMap<String, Limit>) -> Self {
        let functions = limits
            .iter()
            .map(|(name, l)| {
                let permits = usize::try_from(l.concurrency).unwrap_or(1);
                (
                    name.clone(),
                    (
                        Arc::new(Semaphore::new(permits)),
                        l.timeout + TIMEOUT_MARGIN,
                    ),
                )
            })
            .collect();
        Self { inner, functions }
    }

    /// Invocations of `function` that could start now.
    pub fn available(&self, function: &str) -> usize {
        self.functions
            .get(function)
            .map(|(s, _)| s.available_permits())
            .unwrap_or_default()
    }
}

impl<I: Invoker> Invoker for Limited<I> {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let Some((slots, timeout)) = self.functions.get(function) else {
            return Err(InvokeError::Transport {
                function: function.to_owned(),
                detail: "no such function in the topology".into(),
            });
        };
        let _slot = slots.acquire().await.map_err(|e| InvokeError::Transport {
            function: function.to_owned(),
            detail: e.to_string(),
        })?;
        match tokio::time::timeout(*timeout, self.inner.invoke(function, payload)).await {
            Ok(answer) => answer,
            Err(_) => Err(InvokeError::Function {
                function: function.to_owned(),
                detail: format!("timed out after {}s", timeout.as_secs()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_function_gets_the_concurrency_its_mappings_give_it() {
        let t = Topology::system().unwrap();
        let l = limits(&t, 50);
        assert_eq!(l["api-handler"].concurrency, 50);
        assert_eq!(l["api-handler"].timeout, Duration::from_secs(10));
        // A consumer: its queue mappings' maximum concurrency together, a stream's one.
        for f in t.functions.iter().filter(|f| f.name != "api-handler") {
            let mapped: u32 = t
                .event_sources
                .iter()
                .filter(|s| s.function() == f.name)
                .map(|s| match s {
                    EventSource::Queue {
                        max_concurrency, ..
                    } => max_concurrency.unwrap_or(DEFAULT_QUEUE_CONCURRENCY),
                    EventSource::Stream { .. } => 1,
                })
                .sum();
            assert_eq!(l[&f.name].concurrency, mapped.max(1), "{}", f.name);
        }
        assert_eq!(l["outbox-relay"].concurrency, 1);
    }

    #[tokio::test]
    async fn no_more_invocations_run_at_once_than_the_limit_and_slow_ones_time_out() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (r, p) = (running.clone(), peak.clone());
        let function = move |_: String, payload: Value| {
            let (r, p) = (r.clone(), p.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                let ms = payload["ms"].as_u64().unwrap_or(20);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                Ok(json!({"ok": true}))
            }
        };
        let limit = Limit {
            concurrency: 3,
            timeout: Duration::ZERO,
        };
        let limited = Arc::new(Limited::new(
            function,
            &BTreeMap::from([("f".to_owned(), limit)]),
        ));
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let l = limited.clone();
                tokio::spawn(async move { l.invoke("f", json!({})).await })
            })
            .collect();
        for call in calls {
            assert!(call.await.unwrap().is_ok());
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(limited.available("f"), 3);

        // The margin is 2 s; a 3 s invocation times out.
        let slow = limited.invoke("f", json!({"ms": 3000})).await;
        assert!(
            matches!(&slow, Err(InvokeError::Function { detail, .. }) if detail.contains("timed out")),
            "{slow:?}"
        );
        assert!(limited.invoke("unknown", json!({})).await.is_err());
    }
}
