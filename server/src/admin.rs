//! `scimitar admin ...` and `scimitar token ...`: administration from the command line, for
//! automation and for recovering access when no administrator can sign in.

use std::io::BufRead;

use engine::{
    accounts::{NewAccount, Role, Scope},
    audit::Caller,
};
use secrecy::SecretString;

use crate::config::Storage;

pub async fn create(
    storage: &Storage,
    upn: String,
    role: Role,
    display_name: String,
    password: impl BufRead,
) -> Result<String, String> {
    let mut line = String::new();
    password
        .take(4096)
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    let engine = storage
        .open(Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let account = engine
        .create_account(
            &Caller::system(),
            NewAccount {
                user_principal_name: upn,
                display_name,
                role,
                password: SecretString::from(password),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "Created {} {} ({})",
        account.role, account.user_principal_name, account.id
    ))
}

/// Creates a token for the account `upn`; returns the secret, which is shown only this once.
pub async fn create_token(
    storage: &Storage,
    upn: &str,
    scopes: &[Scope],
    name: &str,
) -> Result<String, String> {
    use secrecy::ExposeSecret;
    let engine = storage
        .open(Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let owner = engine::directory::users::find_by_upn(&engine.db, upn)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user named {upn}"))?;
    let (secret, _) = engine
        .create_token(&Caller::system(), owner.id, name, scopes)
        .await
        .map_err(|e| e.to_string())?;
    Ok(secret.expose_secret().to_owned())
}

/// Generates a fake directory; returns a one-line summary.
pub async fn generate_directory(
    storage: &Storage,
    spec: engine::directory::generator::Spec,
    domain: &str,
) -> Result<String, String> {
    if !(0.0..=1.0).contains(&spec.missing) {
        return Err("--missing must be between 0.0 and 1.0".into());
    }
    let engine = storage
        .open(Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let done = engine
        .generate_directory(&Caller::system(), spec, domain)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "Generated {} users, {} groups and {} memberships in {:.1} s",
        done.users, done.groups, done.memberships, done.seconds
    ))
}

/// Writes generated provisioning log entries; returns a one-line summary.
pub async fn generate_logs(
    storage: &Storage,
    spec: engine::sync::log::generator::Spec,
) -> Result<String, String> {
    let engine = storage
        .open(Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let seconds = engine
        .generate_provisioning_logs(spec)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "Generated {} provisioning log entries over {} days in {seconds:.1} s",
        spec.entries, spec.days
    ))
}

/// `scimitar backup --to FILE`: a consistent copy of the SQLite database, taken while the console
/// runs. The secret key is not in it (README, Operations).
pub async fn backup(storage: &Storage, to: &std::path::Path) -> Result<String, String> {
    if storage.database_url.is_some() {
        return Err("this console uses PostgreSQL: back it up with pg_dump \
             (pg_dump --format=custom --file=scimitar.dump \"$SCIMITAR_DATABASE_URL\", README, Operations)"
            .into());
    }
    let (data_dir, to) = (storage.data_dir.clone(), to.to_owned());
    let bytes = tokio::task::spawn_blocking(move || {
        engine::db::backup_sqlite(&data_dir, &to).map(|bytes| (bytes, to))
    })
    .await
    .map_err(|e| e.to_string())?;
    let (bytes, to) = bytes?;
    Ok(format!(
        "Backed up the database to {} ({bytes} bytes). Keep the secret key with it \
         (SCIMITAR_SECRET_KEY, or secret.key in the data directory): stored secrets do not open without it.",
        to.display()
    ))
}
