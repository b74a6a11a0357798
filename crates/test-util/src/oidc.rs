//! A test OIDC issuer: signing keys (ES256 made fresh, RS256 from a fixture: the pure-Rust
//! stack here cannot make RSA keys quickly), their JWKS, and tokens with any claims.

use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The issuer every test token names by default.
pub const ISSUER: &str = "https://login.example.test/realms/tanksim";
/// The audience every test token names by default.
pub const AUDIENCE: &str = "tanksim-api";

/// A signing key of the test issuer, with its public JWK.
#[derive(Debug)]
pub struct Signer {
    key: EncodingKey,
    alg: Algorithm,
    jwk: Jwk,
}

impl Signer {
    /// A new P-256 key.
    pub fn es256(kid: &str) -> Signer {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key");
        Self::new(EncodingKey::from_ec_der(&pair.serialize_der()), Algorithm::ES256, kid)
    }

    /// The fixture's 2048-bit RSA key (`fixtures/rs256-test-key.pem`, made for tests only).
    pub fn rs256(kid: &str) -> Signer {
        let pem = include_str!("../fixtures/rs256-test-key.pem");
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(b64).expect("fixture is base64");
        Self::new(EncodingKey::from_rsa_der(&der), Algorithm::RS256, kid)
    }

    fn new(key: EncodingKey, alg: Algorithm, kid: &str) -> Signer {
        let mut jwk = Jwk::from_encoding_key(&key, alg).expect("public JWK");
        jwk.common.key_id = Some(kid.to_owned());
        Signer { key, alg, jwk }
    }

    /// A JWT of `claims`, signed, with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = self.jwk.common.key_id.clone();
        jsonwebtoken::encode(&header, claims, &self.key).expect("signing")
    }

    /// A token for `tenant` with space-separated `scope`, valid for `ttl_secs` (negative:
    /// expired that long ago), from [`ISSUER`] for [`AUDIENCE`].
    pub fn token(&self, tenant: &str, scope: &str, ttl_secs: i64) -> String {
        self.sign(&claims(tenant, scope, ttl_secs))
    }
}

/// Standard claims: `iss`, `aud`, `sub`, `exp` (`ttl_secs` from now), `iat`, `tenant`, `scope`.
pub fn claims(tenant: &str, scope: &str, ttl_secs: i64) -> Value {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-17", "exp": now + ttl_secs, "iat": now,
           "tenant": tenant, "scope": scope})
}

/// The JWKS document publishing `signers`' public keys.
pub fn jwks(signers: &[&Signer]) -> String {
    serde_json::to_string(&JwkSet { keys: signers.iter().map(|s| s.jwk.clone()).collect() }).expect("JSON")
}
