//! Telling people about events: the message shape of the notification service, the rule that
//! turns an event into a message ([`Notify`], implemented by each flow's payloads) and the one
//! handler that sends it once per event.

use crate::PortError;
use crate::events::{Delivery, DomainEvent, Event, EventHandler};
use crate::ids::UserId;
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;
use tracing::info;

/// A message for the notification service. `idempotency_key` is stable per event, so the
/// service can drop a repeated delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    #[serde(skip)]
    pub idempotency_key: String,
    pub user_id: UserId,
    pub kind: &'static str,
    pub message: String,
    pub data: serde_json::Value,
}

/// An event someone is told about.
pub trait Notify: Event {
    fn notification(&self, envelope: &DomainEvent) -> Notification;
}

/// The notification service.
#[async_trait]
pub trait NotificationSender: Send + Sync {
    async fn send(&self, notification: &Notification) -> Result<(), PortError>;
}

/// "This effect already happened" markers for effects outside the database (an HTTP call), which
/// cannot share a transaction with the marker.
#[async_trait]
pub trait EffectLog: Send + Sync {
    async fn is_done(&self, key: &str) -> Result<bool, PortError>;
    async fn mark_done(&self, key: &str) -> Result<(), PortError>;
}

/// Sends the notification of any [`Notify`] event once: the marker is checked before and written
/// after the call (at least once), and the event-derived idempotency key lets the service drop
/// the one repeat a crash between the two could cause.
#[derive(Clone)]
pub struct SendNotification {
    pub sender: Arc<dyn NotificationSender>,
    pub markers: Arc<dyn EffectLog>,
}

#[async_trait]
impl<E: Notify> EventHandler<E> for SendNotification {
    async fn handle(&self, event: E, envelope: &DomainEvent, _: Delivery) -> Result<(), PortError> {
        let notification = event.notification(envelope);
        let marker = format!("notify#{}", notification.idempotency_key);
        if self.markers.is_done(&marker).await? {
            info!("already notified");
            return Ok(());
        }
        self.sender.send(&notification).await?;
        info!(user_id = %notification.user_id, kind = notification.kind, "notification sent");
        self.markers.mark_done(&marker).await
    }
}
