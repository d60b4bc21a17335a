//! How a request proves who sends it, by the security scheme `docs/openapi.json` declares for
//! its route: `returnBinKey` routes take a return bin's API key (`x-api-key`), `iam` routes a
//! SigV4 signature for `execute-api`, `appUsers` routes an ID token of the app's user the request
//! is about (the `user_id` of its path or body: an app only ever sends its own user's data).
//!
//! On the local stack every credential comes from the stack itself ([`Auth::local`]: its first
//! bin key, the local credentials of `.devstack/env`, ID tokens its user pool issues). Against a
//! deployed API the key and the signing credentials are given (`--api-key`, `--sigv4`); app
//! users' tokens are not, so the fitness scenario runs on the local stack only.

use devstack::routes::{Authorization, Routes};
use devstack::sigv4::Signer;
use devstack::stackenv::{StackEnv, state_dir};
use devstack::user_pool::{UserPool, VALID_FOR};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Auth {
    api_key: Option<String>,
    sigv4: Option<Signer>,
    users: Option<Arc<Users>>,
    routes: Arc<Routes>,
}

/// ID tokens of the local user pool, one per user, made when first needed.
struct Users {
    pool: UserPool,
    tokens: Mutex<HashMap<String, String>>,
}

impl Users {
    fn token(&self, user: &str) -> Result<String, String> {
        let mut tokens = self.tokens.lock().map_err(|e| e.to_string())?;
        if let Some(token) = tokens.get(user) {
            return Ok(token.clone());
        }
        let token = self
            .pool
            .token(user, chrono::Utc::now().timestamp(), VALID_FOR)
            .map_err(|e| e.to_string())?;
        tokens.insert(user.to_owned(), token.clone());
        Ok(token)
    }
}

impl Auth {
    /// The API key and signer to use, each on the routes whose scheme takes it.
    pub fn new(api_key: Option<String>, sigv4: Option<Signer>) -> Result<Self, String> {
        let routes = Routes::declared().map_err(|e| e.to_string())?;
        Ok(Self {
            api_key,
            sigv4,
            users: None,
            routes: Arc::new(routes),
        })
    }

    /// The running local stack's credentials: a bin's key, the local IAM credentials, tokens
    /// of its user pool.
    pub fn local() -> Result<Self, String> {
        let env = StackEnv::read().map_err(|e| e.to_string())?;
        let var = |name: &str| env.get(name).map_err(|e| e.to_string());
        let signer = Signer::new(
            &var("AWS_ACCESS_KEY_ID")?,
            &var("AWS_SECRET_ACCESS_KEY")?,
            None,
            &var("AWS_REGION")?,
        );
        let pool = UserPool::load(&state_dir()).map_err(|e| e.to_string())?;
        let mut auth = Self::new(Some(var("RETURN_BIN_API_KEY")?), Some(signer))?;
        auth.users = Some(Arc::new(Users {
            pool,
            tokens: Mutex::default(),
        }));
        Ok(auth)
    }

    /// The headers a request to `path` (with a JSON `body`, sent with its content type, when
    /// there is one) needs.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        self.headers_as(None, method, url, path, body)
    }

    /// [`Self::headers`], as the app's user `user` on an app route that names none.
    pub fn headers_as(
        &self,
        user: Option<&str>,
        method: &str,
        url: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        let path = path.split('?').next().unwrap_or(path);
        let matched = self.routes.find(method, path);
        // A path no operation declares is signed: the gateway refuses it either way, and a
        // signed refusal is the one that says the route is missing.
        let scheme = matched
            .as_ref()
            .map_or(Authorization::Iam, |m| m.route.authorization);
        match scheme {
            Authorization::ReturnBinKey => Ok(self
                .api_key
                .iter()
                .map(|k| ("x-api-key".to_owned(), k.clone()))
                .collect()),
            Authorization::Iam => match &self.sigv4 {
                Some(signer) => {
                    let json = [("content-type", "application/json")];
                    let signed: &[(&str, &str)] = if body.is_empty() { &[] } else { &json };
                    signer.headers(method, url, signed, body)
                }
                None => Ok(vec![]),
            },
            Authorization::AppUsers => {
                let user = app_user(matched.as_ref(), body).or(user.map(str::to_owned));
                let (Some(users), Some(user)) = (&self.users, user) else {
                    return Ok(vec![]);
                };
                Ok(vec![("authorization".to_owned(), users.token(&user)?)])
            }
        }
    }
}

/// The app user a request is about: its path's `user_id`, else its body's (a batch's first
/// event's).
fn app_user(matched: Option<&devstack::routes::Matched<'_>>, body: &[u8]) -> Option<String> {
    if let Some((_, user)) = matched
        .into_iter()
        .flat_map(|m| &m.path_parameters)
        .find(|(name, _)| name == "user_id")
    {
        return Some(user.clone());
    }
    let body: Value = serde_json::from_slice(body).ok()?;
    let user = body["user_id"]
        .as_str()
        .or_else(|| body["events"][0]["user_id"].as_str())?;
    Some(user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_gets_the_credential_of_its_declared_scheme() {
        let signer = Signer::new("AKID", "secret", None, "eu-west-1");
        let mut auth = Auth::new(Some("k".into()), Some(signer)).unwrap();
        let url = "https://abc.execute-api.eu-west-1.amazonaws.com/prod";
        let key = auth
            .headers(
                "POST",
                &format!("{url}/rentals/returns"),
                "/rentals/returns",
                b"{}",
            )
            .unwrap();
        assert_eq!(key, [("x-api-key".to_owned(), "k".to_owned())]);
        let signed = auth
            .headers("POST", &format!("{url}/tasks"), "/tasks", b"{}")
            .unwrap();
        let names: Vec<&str> = signed.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.contains(&"authorization"), "{names:?}");
        assert!(names.contains(&"x-amz-date"), "{names:?}");
        let authorization = &signed.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert!(authorization.contains("/eu-west-1/execute-api/aws4_request"));
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date"));
        // The key goes only where the document declares returnBinKey.
        let read = auth
            .headers("GET", url, "/rentals/returns/r1", b"")
            .unwrap();
        assert!(read.iter().all(|(k, _)| k != "x-api-key"), "{read:?}");
        assert!(
            Auth::new(None, None)
                .unwrap()
                .headers("GET", url, "/tasks/x", b"")
                .unwrap()
                .is_empty()
        );

        // An app route gets a token of the user it is about, which the pool accepts.
        let pool = UserPool::generate().unwrap();
        auth.users = Some(Arc::new(Users {
            pool: UserPool::generate().unwrap(),
            tokens: Mutex::default(),
        }));
        let users = auth.users.clone().unwrap();
        let event = br#"{"user_id": "foo2", "type": "app_launch"}"#;
        let posted = auth.headers("POST", url, "/v1/event", event).unwrap();
        let token = &posted[0].1;
        assert_eq!(users.pool.verify(token).unwrap()["sub"], "foo2");
        assert!(pool.verify(token).is_err(), "another pool's");
        let read = auth
            .headers("GET", url, "/v1/users/foo3/activity", b"")
            .unwrap();
        assert_eq!(users.pool.verify(&read[0].1).unwrap()["sub"], "foo3");
        let batch = br#"{"events": [{"user_id": "foo4"}]}"#;
        let batched = auth.headers("POST", url, "/v1/events", batch).unwrap();
        assert_eq!(users.pool.verify(&batched[0].1).unwrap()["sub"], "foo4");
    }
}
