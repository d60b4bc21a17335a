//! What every request of a run gave: its latency and how it ended, by the second it ended in,
//! (what each scenario accepted it keeps itself, for its checks).

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

pub struct Recorder {
    started: Instant,
    samples: Mutex<Vec<Sample>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            samples: Mutex::new(Vec::new()),
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

    pub fn samples(&self) -> Vec<Sample> {
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
