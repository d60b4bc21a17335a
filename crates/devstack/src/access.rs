//! Who may call the local API, checked by its gateway as the deployed API's are, from the same
//! declaration (each operation's security scheme in `docs/openapi.json`, [`crate::routes`]):
//! `returnBinKey` routes take one of the local return bins' keys in `x-api-key`; `iam` routes a
//! SigV4 signature (`execute-api`) by a local principal; `appUsers` routes an ID token of the
//! local user pool in `Authorization`. A refusal is the deployed gateway's status and error code;
//! an accepted caller is handed to the function in the request context API Gateway fills.

use crate::routes::Authorization;
use crate::sigv4::{self, Received, SigError};
use crate::user_pool::UserPool;
use aws_lambda_events::event::apigw::ApiGatewayProxyRequestContext;
use axum::http::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The local account id, as the emulators use.
pub const ACCOUNT: &str = "000000000000";

/// One return bin's API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinKey {
    /// The key's id (what API Gateway puts in the request context).
    pub id: String,
    /// The key itself (what the bin sends in `x-api-key`).
    pub value: String,
}

/// A principal that may sign requests to the IAM routes: one caller role's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub arn: String,
    /// The caller role (`x-caller-roles` of `docs/openapi.json`) it acts as.
    pub role: String,
}

/// Everyone the local API lets in, and the browser origins whose pages may read its answers.
pub struct Access {
    pub region: String,
    pub bins: Vec<BinKey>,
    pub principals: Vec<Principal>,
    pub users: UserPool,
    pub origins: Vec<String>,
}

/// A caller the gateway let through, as the request context names it.
#[derive(Clone, Debug, PartialEq)]
pub enum Caller {
    Bin(BinKey),
    Principal(Principal),
    /// An app user: the ID token's claims.
    User(serde_json::Map<String, Value>),
}

/// The gateway's refusal: its status, error code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// What the gateway checks a request by.
pub struct Request<'a> {
    pub method: &'a str,
    /// `http://<Host><path and query>`, the URL the client signed.
    pub url: &'a str,
    /// Every header (lower-case names).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

impl Access {
    /// The caller of `request` to a route of `scheme` that `roles` may invoke (an IAM route's;
    /// `None`: the catch-all, which every caller role may reach), or the gateway's refusal.
    pub fn check(
        &self,
        scheme: Authorization,
        roles: Option<&[String]>,
        request: &Request<'_>,
    ) -> Result<Caller, Refusal> {
        match scheme {
            Authorization::ReturnBinKey => self.bin(request),
            Authorization::Iam => {
                let caller = self.principal(request)?;
                match (&caller, roles) {
                    (Caller::Principal(p), Some(roles)) if !roles.contains(&p.role) => {
                        Err(Refusal::new(
                            StatusCode::FORBIDDEN,
                            "forbidden",
                            format!(
                                "User: {} is not authorized to perform: execute-api:Invoke on this resource",
                                p.arn
                            ),
                        ))
                    }
                    _ => Ok(caller),
                }
            }
            Authorization::AppUsers => self.user(request),
        }
    }

    fn bin(&self, request: &Request<'_>) -> Result<Caller, Refusal> {
        let key = request.header("x-api-key").unwrap_or_default();
        self.bins
            .iter()
            .find(|b| !key.is_empty() && b.value == key)
            .map(|b| Caller::Bin(b.clone()))
            .ok_or_else(|| Refusal::new(StatusCode::FORBIDDEN, "invalid_api_key", "Forbidden"))
    }

    fn principal(&self, request: &Request<'_>) -> Result<Caller, Refusal> {
        let received = Received {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let secret_of = |key: &str| {
            self.principals
                .iter()
                .find(|p| p.access_key_id == key)
                .map(|p| p.secret_access_key.clone())
        };
        match sigv4::verify(&received, &self.region, secret_of, SystemTime::now()) {
            Ok(key) => self
                .principals
                .iter()
                .find(|p| p.access_key_id == key)
                .map(|p| Caller::Principal(p.clone()))
                .ok_or_else(|| Refusal::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")),
            Err(SigError::Missing) => Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "missing_authentication",
                SigError::Missing.to_string(),
            )),
            Err(e) => Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "invalid_signature",
                e.to_string(),
            )),
        }
    }

    fn user(&self, request: &Request<'_>) -> Result<Caller, Refusal> {
        let unauthorized =
            || Refusal::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized");
        // The raw token, as the Cognito authorizer reads the header.
        let token = request.header("authorization").ok_or_else(unauthorized)?;
        self.users
            .verify(token)
            .map(Caller::User)
            .map_err(|_| unauthorized())
    }
}

impl Caller {
    /// Puts the caller where API Gateway does in a REST API's request context.
    pub fn fill(&self, context: &mut ApiGatewayProxyRequestContext) {
        match self {
            Self::Bin(key) => {
                context.identity.api_key = Some(key.value.clone());
                context.identity.api_key_id = Some(key.id.clone());
            }
            Self::Principal(p) => {
                context.identity.access_key = Some(p.access_key_id.clone());
                context.identity.user_arn = Some(p.arn.clone());
                context.identity.caller = Some(p.access_key_id.clone());
                context.identity.user = Some(p.access_key_id.clone());
                context.identity.account_id = Some(ACCOUNT.to_owned());
            }
            Self::User(claims) => {
                // The Cognito authorizer hands the claims on as text.
                let claims: serde_json::Map<String, Value> = claims
                    .iter()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (k.clone(), Value::String(text))
                    })
                    .collect();
                context
                    .authorizer
                    .fields
                    .insert("claims".into(), Value::Object(claims));
            }
        }
    }
}

/// The local bins' keys: `count` of them, ids `local-bin-<n>`, values random.
pub fn bin_keys(count: usize) -> Vec<BinKey> {
    (1..=count)
        .map(|n| BinKey {
            id: format!("local-bin-{n}"),
            value: (0..40).map(|_| fastrand::alphanumeric()).collect(),
        })
        .collect()
}

/// The variables `.devstack/env` gives clients for `access`: the first bin's key and the first
/// allowed origin.
pub fn client_env(access: &Access) -> BTreeMap<String, String> {
    let key = access
        .bins
        .first()
        .map(|b| ("RETURN_BIN_API_KEY".to_owned(), b.value.clone()));
    let origin = access
        .origins
        .first()
        .map(|o| ("CORS_ORIGIN".to_owned(), o.clone()));
    key.into_iter().chain(origin).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::Signer;

    fn access() -> Access {
        Access {
            region: "eu-west-1".into(),
            bins: bin_keys(2),
            principals: vec![Principal {
                access_key_id: "AKID".into(),
                secret_access_key: "secret".into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:role/kitchen"),
                role: "kitchen".into(),
            }],
            users: UserPool::generate().unwrap(),
            origins: vec!["http://localhost:3000".into()],
        }
    }

    fn request<'a>(headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        Request {
            method: "GET",
            url: "http://127.0.0.1:3000/tasks/t1",
            headers,
            body: b"",
        }
    }

    #[test]
    fn each_scheme_takes_its_own_credential_and_refuses_as_the_gateway_does() {
        let a = access();
        let key = a.bins[1].value.clone();
        let bin = a
            .check(
                Authorization::ReturnBinKey,
                None,
                &request(&[("x-api-key", &key)]),
            )
            .unwrap();
        assert_eq!(bin, Caller::Bin(a.bins[1].clone()));
        let refused = a
            .check(
                Authorization::ReturnBinKey,
                None,
                &request(&[("x-api-key", "guess")]),
            )
            .unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.code),
            (403, "invalid_api_key")
        );
        assert!(
            a.check(Authorization::ReturnBinKey, None, &request(&[]))
                .is_err()
        );

        let signed = Signer::new("AKID", "secret", None, "eu-west-1")
            .headers("GET", "http://127.0.0.1:3000/tasks/t1", &[], b"")
            .unwrap();
        let mut headers: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        headers.push(("host", "127.0.0.1:3000"));
        let kitchen = ["kitchen".to_owned()];
        assert!(matches!(
            a.check(Authorization::Iam, Some(&kitchen), &request(&headers)),
            Ok(Caller::Principal(_))
        ));
        let elsewhere = ["ordering".to_owned()];
        let refused = a
            .check(Authorization::Iam, Some(&elsewhere), &request(&headers))
            .unwrap_err();
        assert_eq!((refused.status.as_u16(), refused.code), (403, "forbidden"));
        let missing = a
            .check(Authorization::Iam, None, &request(&[]))
            .unwrap_err();
        assert_eq!(
            (missing.status.as_u16(), missing.code),
            (403, "missing_authentication")
        );
        // A key that opens the bins' route opens no other.
        let keyed = a.check(Authorization::Iam, None, &request(&[("x-api-key", &key)]));
        assert!(keyed.is_err());

        let now = chrono::Utc::now().timestamp();
        let token = a
            .users
            .token("foo1", now, crate::user_pool::VALID_FOR)
            .unwrap();
        let Ok(Caller::User(claims)) = a.check(
            Authorization::AppUsers,
            None,
            &request(&[("authorization", &token)]),
        ) else {
            panic!("the token is refused")
        };
        assert_eq!(claims["sub"], "foo1");
        let bearer = format!("Bearer {token}");
        for header in [vec![], vec![("authorization", bearer.as_str())]] {
            let refused = a
                .check(Authorization::AppUsers, None, &request(&header))
                .unwrap_err();
            assert_eq!(
                (refused.status.as_u16(), refused.code),
                (401, "unauthorized")
            );
        }
    }

    #[test]
    fn the_caller_lands_where_api_gateway_puts_it() {
        let a = access();
        let mut context = ApiGatewayProxyRequestContext::default();
        Caller::Bin(a.bins[0].clone()).fill(&mut context);
        assert_eq!(context.identity.api_key_id.as_deref(), Some("local-bin-1"));
        let mut context = ApiGatewayProxyRequestContext::default();
        Caller::Principal(a.principals[0].clone()).fill(&mut context);
        assert_eq!(
            context.identity.user_arn.as_deref(),
            Some("arn:aws:iam::000000000000:role/kitchen")
        );
        let mut context = ApiGatewayProxyRequestContext::default();
        let claims = serde_json::json!({"sub": "foo1", "exp": 5})
            .as_object()
            .unwrap()
            .clone();
        Caller::User(claims).fill(&mut context);
        assert_eq!(
            context.authorizer.fields["claims"],
            serde_json::json!({"sub": "foo1", "exp": "5"})
        );
        assert_eq!(client_env(&a)["RETURN_BIN_API_KEY"], a.bins[0].value);
        assert_eq!(client_env(&a)["CORS_ORIGIN"], "http://localhost:3000");
    }
}
