//! The whole local stack (`devstack serve`: the emulators, every function's instances under
//! devstack's Runtime API, the bridge and the API front) as a user runs it: under load it must
//! never wedge, and the clients a user runs against it (`devstack reset`, `demo all`, every
//! load scenario with its invariants) pass. The binaries are those of this test's own build.

mod matrix;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A stack of the test's own: its own ports and state folder, beside any `make up` stack.
struct LocalStack {
    serve: Child,
    dir: PathBuf,
    env: BTreeMap<String, String>,
}

/// A binary of the workspace, from the build this test belongs to (`target/debug`, or another
/// target dir's, such as `make coverage`'s): the test runs as `<dir>/deps/<test>`.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: `cargo build --workspace --all-targets` first",
        binary.display()
    );
    binary
}

fn free_port() -> u16 {
    devstack::emulator::free_port().unwrap()
}

impl LocalStack {
    async fn start() -> Self {
        use std::os::unix::process::CommandExt;
        let dir = std::env::temp_dir().join(format!("devstack-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = std::fs::File::create(dir.join("serve.log")).unwrap();
        let mut command = Command::new(binary("devstack"));
        without_test_environment(&mut command);
        // The settings the demo steps ask of a stack, as `make demo` gives them.
        command.envs(demo_settings());
        let serve = command
            .arg("serve")
            .env("DEVSTACK_DIR", &dir)
            .env("DEVSTACK_MESSAGING_PORT", free_port().to_string())
            .env("DEVSTACK_DYNAMODB_PORT", free_port().to_string())
            .env("DEVSTACK_LAMBDA_PORT", free_port().to_string())
            .env("DEVSTACK_API_PORT", free_port().to_string())
            .env("DEVSTACK_NOTIFY_PORT", free_port().to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        let mut stack = Self {
            serve,
            dir,
            env: BTreeMap::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(env) = devstack::stackenv::StackEnv::read_file(&stack.dir.join("env")) {
                stack.env = env.vars().clone();
                return stack;
            }
            if let Ok(Some(status)) = stack.serve.try_wait() {
                panic!(
                    "devstack serve exited ({status}); see {}",
                    stack.dir.display()
                );
            }
            assert!(Instant::now() < deadline, "the stack did not come up");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn api(&self) -> &str {
        &self.env["API_URL"]
    }

    /// `GET url`, signed with the stack's local credentials (an IAM route).
    fn signed_get(&self, http: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        let signer = devstack::sigv4::Signer::new(
            &self.env["AWS_ACCESS_KEY_ID"],
            &self.env["AWS_SECRET_ACCESS_KEY"],
            None,
            &self.env["AWS_REGION"],
        );
        let mut request = http.get(url);
        for (k, v) in signer.headers("GET", url, &[], b"").unwrap() {
            request = request.header(k, v);
        }
        request
    }

    /// Runs a client of the workspace against this stack, as a user runs it beside `make up`'s
    /// (the stack's env file from `DEVSTACK_DIR`); its output, or a panic with it.
    fn run(&self, name: &str, args: &[&str]) -> String {
        self.run_with(name, args, &[])
    }

    /// [`Self::run`] with `env` set as well.
    fn run_with(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut command = Command::new(binary(name));
        without_test_environment(&mut command);
        let output = command
            .args(args)
            .envs(env.iter().copied())
            .env("DEVSTACK_DIR", &self.dir)
            .env_remove("API_URL")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "`{name} {}` failed ({}):\n{text}",
            args.join(" "),
            output.status
        );
        text
    }
}

/// `demo all --stack-settings`: the settings the demo steps ask of a stack.
fn demo_settings() -> Vec<(String, String)> {
    let output = Command::new(binary("demo"))
        .args(["all", "--stack-settings"])
        .output()
        .unwrap();
    assert!(output.status.success(), "demo all --stack-settings failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The stack as a user starts it: without what cargo sets for a test (`CARGO_*` and the
/// toolchain's library path), which the functions would otherwise inherit.
fn without_test_environment(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = (name.starts_with("CARGO") && name != "CARGO_HOME")
            || name.starts_with("RUSTC")
            || name.starts_with("RUST_TEST")
            || name == "OUT_DIR";
        if set_by_cargo {
            command.env_remove(&*name);
        }
    }
    if let Some(paths) = std::env::var_os("LD_LIBRARY_PATH") {
        let kept: Vec<PathBuf> = std::env::split_paths(&paths)
            .filter(|p| {
                let p = p.to_string_lossy();
                !p.contains("/target/") && !p.contains("/toolchains/")
            })
            .collect();
        if kept.is_empty() {
            command.env_remove("LD_LIBRARY_PATH");
        } else if let Ok(joined) = std::env::join_paths(kept) {
            command.env("LD_LIBRARY_PATH", joined);
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let group = format!("-{}", self.serve.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.serve.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.serve.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    throttled: AtomicU64,
    timed_out: AtomicU64,
    other: AtomicU64,
    transport: AtomicU64,
    slowest_ms: AtomicU64,
}

/// 500 clients at once for 15 s, each sending its next request as soon as the last is
/// answered; then one ordinary request, which must be answered within 2 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_clients_never_wedge_the_local_stack() {
    let stack = Arc::new(LocalStack::start().await);
    let url = format!("{}/users/tpg_u0001/rentals", stack.api());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .pool_max_idle_per_host(500)
        .build()
        .unwrap();
    let tally = Arc::new(Tally::default());
    let until = Instant::now() + Duration::from_secs(15);
    let clients: Vec<_> = (0..500)
        .map(|_| {
            let (http, url, tally) = (http.clone(), url.clone(), tally.clone());
            let stack = stack.clone();
            tokio::spawn(async move {
                while Instant::now() < until {
                    let sent = Instant::now();
                    let answer = stack.signed_get(&http, &url).send().await;
                    let ms = sent.elapsed().as_millis() as u64;
                    tally.slowest_ms.fetch_max(ms, Ordering::Relaxed);
                    let counter = match answer.map(|r| r.status().as_u16()) {
                        Ok(200) => &tally.ok,
                        Ok(429) => &tally.throttled,
                        Ok(504) => &tally.timed_out,
                        Ok(_) => &tally.other,
                        Err(_) => &tally.transport,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let summary = format!(
        "ok {} throttled {} 504 {} other {} transport {} slowest {} ms",
        count(&tally.ok),
        count(&tally.throttled),
        count(&tally.timed_out),
        count(&tally.other),
        count(&tally.transport),
        count(&tally.slowest_ms),
    );
    println!("500 clients for 15 s: {summary}");
    assert!(count(&tally.ok) > 500, "{summary}");
    assert_eq!(count(&tally.transport), 0, "{summary}");
    assert_eq!(count(&tally.other), 0, "{summary}");
    // The API front answers within its 29 s integration timeout, whatever happens behind it.
    assert!(count(&tally.slowest_ms) < 31_000, "{summary}");

    let sent = Instant::now();
    let answer = stack
        .signed_get(&reqwest::Client::new(), &url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .expect("a request right after the load is answered within 2 s");
    assert_eq!(answer.status(), 200);
    assert!(sent.elapsed() < Duration::from_secs(2));

    matrix::each_route_lets_in_only_its_credential(&stack).await;
    the_clients_pass_against_it(&stack);
}

/// After the load (same stack, reset to its reference data): every flow's demo step, every load
/// scenario briefly with its invariants checked after, the stack's report and dead letters, and
/// its measurements (each function's binary of this build, and the stand-ins' ceilings).
fn the_clients_pass_against_it(stack: &LocalStack) {
    stack.run("devstack", &["reset"]);
    let demo = stack.run("demo", &["all"]);
    for step in [
        "Submitting",
        "processed in submission order: yes",
        "training_nudge",
    ] {
        assert!(
            demo.contains(step),
            "{step:?} is not in the demo's output:\n{demo}"
        );
    }
    let out = stack.dir.join("load");
    let load = stack.run(
        "load",
        &[
            "mixed",
            "--users",
            "6",
            "--run-time",
            "6",
            "--settle-secs",
            "90",
            "--out",
            &out.display().to_string(),
        ],
    );
    let summary = std::fs::read_to_string(out.join("mixed/summary.txt")).unwrap();
    assert!(summary.contains("held — PASS"), "{summary}\n{load}");
    for scenario in load_scenarios() {
        assert!(
            load.contains(&format!("host for {scenario} configured")),
            "the {scenario} scenario did not run:\n{load}"
        );
    }
    let smoke = stack.run("smoke", &[]);
    let passed = smoke
        .lines()
        .find_map(|l| l.strip_prefix("smoke: ")?.strip_suffix(" flows passed"))
        .and_then(|counts| counts.split_once(" of "))
        .unwrap_or_else(|| panic!("no smoke summary:\n{smoke}"));
    assert!(
        passed.0 == passed.1 && passed.1.parse::<usize>().unwrap() >= 5,
        "{smoke}"
    );
    the_functions_write_the_metrics_topology_json_declares(stack);
    the_stack_reports_and_measures_itself(stack);
}

/// The load tool's scenarios, as it names them when refusing an unknown one.
fn load_scenarios() -> Vec<String> {
    let refused = Command::new(binary("load"))
        .args(["?", "--stack-settings"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let known = stderr
        .split("one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("load lists no scenarios: {stderr}"));
    let names: Vec<String> = known
        .trim()
        .split(", ")
        .filter(|n| *n != "mixed")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    names
}

/// The metrics each function wrote to its log (stdout, as in Lambda) while the demo and the load
/// ran: every embedded-metric-format document is in the namespace topology.json gives, with the
/// function's name and the metric's declared labels as its dimensions, and names only metrics
/// declared for that function; each function with metrics of its own wrote some of them.
fn the_functions_write_the_metrics_topology_json_declares(stack: &LocalStack) {
    let topology = platform::topology::Topology::system().unwrap();
    let namespace = &topology.metrics.namespace;
    let dimension = &topology.metrics.function_dimension;
    for function in &topology.functions {
        let log =
            std::fs::read_to_string(stack.dir.join(format!("logs/lambda-{}.log", function.name)))
                .unwrap_or_default();
        let documents: Vec<serde_json::Value> = log
            .lines()
            .filter(|l| l.starts_with("{\"_aws\""))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        let mut own_written = 0;
        for d in &documents {
            let directive = &d["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(&directive["Namespace"], namespace.as_str(), "{d}");
            assert_eq!(d[dimension.as_str()], function.name.as_str(), "{d}");
            for m in directive["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap();
                let declared = topology
                    .metrics
                    .every_function
                    .iter()
                    .chain(&function.metrics)
                    .find(|spec| spec.name == name)
                    .unwrap_or_else(|| {
                        panic!(
                            "{} wrote {name}, which topology.json does not declare for it",
                            function.name
                        )
                    });
                let mut dimensions = vec![dimension.clone()];
                dimensions.extend(declared.labels.iter().cloned());
                assert_eq!(
                    directive["Dimensions"][0],
                    serde_json::json!(dimensions),
                    "{d}"
                );
                assert_eq!(m["Unit"], declared.unit.as_str(), "{d}");
                if function.metrics.iter().any(|own| own.name == name) {
                    own_written += 1;
                }
            }
        }
        assert!(
            function.metrics.is_empty() || own_written > 0,
            "{} wrote none of its own metrics",
            function.name
        );
    }
}

fn the_stack_reports_and_measures_itself(stack: &LocalStack) {
    let report = stack.run("devstack", &["report"]);
    assert!(report.contains("== Dead-letter queues =="), "{report}");
    let dlq = stack.run("ops", &["dlq"]);
    assert!(
        dlq.contains("dead-letter queues of") && dlq.contains("tasks"),
        "{dlq}"
    );
    let redrive = stack.run("ops", &["redrive", "tasks"]);
    assert!(
        redrive.contains("0 messages moved from tasks-dlq back to tasks"),
        "{redrive}"
    );
    let bin_dir = binary("devstack").parent().unwrap().display().to_string();
    let out = stack.dir.join("footprint");
    let footprint = stack.run_with(
        "measure",
        &["--out", &out.display().to_string(), "footprint", "3"],
        &[("FOOTPRINT_BIN_DIR", &bin_dir)],
    );
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    for function in platform::topology::Topology::system().unwrap().functions {
        let function = &function.name;
        assert!(
            report.contains(function.as_str()),
            "{function} is not measured:\n{footprint}"
        );
    }
    let out = stack.dir.join("ceilings");
    let ceilings = stack.run(
        "measure",
        &["--out", &out.display().to_string(), "ceilings", "4", "1"],
    );
    assert!(out.join("report.json").exists(), "{ceilings}");
}
