use super::invoker::Invoker;
use crate::Result;
use crate::provision::REGION;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::error::SdkError;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use platform::sdk_error;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tracing::warn;

/// A DynamoDB stream mapped to a function, delivered in order. A reported failure is retried
/// from the failing record on the next poll, like Lambda's checkpointing.
pub struct StreamSource {
    dynamo: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
    table: String,
    function: String,
    batch_size: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    stream_arn: Option<String>,
    shards: BTreeMap<String, Shard>,
    pending: VecDeque<Value>,
    /// When the shards were last listed.
    described: Option<Instant>,
}

/// How long a listing of the stream's shards is trusted while one of them is still open: a busy
/// relay polls continuously, and listing the shards on every poll cost DynamoDB Local as much
/// as reading them. A shard read to its end is followed at once.
const SHARDS_LISTED_FOR: Duration = Duration::from_secs(1);

/// Where reading a shard goes on.
#[derive(Default, Clone)]
struct Shard {
    /// Last sequence number read (`None`: nothing yet, read from the trim horizon).
    after: Option<String>,
    /// The iterator for the next read, while it is valid.
    iterator: Option<String>,
    /// Closed and read to its end.
    done: bool,
}

impl StreamSource {
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, function: &str, batch_size: i32) -> Self {
        Self {
            dynamo: aws_sdk_dynamodb::Client::new(sdk),
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
            table: table.into(),
            function: function.into(),
            batch_size: usize::try_from(batch_size).unwrap_or(100).max(1),
            state: Mutex::new(State::default()),
        }
    }

    pub fn function(&self) -> &str {
        &self.function
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Reads new stream records and delivers up to one batch; returns how many records the
    /// function accepted.
    pub async fn poll_once(&self, invoker: &impl Invoker) -> Result<usize> {
        let mut state = self.state.lock().await;
        self.discover(&mut state).await?;
        self.read(&mut state).await?;
        if state.pending.is_empty() {
            return Ok(0);
        }
        let batch: Vec<Value> = state
            .pending
            .iter()
            .take(self.batch_size)
            .cloned()
            .collect();
        let accepted = if crate::chaos::chaos().duplicate() {
            // The same records twice at once (a replayed shard): the checkpoint moves past
            // what both accepted.
            let (a, b) = tokio::join!(
                self.accepted_of(invoker, &batch),
                self.accepted_of(invoker, &batch)
            );
            a.min(b)
        } else {
            self.accepted_of(invoker, &batch).await
        };
        state.pending.drain(..accepted);
        Ok(accepted)
    }

    /// How many records of `batch`, from the first, one delivery accepted.
    async fn accepted_of(&self, invoker: &impl Invoker, batch: &[Value]) -> usize {
        let size = batch.len();
        match invoker
            .invoke(&self.function, json!({ "Records": batch }))
            .await
        {
            Ok(response) => {
                let failures = serde_json::from_value::<DynamoDbEventResponse>(response)
                    .map(|r| r.batch_item_failures)
                    .unwrap_or_default();
                match failures.first().and_then(|f| f.item_identifier.clone()) {
                    None => size,
                    Some(seq) => batch
                        .iter()
                        .position(|r| r["dynamodb"]["SequenceNumber"] == seq.as_str())
                        .unwrap_or(0),
                }
            }
            Err(e) => {
                warn!(error = %e, "stream batch failed; retrying it");
                0
            }
        }
    }

    async fn discover(&self, state: &mut State) -> Result<()> {
        if state.stream_arn.is_none() {
            let table = self
                .dynamo
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTable", e))?;
            state.stream_arn = table
                .table()
                .and_then(|t| t.latest_stream_arn())
                .map(str::to_owned);
        }
        let Some(arn) = state.stream_arn.clone() else {
            return Err(crate::DevError::Setup(format!(
                "table {} has no stream",
                self.table
            )));
        };
        let open = state.shards.values().any(|s| !s.done);
        if open
            && state
                .described
                .is_some_and(|at| at.elapsed() < SHARDS_LISTED_FOR)
        {
            return Ok(());
        }
        let description = self
            .streams
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeStream", e))?;
        for shard in description
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
        {
            if let Some(id) = shard.shard_id() {
                state.shards.entry(id.to_owned()).or_default();
            }
        }
        state.described = Some(Instant::now());
        Ok(())
    }

    /// Reads each open shard on from where the last read ended. An iterator that fails (it
    /// expires after 15 minutes) is replaced by a new one after the last record read.
    async fn read(&self, state: &mut State) -> Result<()> {
        let arn = state.stream_arn.clone().unwrap_or_default();
        let shards: Vec<(String, Shard)> = state
            .shards
            .iter()
            .filter(|(_, s)| !s.done)
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        for (id, mut shard) in shards {
            let out = match self.records(&arn, &id, &mut shard).await {
                Ok(Some(out)) => out,
                Ok(None) => continue,
                Err(e) => {
                    // The shard keeps no iterator: the next poll starts a fresh one.
                    state.shards.insert(id, shard);
                    return Err(e);
                }
            };
            for record in out.records() {
                state.pending.push_back(lambda_record(record, &arn));
                if let Some(seq) = record.dynamodb().and_then(|d| d.sequence_number()) {
                    shard.after = Some(seq.to_owned());
                }
            }
            shard.iterator = out.next_shard_iterator;
            shard.done = shard.iterator.is_none();
            state.shards.insert(id, shard);
        }
        Ok(())
    }

    /// The next records of a shard. An iterator the stream no longer honours (expired, or one
    /// DynamoDB Local reports as past the trim horizon after its shard was read empty) is
    /// replaced once by a fresh one after the last record read.
    async fn records(
        &self,
        arn: &str,
        id: &str,
        shard: &mut Shard,
    ) -> Result<Option<aws_sdk_dynamodbstreams::operation::get_records::GetRecordsOutput>> {
        for fresh in [false, true] {
            if fresh {
                shard.iterator = None;
            }
            let iterator = match shard.iterator.take() {
                Some(iterator) => iterator,
                None => {
                    let request = self
                        .streams
                        .get_shard_iterator()
                        .stream_arn(arn)
                        .shard_id(id);
                    let request = match &shard.after {
                        Some(seq) => request
                            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                            .sequence_number(seq),
                        None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
                    };
                    let out = request
                        .send()
                        .await
                        .map_err(|e| sdk_error("GetShardIterator", e))?;
                    match out.shard_iterator {
                        Some(iterator) => iterator,
                        None => return Ok(None),
                    }
                }
            };
            match self
                .streams
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
            {
                Ok(out) => return Ok(Some(out)),
                Err(SdkError::ServiceError(e))
                    if !fresh
                        && (e.err().is_trimmed_data_access_exception()
                            || e.err().is_expired_iterator_exception()) =>
                {
                    tracing::debug!(shard = id, error = %e.err(), "stream iterator replaced");
                }
                Err(e) => return Err(sdk_error("GetRecords", e).into()),
            }
        }
        Ok(None)
    }
}

/// A stream record in the shape Lambda delivers it.
fn lambda_record(r: &Record, stream_arn: &str) -> Value {
    let image = |m: Option<
        &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
    >| {
        m.map(|m| serde_json::to_value(serde_dynamo::Item::from(m.clone())).unwrap_or(Value::Null))
            .unwrap_or_else(|| json!({}))
    };
    let d = r.dynamodb();
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": r.aws_region().unwrap_or(REGION),
        "eventSourceARN": stream_arn,
        "dynamodb": {
            "ApproximateCreationDateTime": d.and_then(|d| d.approximate_creation_date_time()).map(|t| t.secs()),
            "Keys": image(d.and_then(|d| d.keys.as_ref())),
            "NewImage": image(d.and_then(|d| d.new_image.as_ref())),
            "SequenceNumber": d.and_then(|d| d.sequence_number()),
            "SizeBytes": d.and_then(|d| d.size_bytes()).unwrap_or(0),
            "StreamViewType": d.and_then(|d| d.stream_view_type()).map(|v| v.as_str()),
        }
    })
}
