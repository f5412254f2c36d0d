//! Console passwords: a policy checked once when a password is chosen, and argon2id hashes in PHC
//! form. Hashing is deliberately slow, so it runs on the blocking pool, never on the async workers.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// A password that satisfies the policy (NIST SP 800-63B: length over composition rules).
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(password: SecretString, field: &'static str) -> Result<Self> {
        let length = password.expose_secret().chars().count();
        if length < MIN_LENGTH {
            return Err(Error::invalid(
                field,
                format!("the password must have at least {MIN_LENGTH} characters"),
            ));
        }
        if length > MAX_LENGTH {
            return Err(Error::invalid(
                field,
                format!("the password must have at most {MAX_LENGTH} characters"),
            ));
        }
        if password.expose_secret().trim().is_empty() {
            return Err(Error::invalid(field, "the password cannot be only spaces"));
        }
        Ok(NewPassword(password))
    }

    /// The argon2id PHC string to store.
    pub async fn hash(self) -> Result<String> {
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(self.0.expose_secret().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| Error::PasswordHash(e.to_string()))
        })
        .await
        .map_err(|e| Error::PasswordHash(e.to_string()))?
    }
}

/// Checks `password` against a stored hash. With no stored hash (unknown account) it still does
/// the work of one verification, so the answer's timing does not reveal which accounts exist.
pub async fn verify(password: SecretString, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let candidate = password.expose_secret().as_bytes();
        match stored.as_deref().map(PasswordHash::new) {
            Some(Ok(hash)) => Argon2::default().verify_password(candidate, &hash).is_ok(),
            _ => {
                let salt = SaltString::generate(&mut OsRng);
                let _ = Argon2::default().hash_password(candidate, &salt);
                false
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn short_passwords_are_refused_with_the_field_named() {
        let err = NewPassword::parse(secret("short"), "password")
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                Error::Invalid {
                    field: "password",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("at least 12"), "{err}");
        assert!(NewPassword::parse(secret("            "), "password").is_err());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = NewPassword::parse(secret("correct horse battery"), "password")
            .unwrap()
            .hash()
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify(secret("correct horse battery"), Some(hash.clone())).await);
        assert!(!verify(secret("correct horse batterz"), Some(hash)).await);
        assert!(!verify(secret("anything"), None).await);
    }
}
