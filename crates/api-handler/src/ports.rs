use domain::ports::{FormulaStore, RentalStore, ReturnQueue, StatsStore, TaskStore};
use domain::tasks::TaskGroup;
use platform::idempotency::IdempotencyStore;

/// Everything the routes reach the outside world through. The Lambda wires the AWS adapters;
/// tests and benchmarks wire in-memory ones.
pub trait Ports: Send + Sync + 'static {
    type Rentals: RentalStore;
    type Stats: StatsStore;
    type Returns: ReturnQueue;
    type Idempotency: IdempotencyStore;
    type Formulas: FormulaStore;
    type Tasks: TaskStore;
    fn rentals(&self) -> &Self::Rentals;
    fn stats(&self) -> &Self::Stats;
    fn returns(&self) -> &Self::Returns;
    fn idempotency(&self) -> &Self::Idempotency;
    fn formulas(&self) -> &Self::Formulas;
    fn tasks(&self) -> &Self::Tasks;
    /// The message group every task travels in.
    fn task_group(&self) -> &TaskGroup;
}

pub struct Services<R, S, Q, I, F, T> {
    pub rentals: R,
    pub stats: S,
    pub returns: Q,
    pub idempotency: I,
    pub formulas: F,
    pub tasks: T,
    pub task_group: TaskGroup,
}

impl<R, S, Q, I, F, T> Ports for Services<R, S, Q, I, F, T>
where
    R: RentalStore + 'static,
    S: StatsStore + 'static,
    Q: ReturnQueue + 'static,
    I: IdempotencyStore + 'static,
    F: FormulaStore + 'static,
    T: TaskStore + 'static,
{
    type Rentals = R;
    type Stats = S;
    type Returns = Q;
    type Idempotency = I;
    type Formulas = F;
    type Tasks = T;
    fn rentals(&self) -> &R {
        &self.rentals
    }
    fn stats(&self) -> &S {
        &self.stats
    }
    fn returns(&self) -> &Q {
        &self.returns
    }
    fn idempotency(&self) -> &I {
        &self.idempotency
    }
    fn formulas(&self) -> &F {
        &self.formulas
    }
    fn tasks(&self) -> &T {
        &self.tasks
    }
    fn task_group(&self) -> &TaskGroup {
        &self.task_group
    }
}
