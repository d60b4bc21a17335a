//! Who sends a request, as the gateway vouches for it in the request context it hands the
//! function (API Gateway in AWS, the local stack's gateway the same way): the fitness app's user
//! from the Cognito authorizer's claims, a service by the IAM principal that signed, a return bin
//! by its API key's id. The gateway has already refused a request without a valid credential;
//! the function decides what the caller may do with the data it names.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::ids::UserId;
use lambda_http::request::RequestContext;

/// The claim of the app's ID token that is its user's id (the user pool's `sub`: immutable,
/// unique, never reassigned), which the app sends as `user_id`.
pub const USER_CLAIM: &str = "sub";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A user of the fitness app, by the id the token's [`USER_CLAIM`] gives.
    AppUser(UserId),
    /// A service, by the ARN of the IAM principal that signed the request.
    Service(String),
    /// A return bin, by the id of its API key.
    ReturnBin(String),
    /// No caller in the request context (a route without authorization, or a test that gives
    /// none).
    Unknown,
}

impl Caller {
    /// The caller the request context of `parts` names.
    pub fn of(parts: &Parts) -> Self {
        let Some(RequestContext::ApiGatewayV1(context)) = parts.extensions.get::<RequestContext>()
        else {
            return Self::Unknown;
        };
        let claim = context
            .authorizer
            .fields
            .get("claims")
            .and_then(|claims| claims.get(USER_CLAIM))
            .and_then(|sub| sub.as_str());
        if let Some(user) = claim.and_then(|sub| UserId::parse(sub).ok()) {
            return Self::AppUser(user);
        }
        let identity = &context.identity;
        if let Some(arn) = identity.user_arn.as_deref().filter(|a| !a.is_empty()) {
            return Self::Service(arn.to_owned());
        }
        if let Some(id) = identity.api_key_id.as_deref().filter(|k| !k.is_empty()) {
            return Self::ReturnBin(id.to_owned());
        }
        Self::Unknown
    }

    /// The caller as a prefix of what it alone may reuse (its `Idempotency-Key`s).
    pub fn scope(&self) -> String {
        match self {
            Self::AppUser(user) => format!("user:{user}"),
            Self::Service(arn) => format!("iam:{arn}"),
            Self::ReturnBin(id) => format!("key:{id}"),
            Self::Unknown => "anonymous".to_owned(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self::of(parts))
    }
}

/// The fitness app's user who sends the request; `401 unauthorized` when the request context
/// names none (the authorizer always does in AWS: only a misrouted request lacks it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppUser(pub UserId);

impl AppUser {
    /// `Ok` when `user` is this caller, else `403 forbidden` naming what it may not do.
    pub fn may_act_as(&self, user: &UserId, what: &str) -> Result<(), ApiError> {
        if &self.0 == user {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                message: format!("{what} of another user"),
            })
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AppUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match Caller::of(parts) {
            Caller::AppUser(user) => Ok(Self(user)),
            _ => Err(ApiError::Unauthorized),
        }
    }
}

/// The request context API Gateway gives a request its Cognito authorizer let through, for
/// `user`: what tests and the local gateway hand the function.
pub fn app_user_context(user: &str) -> RequestContext {
    let mut context =
        lambda_http::aws_lambda_events::event::apigw::ApiGatewayProxyRequestContext::default();
    context.authorizer.fields.insert(
        "claims".into(),
        serde_json::json!({ USER_CLAIM: user, "token_use": "id" }),
    );
    RequestContext::ApiGatewayV1(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(context: Option<RequestContext>) -> Parts {
        let mut request = Request::get("/").body(()).unwrap();
        if let Some(context) = context {
            request.extensions_mut().insert(context);
        }
        request.into_parts().0
    }

    #[test]
    fn the_caller_is_read_from_the_request_context() {
        assert_eq!(
            Caller::of(&parts(Some(app_user_context("foo1")))),
            Caller::AppUser(UserId::parse("foo1").unwrap())
        );
        let mut context =
            lambda_http::aws_lambda_events::event::apigw::ApiGatewayProxyRequestContext::default();
        context.identity.user_arn = Some("arn:aws:iam::1:role/kitchen".into());
        assert_eq!(
            Caller::of(&parts(Some(RequestContext::ApiGatewayV1(context.clone())))),
            Caller::Service("arn:aws:iam::1:role/kitchen".into())
        );
        context.identity.user_arn = None;
        context.identity.api_key_id = Some("k1".into());
        assert_eq!(
            Caller::of(&parts(Some(RequestContext::ApiGatewayV1(context)))).scope(),
            "key:k1"
        );
        assert_eq!(Caller::of(&parts(None)), Caller::Unknown);
    }

    #[test]
    fn a_user_may_act_only_as_itself() {
        let foo1 = AppUser(UserId::parse("foo1").unwrap());
        assert!(
            foo1.may_act_as(&UserId::parse("foo1").unwrap(), "x")
                .is_ok()
        );
        let refused = foo1
            .may_act_as(&UserId::parse("foo2").unwrap(), "the activity")
            .unwrap_err();
        let (status, body) = refused.status_and_body();
        assert_eq!(status, axum::http::StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "forbidden");
    }
}
