//! The scenarios: what a client of each flow sends, as fast as it is answered. Every body is
//! new (unique scans, make-ups, titles) so that each accepted request is new work for the
//! system, and every accepted id is kept for the invariants.

use crate::auth::Auth;
use crate::record::{Accepted, Recorder};
use base64::Engine;
use goose::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The reference users and assets (`data/topanga/`), as `make seed` loads them.
const USERS: &[&str] = &[
    "tpg_u0001",
    "tpg_u0002",
    "tpg_u0003",
    "tpg_u0004",
    "tpg_u0005",
];
const ASSETS: u32 = 50;

pub struct Ctx {
    pub api: String,
    /// The order flow's run: its hot SKU and the stock and analytics it started from.
    pub orders: crate::orders::OrdersRun,
    /// The fitness flow's run: what each app user's accepted events call for.
    pub fitness: crate::fitness::FitnessRun,
    /// The nudge window of the stack under load.
    pub fitness_window: chrono::Duration,
    pub auth: Auth,
    pub recorder: Recorder,
    /// Makes this run's bodies differ from every other run's.
    pub run: String,
    /// The open model's per-user rate (`--rate`); none: each user sends when answered.
    pub pacer: Option<crate::pace::Pacer>,
    counter: AtomicU64,
}

impl Ctx {
    pub fn new(api: String, auth: Auth, pacer: Option<crate::pace::Pacer>) -> Self {
        Self {
            api: api.trim_end_matches('/').to_owned(),
            auth,
            recorder: Recorder::default(),
            orders: crate::orders::OrdersRun::default(),
            fitness: crate::fitness::FitnessRun::default(),
            fitness_window: crate::fitness::window(),
            run: format!("{:08x}", fastrand::u32(..)),
            pacer,
            counter: AtomicU64::new(0),
        }
    }

    pub(crate) fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

/// The scenarios `make load` knows, by name.
pub const SCENARIOS: &[&str] = &[
    "reads", "returns", "tasks", "formulas", "orders", "fitness", "mixed",
];

/// The goose scenarios for `name`; `mixed` is every flow at once, weighted like a day's
/// traffic (reads most).
pub fn scenarios(name: &str, ctx: &Arc<Ctx>) -> Result<Vec<Scenario>, String> {
    let one = |flow: &str, weight: usize| -> Result<Scenario, String> {
        let transaction = match flow {
            "reads" => transaction(ctx, "read a user's rentals and stats", read),
            "returns" => transaction(ctx, "POST /rentals/returns", post_return),
            "tasks" => transaction(ctx, "POST /tasks", post_task),
            "orders" => transaction(ctx, "an order client's step", crate::orders::step),
            "fitness" => transaction(ctx, "an app user's next event", crate::fitness::step),
            _ => transaction(ctx, "POST /formulas", post_formula),
        };
        Scenario::new(flow)
            .set_weight(weight)
            .map(|s| s.register_transaction(transaction))
            .map_err(|e| e.to_string())
    };
    match name {
        "reads" | "returns" | "tasks" | "formulas" | "orders" | "fitness" => {
            Ok(vec![one(name, 1)?])
        }
        "mixed" => Ok(vec![
            one("reads", 5)?,
            one("returns", 2)?,
            one("tasks", 2)?,
            one("formulas", 1)?,
            one("orders", 3)?,
            one("fitness", 2)?,
        ]),
        other => Err(format!(
            "unknown scenario {other}: one of {}",
            SCENARIOS.join(", ")
        )),
    }
}

pub(crate) type StepFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = TransactionResult> + Send + 'a>>;
type Step = for<'a> fn(&'a mut GooseUser, Arc<Ctx>) -> StepFuture<'a>;

/// The step as a goose transaction, held to the user's rate in the open model.
fn transaction(ctx: &Arc<Ctx>, name: &str, step: Step) -> Transaction {
    let ctx = ctx.clone();
    let f: TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move {
            if let Some(pacer) = &ctx.pacer {
                pacer.wait(user.weighted_users_index).await;
            }
            step(user, ctx).await
        })
    });
    Transaction::new(f).set_name(name)
}

/// One request with the body, headers and authentication it needs; the answer's status and
/// JSON body when it came.
pub(crate) async fn call(
    user: &mut GooseUser,
    ctx: &Ctx,
    method: GooseMethod,
    path: &str,
    name: &str,
    body: Option<&Value>,
    expected: &[u16],
) -> Result<Option<(u16, Value)>, Box<TransactionError>> {
    let url = format!("{}{path}", ctx.api);
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (verb, mut builder) = match method {
        GooseMethod::Post => ("POST", user.client.post(&url)),
        GooseMethod::Patch => ("PATCH", user.client.patch(&url)),
        GooseMethod::Put => ("PUT", user.client.put(&url)),
        _ => ("GET", user.client.get(&url)),
    };
    if body.is_some() {
        builder = builder
            .header("content-type", "application/json")
            .body(bytes.clone());
    }
    // Only POSTs take an Idempotency-Key.
    if verb == "POST" {
        builder = builder.header(
            "idempotency-key",
            format!("load-{}-{}", ctx.run, ctx.next()),
        );
    }
    // A request that cannot be signed is the run's configuration error, reported once.
    let headers = ctx
        .auth
        .headers(verb, &url, path, &bytes)
        .unwrap_or_default();
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .set_request_builder(builder)
        .build();
    let sent = Instant::now();
    let answer = user.request(request).await?;
    ctx.recorder.record(
        sent,
        answer.response.as_ref().map(|r| r.status().as_u16()),
        expected,
    );
    match answer.response {
        Ok(r) if expected.contains(&r.status().as_u16()) => {
            let status = r.status().as_u16();
            Ok(Some((
                status,
                r.json::<Value>().await.unwrap_or(Value::Null),
            )))
        }
        _ => Ok(None),
    }
}

/// A POST the flow expects `202` for; the id in the answer's `field`, if it was accepted.
async fn submit(
    user: &mut GooseUser,
    ctx: &Ctx,
    path: &str,
    body: &Value,
    field: &str,
) -> Result<Option<String>, Box<TransactionError>> {
    let name = format!("POST {path}");
    let answer = call(
        user,
        ctx,
        GooseMethod::Post,
        path,
        &name,
        Some(body),
        &[202],
    )
    .await?;
    Ok(answer.and_then(|(_, b)| b[field].as_str().map(str::to_owned)))
}

fn qr(id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(id)
}

fn read<'a>(user: &'a mut GooseUser, ctx: Arc<Ctx>) -> StepFuture<'a> {
    Box::pin(async move {
        let who = USERS[fastrand::usize(..USERS.len())];
        let (path, name) = if fastrand::bool() {
            (format!("/users/{who}/rentals"), "GET /users/{id}/rentals")
        } else {
            (format!("/users/{who}/stats"), "GET /users/{id}/stats")
        };
        call(user, &ctx, GooseMethod::Get, &path, name, None, &[200]).await?;
        Ok(())
    })
}

fn post_return<'a>(user: &'a mut GooseUser, ctx: Arc<Ctx>) -> StepFuture<'a> {
    Box::pin(async move {
        // A scan at a time of this run's own: each is a new return (its id is derived from the
        // scan), decided completed or rejected.
        let n = ctx.next();
        let base = chrono::NaiveDate::from_ymd_opt(2025, 2, 10)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        let offset = i64::from(u32::from_str_radix(&ctx.run[..4], 16).unwrap_or(0));
        let at = base + chrono::Duration::seconds(offset * 100_000 + n as i64);
        let body = json!({
            "timestamp": at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "location_id": "load-bin",
            "user_qr_data": qr(USERS[fastrand::usize(..USERS.len())]),
            "asset_qr_data": qr(&format!("tpg_a{:05}", fastrand::u32(1..=ASSETS))),
        });
        if let Some(id) = submit(user, &ctx, "/rentals/returns", &body, "return_id").await? {
            ctx.recorder.accept(Accepted::Return(id));
        }
        Ok(())
    })
}

/// A client's count of the tasks it has had accepted.
#[derive(Clone)]
struct TaskClient(u64);

fn post_task<'a>(user: &'a mut GooseUser, ctx: Arc<Ctx>) -> StepFuture<'a> {
    Box::pin(async move {
        let client = user.weighted_users_index;
        let nth = user.get_session_data::<TaskClient>().map_or(0, |c| c.0);
        let priority = ["low", "medium", "high"][fastrand::usize(..3)];
        let body = json!({
            "title": format!("load {} client {client} task {nth}", ctx.run),
            "description": "generated by make load",
            "priority": priority,
        });
        if let Some(id) = submit(user, &ctx, "/tasks", &body, "task_id").await? {
            ctx.recorder.accept(Accepted::Task { id, client, nth });
            user.set_session_data(TaskClient(nth + 1));
        }
        Ok(())
    })
}

fn post_formula<'a>(user: &'a mut GooseUser, ctx: Arc<Ctx>) -> StepFuture<'a> {
    Box::pin(async move {
        let n = ctx.next();
        let body = json!({
            "name": format!("Load {} #{n}", ctx.run),
            "materials": [
                {"name": format!("Accord {}-{n}", ctx.run), "concentration": 12.5},
                {"name": "Bergamot Oil", "concentration": 3},
            ],
        });
        if let Some(id) = submit(user, &ctx, "/formulas", &body, "formula_id").await? {
            ctx.recorder.accept(Accepted::Formula(id));
        }
        Ok(())
    })
}
