//! Every file under `events/<function>/` of the backbone's functions deserializes into what its
//! function expects (a flow's own function's samples, such as `events/rental-return/`, are
//! checked in its flow's tests; its demo samples, `events/demo-<flow>/`, beside its demo step).

use aws_lambda_events::event::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use devstack::Topology;
use domain::events::DomainEvent;
use domain::notifications::{EffectLog, Notification, NotificationSender, SendNotification};
use platform::outbox::OutboxRecord;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{}", dir.display());
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A notification service and marker log that do nothing: the notifier's registry is only
/// asked which types it handles.
struct Nowhere;

#[async_trait::async_trait]
impl NotificationSender for Nowhere {
    async fn send(&self, _: &Notification) -> Result<(), domain::PortError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl EffectLog for Nowhere {
    async fn is_done(&self, _: &str) -> Result<bool, domain::PortError> {
        Ok(false)
    }
    async fn mark_done(&self, _: &str) -> Result<(), domain::PortError> {
        Ok(())
    }
}

/// Every consumer's registry, by the function (and events folder) it belongs to.
fn registries() -> [(&'static str, platform::consumer::Registry); 2] {
    let processor = queue_processor::registry_in_memory(&platform::wiring::Ports::default());
    let notifier = notifier::registry(SendNotification {
        sender: Arc::new(Nowhere),
        markers: Arc::new(Nowhere),
    });
    [("notifier", notifier), ("queue-processor", processor)]
}

/// Every event type a consumer handles is published to a channel the outbox relay declares it
/// sends or publishes to (otherwise its rows would be refused one by one), or to a queue some
/// function sends to directly (the fitness app's events from the API, their timers from the
/// consumer itself).
#[test]
fn every_handled_event_type_is_published_where_the_relay_can_reach() {
    let topology = Topology::system().unwrap();
    let relay = &topology.function("outbox-relay").unwrap().uses;
    let sent_directly: Vec<&String> = topology
        .functions
        .iter()
        .filter(|f| f.name != "outbox-relay")
        .flat_map(|f| &f.uses.send)
        .collect();
    for (function, registry) in registries() {
        for (event_type, channel) in registry.event_types() {
            let by_relay = relay
                .send
                .iter()
                .chain(&relay.publish)
                .any(|c| c == channel);
            let direct = sent_directly.iter().any(|c| *c == channel);
            assert!(
                by_relay || direct,
                "{event_type} (handled by {function}) goes to {channel}, which nothing sends to"
            );
        }
    }
}

/// Each queue sample carries domain events of a type its function has a handler for, with the
/// receive count the mapping delivers.
#[test]
fn queue_samples_carry_domain_events_their_function_handles() {
    for (folder, registry) in registries() {
        let handled: Vec<&str> = registry.event_types().map(|(t, _)| t).collect();
        for f in files(folder) {
            let batch: SqsEvent = serde_json::from_value(json(&f)).unwrap();
            for r in batch.records {
                let event: DomainEvent = serde_json::from_str(r.body.as_deref().unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                assert!(
                    handled.contains(&event.event_type.as_str()),
                    "{}: {} has no handler in {folder}",
                    f.display(),
                    event.event_type
                );
                assert!(
                    r.attributes.contains_key("ApproximateReceiveCount"),
                    "{}",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn the_stream_sample_is_an_outbox_insert() {
    for f in files("outbox-relay") {
        let event: StreamEvent = serde_json::from_value(json(&f)).unwrap();
        let row: OutboxRecord =
            serde_dynamo::from_item(event.records[0].change.new_image.clone()).unwrap();
        let _: DomainEvent = serde_json::from_str(&row.body).unwrap();
        let topology = Topology::system().unwrap();
        let relay = &topology.function("outbox-relay").unwrap().uses;
        assert!(
            relay.send.contains(&row.destination) || relay.publish.contains(&row.destination),
            "{}: the relay publishes to no {}",
            f.display(),
            row.destination
        );
    }
}

/// Each API sample is a REST proxy event with the caller its route's scheme gives, as API
/// Gateway fills the request context: an app user's claims (the body's user), an IAM principal,
/// a bin's API key id.
#[test]
fn api_samples_are_rest_proxy_events_with_their_caller() {
    use devstack::routes::{Authorization, Routes};
    let routes = Routes::declared().unwrap();
    for f in files("api-handler") {
        let event: ApiGatewayProxyRequest = serde_json::from_value(json(&f)).unwrap();
        let path = event.path.clone().unwrap();
        let context = &event.request_context;
        let scheme = routes
            .find(event.http_method.as_str(), &path)
            .map_or(Authorization::Iam, |m| m.route.authorization);
        match scheme {
            Authorization::AppUsers => {
                let body: Value = serde_json::from_str(event.body.as_deref().unwrap()).unwrap();
                assert_eq!(
                    context.authorizer.fields["claims"]["sub"],
                    body["user_id"],
                    "{}",
                    f.display()
                );
            }
            Authorization::Iam => assert!(context.identity.user_arn.is_some(), "{}", f.display()),
            Authorization::ReturnBinKey => {
                assert!(context.identity.api_key_id.is_some(), "{}", f.display())
            }
        }
    }
}
