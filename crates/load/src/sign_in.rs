//! Test users of a deployed user pool, signed in for a run: the fitness app's routes take an ID
//! token of the user a request is about, and a deployed pool issues them only to its users.
//!
//! The users are made once per environment by an operator (`docs/operations.md`, "Test users")
//! and listed in a file, one `user-name password` a line (the password is the rest of the line;
//! blank lines and `#` comments are skipped). Each signs in through the pool's test-user client
//! (stack output `TestUserClientId`, the one client that takes a password:
//! `USER_PASSWORD_AUTH`), and the run uses each one's token and `sub`, the app's `user_id`.

use base64::Engine;
use serde_json::{Value, json};

/// A signed-in user: its `sub` (the app's `user_id`) and its ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub sub: String,
    pub token: String,
}

/// Where to sign in: the pool's endpoint and its test-user client.
pub struct Pool {
    /// `https://cognito-idp.<region>.amazonaws.com/`, or a stand-in's.
    pub endpoint: String,
    pub client_id: String,
}

impl Pool {
    /// The pool of `AWS_REGION` (`COGNITO_ENDPOINT` overrides the endpoint).
    pub fn from_env(client_id: String) -> Result<Self, String> {
        let endpoint = match std::env::var("COGNITO_ENDPOINT") {
            Ok(endpoint) => endpoint,
            Err(_) => {
                let region = std::env::var("AWS_REGION")
                    .map_err(|_| "AWS_REGION names the user pool's region".to_owned())?;
                format!("https://cognito-idp.{region}.amazonaws.com/")
            }
        };
        Ok(Self {
            endpoint,
            client_id,
        })
    }

    /// Every user of `listing` signed in, in the listing's order.
    pub async fn sign_in_all(
        &self,
        http: &reqwest::Client,
        listing: &str,
    ) -> Result<Vec<SignedIn>, String> {
        let users = parse_listing(listing)?;
        let mut signed = Vec::with_capacity(users.len());
        for (name, password) in users {
            signed.push(self.sign_in(http, name, password).await?);
        }
        Ok(signed)
    }

    /// One user's `InitiateAuth` (`USER_PASSWORD_AUTH`): an unsigned call, the password is the
    /// proof.
    async fn sign_in(
        &self,
        http: &reqwest::Client,
        name: &str,
        password: &str,
    ) -> Result<SignedIn, String> {
        let request = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": self.client_id,
            "AuthParameters": {"USERNAME": name, "PASSWORD": password},
        });
        let answer = http
            .post(&self.endpoint)
            .header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            )
            .header("content-type", "application/x-amz-json-1.1")
            .body(request.to_string())
            .send()
            .await
            .map_err(|e| format!("test user {name}: signing in: {e}"))?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let kind = body["__type"].as_str().unwrap_or("no error type");
            let message = body["message"].as_str().unwrap_or("");
            return Err(format!(
                "test user {name}: sign-in refused (HTTP {status}, {kind}: {message})"
            ));
        }
        if let Some(challenge) = body["ChallengeName"].as_str() {
            return Err(format!(
                "test user {name}: the pool asks for {challenge} first; give the user a \
                 permanent password (docs/operations.md, \"Test users\")"
            ));
        }
        let token = body["AuthenticationResult"]["IdToken"]
            .as_str()
            .ok_or_else(|| format!("test user {name}: no ID token in the answer"))?;
        Ok(SignedIn {
            sub: subject(token).map_err(|e| format!("test user {name}: {e}"))?,
            token: token.to_owned(),
        })
    }
}

/// `(user-name, password)` per line.
fn parse_listing(listing: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut users = Vec::new();
    for (n, line) in listing.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, password) = line
            .split_once(char::is_whitespace)
            .map(|(name, password)| (name, password.trim()))
            .filter(|(_, password)| !password.is_empty())
            .ok_or_else(|| format!("test users, line {}: `user-name password` expected", n + 1))?;
        users.push((name, password));
    }
    if users.is_empty() {
        return Err("test users: the listing names none".into());
    }
    Ok(users)
}

/// The token's `sub`, read (not verified: the gateway verifies it) from its payload.
fn subject(token: &str) -> Result<String, String> {
    let payload = token.split('.').nth(1).ok_or("the ID token is not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("the ID token's payload: {e}"))?;
    let claims: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("the ID token's payload: {e}"))?;
    claims["sub"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the ID token has no sub".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use devstack::user_pool::{UserPool, VALID_FOR};
    use std::sync::Arc;

    /// A stand-in for Cognito's `InitiateAuth`: `ana` with `pw one` gets a token of sub
    /// `sub-ana`, `new` is asked for a new password, anyone else is refused.
    async fn stand_in() -> (String, Arc<UserPool>) {
        let pool = Arc::new(UserPool::generate().unwrap());
        let issuer = pool.clone();
        let app = axum::Router::new().route(
            "/",
            post(move |headers: HeaderMap, body: String| {
                let issuer = issuer.clone();
                async move {
                    let target = headers["x-amz-target"].to_str().unwrap_or_default();
                    assert_eq!(target, "AWSCognitoIdentityProviderService.InitiateAuth");
                    let request: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(request["AuthFlow"], "USER_PASSWORD_AUTH");
                    assert_eq!(request["ClientId"], "client-1");
                    let params = &request["AuthParameters"];
                    match (params["USERNAME"].as_str(), params["PASSWORD"].as_str()) {
                        (Some("ana"), Some("pw one")) => {
                            let token = issuer
                                .token("sub-ana", chrono::Utc::now().timestamp(), VALID_FOR)
                                .unwrap();
                            let result = json!({"AuthenticationResult": {"IdToken": token}});
                            (StatusCode::OK, Json(result))
                        }
                        (Some("new"), _) => (
                            StatusCode::OK,
                            Json(json!({"ChallengeName": "NEW_PASSWORD_REQUIRED"})),
                        ),
                        _ => (
                            StatusCode::BAD_REQUEST,
                            Json(json!({"__type": "NotAuthorizedException",
                                        "message": "Incorrect username or password."})),
                        ),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, pool)
    }

    #[tokio::test]
    async fn each_listed_user_signs_in_and_is_its_tokens_sub() {
        let (endpoint, issuer) = stand_in().await;
        let pool = Pool {
            endpoint,
            client_id: "client-1".into(),
        };
        let http = reqwest::Client::new();
        let signed = pool
            .sign_in_all(&http, "# dev's test users\n\nana   pw one\n")
            .await
            .unwrap();
        assert_eq!(signed.len(), 1);
        assert_eq!(signed[0].sub, "sub-ana");
        assert_eq!(issuer.verify(&signed[0].token).unwrap()["sub"], "sub-ana");

        let wrong = pool.sign_in_all(&http, "ana pw two").await.unwrap_err();
        assert!(wrong.contains("test user ana: sign-in refused"), "{wrong}");
        assert!(wrong.contains("NotAuthorizedException"), "{wrong}");
        let challenged = pool.sign_in_all(&http, "new pw").await.unwrap_err();
        assert!(challenged.contains("NEW_PASSWORD_REQUIRED"), "{challenged}");
        assert!(challenged.contains("permanent password"), "{challenged}");
    }

    #[test]
    fn a_listing_without_a_password_or_without_users_is_refused() {
        assert_eq!(
            parse_listing("a  p w \n#c\nb x").unwrap(),
            [("a", "p w"), ("b", "x")]
        );
        let bare = parse_listing("a p\nlonely\n").unwrap_err();
        assert!(bare.contains("line 2"), "{bare}");
        assert!(
            parse_listing("# none\n")
                .unwrap_err()
                .contains("names none")
        );
        assert!(subject("not-a-jwt").is_err());
        assert!(subject("a.!!!.c").is_err());
    }
}
