//! What every request of a run gave: its latency and how it ended, by the second it ended in,
//! and the ids of what the API accepted (for the invariants).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The status the scenario expects.
    Ok,
    /// A connection that failed or broke.
    Transport,
    /// No answer within the client's timeout.
    Timeout,
    /// A 5xx.
    ServerError,
    /// A 4xx the scenario does not expect (a 429 from throttling among them).
    UnexpectedClientError,
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When it ended, from the start of the run.
    pub at: Duration,
    pub latency: Duration,
    pub outcome: Outcome,
    pub status: u16,
}

/// Something the API accepted, to be checked afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Return(String),
    Formula(String),
    /// A task, with the client that submitted it and its place among that client's tasks: a
    /// client sends its next task only after the last was accepted, so those must be processed
    /// in that order.
    Task {
        id: String,
        client: usize,
        nth: u64,
    },
    /// A placed order and its lines (SKU, units).
    Order {
        id: String,
        lines: Vec<(String, u32)>,
    },
    /// A placement whose outcome is unknown (no answer, or a 5xx): it may hold these units.
    MaybeOrder {
        lines: Vec<(String, u32)>,
    },
}

pub struct Recorder {
    started: Instant,
    samples: Mutex<Vec<Sample>>,
    accepted: Mutex<Vec<Accepted>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            samples: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
        }
    }
}

impl Recorder {
    pub fn record(&self, sent: Instant, status: Result<u16, &reqwest::Error>, expected: &[u16]) {
        let now = Instant::now();
        let (outcome, status) = match status {
            Ok(s) if expected.contains(&s) => (Outcome::Ok, s),
            Ok(s) if s >= 500 => (Outcome::ServerError, s),
            Ok(s) => (Outcome::UnexpectedClientError, s),
            Err(e) if e.is_timeout() => (Outcome::Timeout, 0),
            Err(_) => (Outcome::Transport, 0),
        };
        let sample = Sample {
            at: now.duration_since(self.started),
            latency: now.duration_since(sent),
            outcome,
            status,
        };
        if let Ok(mut samples) = self.samples.lock() {
            samples.push(sample);
        }
    }

    pub fn accept(&self, what: Accepted) {
        if let Ok(mut accepted) = self.accepted.lock() {
            accepted.push(what);
        }
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.accepted.lock().map(|a| a.clone()).unwrap_or_default()
    }
}
