//! Who signs in: directory users who have a password ([`Member`]), and among them the console
//! accounts, who also hold a directory role ([`Account`]). Creating accounts, signing people in
//! (with throttling) and the first-run setup that creates the first account. Members without a
//! role sign in to My Apps and single sign-on only (docs/sso.md).

mod password;
mod role;
mod setup;
mod throttle;
mod tokens;

use std::net::IpAddr;

use secrecy::SecretString;
use time::OffsetDateTime;
use uuid::Uuid;

pub use password::{
    MAX_LENGTH as PASSWORD_MAX_LENGTH, MIN_LENGTH as PASSWORD_MIN_LENGTH, NewPassword,
};
pub use role::{Permission, Role};
pub use setup::FirstRunSetup;
pub use throttle::{Policy as ThrottlePolicy, SignInThrottle};
pub(crate) use tokens::digest as secret_digest;
pub use tokens::{Scope, Token};

use crate::{
    Engine, Error, Result,
    audit::Caller,
    directory::{
        UserPrincipalName,
        users::{self, User, UserProfile},
    },
};

/// Who is signed in: what a session resolves to on every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    pub role: Role,
    /// Changes whenever the password or the role does. A session keeps the stamp it began with
    /// and ends when they differ, so a new password or role signs the account out everywhere
    /// else (the session that made the change takes the new stamp).
    pub session_stamp: String,
}

/// Someone who may sign in: a directory user, enabled, not deleted, with a password. Their
/// console account, if they hold a directory role, is [`Member::account`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    pub role: Option<Role>,
    /// As [`Account::session_stamp`].
    pub session_stamp: String,
}

impl Member {
    fn from_user(user: User) -> Option<Member> {
        let usable = user.profile.is_enabled() && user.deleted_at.is_none();
        (usable && user.password_hash.is_some()).then_some(())?;
        Some(Member {
            session_stamp: session_stamp(user.password_hash.as_deref(), user.directory_role.0),
            id: user.id,
            user_principal_name: user.profile.user_principal_name,
            display_name: user.profile.display_name,
            role: user.directory_role.0,
        })
    }

    /// The console account, for a member who holds a directory role.
    pub fn account(&self) -> Option<Account> {
        Some(Account {
            id: self.id,
            user_principal_name: self.user_principal_name.clone(),
            display_name: self.display_name.clone(),
            role: self.role?,
            session_stamp: self.session_stamp.clone(),
        })
    }
}

impl Account {
    /// A user who may sign in to the console: a member holding a role.
    fn from_user(user: User) -> Option<Account> {
        Member::from_user(user)?.account()
    }

    /// A user who may act (through a session or a token): enabled, not deleted, holding a role.
    fn acting(user: User) -> Option<Account> {
        let usable = user.profile.is_enabled() && user.deleted_at.is_none();
        let role = user.directory_role.0.filter(|_| usable)?;
        Some(Account {
            session_stamp: session_stamp(user.password_hash.as_deref(), Some(role)),
            id: user.id,
            user_principal_name: user.profile.user_principal_name,
            display_name: user.profile.display_name,
            role,
        })
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

/// What an administrator (or the command line) supplies to create a console account.
pub struct NewAccount {
    pub user_principal_name: String,
    /// Empty: derived from the user principal name.
    pub display_name: String,
    pub role: Role,
    pub password: SecretString,
}

impl Engine {
    pub async fn create_account(&self, caller: &Caller, new: NewAccount) -> Result<Account> {
        caller.require(Permission::WriteDirectory)?;
        let upn = UserPrincipalName::parse(&new.user_principal_name, "userPrincipalName")?;
        let display_name = display_name_or_default(&new.display_name, &upn)?;
        let password_hash = NewPassword::parse(new.password, "password")?.hash().await?;
        let profile = UserProfile {
            user_principal_name: upn.as_str().to_owned(),
            display_name,
            account_enabled: Some(true),
            ..UserProfile::default()
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        let (user, sequence) = users::insert(
            &mut tx,
            caller,
            profile,
            Some(new.role),
            Some(password_hash),
        )
        .await?;
        tx.commit().await?;
        self.feed.published(sequence);
        tracing::info!(upn = %user.profile.user_principal_name, role = %new.role, "console account created");
        Account::from_user(user)
            .ok_or_else(|| Error::invalid("role", "the account could not be enabled"))
    }

    /// Checks a user name and password. Refuses while the account or client is throttled.
    pub async fn sign_in(
        &self,
        upn: &str,
        password: SecretString,
        client: Option<IpAddr>,
    ) -> Result<Member> {
        let upn = upn.trim();
        let now = OffsetDateTime::now_utc();
        if let Err(retry_after) = self.throttle.check(&self.db, now, upn, client).await? {
            tracing::warn!(upn, ?client, "sign-in refused: throttled");
            self.log_sign_in(
                None,
                upn,
                Err("too many failed sign-ins: locked for now"),
                client,
            )
            .await?;
            return Err(Error::SignInThrottled { retry_after });
        }
        let user = users::find_by_upn(&self.db, upn).await?;
        let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let password_ok = password::verify(password, stored_hash).await;
        // Why not, for the sign-in log (the person is only told the name or password is wrong).
        let refusal = match &user {
            None => Some("no user has this name"),
            Some(u) if u.password_hash.is_none() => Some("the user has no password"),
            Some(_) if !password_ok => Some("the password is incorrect"),
            Some(u) if u.deleted_at.is_some() => Some("the user is deleted"),
            Some(u) if !u.profile.is_enabled() => Some("the account is disabled"),
            Some(_) => None,
        };
        let user_id = user.as_ref().map(|u| u.id);
        match user
            .and_then(Member::from_user)
            .filter(|_| refusal.is_none())
        {
            Some(member) => {
                self.throttle.record_success(&self.db, upn).await?;
                tracing::info!(upn = %member.user_principal_name, ?client, "signed in");
                self.log_sign_in(user_id, &member.user_principal_name, Ok(()), client)
                    .await?;
                Ok(member)
            }
            None => {
                self.throttle
                    .record_failure(&self.db, now, upn, client)
                    .await?;
                let why = refusal.unwrap_or("the user cannot sign in");
                tracing::warn!(upn, ?client, why, "sign-in failed");
                self.log_sign_in(user_id, upn, Err(why), client).await?;
                Err(Error::InvalidCredentials)
            }
        }
    }

    /// A sign-in to Scimitar itself, in the Sign-in logs.
    async fn log_sign_in(
        &self,
        user_id: Option<Uuid>,
        upn: &str,
        outcome: std::result::Result<(), &str>,
        client: Option<IpAddr>,
    ) -> Result<()> {
        use crate::sso::sign_in_log::{self, NewEntry, Outcome, Protocol};
        let (outcome, reason) = match outcome {
            Ok(()) => (Outcome::Success, "signed in with a password".to_owned()),
            Err(why) => (Outcome::Failure, crate::text::sentence(why)),
        };
        sign_in_log::record(
            &self.db,
            &NewEntry {
                user_id,
                user_principal_name: upn,
                application_id: None,
                application_name: sign_in_log::CONSOLE,
                protocol: Protocol::Password,
                outcome,
                reason: &reason,
                client,
            },
        )
        .await?;
        Ok(())
    }

    /// The account behind a session, if it can still sign in (not disabled, deleted or demoted).
    pub async fn account(&self, id: Uuid) -> Result<Option<Account>> {
        Ok(users::get(&self.db, id).await?.and_then(Account::from_user))
    }

    /// The member behind a session, if they can still sign in (not disabled or deleted).
    pub async fn member(&self, id: Uuid) -> Result<Option<Member>> {
        Ok(users::get(&self.db, id).await?.and_then(Member::from_user))
    }
}

/// A short digest of the password hash (salted, so a new password changes it even when the text
/// is the same) and the role.
fn session_stamp(password_hash: Option<&str>, role: Option<Role>) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(password_hash.unwrap_or_default())
        .chain_update([0])
        .chain_update(role.map_or("", Role::as_str))
        .finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn display_name_or_default(display_name: &str, upn: &UserPrincipalName) -> Result<String> {
    let display_name = display_name.trim();
    if display_name.chars().count() > 256 {
        return Err(Error::invalid(
            "displayName",
            "a display name has at most 256 characters",
        ));
    }
    Ok(if display_name.is_empty() {
        upn.as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned()
    } else {
        display_name.to_owned()
    })
}

/// The account guards (docs/roles.md, Account guards), for deleting or disabling user `id`
/// (`what`: "delete", "disable"): nobody does it to their own account, and the last Global
/// Administrator who can sign in stays, whatever the door.
pub(crate) async fn guard_removal(
    tx: &mut crate::db::Tx,
    caller: &Caller,
    id: Uuid,
    what: &str,
) -> Result<()> {
    if caller.account_id() == Some(id) {
        return Err(Error::invalid(
            "account",
            format!("you cannot {what} your own account while acting with it"),
        ));
    }
    let global_administrator: bool = crate::db::query_scalar(
        "SELECT COUNT(*) > 0 FROM users WHERE id = ? AND directory_role = 'GlobalAdministrator' \
         AND deleted_at IS NULL AND COALESCE(account_enabled, TRUE) AND password_hash IS NOT NULL",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if global_administrator && other_global_administrators(tx, id).await? == 0 {
        return Err(Error::invalid(
            "account",
            format!(
                "you cannot {what} the last Global Administrator who can sign in; make another one first"
            ),
        ));
    }
    Ok(())
}

/// Global Administrators other than `id` who can sign in.
async fn other_global_administrators(tx: &mut crate::db::Tx, id: Uuid) -> Result<i64> {
    Ok(crate::db::query_scalar(
        "SELECT COUNT(*) FROM users WHERE directory_role = 'GlobalAdministrator' AND id <> ? \
         AND deleted_at IS NULL AND COALESCE(account_enabled, TRUE) AND password_hash IS NOT NULL",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?)
}

impl Engine {
    /// Makes a directory user a console account (role and, optionally, a new password), changes
    /// their role, or removes their console access (`role: None`). The last Global Administrator
    /// who can sign in cannot be demoted: the console would have no way back in but the CLI.
    pub async fn set_console_access(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        role: Option<Role>,
        password: Option<SecretString>,
    ) -> Result<()> {
        caller.require(Permission::WriteDirectory)?;
        let password_hash = match password {
            Some(password) => Some(NewPassword::parse(password, "password")?.hash().await?),
            None => None,
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        let before = users::get(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound {
                kind: "user",
                id: id.to_string(),
            })?;
        if role.is_some() && password_hash.is_none() && before.password_hash.is_none() {
            return Err(Error::invalid(
                "password",
                "set a password so the account can sign in",
            ));
        }
        if before.directory_role.0 == Some(Role::GlobalAdministrator)
            && role != Some(Role::GlobalAdministrator)
            && other_global_administrators(&mut tx, id).await? == 0
        {
            return Err(Error::invalid(
                "directory_role",
                "this is the last Global Administrator; make another one first",
            ));
        }
        crate::db::query(
            "UPDATE users SET directory_role = ?, password_hash = COALESCE(?, password_hash), \
             version = version + 1, updated_at = ? WHERE id = ?",
        )
        .bind(role.map(Role::as_str))
        .bind(password_hash.as_ref())
        .bind(time::OffsetDateTime::now_utc())
        .bind(id)
        .execute(&mut tx)
        .await?;
        let target = crate::audit::Target {
            kind: "User",
            id: Some(id),
            name: &before.profile.user_principal_name,
        };
        let change = serde_json::json!({
            "role": role.map(Role::display_name),
            "passwordChanged": password_hash.is_some(),
        });
        crate::audit::record(
            &mut tx,
            caller,
            "Update console access",
            target,
            None,
            Some(change),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
