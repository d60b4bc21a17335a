//! `Idempotency-Key` on every POST: the first request with a key runs and its response is
//! stored; a retry with the same key and request gets that response again, byte for byte (with
//! `Idempotent-Replayed: true`); the same key with a different request is `422`; a retry while
//! the first is still running is `409` with `Retry-After`. 5xx responses are not stored, so a
//! retry after a server failure runs again. A key is the caller's own (`Caller::scope`): two
//! callers using one key make two requests. Design and store: `platform::idempotency`.

use crate::body::MAX_BODY_BYTES;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use platform::idempotency::{
    Claim, IdempotencyKey, IdempotencyStore, StoredResponse, request_hash,
};
use std::sync::Arc;
use tracing::warn;

pub const HEADER: &str = "idempotency-key";
/// Response headers worth replaying; the rest are transport details.
const REPLAYED_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What the store keeps `key` under: the caller's own (the same key from another caller is
/// another request), for this method and path.
fn scoped_key(parts: &axum::http::request::Parts, key: &IdempotencyKey) -> String {
    let caller = crate::caller::Caller::of(parts).scope();
    format!(
        "{caller} {} {} {}",
        parts.method,
        parts.uri.path(),
        key.as_str()
    )
}

pub async fn idempotency(
    State(store): State<Arc<dyn IdempotencyStore>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(raw) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let Some(key) = raw.to_str().ok().and_then(IdempotencyKey::parse) else {
        return ApiError::InvalidIdempotencyKey.into_response();
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }
        .into_response();
    };
    let scoped = scoped_key(&parts, &key);
    let hash = request_hash(parts.method.as_str(), parts.uri.path(), &bytes);
    match store.claim(&scoped, &hash, now_ms()).await {
        Err(e) => ApiError::Port(e).into_response(),
        Ok(Claim::Mismatch) => ApiError::IdempotencyKeyMismatch.into_response(),
        Ok(Claim::InProgress) => ApiError::RequestInProgress.into_response(),
        Ok(Claim::Completed(stored)) => {
            replay(&stored).unwrap_or_else(|e| ApiError::Port(e).into_response())
        }
        Ok(Claim::Acquired) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            // A 207 reports parts that may have failed (a batch's events that could not be
            // queued): a retry with the key must run them again, not replay the failure.
            if response.status().is_server_error() || response.status() == StatusCode::MULTI_STATUS
            {
                if let Err(e) = store.release(&scoped).await {
                    warn!(error = %e, "could not release idempotency claim; it expires by itself");
                }
                return response;
            }
            let (parts, body) = response.into_parts();
            let body = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(body) => body,
                Err(e) => {
                    let e = domain::PortError::Permanent(format!("response body: {e}"));
                    return ApiError::Port(e).into_response();
                }
            };
            let stored = StoredResponse {
                status: parts.status.as_u16(),
                headers: REPLAYED_HEADERS
                    .iter()
                    .filter_map(|h| {
                        parts
                            .headers
                            .get(h)
                            .and_then(|v| v.to_str().ok())
                            .map(|v| (h.to_string(), v.to_owned()))
                    })
                    .collect(),
                body: STANDARD.encode(&body),
            };
            if let Err(e) = store.complete(&scoped, &hash, &stored, now_ms()).await {
                // The request succeeded; failing it now would invite a second execution. The
                // claim expires and a later retry with this key runs again.
                warn!(error = %e, "could not store the idempotent response");
            }
            Response::from_parts(parts, Body::from(body))
        }
    }
}

/// The stored response again; a record that cannot be replayed faithfully is an error (500,
/// logged), never a made-up answer.
fn replay(stored: &StoredResponse) -> Result<Response, domain::PortError> {
    let (status, body) = stored.decode()?;
    let status = StatusCode::from_u16(status)
        .map_err(|e| domain::PortError::Permanent(format!("idempotency record: {e}")))?;
    let mut response = (status, body).into_response();
    for (name, value) in &stored.headers {
        let corrupt = |e: &dyn std::fmt::Display| {
            domain::PortError::Permanent(format!("idempotency record: header {name}: {e}"))
        };
        let name = HeaderName::try_from(name.as_str()).map_err(|e| corrupt(&e))?;
        let value = HeaderValue::from_str(value).map_err(|e| corrupt(&e))?;
        response.headers_mut().insert(name, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}
