//! Client of the external notification service: `POST {base}/v1/notify`, with a per-attempt
//! timeout, a bounded number of attempts with exponential back-off, and an `Idempotency-Key`
//! header so that a repeated delivery is one notification.

use crate::config::Vars;
use async_trait::async_trait;
use domain::PortError;
use domain::notifications::{Notification, NotificationSender};
use std::time::Duration;
use tracing::{instrument, warn};

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub base_url: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
}

impl NotifyConfig {
    pub fn from_vars(vars: &Vars) -> Result<Self, crate::ConfigError> {
        Ok(Self {
            base_url: vars
                .required("NOTIFY_URL")?
                .trim_end_matches('/')
                .to_owned(),
            timeout: vars.millis_or("NOTIFY_TIMEOUT_MS", Duration::from_secs(3))?,
            max_attempts: match vars.parsed_or("NOTIFY_MAX_ATTEMPTS", 3u32)? {
                0 => {
                    return Err(crate::ConfigError::Invalid {
                        name: "NOTIFY_MAX_ATTEMPTS".into(),
                        value: "0".into(),
                        reason: "at least one attempt".into(),
                    });
                }
                n => n,
            },
            initial_backoff: vars.millis_or("NOTIFY_BACKOFF_MS", Duration::from_millis(200))?,
        })
    }

    /// The longest one notification can take: every attempt timing out, with the back-off
    /// between attempts.
    pub fn worst_case(&self) -> Duration {
        let backoffs: Duration = (0..self.max_attempts.saturating_sub(1))
            .map(|i| self.initial_backoff * 2u32.saturating_pow(i))
            .sum();
        self.timeout * self.max_attempts + backoffs
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Timeouts, connection failures, 429 and 5xx after every attempt: try again later.
    #[error("notification service unavailable: {0}")]
    Unavailable(String),
    /// The service refused the request itself (4xx): retrying cannot help.
    #[error("notification refused: {0}")]
    Refused(String),
}

#[derive(Clone)]
pub struct NotifyClient {
    http: reqwest::Client,
    config: NotifyConfig,
}

impl NotifyClient {
    pub fn new(config: NotifyConfig) -> Result<Self, NotifyError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| NotifyError::Refused(format!("HTTP client: {e}")))?;
        Ok(Self { http, config })
    }

    #[instrument(skip_all, fields(user_id = %n.user_id, idempotency_key = %n.idempotency_key))]
    pub async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let url = format!("{}/v1/notify", self.config.base_url);
        let mut backoff = self.config.initial_backoff;
        let mut last = String::new();
        for attempt in 1..=self.config.max_attempts {
            let result = self
                .http
                .post(&url)
                .header("Idempotency-Key", &n.idempotency_key)
                .json(n)
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => return Ok(()),
                // The service already has this key: the notification was delivered before.
                Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => return Ok(()),
                Ok(r)
                    if r.status().is_client_error()
                        && r.status() != reqwest::StatusCode::TOO_MANY_REQUESTS =>
                {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    return Err(NotifyError::Refused(format!("{status}: {body}")));
                }
                Ok(r) => last = format!("HTTP {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            warn!(attempt, error = %last, "notification attempt failed");
            if attempt < self.config.max_attempts {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(NotifyError::Unavailable(format!(
            "{} attempts, last: {last}",
            self.config.max_attempts
        )))
    }
}

#[async_trait]
impl NotificationSender for NotifyClient {
    async fn send(&self, notification: &Notification) -> Result<(), PortError> {
        let started = std::time::Instant::now();
        let kind = notification.kind;
        match NotifyClient::send(self, notification).await {
            Ok(()) => {
                // How late against the time it was due, for a notification that had one.
                let lateness = notification.data["due_at"]
                    .as_str()
                    .and_then(domain::time::parse_event_time)
                    .and_then(|due| (chrono::Utc::now() - due).to_std().ok());
                crate::metrics::notification_sent(kind, started.elapsed(), lateness);
                Ok(())
            }
            Err(NotifyError::Unavailable(m)) => {
                crate::metrics::notification_failed();
                Err(PortError::Retryable(m))
            }
            Err(NotifyError::Refused(m)) => {
                crate::metrics::notification_failed();
                Err(PortError::Permanent(m))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use domain::ids::UserId;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A loopback service answering the first `fail` calls with `status`, then 202.
    async fn service(
        fail: usize,
        status: StatusCode,
    ) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, k) = (calls.clone(), keys.clone());
        let app = Router::new().route(
            "/v1/notify",
            post(move |headers: HeaderMap| {
                let n = c.fetch_add(1, Ordering::SeqCst);
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                k.lock().unwrap().push(key);
                async move {
                    if n < fail {
                        status
                    } else {
                        StatusCode::ACCEPTED
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, calls, keys)
    }

    fn client(url: String, attempts: u32) -> NotifyClient {
        NotifyClient::new(NotifyConfig {
            base_url: url,
            timeout: Duration::from_secs(2),
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(1),
        })
        .unwrap()
    }

    fn note() -> Notification {
        Notification {
            idempotency_key: "evt_1:rental_completed".into(),
            user_id: UserId::parse("u1").unwrap(),
            kind: "rental_completed",
            message: "hi".into(),
            data: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn retries_server_errors_then_succeeds_with_the_same_key() {
        let (url, calls, keys) = service(2, StatusCode::SERVICE_UNAVAILABLE).await;
        client(url, 3).send(&note()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(
            keys.lock()
                .unwrap()
                .iter()
                .all(|k| k == "evt_1:rental_completed")
        );
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_as_unavailable() {
        let (url, calls, _) = service(10, StatusCode::INTERNAL_SERVER_ERROR).await;
        let err = client(url, 3).send(&note()).await.unwrap_err();
        assert!(matches!(err, NotifyError::Unavailable(_)), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn client_errors_are_refused_without_retry() {
        let (url, calls, _) = service(10, StatusCode::BAD_REQUEST).await;
        assert!(matches!(
            client(url, 3).send(&note()).await,
            Err(NotifyError::Refused(_))
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn throttling_is_retried_and_conflict_means_delivered() {
        let (url, calls, _) = service(1, StatusCode::TOO_MANY_REQUESTS).await;
        client(url, 2).send(&note()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let (url, _, _) = service(10, StatusCode::CONFLICT).await;
        client(url, 1).send(&note()).await.unwrap();
    }

    #[tokio::test]
    async fn unreachable_service_is_unavailable() {
        // Port 9 (discard) on loopback: nothing listens there.
        let err = client("http://127.0.0.1:9".into(), 2)
            .send(&note())
            .await
            .unwrap_err();
        assert!(matches!(err, NotifyError::Unavailable(_)));
    }
}
