//! The business core: types that cannot hold invalid values, the rules that act on them, and the
//! ports (traits) through which the rules reach storage. Nothing here performs I/O or reads a
//! clock; time always arrives as a value carried by an event.

pub mod error;
pub mod events;
pub mod formulas;
pub mod ids;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod ports;
pub mod rentals;
pub mod tasks;
pub mod time;

pub use error::{FieldError, PortError, TextRule, ValidationError, text_field};
