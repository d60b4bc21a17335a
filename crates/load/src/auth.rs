//! How a request proves who sends it, by the security scheme `docs/openapi.json` declares for
//! its route: `returnBinKey` routes take a return bin's API key (`x-api-key`), `iam` routes a
//! SigV4 signature for `execute-api`, `appUsers` routes an ID token of the app's user the request
//! is about (the `user_id` of its path or body: an app only ever sends its own user's data).
//!
//! On the local stack every credential comes from the stack itself ([`Auth::local`]: its first
//! bin key, the local credentials of `.devstack/env`, ID tokens its user pool issues for any
//! user). Against a deployed API the key and the signing credentials are given (`--api-key`,
//! `--sigv4`), and the app users are the environment's test users, signed in for the run
//! ([`crate::sign_in`], [`Auth::with_test_users`]): a scenario's app users are then theirs.

use crate::sign_in::SignedIn;
use devstack::routes::{Authorization, Routes};
use devstack::sigv4::Signer;
use devstack::stackenv::{StackEnv, state_dir};
use devstack::user_pool::{UserPool, VALID_FOR};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The credentials a run against a deployed API is given; against the running local stack,
/// when none is given, the stack's own ([`Auth::local`]).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Credentials {
    /// A return bin's API key, sent on the routes of the `returnBinKey` scheme.
    #[arg(long, env = "API_KEY")]
    pub api_key: Option<String>,
    /// Sign the `iam` routes with SigV4 (credentials and AWS_REGION from the environment).
    #[arg(long)]
    pub sigv4: bool,
    /// The environment's test users (`user-name password` a line), signed in for the run
    /// through the pool's test-user client; the `appUsers` routes are then theirs.
    #[arg(long, env = "TEST_USERS_FILE", requires = "test_user_client_id")]
    pub test_users: Option<std::path::PathBuf>,
    /// The user pool's test-user client (stack output `TestUserClientId`).
    #[arg(long, env = "TEST_USER_CLIENT_ID")]
    pub test_user_client_id: Option<String>,
}

impl Credentials {
    /// How the run authenticates to `api`: with what is given, else (for the running local
    /// stack) with the stack's own credentials.
    pub async fn auth(&self, api: &str) -> Result<Auth, String> {
        let the_local_stack = crate::stack::value("API_URL").as_deref() == Some(api);
        let given = self.api_key.is_some() || self.sigv4 || self.test_users.is_some();
        if the_local_stack && !given {
            return Auth::local();
        }
        let signer = if self.sigv4 {
            Some(Signer::from_env()?)
        } else {
            None
        };
        let auth = Auth::new(self.api_key.clone(), signer)?;
        let (Some(file), Some(client)) = (&self.test_users, &self.test_user_client_id) else {
            return Ok(auth);
        };
        let listing = std::fs::read_to_string(file)
            .map_err(|e| format!("test users {}: {e}", file.display()))?;
        let pool = crate::sign_in::Pool::from_env(client.clone())?;
        let signed = pool.sign_in_all(&reqwest::Client::new(), &listing).await?;
        eprintln!("load: {} test users signed in", signed.len());
        Ok(auth.with_test_users(signed))
    }
}

#[derive(Clone)]
pub struct Auth {
    api_key: Option<String>,
    sigv4: Option<Signer>,
    users: Option<Arc<Users>>,
    routes: Arc<Routes>,
}

/// Where the app users' ID tokens come from.
enum Users {
    /// The local user pool: any user, a token made when first needed.
    Local {
        pool: UserPool,
        tokens: Mutex<HashMap<String, String>>,
    },
    /// A deployed pool's test users, signed in before the run, in their listing's order.
    SignedIn(Vec<SignedIn>),
}

impl Users {
    fn token(&self, user: &str) -> Result<String, String> {
        let (pool, tokens) = match self {
            Users::Local { pool, tokens } => (pool, tokens),
            Users::SignedIn(signed) => {
                return signed
                    .iter()
                    .find(|s| s.sub == user)
                    .map(|s| s.token.clone())
                    .ok_or_else(|| format!("{user} is none of the signed-in test users"));
            }
        };
        let mut tokens = tokens.lock().map_err(|e| e.to_string())?;
        if let Some(token) = tokens.get(user) {
            return Ok(token.clone());
        }
        let token = pool
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
        auth.users = Some(Arc::new(Users::Local {
            pool,
            tokens: Mutex::default(),
        }));
        Ok(auth)
    }

    /// App users' tokens from the given signed-in test users (a deployed pool's).
    pub fn with_test_users(mut self, signed: Vec<SignedIn>) -> Self {
        self.users = Some(Arc::new(Users::SignedIn(signed)));
        self
    }

    /// The last signed-in test user's `sub` (the smoke run's, apart from a load run's clients,
    /// which take them from the first); none without test users.
    pub fn last_test_user(&self) -> Option<String> {
        match self.users.as_deref() {
            Some(Users::SignedIn(signed)) => signed.last().map(|s| s.sub.clone()),
            _ => None,
        }
    }

    /// The `n`th app user a scenario may act as: none when it may name its own (the local pool
    /// issues a token for any user, a run without app users sends none), else the `n`th test
    /// user's `sub`; an error when there are fewer test users than the scenario's clients.
    pub fn app_user(&self, n: usize) -> Result<Option<String>, String> {
        match self.users.as_deref() {
            Some(Users::SignedIn(signed)) => {
                signed.get(n).map(|s| Some(s.sub.clone())).ok_or_else(|| {
                    format!(
                        "{} test users signed in, and an app user's client is number {}: list a \
                         test user per fitness client (or run fewer --users)",
                        signed.len(),
                        n + 1
                    )
                })
            }
            _ => Ok(None),
        }
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
        auth.users = Some(Arc::new(Users::Local {
            pool: UserPool::generate().unwrap(),
            tokens: Mutex::default(),
        }));
        let users = auth.users.clone().unwrap();
        let Users::Local { pool: checker, .. } = users.as_ref() else {
            unreachable!("set just above")
        };
        let event = br#"{"user_id": "foo2", "type": "app_launch"}"#;
        let posted = auth.headers("POST", url, "/v1/event", event).unwrap();
        let token = &posted[0].1;
        assert_eq!(checker.verify(token).unwrap()["sub"], "foo2");
        assert!(pool.verify(token).is_err(), "another pool's");
        let read = auth
            .headers("GET", url, "/v1/users/foo3/activity", b"")
            .unwrap();
        assert_eq!(checker.verify(&read[0].1).unwrap()["sub"], "foo3");
        let batch = br#"{"events": [{"user_id": "foo4"}]}"#;
        let batched = auth.headers("POST", url, "/v1/events", batch).unwrap();
        assert_eq!(checker.verify(&batched[0].1).unwrap()["sub"], "foo4");
    }

    #[test]
    fn with_test_users_a_scenario_acts_as_them_and_no_other() {
        let signed = |sub: &str| SignedIn {
            sub: sub.into(),
            token: format!("token-of-{sub}"),
        };
        let auth = Auth::new(None, None)
            .unwrap()
            .with_test_users(vec![signed("s-1"), signed("s-2")]);
        assert_eq!(auth.app_user(1).unwrap().as_deref(), Some("s-2"));
        assert_eq!(auth.last_test_user().as_deref(), Some("s-2"));
        let short = auth.app_user(2).unwrap_err();
        assert!(short.contains("2 test users signed in"), "{short}");
        assert!(short.contains("number 3"), "{short}");
        let url = "https://abc.execute-api.eu-west-1.amazonaws.com/prod";
        let read = auth
            .headers("GET", url, "/v1/users/s-1/activity", b"")
            .unwrap();
        assert_eq!(read, [("authorization".into(), "token-of-s-1".into())]);
        let other = auth
            .headers("GET", url, "/v1/users/s-9/activity", b"")
            .unwrap_err();
        assert!(
            other.contains("none of the signed-in test users"),
            "{other}"
        );
        // The local pool lets a scenario name its users.
        assert_eq!(Auth::new(None, None).unwrap().app_user(7).unwrap(), None);
        assert_eq!(Auth::new(None, None).unwrap().last_test_user(), None);
    }
}
