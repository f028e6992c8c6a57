//! Password hashing with argon2id. Hashing is deliberately slow, so it runs on the blocking
//! pool, never on an async worker.

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng},
};

use crate::{AppError, AppResult};

/// Argon2id parameters. The default follows OWASP's minimum (19 MiB, 2 passes); tests may use
/// [`PasswordHasher::fast_for_tests`].
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    memory_kib: u32,
    passes: u32,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        PasswordHasher { memory_kib: 19 * 1024, passes: 2 }
    }
}

impl PasswordHasher {
    /// Weak parameters that keep test suites fast. Never use in production.
    pub fn fast_for_tests() -> PasswordHasher {
        PasswordHasher { memory_kib: 256, passes: 1 }
    }

    fn argon2(&self) -> AppResult<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.passes, 1, None)
            .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let argon2 = self.argon2()?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// Whether `password` matches the PHC string `hash` (parameters are read from the hash).
    pub async fn verify(&self, password: &str, hash: &str) -> AppResult<bool> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(format!("stored hash: {e}")))?;
            Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }
}
