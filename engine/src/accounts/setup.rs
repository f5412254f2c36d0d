//! First run: while no Global Administrator exists, the console offers a setup page that creates
//! one. It is guarded by a random one-time token printed to the server's log, so only whoever can
//! read that log (the person who started the server) can claim the installation.

use std::{net::IpAddr, sync::Mutex};

use rand::{Rng, distributions::Alphanumeric};
use secrecy::{ExposeSecret, SecretString};

use super::{Account, NewAccount, Role};
use crate::{Engine, Error, Result, audit::Caller, directory::users};

#[derive(Default)]
pub struct FirstRunSetup {
    token: Mutex<Option<SecretString>>,
}

impl FirstRunSetup {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SecretString>> {
        self.token
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Engine {
    /// True while no Global Administrator can sign in.
    pub async fn setup_required(&self) -> Result<bool> {
        Ok(!users::global_administrator_exists(&self.db).await?)
    }

    /// When setup is required and no token is outstanding, makes one and logs it. Called at
    /// start-up and whenever the setup page is served, so a token always exists when needed.
    pub async fn ensure_setup_token(&self) -> Result<()> {
        if !self.setup_required().await? {
            return Ok(());
        }
        let mut token = self.setup.lock();
        if token.is_none() {
            let fresh: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(32)
                .map(char::from)
                .collect();
            tracing::warn!(
                setup_token = %fresh,
                "No Global Administrator exists yet. Open the console's /setup page and enter this \
                 setup token, or run `scimitar admin create`."
            );
            *token = Some(SecretString::from(fresh));
        }
        Ok(())
    }

    /// Creates the first Global Administrator if `token` is the outstanding setup token. The
    /// token is spent only when the account is created, so a form error does not burn it.
    pub async fn complete_setup(
        &self,
        token: &str,
        account: NewAccount,
        client: Option<IpAddr>,
    ) -> Result<Account> {
        if !self.setup_required().await? {
            return Err(Error::SetupAlreadyCompleted);
        }
        let matches = self
            .setup
            .lock()
            .as_ref()
            .is_some_and(|t| constant_time_eq(t.expose_secret(), token.trim()));
        if !matches {
            tracing::warn!("first-run setup refused: wrong setup token");
            return Err(Error::InvalidSetupToken);
        }
        let caller = Caller {
            client,
            ..Caller::system()
        };
        let account = NewAccount {
            role: Role::GlobalAdministrator,
            ..account
        };
        let account = self.create_account(&caller, account).await?;
        *self.setup.lock() = None;
        Ok(account)
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
