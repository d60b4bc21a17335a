//! What a flow is built from in each function: AWS clients and configuration ([`Aws`]) when it
//! runs, or ports in memory ([`Ports`]) in unit tests and benchmarks. A function keeps a list
//! of flows, and each flow takes what it needs from one of these, so no struct of the functions
//! grows a field per flow.

use crate::config::Vars;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The clients a flow's adapters share, the configuration that names their resources, and the
/// ports the function's `main` supplies itself (a task executor).
pub struct Aws<'a> {
    pub sdk: &'a aws_config::SdkConfig,
    pub vars: &'a Vars,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub given: Ports,
}

impl<'a> Aws<'a> {
    pub fn new(sdk: &'a aws_config::SdkConfig, vars: &'a Vars) -> Self {
        Self {
            sdk,
            vars,
            dynamo: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            given: Ports::default(),
        }
    }

    /// Every port of `given`, each to the flows that ask for its type.
    pub fn given(mut self, given: Ports) -> Self {
        self.given = given;
        self
    }
}

type Port = Arc<dyn Any + Send + Sync>;

/// In-memory ports, one of each type, created on first use and shared by every flow that asks
/// for the same type: a test arranges and inspects state through the port the routes or
/// handlers use, and a flow that reads another flow's store sees that flow's writes.
#[derive(Clone, Default)]
pub struct Ports {
    ports: Arc<Mutex<HashMap<TypeId, Port>>>,
}

impl Ports {
    /// The port of type `T`, created with `T::default()` the first time it is asked for.
    pub fn port<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        self.port_or(T::default)
    }

    /// The port of type `T`, created by `make` the first time it is asked for.
    pub fn port_or<T: Send + Sync + 'static>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        let mut ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        let port = ports
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(make()) as Port)
            .clone();
        port.downcast::<T>()
            .unwrap_or_else(|_| unreachable!("ports are keyed by their own type"))
    }

    /// The port of type `T`, if one was given or created.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let ports = self.ports.lock().unwrap_or_else(|e| e.into_inner());
        let port = ports.get(&TypeId::of::<T>())?.clone();
        port.downcast::<T>().ok()
    }

    /// `port` as the port of its type, in place of any created before (a setting, or a port
    /// built with other parameters).
    pub fn with<T: Send + Sync + 'static>(self, port: T) -> Self {
        self.ports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(TypeId::of::<T>(), Arc::new(port));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Default)]
    struct Counter(AtomicU32);

    #[test]
    fn every_flow_asking_for_a_type_gets_the_same_port() {
        let ports = Ports::default();
        ports.port::<Counter>().0.fetch_add(1, Ordering::SeqCst);
        let again = ports.clone().port::<Counter>();
        assert_eq!(again.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_port_given_up_front_is_the_one_handed_out() {
        let ports = Ports::default().with(Counter(AtomicU32::new(7)));
        assert_eq!(ports.port::<Counter>().0.load(Ordering::SeqCst), 7);
        assert_eq!(ports.port_or(|| 3_u8).as_ref(), &3);
        assert_eq!(ports.port_or(|| 4_u8).as_ref(), &3, "created once");
        assert!(ports.get::<u16>().is_none());
        assert_eq!(ports.get::<u8>().as_deref(), Some(&3));
    }
}
