//! Signed links: verified without a login and without a lookup (mail's unsubscribe
//! and tracking links, upload URLs). HMAC-SHA256 under a key derived from the
//! server's secret and the links' use, so a link cannot be forged, altered, or
//! moved to another mail, file or use.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks links of one use.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl LinkSigner {
    /// A signer for links of `used_for` (`mail links`, `uploads`), its key derived from
    /// `secret` (the server's signing secret), so link signatures never double as token
    /// signatures or as links of another use.
    pub fn new(secret: &[u8], used_for: &str) -> Self {
        let context = format!("sparkle {used_for}");
        let key = Self::mac(secret, &[context.as_bytes()])
            .finalize()
            .into_bytes();
        Self { key: key.to_vec() }
    }

    fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
        for part in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") sign differently.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The signature of `parts` for `purpose`.
    pub fn sign(&self, purpose: &str, parts: &[&str]) -> String {
        let mut all: Vec<&[u8]> = vec![purpose.as_bytes()];
        all.extend(parts.iter().map(|part| part.as_bytes()));
        URL_SAFE_NO_PAD.encode(Self::mac(&self.key, &all).finalize().into_bytes())
    }

    /// Whether `signature` signs `parts` for `purpose` (compared in constant time).
    pub fn verify(&self, purpose: &str, parts: &[&str], signature: &str) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut all: Vec<&[u8]> = vec![purpose.as_bytes()];
        all.extend(parts.iter().map(|part| part.as_bytes()));
        Self::mac(&self.key, &all).verify_slice(&signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::LinkSigner;

    #[test]
    fn signatures_bind_purpose_and_every_part() {
        let signer = LinkSigner::new(b"a secret of the server", "mail links");
        let signature = signer.sign("open", &["mail-1"]);
        assert!(signer.verify("open", &["mail-1"], &signature));
        assert!(!signer.verify("open", &["mail-2"], &signature));
        assert!(!signer.verify("click", &["mail-1"], &signature));
        assert!(!signer.verify("open", &["mail-", "1"], &signature));
        assert!(!signer.verify("open", &["mail-1"], "not base64 !"));
        let other = LinkSigner::new(b"another server's secret", "mail links");
        assert!(!other.verify("open", &["mail-1"], &signature));
        let other_use = LinkSigner::new(b"a secret of the server", "uploads");
        assert!(!other_use.verify("open", &["mail-1"], &signature));
    }
}
