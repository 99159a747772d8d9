//! Argon2id password hashing, always off the async runtime.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{
        PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
    },
};

use crate::error::{AppError, AppResult};

/// Hashes and verifies passwords with fixed Argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when an email is unknown so that
    /// a failed login takes the same time whether or not the account exists.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    /// A hasher with `memory_kib` KiB of memory and `iterations` passes (parallelism 1).
    pub fn new(memory_kib: u32, iterations: u32) -> AppResult<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|err| AppError::Internal(format!("argon2 parameters: {err}")))?;
        let dummy_password = uuid::Uuid::new_v4().to_string();
        let dummy_hash = hash_with(&params, &dummy_password)?;
        Ok(Self {
            params,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, &password))
            .await
            .map_err(|err| AppError::Internal(format!("hash task: {err}")))?
    }

    /// Whether `password` matches `hash`; with `None`, spends the same time and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .map_err(|err| AppError::Internal(format!("verify task: {err}")))?;
        Ok(known && matches)
    }
}

fn hash_with(params: &Params, password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| AppError::Internal(format!("argon2: {err}")))
}
