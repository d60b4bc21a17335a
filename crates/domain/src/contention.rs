//! Optimistic concurrency, once for every use case: read, decide, write under a condition on
//! what was read; a write that lost a race to another writer is made again on fresh data, a
//! bounded number of times, and then handed back as a retryable failure (the message or request
//! is retried later, when the contention has passed).

use crate::PortError;
use std::future::Future;
use tracing::debug;

/// How many times a decision is made before the contention is handed back. Each try reads fresh
/// state, so a try loses only to a write that committed in between.
pub const ATTEMPTS: u32 = 8;

/// What one try came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Try<T, S> {
    /// Decided (written, or nothing to write).
    Done(T),
    /// Another writer got there first; try again from `S` (what the next try starts from).
    Lost(S),
}

/// Runs `attempt` from `first` until it is [`Try::Done`], at most [`ATTEMPTS`] times. `what`
/// names the contended state in the error: "`what` kept changing during 8 attempts".
pub async fn optimistically<S, T, E, F, Fut>(what: &str, first: S, mut attempt: F) -> Result<T, E>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Result<Try<T, S>, E>>,
    E: From<PortError>,
{
    let mut state = first;
    for n in 1..=ATTEMPTS {
        match attempt(state).await? {
            Try::Done(done) => return Ok(done),
            Try::Lost(next) => {
                debug!(
                    attempt = n,
                    what, "lost a race; deciding again on fresh data"
                );
                state = next;
            }
        }
    }
    Err(PortError::Retryable(format!("{what} kept changing during {ATTEMPTS} attempts")).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_try_that_loses_is_made_again_from_where_the_last_one_left_off() {
        let mut tries = Vec::new();
        let done: Result<u32, PortError> = optimistically("x", 0, |n| {
            tries.push(n);
            async move {
                Ok(if n < 3 {
                    Try::Lost(n + 1)
                } else {
                    Try::Done(n * 10)
                })
            }
        })
        .await;
        assert_eq!(done.unwrap(), 30);
        assert_eq!(tries, vec![0, 1, 2, 3]);
    }

    #[tokio::test]
    async fn contention_that_lasts_every_attempt_is_retryable_and_named() {
        let mut tries = 0;
        let lost: Result<(), PortError> = optimistically("order o1", (), |()| {
            tries += 1;
            async { Ok(Try::Lost(())) }
        })
        .await;
        assert_eq!(tries, ATTEMPTS);
        assert_eq!(
            lost,
            Err(PortError::Retryable(
                "order o1 kept changing during 8 attempts".into()
            ))
        );
    }

    #[tokio::test]
    async fn a_failure_ends_the_tries_at_once() {
        let mut tries = 0;
        let failed: Result<(), PortError> = optimistically("x", (), |()| {
            tries += 1;
            async { Err(PortError::Permanent("gone".into())) }
        })
        .await;
        assert_eq!(tries, 1);
        assert_eq!(failed, Err(PortError::Permanent("gone".into())));
    }
}
