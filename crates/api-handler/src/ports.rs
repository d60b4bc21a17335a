use domain::ports::{FormulaStore, RentalStore, ReturnQueue, StatsStore};
use platform::idempotency::IdempotencyStore;

/// Everything the routes reach the outside world through. The Lambda wires the AWS adapters;
/// tests and benchmarks wire in-memory ones.
pub trait Ports: Send + Sync + 'static {
    type Rentals: RentalStore;
    type Stats: StatsStore;
    type Returns: ReturnQueue;
    type Idempotency: IdempotencyStore;
    type Formulas: FormulaStore;
    fn rentals(&self) -> &Self::Rentals;
    fn stats(&self) -> &Self::Stats;
    fn returns(&self) -> &Self::Returns;
    fn idempotency(&self) -> &Self::Idempotency;
    fn formulas(&self) -> &Self::Formulas;
}

pub struct Services<R, S, Q, I, F> {
    pub rentals: R,
    pub stats: S,
    pub returns: Q,
    pub idempotency: I,
    pub formulas: F,
}

impl<R, S, Q, I, F> Ports for Services<R, S, Q, I, F>
where
    R: RentalStore + 'static,
    S: StatsStore + 'static,
    Q: ReturnQueue + 'static,
    I: IdempotencyStore + 'static,
    F: FormulaStore + 'static,
{
    type Rentals = R;
    type Stats = S;
    type Returns = Q;
    type Idempotency = I;
    type Formulas = F;
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
}
