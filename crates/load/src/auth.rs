//! How a request proves who sends it to a deployed API: the return-bin route takes the usage
//! plan's API key (`x-api-key`); every other route is signed with SigV4 for `execute-api`, which
//! the IAM routes need (the fitness app's `appUsers` routes need a Cognito token this tool does
//! not send yet, so that scenario runs on the local stack only). The local stack needs neither.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use std::time::SystemTime;

/// The route the API key opens (API key required, no IAM).
pub const API_KEY_ROUTE: &str = "/rentals/returns";

#[derive(Clone, Default)]
pub struct Auth {
    pub api_key: Option<String>,
    pub sigv4: Option<Signer>,
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
    /// The headers a request to `path` needs.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        let route = path.split('?').next().unwrap_or(path);
        if route == API_KEY_ROUTE && method == "POST" {
            return Ok(self
                .api_key
                .iter()
                .map(|k| ("x-api-key".to_owned(), k.clone()))
                .collect());
        }
        match &self.sigv4 {
            Some(signer) => signer.headers(method, url, body),
            None => Ok(vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_bin_route_takes_the_key_and_the_rest_a_signature() {
        let auth = Auth {
            api_key: Some("k".into()),
            sigv4: Some(Signer {
                credentials: Credentials::new("AKID", "secret", None, None, "test"),
                region: "eu-west-1".into(),
            }),
        };
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
        assert!(
            Auth::default()
                .headers("GET", url, "/tasks/x", b"")
                .unwrap()
                .is_empty()
        );
    }
}
