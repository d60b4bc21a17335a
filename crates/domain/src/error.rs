/// Failure of a port (storage, messaging). The adapter decides whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Throttling, timeouts, transient service errors, lost races worth re-running.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Corrupt stored data, misconfiguration: repeating the call gives the same answer.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}
