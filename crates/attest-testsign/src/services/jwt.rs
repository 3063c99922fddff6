//! ES256 JSON Web Tokens: the loopback OIDC issuer's signing key, its JWKS,
//! and the checks Fulcio makes on a presented token.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::{json, Map, Value};

/// An ES256 signing key with a key ID.
pub(crate) struct JwtKey {
    pair: EcdsaKeyPair,
    kid: String,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey").field("kid", &self.kid).finish()
    }
}

impl JwtKey {
    /// A fresh P-256 key.
    pub(crate) fn generate() -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("aws-lc-rs generates an ECDSA key");
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pair.public_key().as_ref());
        let kid = hex::encode(&digest.as_ref()[..8]);
        Self { pair, kid }
    }

    /// A fresh key that claims the key ID of `other` (a forged token).
    pub(crate) fn impostor_of(other: &JwtKey) -> Self {
        Self {
            kid: other.kid.clone(),
            ..Self::generate()
        }
    }

    /// The public key as a JWK.
    pub(crate) fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        // Uncompressed point: 0x04 || x || y.
        let (x, y) = point[1..].split_at(32);
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": B64URL.encode(x),
            "y": B64URL.encode(y),
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        })
    }

    /// Sign `claims` into a compact JWT.
    pub(crate) fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = json!({ "alg": "ES256", "typ": "JWT", "kid": self.kid });
        let signing_input = format!(
            "{}.{}",
            B64URL.encode(serde_json::to_vec(&header).expect("JSON")),
            B64URL.encode(serde_json::to_vec(claims).expect("JSON"))
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .expect("aws-lc-rs signs");
        format!("{signing_input}.{}", B64URL.encode(signature.as_ref()))
    }

    /// Check a JWT's ES256 signature with this key and return its claims.
    pub(crate) fn verify(&self, token: &str) -> Result<Map<String, Value>, String> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a compact JWS (three dot-separated parts)".into());
        };
        let header: Value = B64URL
            .decode(header)
            .ok()
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or("malformed JWT header")?;
        if header["alg"] != "ES256" {
            return Err(format!("unsupported JWT algorithm {}", header["alg"]));
        }
        let signature = B64URL
            .decode(signature)
            .map_err(|_| "malformed JWT signature")?;
        let signing_input = &token[..header_len(token)];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.pair.public_key().as_ref())
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| "the JWT signature does not verify with the issuer's key".to_string())?;
        let claims: Value = B64URL
            .decode(payload)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or("malformed JWT payload")?;
        match claims {
            Value::Object(map) => Ok(map),
            _ => Err("the JWT payload is not a JSON object".into()),
        }
    }
}

/// Length of `header.payload` in a compact JWS.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// Whether the `aud` claim (a string or an array of strings) names
/// `audience`.
pub(crate) fn audience_contains(claims: &Map<String, Value>, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == audience),
        _ => false,
    }
}
