use domain::ports::{RentalStore, ReturnQueue, StatsStore};

/// Everything the routes reach the outside world through. The Lambda wires the AWS adapters;
/// tests and benchmarks wire in-memory ones.
pub trait Ports: Send + Sync + 'static {
    type Rentals: RentalStore;
    type Stats: StatsStore;
    type Returns: ReturnQueue;
    fn rentals(&self) -> &Self::Rentals;
    fn stats(&self) -> &Self::Stats;
    fn returns(&self) -> &Self::Returns;
}

pub struct Services<R, S, Q> {
    pub rentals: R,
    pub stats: S,
    pub returns: Q,
}

impl<R, S, Q> Ports for Services<R, S, Q>
where
    R: RentalStore + 'static,
    S: StatsStore + 'static,
    Q: ReturnQueue + 'static,
{
    type Rentals = R;
    type Stats = S;
    type Returns = Q;
    fn rentals(&self) -> &R {
        &self.rentals
    }
    fn stats(&self) -> &S {
        &self.stats
    }
    fn returns(&self) -> &Q {
        &self.returns
    }
}
