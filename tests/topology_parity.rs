//! The local stack and the CDK templates describe the same topology: what `devstack` provisions
//! on the local emulators (queues, DLQs, tables, subscriptions) and the mappings its bridge runs are compared
//! with the synthesized templates in `infrastructure/cdk.out/templates/dev/` (`make templates`).

use aws_sdk_sqs::types::QueueAttributeName;
use devstack::Topology;
use devstack::bridge::Bridge;
use integration_tests::TestStack;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// Every resource of the dev templates, by construct path.
struct Templates {
    by_path: BTreeMap<String, (String, Value)>,
    by_id: BTreeMap<String, String>,
}

impl Templates {
    fn load() -> Self {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../infrastructure/cdk.out/templates/dev");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("{} is missing: run `make templates` first", dir.display()));
        let mut by_path = BTreeMap::new();
        let mut by_id = BTreeMap::new();
        for entry in entries {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".template.json") {
                continue;
            }
            let template: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for (id, resource) in template["Resources"].as_object().unwrap() {
                if let Some(p) = resource["Metadata"]["aws:cdk:path"].as_str() {
                    by_path.insert(p.to_owned(), (id.clone(), resource.clone()));
                    by_id.insert(id.clone(), p.to_owned());
                }
            }
        }
        assert!(!by_path.is_empty(), "no templates in {}", dir.display());
        Self { by_path, by_id }
    }

    fn at(&self, suffix: &str) -> &(String, Value) {
        let found: Vec<_> = self
            .by_path
            .iter()
            .filter(|(p, _)| p.ends_with(suffix))
            .collect();
        assert_eq!(found.len(), 1, "one template resource at …{suffix}");
        found[0].1
    }

    fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        self.by_path
            .iter()
            .filter(move |(_, (_, r))| r["Type"] == kind)
            .map(|(p, (_, r))| (p, r))
    }

    /// The construct name (`Queue-<name>`, `Table-<name>`, function name) a logical id or
    /// cross-stack export refers to.
    fn name_of(&self, reference: &Value) -> String {
        let text = reference.to_string();
        let path = self
            .by_id
            .iter()
            .filter(|(id, _)| text.contains(id.as_str()))
            .max_by_key(|(id, _)| id.len())
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("unresolvable reference {text}"));
        let parts: Vec<&str> = path.split('/').collect();
        parts[1].to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_stack_matches_the_synthesized_templates() {
    let templates = Templates::load();
    let stack = TestStack::start_with(Topology::system().unwrap()).await;
    let sqs = stack.sqs();

    // Queues and their dead-letter queues.
    for (name, q) in &stack.resources.queues {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&q.url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        let get = |k: QueueAttributeName| attrs.get(&k).cloned().unwrap_or_default();
        let redrive: Value = serde_json::from_str(&get(QueueAttributeName::RedrivePolicy)).unwrap();
        let (_, cfn) = templates.at(&format!("-stateful/Queue-{name}/Resource"));
        let (dlq_id, cfn_dlq) = templates.at(&format!("-stateful/Queue-{name}-dlq/Resource"));
        let p = &cfn["Properties"];
        let fifo = Topology::system().unwrap().queue(name).unwrap().fifo;
        let local_fifo = get(QueueAttributeName::FifoQueue) == "true";
        assert_eq!(local_fifo, fifo, "{name}: local FIFO");
        let template_fifo = |p: &Value| p["FifoQueue"] == json!(true);
        assert_eq!(template_fifo(p), fifo, "{name}: template FIFO");
        assert_eq!(
            template_fifo(&cfn_dlq["Properties"]),
            fifo,
            "{name}: template DLQ FIFO"
        );
        assert_eq!(
            get(QueueAttributeName::VisibilityTimeout),
            p["VisibilityTimeout"].to_string(),
            "{name}: visibility"
        );
        assert_eq!(
            redrive["maxReceiveCount"], p["RedrivePolicy"]["maxReceiveCount"],
            "{name}: maxReceiveCount"
        );
        assert_eq!(
            p["RedrivePolicy"]["deadLetterTargetArn"],
            json!({"Fn::GetAtt": [dlq_id, "Arn"]})
        );
        assert_eq!(
            redrive["deadLetterTargetArn"],
            json!(q.dlq_arn),
            "{name}: local DLQ"
        );
    }
    assert_eq!(
        templates
            .of_type("AWS::SQS::Queue")
            .filter(|(p, _)| p.contains("/Queue-"))
            .count(),
        stack.resources.queues.len() * 2,
        "no queue exists on one side only"
    );

    // Tables: keys, indexes, streams, TTL.
    let dynamo = stack.dynamo();
    for (name, table) in &stack.resources.tables {
        let d = dynamo
            .describe_table()
            .table_name(table)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let (_, cfn) = templates.at(&format!("-stateful/Table-{name}/Resource"));
        let p = &cfn["Properties"];
        let keys: Vec<Value> = d
            .key_schema()
            .iter()
            .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
            .collect();
        assert_eq!(json!(keys), p["KeySchema"], "{name}: keys");
        let local_indexes: Vec<Value> = d
            .global_secondary_indexes()
            .iter()
            .map(|i| {
                let keys: Vec<Value> = i
                    .key_schema()
                    .iter()
                    .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
                    .collect();
                json!({"IndexName": i.index_name(), "KeySchema": keys})
            })
            .collect();
        let cfn_indexes: Vec<Value> = p["GlobalSecondaryIndexes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| json!({"IndexName": i["IndexName"], "KeySchema": i["KeySchema"]}))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(local_indexes, cfn_indexes, "{name}: indexes");
        let local_stream = d
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str().to_owned());
        assert_eq!(
            local_stream.map(Value::from).unwrap_or(Value::Null),
            p["StreamSpecification"]["StreamViewType"],
            "{name}: stream"
        );
        let ttl = dynamo
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .unwrap();
        let local_ttl = ttl
            .time_to_live_description()
            .and_then(|t| t.attribute_name())
            .map(str::to_owned);
        assert_eq!(
            local_ttl.map(Value::from).unwrap_or(Value::Null),
            p["TimeToLiveSpecification"]["AttributeName"],
            "{name}: TTL"
        );
    }
    assert_eq!(
        templates.of_type("AWS::DynamoDB::Table").count(),
        stack.resources.tables.len()
    );

    // Subscriptions: which queue, raw delivery, filter policy.
    let sns = aws_sdk_sns::Client::new(&stack.sdk);
    let queue_names: BTreeMap<&str, &str> = stack
        .resources
        .queues
        .iter()
        .map(|(n, q)| (q.arn.as_str(), n.as_str()))
        .collect();
    let mut local_subs = Vec::new();
    for topic in stack.resources.topics.values() {
        let subs = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic)
            .send()
            .await
            .unwrap();
        for s in subs.subscriptions() {
            let attrs = sns
                .get_subscription_attributes()
                .subscription_arn(s.subscription_arn().unwrap())
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap();
            let filter: Value = serde_json::from_str(&attrs["FilterPolicy"]).unwrap();
            local_subs.push(json!({
                "queue": format!("Queue-{}", queue_names[s.endpoint().unwrap()]),
                "raw": attrs["RawMessageDelivery"] == "true",
                "filter": filter,
            }));
        }
    }
    let mut cfn_subs: Vec<Value> = templates
        .of_type("AWS::SNS::Subscription")
        .map(|(_, r)| {
            json!({
                "queue": templates.name_of(&r["Properties"]["Endpoint"]),
                "raw": r["Properties"]["RawMessageDelivery"],
                "filter": r["Properties"]["FilterPolicy"],
            })
        })
        .collect();
    local_subs.sort_by_key(|v| v.to_string());
    cfn_subs.sort_by_key(|v| v.to_string());
    assert_eq!(local_subs, cfn_subs, "subscriptions");

    // Event-source mappings: what the bridge runs against what Lambda would.
    let bridge = Bridge::new(
        &stack.sdk,
        &stack.topology,
        &stack.resources,
        devstack::emulator::Messaging::from_env().unwrap(),
    )
    .unwrap();
    let url_names: BTreeMap<&str, &str> = stack
        .resources
        .queues
        .iter()
        .map(|(n, q)| (q.url.as_str(), n.as_str()))
        .collect();
    let table_names: BTreeMap<&str, &str> = stack
        .resources
        .tables
        .iter()
        .map(|(n, t)| (t.as_str(), n.as_str()))
        .collect();
    let mut local_esms: Vec<Value> = bridge
        .queues
        .iter()
        .map(|(q, pollers)| json!({"source": format!("Queue-{}", url_names[q.queue_url()]), "function": q.function(), "batch": q.batch_size(), "concurrency": pollers}))
        .chain(bridge.streams.iter().map(|s| {
            json!({"source": format!("Table-{}", table_names[s.table()]), "function": s.function(), "batch": s.batch_size(), "concurrency": null})
        }))
        .collect();
    let mut cfn_esms: Vec<Value> = templates
        .of_type("AWS::Lambda::EventSourceMapping")
        .map(|(_, r)| {
            let p = &r["Properties"];
            assert_eq!(
                p["FunctionResponseTypes"],
                json!(["ReportBatchItemFailures"]),
                "partial batch responses"
            );
            json!({
                "source": templates.name_of(&p["EventSourceArn"]),
                "function": templates.name_of(&p["FunctionName"]),
                "batch": p["BatchSize"],
                "concurrency": p["ScalingConfig"]["MaximumConcurrency"],
            })
        })
        .collect();
    local_esms.sort_by_key(|v| v.to_string());
    cfn_esms.sort_by_key(|v| v.to_string());
    assert_eq!(local_esms, cfn_esms, "event-source mappings");
}

/// A value of the shape a deployment gives `name`: a number for a configured duration, a URL-ish
/// text (fit for names, ARNs and URLs alike) for everything else.
fn example_value(name: &str) -> String {
    if name.ends_with("_SECONDS") {
        "600".to_owned()
    } else {
        format!("http://value-of-{}", name.to_lowercase())
    }
}

/// Each function is wired (`from_vars`, as its `main` does) by exactly the variables
/// `topology.json` declares for it: all of them suffice, and each one is needed. So the CDK
/// stacks, which set exactly those, give every function what it reads, and a function never
/// reads a resource it was not granted.
#[test]
fn every_function_is_wired_by_exactly_what_topology_json_declares() {
    use platform::config::Vars;
    use std::collections::BTreeMap;
    let topology = Topology::system().unwrap();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let wire = |function: &str, vars: BTreeMap<String, String>| -> Result<(), String> {
        let vars = Vars::from_map(vars).unwrap();
        integration_tests::wire_function(function, &sdk, &vars)
    };
    for f in &topology.functions {
        let names = topology.env_names(&f.name).unwrap();
        let vars: BTreeMap<String, String> = names
            .iter()
            .map(|n| (n.clone(), example_value(n)))
            .collect();
        wire(&f.name, vars.clone()).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        for missing in &names {
            let mut fewer = vars.clone();
            fewer.remove(missing);
            assert!(
                wire(&f.name, fewer).is_err(),
                "{}: {missing} is declared but not read",
                f.name
            );
        }
    }
}
