//! Flow 3 against the local emulators: concurrent identical submissions, the atomic store + outbox, the relay
//! to the formulas queue, and processing by queue-processor.

use axum::http::StatusCode;
use integration_tests::TestStack;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn summer_breeze() -> Value {
    json!({"name": "Summer Breeze", "materials": [
        {"name": "Bergamot Oil", "concentration": 15.5},
        {"name": "Rose Absolute", "concentration": 2.25},
        {"name": "Iso E Super", "concentration": 30}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_identical_concurrent_submissions_store_and_publish_exactly_one() {
    let stack = Arc::new(TestStack::start().await);
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let stack = stack.clone();
            // Same make-up, other names and notations.
            let mut body = summer_breeze();
            body["name"] = json!(format!("Copy {i}"));
            body["materials"][0]["concentration"] = json!("15.50");
            tokio::spawn(async move { stack.api("POST", "/formulas", Some(&body)).await })
        })
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    let accepted: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::ACCEPTED)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(accepted.len(), 1, "{results:?}");
    let id = accepted[0]["formula_id"].as_str().unwrap().to_owned();
    for (status, body) in &results {
        assert!(
            *status == StatusCode::ACCEPTED || *status == StatusCode::CONFLICT,
            "{status} {body}"
        );
        assert_eq!(body["formula_id"], id.as_str());
    }
    let outbox: Vec<Value> = devstack::report::scan_all(&stack.dynamo(), &stack.table("outbox"))
        .await
        .unwrap();
    assert_eq!(
        outbox.len(),
        1,
        "one outbox row, nothing for the duplicates"
    );

    // The relay publishes it to the formulas queue; queue-processor processes it.
    let (_, pending) = stack.api("GET", &format!("/formulas/{id}"), None).await;
    assert_eq!(pending["status"], "pending");
    let functions = stack.functions();
    let s = stack.clone();
    let id2 = id.clone();
    stack
        .pump_until(&functions, Duration::from_secs(30), move || {
            let (s, id) = (s.clone(), id2.clone());
            async move {
                s.api("GET", &format!("/formulas/{id}"), None).await.1["status"] == "processed"
            }
        })
        .await;
    let (status, formula) = stack.api("GET", &format!("/formulas/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        formula["materials"][0],
        json!({"name": "Bergamot Oil", "concentration": 15.5})
    );
    assert!(stack.dead_letters("formulas").await.is_empty());

    // A resubmission later is still refused with the existing id.
    let (status, body) = stack.api("POST", "/formulas", Some(&summer_breeze())).await;
    assert_eq!(
        (status, body["formula_id"].as_str()),
        (StatusCode::CONFLICT, Some(id.as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_store_and_publish_loses_nothing() {
    let stack = Arc::new(TestStack::start().await);
    let (status, body) = stack.api("POST", "/formulas", Some(&summer_breeze())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = body["formula_id"].as_str().unwrap().to_owned();

    // The relay crashes on its first invocations: the stored formula is not published yet.
    let relay = stack.outbox_source();
    let crashes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = crashes.clone();
    let crashing = move |function: String, _payload: Value| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async move {
            Err::<Value, _>(devstack::bridge::InvokeError::Function {
                function,
                detail: "runtime exited".into(),
            })
        }
    };
    for _ in 0..3 {
        assert_eq!(relay.poll_once(&crashing).await.unwrap(), 0);
    }
    assert_eq!(crashes.load(std::sync::atomic::Ordering::SeqCst), 3);
    let (_, pending) = stack.api("GET", &format!("/formulas/{id}"), None).await;
    assert_eq!(pending["status"], "pending");

    // The same stream reader, once the relay works again, publishes the row; it is processed once.
    let functions = stack.functions();
    assert_eq!(relay.poll_once(&functions.invoker()).await.unwrap(), 1);
    let work = stack.queue_source("formulas");
    let mut received = 0;
    for _ in 0..20 {
        received += work.poll_once(&functions.invoker()).await.unwrap().received;
        if received > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(received, 1);
    let (_, done) = stack.api("GET", &format!("/formulas/{id}"), None).await;
    assert_eq!(done["status"], "processed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_submissions_under_conflicts_store_exactly_one_formula() {
    let stack = Arc::new(TestStack::start_with_faults(integration_tests::CONFLICTS_AND_THROTTLING).await);
    let body = json!({"name": "Summer Breeze", "materials": [
        {"name": "Bergamot Oil", "concentration": 15.5},
        {"name": "Iso E Super", "concentration": 30}]});
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (stack, body) = (stack.clone(), body.clone());
            tokio::spawn(async move {
                integration_tests::post_retrying(&stack, "/formulas", &body, &format!("formula-{i}")).await
            })
        })
        .collect();
    let mut accepted = 0;
    let mut ids = std::collections::BTreeSet::new();
    for h in handles {
        let (status, answer) = h.await.unwrap();
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other} {answer}"),
        }
        ids.insert(answer["formula_id"].as_str().unwrap().to_owned());
    }
    assert_eq!((accepted, ids.len()), (1, 1));
    stack.calm();
    let outbox: Vec<Value> = devstack::report::scan_all(&stack.dynamo(), &stack.table("outbox"))
        .await
        .unwrap();
    assert_eq!(outbox.len(), 1, "one outbox row for one formula");
    assert!(stack.faults.as_ref().unwrap().counts().conflicts > 0);
}
