//! SDK set-up and the one place SDK errors become port errors.

use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use domain::PortError;
use std::time::Duration;

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one attempt of a call may take (DynamoDB, SQS and SNS answer in milliseconds).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a call may take with its retries. An API request makes at most four calls in a row
/// (idempotency claim, two writes, the stored response), so a hung service ends it within 8 s
/// as a retryable error (the API's 503), inside the function's 10 s, not as a Lambda timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);

/// The timeouts every SDK client gets.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Loads region, credentials and endpoints the standard way (`AWS_ENDPOINT_URL` and the
/// service-specific `AWS_ENDPOINT_URL_<SERVICE>` point clients at local emulators; nothing else
/// differs between local and AWS), with explicit timeouts.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .load()
        .await
}

const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSThrottlingException",
];

/// Turns an SDK failure into a port error that names the call and says whether retrying helps:
/// network trouble, throttling and 5xx are retryable; anything the service rejected on its merits
/// (validation, missing resource, access denied) is permanent.
pub fn sdk_error<E, R>(call: &'static str, err: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let message = format!("{call}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PortError::Retryable(message)
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            if RETRYABLE_CODES.contains(&code) {
                PortError::Retryable(message)
            } else {
                PortError::Permanent(message)
            }
        }
        _ => PortError::Permanent(message),
    }
}

/// Marshalling failures mean stored data does not have the shape this code expects.
pub fn data_error(what: &str, err: impl std::fmt::Display) -> PortError {
    PortError::Permanent(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{Credentials, Region};

    #[test]
    fn every_call_is_bounded_well_inside_the_shortest_function_timeout() {
        let t = timeouts();
        let shortest = crate::topology::Topology::system()
            .unwrap()
            .functions
            .iter()
            .map(|f| f.timeout_seconds)
            .min()
            .unwrap();
        assert!(t.connect_timeout().is_some());
        assert!(t.operation_attempt_timeout().is_some());
        // The longest run of calls in one request or record, with a second to spare.
        assert!(
            OPERATION_TIMEOUT * 4 + Duration::from_secs(1)
                < Duration::from_secs(u64::from(shortest))
        );
    }

    /// A service that accepts connections and never answers: the call ends, as a retryable
    /// error, when its timeout runs out.
    #[tokio::test]
    async fn a_hung_call_ends_as_a_retryable_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(Credentials::new("t", "t", None, None, "test"))
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_millis(100))
                    .operation_timeout(Duration::from_millis(300))
                    .build(),
            )
            .build();
        let err = aws_sdk_dynamodb::Client::from_conf(config)
            .get_item()
            .table_name("t")
            .key("k", aws_sdk_dynamodb::types::AttributeValue::S("v".into()))
            .send()
            .await
            .unwrap_err();
        assert!(sdk_error("GetItem", err).is_retryable());
    }
}
