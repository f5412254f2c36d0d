//! SAML Signing Certificate: each application's own RSA-2048 keys, each with a self-signed
//! certificate valid three years (as Entra's). The private key is sealed at rest like every
//! other secret ([`crate::secrets`], context `sso/<application>/<key>`) and never leaves the
//! engine. One key is active and signs; a new one starts inactive and is published in the
//! metadata beside it, so a service provider that reloads metadata trusts it before it is made
//! active (docs/sso.md, Rotation).

use std::str::FromStr;

use base64::Engine as _;
use rsa::{
    RsaPrivateKey,
    pkcs8::{EncodePrivateKey, LineEnding},
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use x509_cert::{
    builder::{Builder, CertificateBuilder, Profile},
    der::Encode,
    name::Name,
    serial_number::SerialNumber,
    spki::SubjectPublicKeyInfoOwned,
    time::Validity,
};

use crate::{
    Engine, Error, Result,
    accounts::Account,
    applications::{Access, target},
    audit::{self, Caller},
    db::Exec,
    secrets::Keyring,
};

/// How long a certificate is valid.
const VALIDITY: Duration = Duration::days(3 * 365);
/// How many keys an application may keep.
const MAX_KEYS: i64 = 5;

/// A signing certificate as the blade shows it (the private key stays sealed).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningCertificate {
    pub id: Uuid,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The certificate, DER ("Certificate (Raw)").
    pub certificate: Vec<u8>,
}

impl SigningCertificate {
    /// The certificate in Base64 (the body of the PEM file, what metadata carries).
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.certificate)
    }

    /// "Certificate (Base64)": PEM.
    pub fn pem(&self) -> String {
        let body = self.base64();
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    /// The SHA-256 thumbprint, in upper-case hex.
    pub fn thumbprint(&self) -> String {
        Sha256::digest(&self.certificate)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }
}

/// A key made but not yet stored.
pub(super) struct NewKey {
    certificate: SigningCertificate,
    application: Uuid,
    private_pem: SecretString,
}

/// The active key, opened to sign.
pub(crate) struct Signer {
    pub certificate: SigningCertificate,
    /// PKCS#8 PEM.
    pub private_pem: SecretString,
}

fn context(application: Uuid, key: Uuid) -> String {
    format!("sso/{application}/{key}")
}

/// Makes a key and its certificate (CN=Scimitar SSO Certificate). Runs off the async threads:
/// finding RSA primes takes a moment.
pub(super) async fn generate(application: Uuid) -> Result<NewKey> {
    tokio::task::spawn_blocking(move || make(application))
        .await
        .map_err(|e| Error::invalid("certificate", format!("making the key failed: {e}")))?
}

fn make(application: Uuid) -> Result<NewKey> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::invalid("certificate", format!("making the certificate failed: {e}"))
    };
    let mut rng = rand::rngs::OsRng;
    let private = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| failed(&e))?;
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(private.clone());
    let public =
        SubjectPublicKeyInfoOwned::from_key(private.to_public_key()).map_err(|e| failed(&e))?;
    let subject = Name::from_str("CN=Scimitar SSO Certificate").map_err(|e| failed(&e))?;
    // A positive serial of 16 random bytes (RFC 5280: at most 20 octets).
    let mut serial = *Uuid::new_v4().as_bytes();
    serial[0] &= 0x7f;
    let now = OffsetDateTime::now_utc();
    let validity = Validity::from_now(std::time::Duration::from_secs(
        VALIDITY.whole_seconds().unsigned_abs(),
    ))
    .map_err(|e| failed(&e))?;
    let profile = Profile::Leaf {
        issuer: subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
    };
    let serial = SerialNumber::new(&serial).map_err(|e| failed(&e))?;
    let certificate = CertificateBuilder::new(profile, serial, validity, subject, public, &signer)
        .map_err(|e| failed(&e))?
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| failed(&e))?
        .to_der()
        .map_err(|e| failed(&e))?;
    let private_pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed(&e))?;
    Ok(NewKey {
        certificate: SigningCertificate {
            id: Uuid::new_v4(),
            active: false,
            created_at: now,
            expires_at: now + VALIDITY,
            certificate,
        },
        application,
        private_pem: SecretString::from(private_pem.as_str().to_owned()),
    })
}

pub(super) async fn has_keys(db: impl Into<Exec<'_>>, application: Uuid) -> Result<bool> {
    Ok(crate::db::query_scalar::<i64>(
        "SELECT COUNT(*) FROM sso_signing_keys WHERE application_id = ?",
    )
    .bind(application)
    .fetch_one(db)
    .await?
        > 0)
}

pub(super) async fn insert(
    tx: &mut crate::db::Tx,
    keyring: &Keyring,
    key: &NewKey,
    active: bool,
) -> Result<()> {
    let certificate = &key.certificate;
    crate::db::query(
        "INSERT INTO sso_signing_keys (id, application_id, private_key, certificate, active, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(certificate.id)
    .bind(key.application)
    .bind(keyring.seal(&context(key.application, certificate.id), &key.private_pem))
    .bind(certificate.certificate.clone())
    .bind(active)
    .bind(certificate.created_at)
    .bind(certificate.expires_at)
    .execute(tx)
    .await?;
    Ok(())
}

/// The keys of `application`, the active one first, then the newest.
pub async fn certificates(
    db: impl Into<Exec<'_>>,
    application: Uuid,
) -> Result<Vec<SigningCertificate>> {
    Ok(crate::db::query_as(
        "SELECT id, active, created_at, expires_at, certificate FROM sso_signing_keys \
         WHERE application_id = ? ORDER BY active DESC, created_at DESC",
    )
    .bind(application)
    .fetch_all(db)
    .await?)
}

/// What the metadata publishes: every key not expired, the active one first.
pub async fn published(
    db: impl Into<Exec<'_>>,
    application: Uuid,
) -> Result<Vec<SigningCertificate>> {
    let now = OffsetDateTime::now_utc();
    let mut keys = certificates(db, application).await?;
    keys.retain(|k| k.active || !k.is_expired(now));
    Ok(keys)
}

impl Engine {
    /// The SAML Signing Certificates of `application`.
    pub async fn signing_certificates(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<Vec<SigningCertificate>> {
        self.application_for(account, application, Access::Read)
            .await?;
        certificates(&self.db, application).await
    }

    /// "New Certificate": a new key, inactive (active if it is the first), published at once.
    pub async fn new_signing_certificate(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
    ) -> Result<SigningCertificate> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let key = generate(application).await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let count: i64 = crate::db::query_scalar(
            "SELECT COUNT(*) FROM sso_signing_keys WHERE application_id = ?",
        )
        .bind(application)
        .fetch_one(&mut tx)
        .await?;
        if count >= MAX_KEYS {
            return Err(Error::invalid(
                "certificate",
                format!(
                    "an application keeps at most {MAX_KEYS} certificates; delete an inactive one first"
                ),
            ));
        }
        insert(&mut tx, &self.keyring, &key, count == 0).await?;
        audit::record(
            &mut tx,
            caller,
            "Add signing certificate",
            target(&app),
            None,
            Some(serde_json::json!({ "certificate": key.certificate.id, "expires": key.certificate.expires_at.to_string() })),
        )
        .await?;
        tx.commit().await?;
        Ok(SigningCertificate {
            active: count == 0,
            ..key.certificate
        })
    }

    /// "Make certificate active": `key` signs from now on; the one before stays published.
    pub async fn activate_signing_certificate(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        key: Uuid,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let (_, expires_at) = state(&mut tx, application, key).await?;
        if expires_at <= OffsetDateTime::now_utc() {
            return Err(Error::invalid(
                "certificate",
                "this certificate has expired; make a new one",
            ));
        }
        crate::db::query("UPDATE sso_signing_keys SET active = (id = ?) WHERE application_id = ?")
            .bind(key)
            .bind(application)
            .execute(&mut tx)
            .await?;
        audit::record(
            &mut tx,
            caller,
            "Activate signing certificate",
            target(&app),
            None,
            Some(serde_json::json!({ "certificate": key })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an inactive certificate (the active one cannot go: sign-ins need it).
    pub async fn delete_signing_certificate(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        key: Uuid,
    ) -> Result<()> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        if state(&mut tx, application, key).await?.0 {
            return Err(Error::invalid(
                "certificate",
                "the active certificate signs every sign-in; make another one active first",
            ));
        }
        crate::db::query("DELETE FROM sso_signing_keys WHERE id = ?")
            .bind(key)
            .execute(&mut tx)
            .await?;
        audit::record(
            &mut tx,
            caller,
            "Delete signing certificate",
            target(&app),
            Some(serde_json::json!({ "certificate": key })),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active key of `application`, opened, for signing a response.
    pub(crate) async fn active_signer(&self, application: Uuid) -> Result<Option<Signer>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            certificate: SigningCertificate,
            private_key: Vec<u8>,
        }
        let row: Option<Row> = crate::db::query_as(
            "SELECT id, active, created_at, expires_at, certificate, private_key FROM sso_signing_keys \
             WHERE application_id = ? AND active",
        )
        .bind(application)
        .fetch_optional(&self.db)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let private_pem = self
            .keyring
            .open(&context(application, row.certificate.id), &row.private_key)?;
        Ok(Some(Signer {
            certificate: row.certificate,
            private_pem,
        }))
    }
}

/// Whether `key` of `application` is active, and when it expires; `NotFound` if it is not one
/// of the application's.
async fn state(
    tx: &mut crate::db::Tx,
    application: Uuid,
    key: Uuid,
) -> Result<(bool, OffsetDateTime)> {
    crate::db::query_as(
        "SELECT active, expires_at FROM sso_signing_keys WHERE id = ? AND application_id = ?",
    )
    .bind(key)
    .bind(application)
    .fetch_optional(tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        kind: "signing certificate",
        id: key.to_string(),
    })
}
