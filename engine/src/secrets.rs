//! Secrets at rest (Secret Tokens, client secrets, OAuth access and refresh tokens): sealed
//! with XChaCha20-Poly1305 under a 256-bit key that comes from the environment
//! (`SCIMITAR_SECRET_KEY`, base64) or from `secret.key` in the data directory, which the first
//! start creates with mode 0600. Each sealed value is bound to where it is stored (its
//! "context", such as `provisioning/<app id>/secret_token`), so a ciphertext copied to another
//! row or column does not open. Plaintext only ever lives in [`SecretString`].

use std::{io::Write, path::Path};

use base64::Engine as _;
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

const KEY_FILE: &str = "secret.key";
/// The first byte of every sealed value: the format, so it can change later.
const VERSION: u8 = 1;
const NONCE: usize = 24;

/// The key that seals and opens secrets.
pub struct Keyring {
    cipher: XChaCha20Poly1305,
}

impl Keyring {
    /// The key from `configured` (base64 of 32 bytes), else from the data directory's key
    /// file, created on first use.
    pub fn load(data_dir: &Path, configured: Option<&SecretString>) -> Result<Keyring> {
        let key = match configured {
            Some(encoded) => decode_key(encoded.expose_secret())
                .map_err(|m| Error::invalid("SCIMITAR_SECRET_KEY", m))?,
            None => key_file(&data_dir.join(KEY_FILE))?,
        };
        Ok(Keyring {
            cipher: XChaCha20Poly1305::new((&key).into()),
        })
    }

    pub fn seal(&self, context: &str, secret: &SecretString) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB");
        let mut out = Vec::with_capacity(1 + NONCE + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<SecretString> {
        let fail = || Error::SecretUnreadable {
            context: context.to_owned(),
        };
        if sealed.len() < 1 + NONCE || sealed[0] != VERSION {
            return Err(fail());
        }
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(&sealed[1..1 + NONCE]),
                Payload {
                    msg: &sealed[1 + NONCE..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| fail())?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| fail())
    }
}

fn decode_key(encoded: &str) -> std::result::Result<[u8; 32], String> {
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| "must be 32 bytes in base64 (for example: openssl rand -base64 32)".into())
}

fn key_file(path: &Path) -> Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(encoded) => decode_key(&encoded)
            .map_err(|m| Error::invalid("secret.key", format!("{} {m}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(
                base64::engine::general_purpose::STANDARD
                    .encode(key)
                    .as_bytes(),
            )
            .and_then(|()| file.sync_all())?;
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_in_their_context_and_with_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Keyring::load(dir.path(), None).unwrap();
        let secret = SecretString::from("s3cret-token");
        let sealed = keyring.seal("provisioning/1/secret_token", &secret);
        assert!(
            !sealed.windows(6).any(|w| w == b"s3cret"),
            "no plaintext in the sealed bytes"
        );
        assert_eq!(
            keyring
                .open("provisioning/1/secret_token", &sealed)
                .unwrap()
                .expose_secret(),
            "s3cret-token"
        );
        assert!(
            keyring
                .open("provisioning/2/secret_token", &sealed)
                .is_err(),
            "bound to its row"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(
            keyring
                .open("provisioning/1/secret_token", &tampered)
                .is_err()
        );

        // The key file persists across starts and is private to its owner.
        let again = Keyring::load(dir.path(), None).unwrap();
        assert!(again.open("provisioning/1/secret_token", &sealed).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = Keyring::load(
            dir.path(),
            Some(&SecretString::from(
                base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
            )),
        )
        .unwrap();
        assert!(
            other.open("provisioning/1/secret_token", &sealed).is_err(),
            "another key"
        );
        assert!(Keyring::load(dir.path(), Some(&SecretString::from("short"))).is_err());
    }
}
