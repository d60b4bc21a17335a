//! Each flow's clients: its load scenario (see [`crate::scenario::Scenario`]), its demo step and
//! its smoke step, listed once in [`all`], [`DEMOS`] and [`SMOKES`].

pub mod fitness;
pub mod formulas;
pub mod orders;
pub mod reads;
pub mod returns;
pub mod tasks;

use crate::demo::Demo;
use crate::scenario::Scenario;
use crate::smoke::Smoke;
use std::sync::{Arc, Mutex};

/// Every flow's scenario, in the order a `mixed` run lists them: one line per flow.
pub fn all() -> Vec<Arc<dyn Scenario>> {
    vec![
        Arc::new(reads::Reads),
        Arc::new(returns::Returns::default()),
        Arc::new(tasks::Tasks::default()),
        Arc::new(formulas::Formulas::default()),
        Arc::new(orders::Orders::default()),
        Arc::new(fitness::Fitness::new(fitness::window())),
    ]
}

/// Every flow's demo step, in the order `make demo` runs them: one line per flow.
pub const DEMOS: &[Demo] = &[
    Demo {
        flow: "rentals",
        run: |files| Box::pin(async move { returns::demo::run(&files).await }),
        stack_settings: &[],
    },
    Demo {
        flow: "formulas",
        run: |files| Box::pin(async move { formulas::demo::run(&files).await }),
        stack_settings: &[],
    },
    Demo {
        flow: "tasks",
        run: |files| Box::pin(async move { tasks::demo::run(&files).await }),
        stack_settings: &[],
    },
    Demo {
        flow: "orders",
        run: |files| Box::pin(async move { orders::demo::run(&files).await }),
        stack_settings: &[],
    },
    Demo {
        flow: "fitness",
        run: |files| Box::pin(async move { fitness::demo::run(&files).await }),
        stack_settings: fitness::demo::STACK_SETTINGS,
    },
];

/// Every flow's smoke step, in the order `make smoke` reports them: one line per flow.
pub const SMOKES: &[Smoke] = &[
    Smoke {
        flow: "rentals",
        run: returns::smoke::smoke,
    },
    Smoke {
        flow: "formulas",
        run: formulas::smoke::smoke,
    },
    Smoke {
        flow: "tasks",
        run: tasks::smoke::smoke,
    },
    Smoke {
        flow: "orders",
        run: orders::smoke::smoke,
    },
    Smoke {
        flow: "fitness",
        run: fitness::smoke::smoke,
    },
];

/// What the API accepted from a scenario, for its checks.
pub struct Accepted<T>(Mutex<Vec<T>>);

impl<T> Default for Accepted<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T: Clone> Accepted<T> {
    pub fn push(&self, item: T) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(item);
    }

    pub fn all(&self) -> Vec<T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The reference users (`data/topanga/`), as `make seed` loads them.
pub const USERS: &[&str] = &[
    "tpg_u0001",
    "tpg_u0002",
    "tpg_u0003",
    "tpg_u0004",
    "tpg_u0005",
];
