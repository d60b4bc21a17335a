use domain::ports::{RentalStore, ReturnQueue, StatsStore};
use platform::idempotency::IdempotencyStore;

/// Everything the routes reach the outside world through. The Lambda wires the AWS adapters;
/// tests and benchmarks wire in-memory ones.
pub trait Ports: Send + Sync + 'static {
    type Rentals: RentalStore;
    type Stats: StatsStore;
    type Returns: ReturnQueue;
    type Idempotency: IdempotencyStore;
    fn rentals(&self) -> &Self::Rentals;
    fn stats(&self) -> &Self::Stats;
    fn returns(&self) -> &Self::Returns;
    fn idempotency(&self) -> &Self::Idempotency;
}

pub struct Services<R, S, Q, I> {
    pub rentals: R,
    pub stats: S,
    pub returns: Q,
    pub idempotency: I,
}

impl<R, S, Q, I> Ports for Services<R, S, Q, I>
where
    R: RentalStore + 'static,
    S: StatsStore + 'static,
    Q: ReturnQueue + 'static,
    I: IdempotencyStore + 'static,
{
    type Rentals = R;
    type Stats = S;
    type Returns = Q;
    type Idempotency = I;
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
}
