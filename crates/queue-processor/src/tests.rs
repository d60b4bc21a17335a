use super::*;

#[test]
fn every_registered_event_type_reaches_this_function() {
    let topology = platform::topology::Topology::system().unwrap();
    let registry = registry_in_memory(&platform::wiring::Ports::default());
    for (event_type, channel) in registry.event_types() {
        let consumed = topology.event_sources.iter().any(|s| {
            matches!(s, platform::topology::EventSource::Queue { queue, function, .. }
                if function == "queue-processor"
                    && (queue == channel
                        || topology.subscriptions.iter().any(|sub| sub.queue == *queue
                            && sub.topic == channel
                            && sub.event_types.iter().any(|t| t == event_type))))
        });
        assert!(
            consumed,
            "{event_type} on {channel} never reaches queue-processor"
        );
    }
}
