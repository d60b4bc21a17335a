//! The local stand-in for the fitness app's Cognito user pool: it issues ID tokens for a user
//! (`devstack token <user_id>`) and verifies them as the API's Cognito authorizer does (RS256
//! signature by the pool's key, expiry, issuer, audience, `token_use` `id`). The stack makes its
//! key when it starts and keeps it in its state directory, so the tokens of one stack are refused
//! by the next.

use crate::{DevError, Result};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::time::Duration;

/// The `iss` of the local pool's tokens (Cognito's is `https://cognito-idp.<region>.amazonaws.com/<pool id>`).
pub const ISSUER: &str = "https://cognito-idp.local/devstack-app-users";
/// The `aud` of its ID tokens: the app client's id.
pub const AUDIENCE: &str = "devstack-mobile-app";
/// How long a token is valid, as Cognito's default ID token validity.
pub const VALID_FOR: Duration = Duration::from_secs(3600);
/// The key's file in the stack's state directory.
pub const KEY_FILE: &str = "user-pool-key.pem";

pub struct UserPool {
    key: KeyPair,
    decoding: DecodingKey,
}

/// Why a token is refused (every case is the authorizer's `401 Unauthorized`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(String);

impl UserPool {
    /// A pool with a new key.
    pub fn generate() -> Result<Self> {
        let key = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| DevError::Setup(format!("user pool key: {e}")))?;
        Ok(Self::from_key(key))
    }

    fn from_key(key: KeyPair) -> Self {
        // The public key as PKCS#1 DER, the form the verifier takes.
        let decoding = DecodingKey::from_rsa_der(key.public_key().as_ref());
        Self { key, decoding }
    }

    /// The pool whose key `dir` holds (the running stack's).
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(KEY_FILE);
        let pem = std::fs::read_to_string(&path).map_err(|_| {
            DevError::Setup(format!(
                "{} not found: is the stack up? (make up)",
                path.display()
            ))
        })?;
        let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD
            .decode(base64)
            .map_err(|e| DevError::Setup(format!("{}: {e}", path.display())))?;
        let key = KeyPair::from_pkcs8(&der)
            .map_err(|e| DevError::Setup(format!("{}: {e}", path.display())))?;
        Ok(Self::from_key(key))
    }

    /// Keeps the key in `dir` (PKCS#8 PEM), readable by its owner only.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let der = self
            .key
            .as_der()
            .map_err(|e| DevError::Setup(format!("user pool key: {e}")))?;
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        let path = dir.join(KEY_FILE);
        std::fs::write(&path, pem)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    /// A JWT of `claims` signed RS256 with the pool's key.
    fn sign(&self, claims: &Value) -> Result<String> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{header}.{payload}");
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .map_err(|e| DevError::Setup(format!("token: {e}")))?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// An ID token for `user` (its `sub` and `cognito:username`), valid for `valid_for` from
    /// `now` (seconds since the epoch).
    pub fn token(&self, user: &str, now: i64, valid_for: Duration) -> Result<String> {
        let exp = now + i64::try_from(valid_for.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = json!({
            "sub": user,
            "cognito:username": user,
            "token_use": "id",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "auth_time": now,
            "iat": now,
            "exp": exp,
        });
        self.sign(&claims)
    }

    /// The claims of `token` if this pool issued it as an ID token and it has not expired.
    pub fn verify(&self, token: &str) -> std::result::Result<Map<String, Value>, TokenError> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .map_err(|e| TokenError(e.to_string()))?;
        if data.claims.get("token_use").and_then(Value::as_str) != Some("id") {
            return Err(TokenError("not an ID token".into()));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_verifies_its_own_id_tokens_and_nothing_else() {
        let pool = UserPool::generate().unwrap();
        let now = chrono::Utc::now().timestamp();
        let token = pool.token("foo1", now, VALID_FOR).unwrap();
        let claims = pool.verify(&token).unwrap();
        assert_eq!(claims["sub"], "foo1");
        assert_eq!(claims["token_use"], "id");

        let expired = pool.token("foo1", now - 7200, VALID_FOR).unwrap();
        assert!(pool.verify(&expired).is_err());
        let other = UserPool::generate().unwrap();
        assert!(other.verify(&token).is_err(), "another pool's key");
        assert!(pool.verify("not.a.token").is_err());
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 2, 'x');
        assert!(pool.verify(&tampered).is_err());

        // Issuer, audience and token use are checked, not only the signature.
        let forge = |claims: Value| pool.sign(&claims).unwrap();
        let base = json!({"sub": "foo1", "token_use": "id", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60});
        let with = |k: &str, v: Value| {
            let mut c = base.clone();
            c[k] = v;
            forge(c)
        };
        assert!(pool.verify(&forge(base.clone())).is_ok());
        assert!(
            pool.verify(&with("iss", json!("https://elsewhere")))
                .is_err()
        );
        assert!(pool.verify(&with("aud", json!("another-client"))).is_err());
        assert!(pool.verify(&with("token_use", json!("access"))).is_err());
    }

    #[test]
    fn the_key_survives_its_file() {
        let dir = std::env::temp_dir().join(format!("user-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = UserPool::generate().unwrap();
        pool.save(&dir).unwrap();
        let token = pool
            .token("u", chrono::Utc::now().timestamp(), VALID_FOR)
            .unwrap();
        assert!(UserPool::load(&dir).unwrap().verify(&token).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(UserPool::load(&dir).is_err());
    }
}
