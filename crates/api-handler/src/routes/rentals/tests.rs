//! The rental routes' HTTP contract, with in-memory ports.

use crate::routes::tests::{EVENT, TestServices, call, services};
use crate::wiring::Ports;
use axum::http::StatusCode;
use domain::PortError;
use domain::ids::UserId;
use domain::rentals::memory::{InMemoryRentalStore, InMemoryReturnQueue};
use domain::rentals::{AssetId, AssetType, Rental, RentalId, RentalStatus, User};
use domain::time::parse_event_time;
use serde_json::json;
use std::sync::Arc;

/// The ports with a user and two of her rentals in progress.
fn seeded() -> Arc<TestServices> {
    let s = Ports::default();
    let rentals = s.port::<InMemoryRentalStore>();
    rentals.put_user(User {
        user_id: UserId::parse("tpg_u0001").unwrap(),
        name: "Adam".into(),
    });
    for (id, created) in [
        ("tpg_r0002", "2025-02-07T12:00:00Z"),
        ("tpg_r0001", "2025-02-05T12:00:00Z"),
    ] {
        rentals.put_rental(Rental {
            rental_id: RentalId::parse(id).unwrap(),
            user_id: UserId::parse("tpg_u0001").unwrap(),
            asset_id: AssetId::parse("tpg_a00001").unwrap(),
            status: RentalStatus::InProgress,
            created_at: parse_event_time(created).unwrap(),
            expires_at: parse_event_time("2025-02-15T12:00:00Z").unwrap(),
            eligible_asset_types: vec![AssetType::Clamshell],
            created_at_location_id: None,
            returned_at: None,
            returned_at_location_id: None,
        });
    }
    Arc::new(s)
}

#[tokio::test]
async fn storage_trouble_is_503_without_internals() {
    let s = seeded();
    s.port::<InMemoryRentalStore>()
        .fail_next(PortError::Retryable(
            "ThrottlingException: secret detail".into(),
        ));
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.to_string().contains("secret"));
    s.port::<InMemoryRentalStore>()
        .fail_next(PortError::Permanent("corrupt item".into()));
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal_error"))
    );
}

#[tokio::test]
async fn a_return_is_queued_once_and_readable_as_pending() {
    let s = services();
    let (status, body) = call(&s, "POST", "/rentals/returns", Some(EVENT)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = body["return_id"].as_str().unwrap().to_owned();
    let (status, again) = call(&s, "POST", "/rentals/returns", Some(EVENT)).await;
    assert_eq!(
        (status, again["return_id"].as_str()),
        (StatusCode::ACCEPTED, Some(id.as_str()))
    );
    assert_eq!(s.port::<InMemoryReturnQueue>().queued().len(), 1);
    assert_eq!(
        s.port::<InMemoryReturnQueue>().queued()[0].message_group(),
        "user-tpg_u0001"
    );
    let (status, body) = call(&s, "GET", &format!("/rentals/returns/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"return_id": id, "status": "pending"}));
}

#[tokio::test]
async fn unknown_return_and_user_are_404() {
    let s = services();
    let (status, body) = call(&s, "GET", "/rentals/returns/ret_unknown", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("return_not_found"))
    );
    let (status, body) = call(&s, "GET", "/users/nobody/rentals", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("user_not_found"))
    );
    let (status, _) = call(&s, "GET", "/users/nobody/stats", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_rentals_oldest_first_in_the_spec_shape() {
    let s = seeded();
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(status, StatusCode::OK);
    let rentals = body["rentals"].as_array().unwrap();
    assert_eq!(rentals[0]["rental_id"], "tpg_r0001");
    assert_eq!(rentals[1]["rental_id"], "tpg_r0002");
    assert_eq!(
        rentals[0],
        json!({"rental_id": "tpg_r0001", "user_id": "tpg_u0001", "asset_id": "tpg_a00001",
               "status": "IN_PROGRESS", "created_at": "2025-02-05T12:00:00Z",
               "expires_at": "2025-02-15T12:00:00Z", "eligible_asset_types": ["clamshell"],
               "returned_at": null, "returned_at_location_id": null})
    );
}

#[tokio::test]
async fn stats_of_a_user_without_returns_are_zero() {
    let s = seeded();
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"user_id": "tpg_u0001", "returns_count": 0, "on_time_returns": 0,
                            "reward_points": 0, "last_return_at": null})
    );
}

/// A return records the bin that sent it, by its API key's id from the request context; a bin
/// cannot name another in the body.
#[tokio::test]
async fn a_return_records_the_bin_that_sent_it() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let s = services();
    let mut context =
        lambda_http::aws_lambda_events::event::apigw::ApiGatewayProxyRequestContext::default();
    context.identity.api_key_id = Some("bin-key-7".into());
    let mut body: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    body["bin"] = json!("someone-else");
    let mut req = axum::http::Request::post("/rentals/returns")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    req.extensions_mut()
        .insert(lambda_http::request::RequestContext::ApiGatewayV1(context));
    let res = crate::routes::router(crate::wiring::Services::in_memory(&s))
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let answer: serde_json::Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let id = answer["return_id"].as_str().unwrap();
    assert_eq!(
        s.port::<InMemoryReturnQueue>().queued()[0].bin.as_deref(),
        Some("bin-key-7")
    );
    let (_, got) = call(&s, "GET", &format!("/rentals/returns/{id}"), None).await;
    assert_eq!(got["bin"], "bin-key-7");
}
