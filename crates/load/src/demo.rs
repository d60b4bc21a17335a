//! `demo <flow> [FILE...]` and `demo all`: each flow's demo step (its scenario's `demo` module,
//! listed with the scenarios in [`crate::scenarios::DEMOS`]) posts the flow's sample requests to
//! the running API and shows what became of them. What the steps share: posting a file, polling
//! a resource, an error in one line, the stack's URLs.

use crate::auth::Auth;
use crate::scenarios::DEMOS;
use devstack::emulator::workspace_root;
use devstack::stackenv::StackEnv;
use devstack::{DevError, Result};
use futures::future::BoxFuture;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// A flow's demo step: its name on the command line, its run over the files to post, and what a
/// stack started for it should be given (a flow's settings, by variable name: `demo FLOW
/// --stack-settings` prints them for `make demo`).
pub struct Demo {
    pub flow: &'static str,
    pub run: fn(Vec<String>) -> BoxFuture<'static, Result<()>>,
    pub stack_settings: &'static [(&'static str, &'static str)],
}

/// The settings the demo steps of `flow` (or `all`) ask of a stack started for them.
pub fn stack_settings(flow: &str) -> Vec<(&'static str, &'static str)> {
    DEMOS
        .iter()
        .filter(|d| flow == "all" || d.flow == flow)
        .flat_map(|d| d.stack_settings.iter().copied())
        .collect()
}

/// Runs `flow`'s step with `files`, or with its samples (`events/demo-<flow>/*.json`, in name
/// order) when none are given.
pub async fn run(flow: &str, files: Vec<String>) -> Result<()> {
    let Some(demo) = DEMOS.iter().find(|d| d.flow == flow) else {
        let known: Vec<&str> = DEMOS.iter().map(|d| d.flow).collect();
        return Err(DevError::Setup(format!(
            "no demo for {flow:?}; the flows' demos: {}",
            known.join(", ")
        )));
    };
    let files = if files.is_empty() {
        samples(flow)?
    } else {
        files
    };
    (demo.run)(files).await
}

/// Every flow's step with its samples, in the order [`DEMOS`] lists them.
pub async fn all() -> Result<()> {
    for demo in DEMOS {
        run(demo.flow, Vec::new()).await?;
    }
    Ok(())
}

/// Each of `flow`'s samples with its JSON, for the tests of its demo step: a sample that is not
/// JSON fails them, naming the file.
#[cfg(test)]
pub(crate) fn samples_json(flow: &str) -> Vec<(std::path::PathBuf, Value)> {
    samples(flow)
        .unwrap()
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
            (std::path::PathBuf::from(f), value)
        })
        .collect()
}

/// `events/demo-<flow>/*.json`, in name order.
fn samples(flow: &str) -> Result<Vec<String>> {
    let dir = workspace_root().join(format!("events/demo-{flow}"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| DevError::Setup(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "json"))
        .map(|path| path.display().to_string())
        .collect();
    files.sort();
    Ok(files)
}

/// POSTs a JSON file; answers the file's name, the status and the JSON answer.
/// The local stack's API as its clients call it: each request with the credential its route's
/// scheme takes ([`Auth::local`]).
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    auth: Auth,
}

impl Api {
    /// The API at `base`, each request authenticated by `auth`.
    pub fn new(base: String, auth: Auth) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            auth,
        }
    }

    /// The running local stack's API.
    pub fn local() -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::new(),
            base: StackEnv::read()?.get("API_URL")?,
            auth: Auth::local().map_err(DevError::Setup)?,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path`, authenticated.
    pub fn get(&self, path: &str) -> Result<reqwest::RequestBuilder> {
        self.request(reqwest::Method::GET, path, "", None)
    }

    /// `GET path` of an app route that names no user, as the app's user `user`.
    pub fn get_as(&self, path: &str, user: &str) -> Result<reqwest::RequestBuilder> {
        self.request(reqwest::Method::GET, path, "", Some(user))
    }

    /// `method path` with the JSON `body`, authenticated.
    pub fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &str,
    ) -> Result<reqwest::RequestBuilder> {
        self.request(method, path, body, None)
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &str,
        user: Option<&str>,
    ) -> Result<reqwest::RequestBuilder> {
        let url = format!("{}{path}", self.base);
        let headers = self
            .auth
            .headers_as(user, method.as_str(), &url, path, body.as_bytes())
            .map_err(DevError::Setup)?;
        let mut request = self.http.request(method, &url);
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        for (k, v) in headers {
            request = request.header(k, v);
        }
        Ok(request)
    }
}

pub async fn post_file(
    api: &Api,
    path: &str,
    file: &str,
) -> Result<(String, reqwest::StatusCode, Value)> {
    let body = std::fs::read_to_string(file)?;
    let response = api
        .send_json(reqwest::Method::POST, path, &body)?
        .send()
        .await?;
    let status = response.status();
    let answer = response.json().await.unwrap_or_default();
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((name, status, answer))
}

/// An error answer in one line: its code and each field problem as `field=code`.
pub fn error_line(answer: &Value) -> String {
    let code = answer["error"]["code"].as_str().unwrap_or("?");
    let fields: Vec<String> = answer["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|e| {
                    format!(
                        "{}={}",
                        e["field"].as_str().unwrap_or(""),
                        e["code"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        code.to_owned()
    } else {
        format!("{code} [{}]", fields.join(", "))
    }
}

/// GETs `path` until `done` holds for the answer or a minute has passed; the last answer.
pub async fn poll(api: &Api, path: &str, done: impl Fn(&Value) -> bool) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer: Value = api.get(path)?.send().await?.json().await?;
        if done(&answer) || Instant::now() > deadline {
            return Ok(answer);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_flow_s_samples_have_a_demo_step_and_every_step_its_samples() {
        let events = workspace_root().join("events");
        let folders: BTreeSet<String> = std::fs::read_dir(&events)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_prefix("demo-").map(str::to_owned))
            .collect();
        let steps: BTreeSet<String> = DEMOS.iter().map(|d| d.flow.to_owned()).collect();
        assert_eq!(
            folders, steps,
            "each events/demo-<flow>/ needs its step in DEMOS (crates/load/src/scenarios/mod.rs), \
             and each step its samples"
        );
        for flow in &steps {
            assert!(
                !samples(flow).unwrap().is_empty(),
                "events/demo-{flow}/ has no .json sample"
            );
        }
    }

    #[test]
    fn a_step_s_stack_settings_are_asked_for_it_and_for_all() {
        let fitness = ("FITNESS_NUDGE_AFTER_SECONDS", "15");
        assert_eq!(stack_settings("fitness"), [fitness]);
        assert!(stack_settings("all").contains(&fitness));
        assert!(stack_settings("tasks").is_empty());
        let topology = platform::topology::Topology::system().unwrap();
        for (name, _) in stack_settings("all") {
            assert!(topology.local_setting(name).is_some(), "{name}");
        }
    }

    #[test]
    fn an_unknown_flow_is_refused_with_the_known_ones() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let error = runtime
            .block_on(run("nope", Vec::new()))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("no demo for \"nope\""), "{error}");
        let known: Vec<&str> = DEMOS.iter().map(|d| d.flow).collect();
        assert!(known.len() >= 5);
        assert!(error.contains(&known.join(", ")), "{error}");
    }
}
