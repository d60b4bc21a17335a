//! How a request proves who sends it to a deployed API, by the security scheme
//! `docs/openapi.json` declares for its route: `returnBinKey` routes take the usage plan's API
//! key (`x-api-key`), `iam` routes a SigV4 signature for `execute-api` (the fitness app's
//! `appUsers` routes need a Cognito token this tool does not send yet, so that scenario runs on
//! the local stack only). The local stack needs neither.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use devstack::routes::{Authorization, Routes};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Clone)]
pub struct Auth {
    api_key: Option<String>,
    sigv4: Option<Signer>,
    routes: Arc<Routes>,
}

#[derive(Clone)]
pub struct Signer {
    credentials: Credentials,
    region: String,
}

impl Signer {
    /// Credentials and region from the standard variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`, `AWS_REGION`).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("--sigv4 needs {name}"));
        Ok(Self {
            credentials: Credentials::new(
                var("AWS_ACCESS_KEY_ID")?,
                var("AWS_SECRET_ACCESS_KEY")?,
                std::env::var("AWS_SESSION_TOKEN").ok(),
                None,
                "environment",
            ),
            region: var("AWS_REGION")?,
        })
    }

    /// The headers that sign `method url` with `body`.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("execute-api")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let content_type = [("content-type", "application/json")];
        let signable = SignableRequest::new(
            method,
            url,
            content_type.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }
}

impl Auth {
    /// The API key and signer to use, each on the routes whose scheme takes it.
    pub fn new(api_key: Option<String>, sigv4: Option<Signer>) -> Result<Self, String> {
        let routes = Routes::declared().map_err(|e| e.to_string())?;
        Ok(Self {
            api_key,
            sigv4,
            routes: Arc::new(routes),
        })
    }

    /// The headers a request to `path` needs.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        let path = path.split('?').next().unwrap_or(path);
        // A path no operation declares is signed: the gateway refuses it either way, and a
        // signed refusal is the one that says the route is missing.
        let scheme = self
            .routes
            .find(method, path)
            .map_or(Authorization::Iam, |m| m.route.authorization);
        match (scheme, &self.sigv4) {
            (Authorization::ReturnBinKey, _) => Ok(self
                .api_key
                .iter()
                .map(|k| ("x-api-key".to_owned(), k.clone()))
                .collect()),
            (Authorization::Iam, Some(signer)) => signer.headers(method, url, body),
            (Authorization::Iam, None) | (Authorization::AppUsers, _) => Ok(vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_gets_the_credential_of_its_declared_scheme() {
        let auth = Auth::new(
            Some("k".into()),
            Some(Signer {
                credentials: Credentials::new("AKID", "secret", None, None, "test"),
                region: "eu-west-1".into(),
            }),
        )
        .unwrap();
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
    }
}
