//! In-order batch processing for FIFO queues and streams, with Lambda's partial batch response.
//!
//! Records are handled one after another, never concurrently. The first record that fails with a
//! retryable error is reported together with every record after it, so nothing later in its
//! message group can overtake it. A permanent error is not a failure of the batch: the record is
//! written to the rejection log for review and the batch goes on. If even that write fails, the
//! record is treated as retryable.
//!
//! A batch also respects the invocation's deadline: when less time is left than one record may
//! need, the remaining records are reported as failed without being tried, so a slow downstream
//! ends the invocation in time instead of timing it out (which would send the whole batch back,
//! the records already done included).

use crate::dynamo::RejectionLog;
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use domain::PortError;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tracing::{Instrument, error, info_span, warn};

/// How much time a batch has: the invocation's deadline and what one record may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    deadline: Option<Instant>,
    per_record: Option<Duration>,
}

impl Budget {
    /// No deadline and no limit per record (tests, direct calls).
    pub fn unlimited() -> Self {
        Self {
            deadline: None,
            per_record: None,
        }
    }

    /// The Lambda context's deadline (milliseconds since the epoch) and the time one record may
    /// take. A deadline that has passed before the invocation began is not a deadline Lambda
    /// would send (a local runtime emulator may send a constant): then only the limit per record
    /// holds.
    pub fn until_epoch_ms(deadline_ms: u64, per_record: Duration) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let deadline = if deadline_ms > now_ms {
            Some(Instant::now() + Duration::from_millis(deadline_ms - now_ms))
        } else {
            warn!(
                deadline_ms,
                "the invocation's deadline has passed already; records are limited one by one"
            );
            None
        };
        Self {
            deadline,
            per_record: Some(per_record),
        }
    }

    /// `left` from now.
    pub fn within(left: Duration, per_record: Duration) -> Self {
        Self {
            deadline: Some(Instant::now() + left),
            per_record: Some(per_record),
        }
    }

    fn left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether another record can still be tried and finish before the deadline.
    pub fn allows_another(&self) -> bool {
        self.left()
            .is_none_or(|left| left >= self.per_record.unwrap_or_default())
    }

    /// How long the record about to start may take: its share, and never past the deadline (less
    /// a margin to answer in). A record cut off is retryable, like any other failure.
    pub fn record_limit(&self) -> Option<Duration> {
        let before_deadline = self.left().map(|l| l.saturating_sub(ANSWER_MARGIN));
        match (before_deadline, self.per_record) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Time kept back from the deadline to answer the invocation.
const ANSWER_MARGIN: Duration = Duration::from_millis(300);

/// How one record ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Might succeed later: the record goes back to its source.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Will never succeed: the record is rejected for review and not retried.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<PortError> for RecordError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Retryable(m) => Self::Retryable(m),
            PortError::Permanent(m) => Self::Permanent(m),
        }
    }
}

/// Where permanently failing records are recorded.
#[async_trait]
pub trait RejectionSink: Send + Sync {
    async fn reject(
        &self,
        source: &str,
        record_id: &str,
        reason: &str,
        body: &str,
    ) -> Result<(), PortError>;
}

#[async_trait]
impl RejectionSink for RejectionLog {
    async fn reject(
        &self,
        source: &str,
        record_id: &str,
        reason: &str,
        body: &str,
    ) -> Result<(), PortError> {
        self.record(source, record_id, reason, body).await
    }
}

/// Handles `records` in order; returns the ids to report as failed (the first retryable failure
/// and everything after it, or everything the budget left untried).
pub async fn process_in_order<T, F, Fut>(
    source: &str,
    records: Vec<(String, T)>,
    body_of: impl Fn(&T) -> String,
    rejections: &dyn RejectionSink,
    budget: Budget,
    mut handle: F,
) -> Vec<String>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<(), RecordError>>,
{
    let ids: Vec<String> = records.iter().map(|(id, _)| id.clone()).collect();
    for (index, (id, record)) in records.into_iter().enumerate() {
        // The first record is always tried: the function's timeout is chosen to fit one.
        if index > 0 && !budget.allows_another() {
            warn!(
                source,
                untried = ids.len() - index,
                "too little time left for another record; the rest go back"
            );
            crate::metrics::batch_failures(source, "untried", ids.len() - index);
            return ids[index..].to_vec();
        }
        let span = info_span!("record", source, record_id = %id);
        let body = body_of(&record);
        let limit = budget.record_limit();
        let failed = async {
            let outcome = match limit {
                None => handle(record).await,
                Some(limit) => tokio::time::timeout(limit, handle(record))
                    .await
                    .unwrap_or_else(|_| {
                        Err(RecordError::Retryable(format!(
                            "the record took longer than its {} ms",
                            limit.as_millis()
                        )))
                    }),
            };
            match outcome {
                Ok(()) => false,
                Err(RecordError::Permanent(reason)) => {
                    warn!(%reason, "rejecting record permanently");
                    crate::metrics::batch_failures(source, "rejected", 1);
                    match rejections.reject(source, &id, &reason, &body).await {
                        Ok(()) => false,
                        Err(e) => {
                            error!(error = %e, "could not record rejection; retrying the record");
                            true
                        }
                    }
                }
                Err(RecordError::Retryable(reason)) => {
                    warn!(%reason, "record failed; it and the rest of the batch go back");
                    true
                }
            }
        }
        .instrument(span)
        .await;
        if failed {
            crate::metrics::batch_failures(source, "retried", ids.len() - index);
            return ids[index..].to_vec();
        }
    }
    Vec::new()
}

/// A batch that cannot even be reported on: some record lacks the id Lambda needs.
#[derive(Debug, thiserror::Error)]
#[error("SQS record {0} has no messageId")]
pub struct MissingMessageId(pub usize);

/// An SQS FIFO batch through [`process_in_order`], answered with `batchItemFailures`.
pub async fn process_sqs_fifo_batch<F, Fut>(
    source: &str,
    event: SqsEvent,
    rejections: &dyn RejectionSink,
    budget: Budget,
    mut handle: F,
) -> Result<SqsBatchResponse, MissingMessageId>
where
    F: FnMut(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), RecordError>>,
{
    let records = event
        .records
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            m.message_id
                .clone()
                .map(|id| (id, m))
                .ok_or(MissingMessageId(i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let failed = process_in_order(
        source,
        records,
        |m| m.body.clone().unwrap_or_default(),
        rejections,
        budget,
        |m| {
            let group = m
                .attributes
                .get("MessageGroupId")
                .cloned()
                .unwrap_or_default();
            handle(m).instrument(info_span!("sqs_message", message_group_id = %group))
        },
    )
    .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    Ok(response)
}

/// Which receive of its message this is, from SQS's `ApproximateReceiveCount`, against the
/// queue's `maxReceiveCount`. A message without the attribute is not what an event-source
/// mapping delivers: an error, not a guess.
pub fn delivery(
    message: &SqsMessage,
    max_receives: u32,
) -> Result<domain::events::Delivery, RecordError> {
    let receive_count = message
        .attributes
        .get("ApproximateReceiveCount")
        .ok_or_else(|| RecordError::Permanent("message has no ApproximateReceiveCount".into()))?
        .parse()
        .map_err(|e| RecordError::Permanent(format!("ApproximateReceiveCount: {e}")))?;
    Ok(domain::events::Delivery {
        receive_count,
        max_receives,
    })
}

/// The body of an SQS record parsed as JSON into `T`; an unparseable body is permanent.
pub fn json_body<T: serde::de::DeserializeOwned>(message: &SqsMessage) -> Result<T, RecordError> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| RecordError::Permanent("message has no body".into()))?;
    serde_json::from_str(body)
        .map_err(|e| RecordError::Permanent(format!("malformed message body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Sink(Mutex<Vec<(String, String)>>, bool);

    #[async_trait]
    impl RejectionSink for Sink {
        async fn reject(&self, _: &str, id: &str, reason: &str, _: &str) -> Result<(), PortError> {
            if self.1 {
                return Err(PortError::Retryable("down".into()));
            }
            self.0.lock().unwrap().push((id.into(), reason.into()));
            Ok(())
        }
    }

    fn batch(bodies: &[&str]) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut m = SqsMessage::default();
                m.message_id = Some(format!("m{i}"));
                m.body = Some((*b).into());
                m
            })
            .collect();
        e
    }

    fn failed_ids(response: SqsBatchResponse) -> Vec<String> {
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    async fn run(bodies: &[&str], sink: &Sink) -> (Vec<String>, Vec<String>) {
        let seen = Mutex::new(Vec::new());
        let response =
            process_sqs_fifo_batch("test", batch(bodies), sink, Budget::unlimited(), |m| {
                let body = m.body.clone().unwrap();
                seen.lock().unwrap().push(body.clone());
                async move {
                    match body.as_str() {
                        "retry" => Err(RecordError::Retryable("later".into())),
                        "poison" => Err(RecordError::Permanent("never".into())),
                        _ => Ok(()),
                    }
                }
            })
            .await
            .unwrap();
        (failed_ids(response), seen.into_inner().unwrap())
    }

    #[tokio::test]
    async fn all_good_reports_nothing() {
        let (failed, seen) = run(&["a", "b", "c"], &Sink::default()).await;
        assert!(failed.is_empty());
        assert_eq!(seen, ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn a_failing_middle_record_reports_itself_and_every_later_one() {
        let (failed, seen) = run(&["a", "retry", "c", "d"], &Sink::default()).await;
        assert_eq!(failed, ["m1", "m2", "m3"]);
        assert_eq!(
            seen,
            ["a", "retry"],
            "nothing after the failure is processed"
        );
    }

    #[tokio::test]
    async fn permanent_failures_are_recorded_and_the_batch_goes_on() {
        let sink = Sink::default();
        let (failed, seen) = run(&["a", "poison", "c"], &sink).await;
        assert!(failed.is_empty());
        assert_eq!(seen, ["a", "poison", "c"]);
        assert_eq!(
            *sink.0.lock().unwrap(),
            [("m1".to_string(), "never".to_string())]
        );
    }

    #[tokio::test]
    async fn an_unrecordable_rejection_is_retried() {
        let sink = Sink(Mutex::default(), true);
        let (failed, _) = run(&["a", "poison", "c"], &sink).await;
        assert_eq!(failed, ["m1", "m2"]);
    }

    #[tokio::test]
    async fn a_record_without_id_fails_the_whole_invocation() {
        let mut e = batch(&["a"]);
        e.records[0].message_id = None;
        let r = process_sqs_fifo_batch("t", e, &Sink::default(), Budget::unlimited(), |_| async {
            Ok(())
        })
        .await;
        assert!(r.is_err());
    }

    #[tokio::test]
    async fn records_the_deadline_leaves_no_time_for_go_back_untried() {
        let seen = Mutex::new(Vec::new());
        // Room for one record of a second, not for a second one.
        let budget = Budget::within(Duration::from_secs(2), Duration::from_millis(1500));
        let response = process_sqs_fifo_batch(
            "test",
            batch(&["slow", "b", "c"]),
            &Sink::default(),
            budget,
            |m| {
                seen.lock().unwrap().push(m.body.clone().unwrap());
                async {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Ok(())
                }
            },
        )
        .await
        .unwrap();
        let failed = failed_ids(response);
        assert_eq!(failed, ["m1", "m2"]);
        assert_eq!(*seen.lock().unwrap(), ["slow"]);
        assert!(Budget::unlimited().allows_another());
    }

    #[tokio::test]
    async fn a_record_that_outruns_its_share_is_cut_off_and_goes_back() {
        let budget = Budget::within(Duration::from_secs(30), Duration::from_millis(200));
        let response = process_sqs_fifo_batch(
            "test",
            batch(&["hangs", "b"]),
            &Sink::default(),
            budget,
            |_| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            },
        )
        .await
        .unwrap();
        let failed = failed_ids(response);
        assert_eq!(failed, ["m0", "m1"]);
    }

    #[test]
    fn a_deadline_already_past_leaves_the_limit_per_record() {
        // What a local runtime emulator may send: a constant, not a time.
        let budget = Budget::until_epoch_ms(600_000, Duration::from_secs(8));
        assert!(budget.allows_another());
        assert_eq!(budget.record_limit(), Some(Duration::from_secs(8)));
        let real = Budget::until_epoch_ms(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64
                + 5_000,
            Duration::from_secs(8),
        );
        assert!(!real.allows_another());
        assert!(real.record_limit().unwrap() < Duration::from_secs(5));
        assert_eq!(Budget::unlimited().record_limit(), None);
    }

    #[test]
    fn the_receive_count_is_required() {
        let mut m = SqsMessage::default();
        assert!(matches!(delivery(&m, 3), Err(RecordError::Permanent(_))));
        m.attributes
            .insert("ApproximateReceiveCount".into(), "x".into());
        assert!(matches!(delivery(&m, 3), Err(RecordError::Permanent(_))));
        m.attributes
            .insert("ApproximateReceiveCount".into(), "3".into());
        assert!(delivery(&m, 3).unwrap().is_last());
    }

    #[test]
    fn json_bodies_parse_or_are_permanent() {
        let mut m = SqsMessage::default();
        m.body = Some("{\"a\":1}".into());
        assert_eq!(json_body::<serde_json::Value>(&m).unwrap()["a"], 1);
        m.body = Some("{".into());
        assert!(matches!(
            json_body::<serde_json::Value>(&m),
            Err(RecordError::Permanent(_))
        ));
        m.body = None;
        assert!(matches!(
            json_body::<serde_json::Value>(&m),
            Err(RecordError::Permanent(_))
        ));
    }
}
