//! A flow's part of the API: its routes with their state, built from configuration or in memory.
//! The router is the merge of every flow in [`crate::routes::FLOWS`]; each route records the
//! method and path it serves, so tests can hold them against `docs/openapi.json`, the one
//! declaration of the API's routes.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, on};
use platform::ConfigError;
use platform::wiring::Aws;
use std::sync::Mutex;

/// Ids from one instance increase strictly, even within a millisecond.
static IDS: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

/// A new id for something this instance creates (a task, an order): strictly increasing within
/// the instance, so ids sort in the order they were handed out.
pub fn next_ulid() -> ulid::Ulid {
    IDS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .generate()
        // Only after 2^80 ids in one millisecond; a fresh random id is still unique.
        .unwrap_or_else(|_| ulid::Ulid::new())
}

/// How a binary builds one flow's routes.
pub struct ApiFlow {
    /// The flow's name: its tag in `docs/openapi.json`.
    pub name: &'static str,
    /// The field codes of the flow's own payloads (beyond `FieldCode::SHARED`).
    pub field_codes: &'static [domain::FieldCode],
    /// Its routes over the AWS adapters the configuration names.
    pub from_aws: fn(&Aws) -> Result<Routes, ConfigError>,
    /// Its routes over in-memory ports, for tests and benchmarks.
    #[cfg(any(test, feature = "memory"))]
    pub in_memory: fn(&platform::wiring::Ports) -> Routes,
}

/// One operation a router serves.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Operation {
    pub method: String,
    pub path: &'static str,
}

/// Routes being declared over state `S`; [`FlowRoutes::with_state`] makes them [`Routes`].
pub struct FlowRoutes<S> {
    router: Router<S>,
    operations: Vec<Operation>,
}

impl<S: Clone + Send + Sync + 'static> Default for FlowRoutes<S> {
    fn default() -> Self {
        Self {
            router: Router::new(),
            operations: Vec::new(),
        }
    }
}

macro_rules! verbs {
    ($($verb:ident => $method:ident),*) => {$(
        pub fn $verb<H, T>(self, path: &'static str, handler: H) -> Self
        where
            H: Handler<T, S>,
            T: 'static,
        {
            self.route(Method::$method, path, on(axum::routing::MethodFilter::$method, handler))
        }
    )*};
}

impl<S: Clone + Send + Sync + 'static> FlowRoutes<S> {
    verbs!(get => GET, post => POST, put => PUT, patch => PATCH);

    fn route(mut self, method: Method, path: &'static str, handler: MethodRouter<S>) -> Self {
        // Routing one path again adds a method to it.
        self.router = self.router.route(path, handler);
        self.operations.push(Operation {
            method: method.to_string(),
            path,
        });
        self
    }

    pub fn with_state(self, state: S) -> Routes {
        Routes {
            router: self.router.with_state(state),
            operations: self.operations,
        }
    }
}

/// Routes ready to serve, with the operations they answer.
#[derive(Clone, Default)]
pub struct Routes {
    router: Router,
    operations: Vec<Operation>,
}

impl Routes {
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.operations.extend(other.operations);
        self
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn into_router(self) -> Router {
        self.router
    }
}
