//! The run in figures: throughput, latency percentiles, errors by kind, and latency percentiles
//! second by second as an SVG chart.

use crate::harness::Check;
use crate::record::{Outcome, Sample};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub scenario: String,
    /// The command line that produced this run.
    pub command: String,
    pub api: String,
    pub users: usize,
    pub seconds: f64,
    pub requests: usize,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<Outcome, usize>,
    pub error_rate: f64,
    pub statuses: BTreeMap<u16, usize>,
    pub invariants: Vec<Check>,
    /// CPU per hop of the local stack (empty against a deployed API).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<crate::hops::HopCpu>,
    /// What the local stack's DynamoDB fault injector injected during the attack, when on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injected_faults: Option<serde_json::Value>,
    /// The share of requests that may fail (transport, timeout, 5xx) for the run to pass.
    pub error_budget: f64,
    /// The open model's offered load, when the run had one (`--rate`); without it the users ran
    /// a closed loop, which measures a ceiling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered: Option<Offered>,
}

/// The load an open-model run offered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Offered {
    /// Requests a second each user sent.
    pub per_user: f64,
    /// `users × per_user`.
    pub requests_per_second: f64,
    /// Requests sent late because the user's previous answer outlasted its interval: the rate
    /// offered was not held for them.
    pub late: u64,
}

/// The value below which `q` of the sorted values lie (nearest rank).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl Summary {
    pub fn new(
        scenario: &str,
        api: &str,
        users: usize,
        samples: &[Sample],
        invariants: Vec<Check>,
    ) -> Self {
        let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
        latencies.sort();
        let first = samples.iter().map(|s| s.at.saturating_sub(s.latency)).min();
        let last = samples.iter().map(|s| s.at).max();
        let seconds = match (first, last) {
            (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
            _ => 0.0,
        };
        let mut errors = BTreeMap::new();
        let mut statuses = BTreeMap::new();
        for s in samples {
            if s.outcome != Outcome::Ok {
                *errors.entry(s.outcome).or_insert(0) += 1;
            }
            *statuses.entry(s.status).or_insert(0) += 1;
        }
        let failed: usize = errors.values().sum();
        Self {
            scenario: scenario.to_owned(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            api: api.to_owned(),
            users,
            seconds,
            requests: samples.len(),
            requests_per_second: if seconds > 0.0 {
                samples.len() as f64 / seconds
            } else {
                0.0
            },
            p50_ms: ms(percentile(&latencies, 0.50)),
            p95_ms: ms(percentile(&latencies, 0.95)),
            p99_ms: ms(percentile(&latencies, 0.99)),
            max_ms: ms(latencies.last().copied().unwrap_or_default()),
            error_rate: if samples.is_empty() {
                0.0
            } else {
                failed as f64 / samples.len() as f64
            },
            errors,
            statuses,
            invariants,
            hops: Vec::new(),
            injected_faults: None,
            error_budget: 0.0,
            offered: None,
        }
    }

    /// Errors that must not happen at all: requests lost to transport, timeouts, 5xx.
    pub fn hard_errors(&self) -> usize {
        [Outcome::Transport, Outcome::Timeout, Outcome::ServerError]
            .iter()
            .filter_map(|o| self.errors.get(o))
            .sum()
    }

    pub fn passed(&self) -> bool {
        let hard = self.hard_errors() as f64;
        let within_budget = if self.error_budget > 0.0 {
            hard < self.error_budget * self.requests as f64
        } else {
            hard == 0.0
        };
        self.requests > 0 && within_budget && self.invariants.iter().all(Check::passed)
    }

    /// The run in one line.
    pub fn line(&self) -> String {
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|(k, v)| {
                format!(
                    "{} {v}",
                    serde_json::to_value(k)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                )
            })
            .collect();
        let invariants = self.invariants.iter().filter(|c| c.passed()).count();
        let model = match &self.offered {
            Some(o) => format!(
                "open model, {} users × {}/s = {:.0} req/s offered ({} sent late)",
                self.users, o.per_user, o.requests_per_second, o.late
            ),
            None => format!("closed loop of {} users (a ceiling)", self.users),
        };
        format!(
            "{}: {model}; {} requests in {:.0} s = {:.0} req/s; p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; errors {:.3} % ({}); invariants {invariants}/{} held — {}",
            self.scenario,
            self.requests,
            self.seconds,
            self.requests_per_second,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.max_ms,
            self.error_rate * 100.0,
            if errors.is_empty() {
                "none".to_owned()
            } else {
                errors.join(", ")
            },
            self.invariants.len(),
            if self.passed() { "PASS" } else { "FAIL" },
        )
    }
}

/// p50, p95 and p99 of the requests that ended in each second, and their number.
pub fn per_second(samples: &[Sample]) -> Vec<(u64, usize, [f64; 3])> {
    let mut by_second: BTreeMap<u64, Vec<Duration>> = BTreeMap::new();
    for s in samples {
        by_second.entry(s.at.as_secs()).or_default().push(s.latency);
    }
    by_second
        .into_iter()
        .map(|(second, mut l)| {
            l.sort();
            let p = |q| ms(percentile(&l, q));
            (second, l.len(), [p(0.50), p(0.95), p(0.99)])
        })
        .collect()
}

/// Latency percentiles over time and throughput, as an SVG a browser shows.
pub fn chart(title: &str, samples: &[Sample]) -> String {
    let series = per_second(samples);
    let plot = Plot::new(&series);
    let mut svg = plot.frame(title);
    plot.grid(&mut svg);
    let rps: Vec<(f64, f64)> = series
        .iter()
        .map(|s| (plot.x(s.0 as f64), plot.y(s.1 as f64, plot.max_rps)))
        .collect();
    let _ = writeln!(svg, "{}", polyline(&rps, "#bbb", "4 3"));
    for (i, (name, colour)) in [("p50", "#2a7"), ("p95", "#e90"), ("p99", "#d33")]
        .iter()
        .enumerate()
    {
        let points: Vec<(f64, f64)> = series
            .iter()
            .map(|s| (plot.x(s.0 as f64), plot.y(s.2[i], plot.max_ms)))
            .collect();
        let _ = writeln!(svg, "{}", polyline(&points, colour, ""));
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" fill="{colour}">{name}</text>"#,
            LEFT + 10.0 + 50.0 * i as f64,
            TOP + 14.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" fill="#999">req/s</text></svg>"##,
        LEFT + 160.0,
        TOP + 14.0
    );
    svg
}

/// The chart's size and margins, in pixels.
const W: f64 = 900.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// The chart's scales: seconds across, latency (left) and requests a second (right) up.
struct Plot {
    last: f64,
    max_ms: f64,
    max_rps: f64,
    plot_w: f64,
    plot_h: f64,
}

impl Plot {
    fn new(series: &[(u64, usize, [f64; 3])]) -> Self {
        let max_ms = series.iter().map(|s| s.2[2]).fold(1.0_f64, f64::max);
        Self {
            last: series.last().map_or(1, |s| s.0.max(1)) as f64,
            max_ms: max_ms.max(1.0),
            max_rps: series.iter().map(|s| s.1).max().unwrap_or(1).max(1) as f64,
            plot_w: W - LEFT - RIGHT,
            plot_h: H - TOP - BOTTOM,
        }
    }

    fn x(&self, t: f64) -> f64 {
        LEFT + t / self.last * self.plot_w
    }

    fn y(&self, v: f64, max: f64) -> f64 {
        TOP + self.plot_h - v / max * self.plot_h
    }

    /// The document's head: title, axes and their labels.
    fn frame(&self, title: &str) -> String {
        let (bottom, right, middle) = (
            TOP + self.plot_h,
            LEFT + self.plot_w,
            TOP + self.plot_h / 2.0,
        );
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="22" font-size="14">{}</text>
<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>
<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="black"/>
<text x="{}" y="{}" text-anchor="middle">seconds</text>
<text x="14" y="{middle}" transform="rotate(-90 14 {middle})" text-anchor="middle">latency (ms)</text>
<text x="{}" y="{middle}" transform="rotate(90 {} {middle})" text-anchor="middle" fill="#999">requests/s</text>
"##,
            escape(title),
            LEFT + self.plot_w / 2.0,
            H - 12.0,
            W - 16.0,
            W - 16.0,
        )
    }

    /// Five latency and rate levels across, and the seconds below.
    fn grid(&self, svg: &mut String) {
        for i in 0..=4 {
            let v = self.max_ms * f64::from(i) / 4.0;
            let r = self.max_rps * f64::from(i) / 4.0;
            let at = self.y(v, self.max_ms);
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="end">{v:.0}</text><text x="{}" y="{}" fill="#999">{r:.0}</text><line x1="{LEFT}" y1="{at}" x2="{}" y2="{at}" stroke="#eee"/>"##,
                LEFT - 6.0,
                at + 4.0,
                LEFT + self.plot_w + 6.0,
                at + 4.0,
                LEFT + self.plot_w,
            );
        }
        let tick = (self.last / 6.0).ceil().max(1.0);
        let mut t = 0.0;
        while t <= self.last {
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="middle">{t:.0}</text>"#,
                self.x(t),
                TOP + self.plot_h + 16.0
            );
            t += tick;
        }
    }
}

fn polyline(points: &[(f64, f64)], colour: &str, dash: &str) -> String {
    let pts: Vec<String> = points
        .iter()
        .map(|(a, b)| format!("{a:.1},{b:.1}"))
        .collect();
    format!(
        r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}" points="{}"/>"#,
        pts.join(" ")
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: u64, latency_ms: u64, outcome: Outcome) -> Sample {
        Sample {
            at: Duration::from_millis(at_ms),
            latency: Duration::from_millis(latency_ms),
            outcome,
            status: 200,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn a_summary_counts_errors_by_kind_and_fails_on_hard_ones() {
        let mut samples: Vec<Sample> = (0..1000)
            .map(|i| sample(1000 + i, 10, Outcome::Ok))
            .collect();
        let s = Summary::new("reads", "http://x", 10, &samples, vec![]);
        assert!(s.passed(), "{}", s.line());
        assert!(
            (s.requests_per_second - 1000.0).abs() < 20.0,
            "{}",
            s.line()
        );
        samples.push(sample(2000, 30_000, Outcome::Timeout));
        samples.push(sample(2000, 5, Outcome::UnexpectedClientError));
        let s = Summary::new("reads", "http://x", 10, &samples, vec![]);
        assert_eq!(s.errors[&Outcome::Timeout], 1);
        assert_eq!(s.hard_errors(), 1);
        assert!(!s.passed());
        assert!(s.line().contains("timeout 1"), "{}", s.line());
        assert!(s.line().ends_with("FAIL"));
    }

    #[test]
    fn the_chart_draws_a_line_per_percentile() {
        let samples: Vec<Sample> = (0..3000).map(|i| sample(i, i % 50, Outcome::Ok)).collect();
        let svg = chart("reads <local>", &samples);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains("reads &lt;local&gt;"));
    }
}
