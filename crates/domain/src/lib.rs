//! The business core: types that cannot hold invalid values, the rules that act on them, and the
//! ports (traits) through which the rules reach storage. Nothing here performs I/O or reads a
//! clock; time always arrives as a value carried by an event.
//!
//! Each flow is a module with its rules, its event payloads, its ports and (behind the `memory`
//! feature) in-memory implementations of those ports.

pub mod contention;
pub mod edge;
pub mod error;
pub mod events;
pub mod ids;
pub mod notifications;
pub mod time;
pub mod validation;

pub mod fitness;
pub mod formulas;
pub mod orders;
pub mod rentals;
pub mod tasks;

/// Every flow's parsers of outside input ([`edge`]): one line per flow.
pub const EDGE: &[edge::Edge] = &[
    rentals::EDGE,
    fitness::EDGE,
    formulas::EDGE,
    tasks::EDGE,
    orders::EDGE,
];

/// The events someone is told about, each flow's [`notifications::Notify`] events as it
/// declares them (`<flow>::Notified`): one entry per flow that notifies. The notifier sends
/// each of them.
pub type Notified = (rentals::Notified, orders::Notified, fitness::Notified);

pub use error::PortError;
pub use validation::{FieldCode, FieldError, Problems, TextRule, ValidationError};
