//! AWS Signature Version 4 for `execute-api`, both ways with one canonicalization (the
//! `aws-sigv4` crate's, as the AWS SDKs sign): a client signs its request to an IAM route
//! ([`Signer::headers`]), and the local gateway verifies one by signing the request it received
//! again with the caller's secret and comparing ([`verify`]), as API Gateway does.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use std::time::{Duration, SystemTime};

/// The service API Gateway's IAM authorization signs for.
pub const SERVICE: &str = "execute-api";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a signature's time may be from the verifier's clock, as AWS allows.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Signs requests with one principal's credentials.
#[derive(Clone)]
pub struct Signer {
    credentials: Credentials,
    region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("access_key_id", &self.credentials.access_key_id())
            .field("region", &self.region)
            .finish()
    }
}

impl Signer {
    pub fn new(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<String>,
        region: &str,
    ) -> Self {
        Self {
            credentials: Credentials::new(
                access_key_id,
                secret_access_key,
                session_token,
                None,
                "devstack",
            ),
            region: region.to_owned(),
        }
    }

    /// Credentials and region from the standard variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`, `AWS_REGION`).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("signing needs {name}"));
        Ok(Self::new(
            &var("AWS_ACCESS_KEY_ID")?,
            &var("AWS_SECRET_ACCESS_KEY")?,
            std::env::var("AWS_SESSION_TOKEN").ok(),
            &var("AWS_REGION")?,
        ))
    }

    pub fn access_key_id(&self) -> &str {
        self.credentials.access_key_id()
    }

    /// The headers that sign `method url` with `headers` (those to sign besides the host) and
    /// `body`: `authorization`, `x-amz-date` and, with a session token, `x-amz-security-token`.
    pub fn headers(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String> {
        self.headers_at(method, url, headers, body, SystemTime::now())
    }

    fn headers_at(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, String> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let signable = SignableRequest::new(
            method,
            url,
            headers.iter().copied(),
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

/// Why a request's signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// No `Authorization` header (API Gateway's "Missing Authentication Token").
    #[error("Missing Authentication Token")]
    Missing,
    #[error("Authorization header requires Credential, SignedHeaders and Signature: {0}")]
    Malformed(String),
    #[error("The security token included in the request is invalid")]
    UnknownKey,
    #[error("Signature expired: {0} is more than 15 minutes from now")]
    Expired(String),
    #[error("The request signature we calculated does not match the signature you provided ({0})")]
    Mismatch(String),
}

/// The parts of a SigV4 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authorization {
    access_key_id: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(header: &str) -> Result<Authorization, SigError> {
    let malformed = || SigError::Malformed(header.chars().take(80).collect());
    let rest = header.strip_prefix(ALGORITHM).ok_or_else(malformed)?.trim();
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(malformed()),
        }
    }
    let (credential, signed, signature) = (
        credential.ok_or_else(malformed)?,
        signed.ok_or_else(malformed)?,
        signature.ok_or_else(malformed)?,
    );
    // AKID/date/region/service/aws4_request
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, _date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(malformed());
    };
    Ok(Authorization {
        access_key_id: (*access_key_id).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

fn amz_date(value: &str) -> Option<SystemTime> {
    let t = chrono::NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok()?;
    let secs = u64::try_from(t.and_utc().timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// A request as the gateway received it: what a signature covers.
pub struct Received<'a> {
    pub method: &'a str,
    /// The URL the client called (`http://<Host header><path and query>`).
    pub url: &'a str,
    /// Every header, by lower-case name.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The access key id of the principal that signed `request` for `execute-api` in `region`, when
/// its signature is one `secret_of` that key makes, at a time within [`MAX_SKEW`] of `now`.
pub fn verify(
    request: &Received<'_>,
    region: &str,
    secret_of: impl Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<String, SigError> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let auth = parse_authorization(header("authorization").ok_or(SigError::Missing)?)?;
    if auth.service != SERVICE || auth.region != region {
        return Err(SigError::Mismatch(format!(
            "signed for {} in {}, not {SERVICE} in {region}",
            auth.service, auth.region
        )));
    }
    let secret = secret_of(&auth.access_key_id).ok_or(SigError::UnknownKey)?;
    let date = header("x-amz-date").ok_or_else(|| SigError::Malformed("no X-Amz-Date".into()))?;
    let signed_at = amz_date(date).ok_or_else(|| SigError::Malformed(date.into()))?;
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(SigError::Expired(date.into()));
    }
    // The signer adds host, date and token itself; the rest are signed as the client sent them.
    let added = ["host", "x-amz-date", "x-amz-security-token"];
    let mut signed = Vec::new();
    for name in auth
        .signed_headers
        .iter()
        .filter(|n| !added.contains(&n.as_str()))
    {
        let value = header(name).ok_or_else(|| SigError::Mismatch(format!("no {name} header")))?;
        signed.push((name.as_str(), value));
    }
    let token = header("x-amz-security-token").map(str::to_owned);
    let signer = Signer::new(&auth.access_key_id, &secret, token, region);
    let expected = signer
        .headers_at(
            request.method,
            request.url,
            &signed,
            request.body,
            signed_at,
        )
        .map_err(SigError::Mismatch)?;
    let ours = expected
        .iter()
        .find(|(k, _)| k == "authorization")
        .and_then(|(_, v)| v.rsplit_once("Signature="))
        .map(|(_, s)| s.to_owned())
        .unwrap_or_default();
    if ours.is_empty() || ours != auth.signature {
        return Err(SigError::Mismatch(
            "check the secret key and signing method".into(),
        ));
    }
    Ok(auth.access_key_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:3000/orders/ord_1?x=1";

    fn signed(signer: &Signer, body: &[u8]) -> Vec<(String, String)> {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(
            signer
                .headers("POST", URL, &[("content-type", "application/json")], body)
                .unwrap(),
        );
        headers.push(("host".to_owned(), "127.0.0.1:3000".to_owned()));
        headers
    }

    fn check(
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<String, SigError> {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = Received {
            method: "POST",
            url: URL,
            headers: &headers,
            body,
        };
        verify(
            &request,
            "eu-west-1",
            |key| (key == "AKID").then(|| "secret".to_owned()),
            now,
        )
    }

    #[test]
    fn a_signature_verifies_only_for_its_request_key_and_time() {
        let signer = Signer::new("AKID", "secret", None, "eu-west-1");
        let headers = signed(&signer, b"{}");
        let now = SystemTime::now();
        assert_eq!(check(&headers, b"{}", now), Ok("AKID".into()));
        assert!(matches!(
            check(&headers, b"{ }", now),
            Err(SigError::Mismatch(_))
        ));
        assert!(matches!(
            check(&headers, b"{}", now + Duration::from_secs(16 * 60)),
            Err(SigError::Expired(_))
        ));
        let other = signed(&Signer::new("AKID", "wrong", None, "eu-west-1"), b"{}");
        assert!(matches!(
            check(&other, b"{}", now),
            Err(SigError::Mismatch(_))
        ));
        let unknown = signed(&Signer::new("NOPE", "secret", None, "eu-west-1"), b"{}");
        assert_eq!(check(&unknown, b"{}", now), Err(SigError::UnknownKey));
        let elsewhere = signed(&Signer::new("AKID", "secret", None, "us-east-1"), b"{}");
        assert!(matches!(
            check(&elsewhere, b"{}", now),
            Err(SigError::Mismatch(_))
        ));
        assert_eq!(check(&[], b"{}", now), Err(SigError::Missing));
        let garbled = vec![(
            "authorization".to_owned(),
            "AWS4-HMAC-SHA256 nonsense".to_owned(),
        )];
        assert!(matches!(
            check(&garbled, b"{}", now),
            Err(SigError::Malformed(_))
        ));
    }

    #[test]
    fn a_session_token_is_part_of_what_is_signed() {
        let signer = Signer::new("AKID", "secret", Some("tok".into()), "eu-west-1");
        let mut headers = signed(&signer, b"");
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "tok")
        );
        assert!(check(&headers, b"", SystemTime::now()).is_ok());
        for (k, v) in &mut headers {
            if k == "x-amz-security-token" {
                *v = "other".into();
            }
        }
        assert!(check(&headers, b"", SystemTime::now()).is_err());
    }
}
