//! SDK set-up and the one place SDK errors become port errors.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use domain::PortError;

/// Loads region, credentials and endpoint the standard way. `AWS_ENDPOINT_URL` points every
/// client at the local emulator; nothing else differs between local and AWS.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
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
