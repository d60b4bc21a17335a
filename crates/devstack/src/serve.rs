//! `devstack serve`: the whole local stack in one process — the emulators, the resources of the
//! topology with their reference data, the notification sink, the functions behind a Runtime
//! API, the API gateway and the event-source mappings — until it is told to stop. What it
//! started stops with it; `.devstack/env` (see [`crate::stackenv`]) says where everything
//! answers while it runs.

use crate::access::{self, Access, Principal};
use crate::bridge::{API_CONCURRENCY, Bridge, Invoker, Limited, limits};
use crate::emulator::{Emulator, Messaging, workspace_root};
use crate::faults::{FaultProxy, Faults};
use crate::runtime::LocalLambda;
use crate::sink::Sink;
use crate::stackenv::{StackEnv, state_dir};
use crate::user_pool::{self, UserPool};
use crate::{DevError, Endpoints, Result, Topology, gateway, provision, sdk_config, seed};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

/// Prefix of every resource the local stack creates.
pub const PREFIX: &str = "local-";
const API_FUNCTION: &str = "api-handler";
/// The local credentials: the emulators take them, and the gateway lets them call every IAM
/// route (`.devstack/env` gives them to clients).
const ACCESS_KEY_ID: &str = "test";
const SECRET_ACCESS_KEY: &str = "test";
/// The caller role the local credentials act as: it may call every IAM route.
const OPERATIONS: &str = "operations";
/// How many return bins have a key of their own on the local API.
const LOCAL_BINS: usize = 3;
/// The origin whose browser pages may read the local API's answers (the dev environment's).
const LOCAL_CORS_ORIGIN: &str = "http://localhost:3000";
/// The `config` variables the deployment itself gives (not a flow's settings).
const DEPLOYMENT_CONFIG: [&str; 2] = ["NOTIFY_URL", "CORS_ALLOW_ORIGINS"];

/// Where the stack's services listen (`DEVSTACK_*_PORT`).
pub struct Ports {
    pub messaging: u16,
    pub dynamodb: u16,
    pub lambda: u16,
    pub api: u16,
    pub notify: u16,
}

/// A number from the environment (a port, a limit), or `default`.
pub fn number<T>(var: &'static str, default: T) -> Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    platform::config::parsed_or(var, default).map_err(|e| DevError::Setup(e.to_string()))
}

impl Ports {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            messaging: number("DEVSTACK_MESSAGING_PORT", 4566)?,
            dynamodb: number("DEVSTACK_DYNAMODB_PORT", 8000)?,
            lambda: number("DEVSTACK_LAMBDA_PORT", 9000)?,
            api: number("DEVSTACK_API_PORT", 3000)?,
            notify: number("DEVSTACK_NOTIFY_PORT", 3001)?,
        })
    }

    fn url(port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }
}

/// Runs the stack until SIGTERM or Ctrl-C.
pub async fn serve() -> Result<()> {
    let started = Instant::now();
    let ports = Ports::from_env()?;
    let shares = crate::chaos::check_env()?;
    if shares != crate::chaos::Shares::default() {
        info!(?shares, "chaos: injecting failures around the functions");
    }
    let dir = state_dir();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let _ = std::fs::remove_file(dir.join("env"));

    let which = Messaging::from_env()?;
    let (_emulators, endpoints) = start_emulators(which, &ports, &logs).await?;
    let sdk = sdk_config(&endpoints).await;
    let (functions_endpoints, faults_url) = fault_injector(&endpoints).await?;
    let topology = Topology::system()?;
    let resources = provision(&sdk, &topology, PREFIX).await?;
    let seeded = seed::seed(&aws_sdk_dynamodb::Client::new(&sdk), &topology, &resources).await?;
    info!(written = seeded.written, "reference data seeded");

    let settings = settings(&topology);
    let functions_env = functions_env(&resources, &functions_endpoints, &ports, &settings);
    StackEnv::write(&dir.join("functions.env"), &functions_env)?;
    let sink_listener = tokio::net::TcpListener::bind(("127.0.0.1", ports.notify)).await?;
    tokio::spawn(crate::sink::serve(sink_listener, Arc::new(Sink::default())));

    let invoker = start_functions(&topology, &functions_env, &ports, &logs).await?;
    let access = local_access(&dir)?;
    let access_env = access::client_env(&access);
    start_gateway(invoker.clone(), ports.api, access).await?;
    let bridge = Bridge::new(&sdk, &topology, &resources, which)?;
    tokio::spawn(bridge.run(invoker));

    let mut public_env = public_env(&endpoints, which, &ports, &settings);
    public_env.extend(access_env);
    public_env.insert("DEVSTACK_FAULTS_URL".into(), faults_url.unwrap_or_default());
    StackEnv::write(&dir.join("env"), &public_env)?;
    info!(api_url = %Ports::url(ports.api), seconds = started.elapsed().as_secs(), "local stack ready");

    wait_for_shutdown().await;
    info!("stopping");
    let _ = std::fs::remove_file(dir.join("env"));
    let _ = std::fs::remove_file(dir.join(user_pool::KEY_FILE));
    Ok(())
}

/// A local principal per caller role of the IAM routes: `operations` (every IAM route) signs with
/// `.devstack/env`'s credentials, each other role with its name as key id and secret.
fn local_principals() -> Result<Vec<Principal>> {
    let routes = crate::routes::Routes::declared()?;
    let roles: std::collections::BTreeSet<&str> = routes
        .all()
        .iter()
        .flat_map(|r| r.roles.iter().map(String::as_str))
        .collect();
    Ok(roles
        .into_iter()
        .map(|role| {
            let (key, secret) = if role == OPERATIONS {
                (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
            } else {
                (role, role)
            };
            Principal {
                access_key_id: key.to_owned(),
                secret_access_key: secret.to_owned(),
                arn: format!("arn:aws:iam::{}:role/{role}", access::ACCOUNT),
                role: role.to_owned(),
            }
        })
        .collect())
}

/// The local API's callers: the bins' keys, the local credentials, and a user pool with a new
/// key (kept in `dir` for `devstack token`).
fn local_access(dir: &Path) -> Result<Access> {
    let users = UserPool::generate()?;
    users.save(dir)?;
    Ok(Access {
        region: provision::REGION.to_owned(),
        bins: access::bin_keys(LOCAL_BINS),
        principals: local_principals()?,
        users,
        origins: vec![LOCAL_CORS_ORIGIN.to_owned()],
    })
}

/// The messaging emulator and DynamoDB Local, started together; they stop when the returned
/// handles drop.
async fn start_emulators(
    which: Messaging,
    ports: &Ports,
    logs: &Path,
) -> Result<((Emulator, Emulator), Endpoints)> {
    let messaging_log = logs.join(format!("{}.log", which.name()));
    let dynamodb_log = logs.join("dynamodb-local.log");
    let (messaging, dynamodb) = tokio::try_join!(
        Emulator::messaging(which, ports.messaging, Some(&messaging_log)),
        Emulator::dynamodb_local(ports.dynamodb, Some(&dynamodb_log)),
    )?;
    info!(messaging = which.name(), sqs_sns = %messaging.endpoint, dynamodb = %dynamodb.endpoint, "emulators are up");
    let endpoints = Endpoints {
        messaging: messaging.endpoint.clone(),
        dynamodb: dynamodb.endpoint.clone(),
    };
    Ok(((messaging, dynamodb), endpoints))
}

/// The functions reach DynamoDB through the fault injector when faults are asked for
/// (`DEVSTACK_DYNAMODB_FAULTS`); the stack's own tooling (seed, reset, report) never does. The endpoints
/// the functions use, and the injector's URL if it runs.
async fn fault_injector(endpoints: &Endpoints) -> Result<(Endpoints, Option<String>)> {
    let Some(faults) = Faults::from_env()? else {
        return Ok((endpoints.clone(), None));
    };
    let proxy = FaultProxy::new(&endpoints.dynamodb, faults, seed_from_clock());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    info!(?faults, %url, "injecting DynamoDB faults for the functions");
    tokio::spawn(crate::faults::serve(listener, proxy));
    let functions = Endpoints {
        dynamodb: url.clone(),
        ..endpoints.clone()
    };
    Ok((functions, Some(format!("{url}/faults"))))
}

/// The settings the topology's functions take from their deployment (`uses.config`), from this
/// process's environment (`make up` passes them through) or the topology's `settings` (`local`).
/// The deployment's own (`NOTIFY_URL`, the stack's sink; `CORS_ALLOW_ORIGINS`) are not settings.
fn settings(topology: &Topology) -> BTreeMap<String, String> {
    let mut settings = BTreeMap::new();
    for name in topology.functions.iter().flat_map(|f| &f.uses.config) {
        if DEPLOYMENT_CONFIG.contains(&name.as_str()) {
            continue;
        }
        let value = std::env::var(name).ok();
        if let Some(value) = value.or_else(|| topology.local_setting(name).map(str::to_owned)) {
            info!(%name, %value, "setting");
            settings.insert(name.clone(), value);
        }
    }
    settings
}

/// The environment every function runs with: its resources, the endpoints, the settings.
fn functions_env(
    resources: &provision::Resources,
    endpoints: &Endpoints,
    ports: &Ports,
    settings: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = resources.env.clone();
    env.extend(endpoints.env().map(|(k, v)| (k.to_owned(), v.to_owned())));
    env.extend(settings.clone());
    for (k, v) in [
        ("AWS_REGION", provision::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
        ("NOTIFY_URL", Ports::url(ports.notify)),
        ("CORS_ALLOW_ORIGINS", LOCAL_CORS_ORIGIN.to_owned()),
        // The local gateway uses stage "local"; routes do not include the stage.
        ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ] {
        env.insert(k.into(), v);
    }
    env
}

/// What `.devstack/env` tells the stack's clients.
fn public_env(
    endpoints: &Endpoints,
    which: Messaging,
    ports: &Ports,
    settings: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = endpoints
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.extend(settings.clone());
    for (k, v) in [
        ("API_URL", Ports::url(ports.api)),
        ("DEVSTACK_MESSAGING", which.name().to_owned()),
        ("NOTIFY_URL", Ports::url(ports.notify)),
        ("LAMBDA_RUNTIME_URL", Ports::url(ports.lambda)),
        ("AWS_REGION", provision::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
    ] {
        env.insert(k.into(), v);
    }
    env
}

/// Where the functions' binaries are: beside this one, since one `cargo build` puts every binary
/// of the workspace in one folder (`target/debug`, or the folder of another target dir, such as
/// `make coverage`'s instrumented build); `target/debug` when this one's path is unknown.
fn functions_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| workspace_root().join("target/debug"))
}

/// Each function runs as many invocations at once as the topology gives it: a pool of its own
/// instances (the optimized build beside this binary, started on demand up to that many) behind a
/// Runtime API of this crate's, and one Invoke API (the `LAMBDA_RUNTIME_URL`) that holds each
/// function to its limit.
async fn start_functions(
    topology: &Topology,
    functions_env: &BTreeMap<String, String>,
    ports: &Ports,
    logs: &Path,
) -> Result<Arc<Limited<LocalLambda>>> {
    let api_concurrency = number("DEVSTACK_API_CONCURRENCY", API_CONCURRENCY)?;
    let limits = limits(topology, api_concurrency);
    let env: Vec<(String, String)> = functions_env.clone().into_iter().collect();
    let lambda = LocalLambda::start(&limits, &functions_dir(), &env, logs).await?;
    warm_up(&lambda, topology).await?;
    let invoker = Arc::new(Limited::new(lambda, &limits));
    let invoke_listener = tokio::net::TcpListener::bind(("127.0.0.1", ports.lambda)).await?;
    tokio::spawn(crate::bridge::serve_invoke_api(
        invoke_listener,
        invoker.clone(),
    ));
    Ok(invoker)
}

/// The API gateway in front of api-handler, letting in the callers of `access`, throttled like
/// the production stage unless `DEVSTACK_API_RATE_LIMIT` / `DEVSTACK_API_BURST_LIMIT` say
/// otherwise.
async fn start_gateway(
    invoker: Arc<Limited<LocalLambda>>,
    port: u16,
    access: Access,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let throttle = gateway::Throttle::new(
        number("DEVSTACK_API_RATE_LIMIT", gateway::LOCAL_RATE_LIMIT)?,
        number("DEVSTACK_API_BURST_LIMIT", gateway::LOCAL_BURST_LIMIT)?,
    );
    let gw = gateway::Gateway::configured(
        move |function: String, payload: serde_json::Value| {
            let invoker = invoker.clone();
            async move { invoker.invoke(&function, payload).await }
        },
        API_FUNCTION,
        gateway::INTEGRATION_TIMEOUT,
        Some(throttle),
        Some(access),
    );
    tokio::spawn(async move { axum::serve(listener, gw.router()).await });
    Ok(())
}

/// Invokes every function once with an empty batch, so each has an instance running before the
/// stack reports ready.
async fn warm_up(invoker: &impl Invoker, topology: &Topology) -> Result<()> {
    for function in topology.functions.iter().map(|f| f.name.as_str()) {
        let payload = if function == API_FUNCTION {
            serde_json::json!({"httpMethod": "GET", "path": "/warm-up", "headers": {}, "requestContext": {"stage": "local", "httpMethod": "GET"}, "body": null, "isBase64Encoded": false, "resource": "/{proxy+}", "multiValueHeaders": {}, "queryStringParameters": null, "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null})
        } else {
            serde_json::json!({"Records": []})
        };
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match invoker.invoke(function, payload.clone()).await {
                Ok(_) => break,
                Err(e) if attempt < 120 => {
                    if attempt % 10 == 1 {
                        info!(function, error = %e, "waiting for the function");
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(DevError::Setup(format!("{function} did not start: {e}"))),
            }
        }
        let ms = started.elapsed().as_millis() as u64;
        info!(function, ms, "function ready");
    }
    Ok(())
}

fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

async fn wait_for_shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting a function of the topology takes is given to the functions and named in
    /// `.devstack/env`, whichever flow declares it: none is spelled out here but its default.
    #[test]
    fn the_topology_s_settings_reach_the_functions_and_the_env_file() {
        let topology = Topology::system().unwrap();
        let settings = settings(&topology);
        for name in topology.functions.iter().flat_map(|f| &f.uses.config) {
            assert!(
                DEPLOYMENT_CONFIG.contains(&name.as_str()) || settings.contains_key(name),
                "{name}: declare it in topology.json's settings, with its local value"
            );
        }
        assert!(!settings.contains_key("NOTIFY_URL"), "the stack's own sink");
        let ports = Ports {
            messaging: 1,
            dynamodb: 2,
            lambda: 3,
            api: 4,
            notify: 5,
        };
        let endpoints = Endpoints {
            messaging: "http://m".into(),
            dynamodb: "http://d".into(),
        };
        let public = public_env(&endpoints, Messaging::Fauxqs, &ports, &settings);
        assert_eq!(public["API_URL"], "http://127.0.0.1:4");
        assert_eq!(public["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"], "http://d");
        assert_eq!(public["AWS_ENDPOINT_URL_SNS"], "http://m");
        for name in settings.keys() {
            assert_eq!(public[name], settings[name]);
        }
        let resources = provision::Resources::default();
        let functions = functions_env(&resources, &endpoints, &ports, &settings);
        assert_eq!(functions["NOTIFY_URL"], "http://127.0.0.1:5");
        for name in settings.keys() {
            assert_eq!(functions[name], settings[name]);
        }
    }
}
