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

#[test]
fn every_function_a_flow_declares_is_in_topology_json_with_a_crate_that_serves_it() {
    let topology = platform::topology::Topology::system().unwrap();
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let declared: Vec<_> = functions().map(|f| f.name).collect();
    assert!(declared.contains(&"rental-return"), "{declared:?}");
    for name in declared {
        topology.function(name).unwrap_or_else(|e| {
            panic!(
                "{e}: a flow declares {name}; add it to infrastructure/topology.json's functions"
            )
        });
        assert!(
            crates.join(name).join("Cargo.toml").is_file(),
            "a flow declares {name}: its crate crates/{name}/ serves it (a main calling \
             queue_processor::function(env!(\"CARGO_BIN_NAME\"))?.serve())"
        );
        assert_eq!(function(name).unwrap().name, name);
    }
    let missing = function("no-such-function").err().unwrap().to_string();
    assert!(missing.contains("ConsumerFlow::functions"), "{missing}");
}
