//! Service account tokens as kube-apiserver issues and checks them: JWTs signed with the
//! server's own ES256 key (`pki/sa.key`, made on first start), naming the service account (and
//! the pod a token is bound to) in upstream's `kubernetes.io` claim, so that client libraries'
//! in-cluster configuration and `kubectl --token` work; plus the OpenID discovery documents
//! that let others verify them.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The issuer, and the audience the API server accepts, as upstream's default for clusters
/// whose domain is `cluster.local`.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// What can go wrong with the signing key or a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read or write the service account signing key {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the service account signing key is not a P-256 PKCS#8 key")]
    Key,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token is not valid at this time")]
    Expired,
    #[error("the token is not meant for this server")]
    Audience,
}

/// A name and UID, as the `kubernetes.io` claim refers to objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub name: String,
    pub uid: String,
}

/// The `kubernetes.io` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesClaims {
    pub namespace: String,
    pub serviceaccount: Reference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Reference>,
}

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub nbf: i64,
    pub sub: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaims,
}

/// The server's signing key and what verifiers need of it.
pub struct TokenSigner {
    key: EcdsaKeyPair,
    /// The key's ID: the SHA-256 of its public point, as `kid` in headers and the JWKS.
    kid: String,
    rng: SystemRandom,
}

impl TokenSigner {
    /// A signer with a new key that lives as long as the process (for servers without a data
    /// directory, such as the router's tests).
    pub fn generate() -> Result<TokenSigner, TokenError> {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| TokenError::Key)?;
        TokenSigner::from_pkcs8(document.as_ref())
    }

    /// The key in `dir/sa.key`, made there (readable by its owner only) on first start so
    /// tokens stay valid across restarts.
    pub fn load_or_create(dir: &Path) -> Result<TokenSigner, TokenError> {
        let path = dir.join("sa.key");
        let io = |source| TokenError::Io {
            path: path.clone(),
            source,
        };
        if !path.exists() {
            let document = EcdsaKeyPair::generate_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|_| TokenError::Key)?;
            crate::private_files::write(&path, document.as_ref()).map_err(io)?;
        }
        // One left readable by others (by a copy, say) is narrowed before it is used.
        crate::private_files::restrict_file(&path).map_err(io)?;
        let bytes = std::fs::read(&path).map_err(io)?;
        TokenSigner::from_pkcs8(&bytes)
    }

    fn from_pkcs8(bytes: &[u8]) -> Result<TokenSigner, TokenError> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, bytes, &rng)
            .map_err(|_| TokenError::Key)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key().as_ref());
        Ok(TokenSigner {
            kid: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            key,
            rng,
        })
    }

    /// The signed token carrying `claims`.
    pub fn issue(&self, claims: &Claims) -> Result<String, TokenError> {
        let header = json!({"alg": "ES256", "kid": self.kid});
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let claims = serde_json::to_value(claims).map_err(|_| TokenError::Malformed)?;
        let signed = format!("{}.{}", encode(&header), encode(&claims));
        let signature = self
            .key
            .sign(&self.rng, signed.as_bytes())
            .map_err(|_| TokenError::Key)?;
        Ok(format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// The claims of a token this server signed, meant for it and valid at `now` (seconds
    /// since the epoch). Whether its service account and pod still exist is the caller's
    /// to check.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.key.public_key().as_ref())
            .verify(format!("{header}.{payload}").as_bytes(), &signature)
            .map_err(|_| TokenError::Signature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.iss != ISSUER {
            return Err(TokenError::Audience);
        }
        if !claims.aud.iter().any(|a| a == ISSUER) {
            return Err(TokenError::Audience);
        }
        if now < claims.nbf || now >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// `/.well-known/openid-configuration`.
    pub fn discovery(&self) -> Value {
        json!({
            "issuer": ISSUER,
            "jwks_uri": format!("{ISSUER}/openid/v1/jwks"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// `/openid/v1/jwks`: the public key as a JSON Web Key (its point split into x and y).
    pub fn jwks(&self) -> Value {
        let point = self.key.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        json!({"keys": [{
            "use": "sig",
            "kty": "EC",
            "kid": self.kid,
            "crv": "P-256",
            "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        }]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64, aud: &str) -> Claims {
        Claims {
            aud: vec![aud.to_owned()],
            exp,
            iat: 100,
            iss: ISSUER.to_owned(),
            nbf: 100,
            sub: "system:serviceaccount:default:ci".into(),
            kubernetes: KubernetesClaims {
                namespace: "default".into(),
                serviceaccount: Reference {
                    name: "ci".into(),
                    uid: "u1".into(),
                },
                pod: None,
            },
        }
    }

    #[test]
    fn a_token_verifies_only_when_signed_here_unaltered_meant_for_us_and_current() {
        let signer = TokenSigner::generate().unwrap();
        let token = signer.issue(&claims(200, ISSUER)).unwrap();
        assert_eq!(signer.verify(&token, 150).unwrap(), claims(200, ISSUER));
        assert!(matches!(
            signer.verify(&token, 200),
            Err(TokenError::Expired)
        ));
        assert!(matches!(
            signer.verify(&token, 99),
            Err(TokenError::Expired)
        ));

        let other = TokenSigner::generate().unwrap();
        assert!(matches!(
            other.verify(&token, 150),
            Err(TokenError::Signature)
        ));

        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9999, ISSUER)).unwrap());
        parts[1] = &forged;
        assert!(matches!(
            signer.verify(&parts.join("."), 150),
            Err(TokenError::Signature)
        ));

        let elsewhere = signer.issue(&claims(200, "vault")).unwrap();
        assert!(matches!(
            signer.verify(&elsewhere, 150),
            Err(TokenError::Audience)
        ));
        assert!(matches!(
            signer.verify("a.b", 150),
            Err(TokenError::Malformed)
        ));
    }

    #[test]
    fn the_key_set_describes_the_signing_key() {
        let signer = TokenSigner::generate().unwrap();
        let jwks = signer.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kid"], signer.kid.as_str());
        let x = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode(key["y"].as_str().unwrap()).unwrap();
        let mut point = vec![4u8];
        point.extend(x);
        point.extend(y);
        assert_eq!(point, signer.key.public_key().as_ref());
    }
}
