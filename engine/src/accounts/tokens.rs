//! Machine tokens: one model for every script and system. A token belongs to a directory user
//! who holds a role and acts with that role; its scopes say which doors it opens (`scim`: the
//! inbound SCIM API, `api`: the REST API). The secret is shown once; only its SHA-256 is stored
//! (tokens are long random strings, so a fast hash is enough to make a stolen table useless).

use std::{fmt, str::FromStr};

use rand::{Rng, distributions::Alphanumeric};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Account, Permission};
use crate::{
    Engine, Error, Result,
    audit::{self, Caller, Target},
    directory::users,
};

const PREFIX: &str = "scm_";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    Scim,
    Api,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Scim => "scim",
            Scope::Api => "api",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scim" => Ok(Scope::Scim),
            "api" => Ok(Scope::Api),
            other => Err(format!("unknown scope {other:?}; expected scim or api")),
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Token {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub scopes: Scopes,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(pub Vec<Scope>);

impl TryFrom<String> for Scopes {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        value
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(Scopes)
    }
}

impl Scopes {
    fn stored(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub(crate) fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const COLUMNS: &str = "id, user_id, name, scopes, created_at, last_used_at, revoked_at";

/// What acting on `owner`'s tokens needs: one's own, ManageOwnTokens; anyone else's,
/// ManageSettings (docs/roles.md).
fn owns(caller: &Caller, owner: Uuid) -> Permission {
    if caller.account_id() == Some(owner) {
        Permission::ManageOwnTokens
    } else {
        Permission::ManageSettings
    }
}

impl Engine {
    /// Makes a token for `owner` (a console account). Returns the secret, to show once.
    pub async fn create_token(
        &self,
        caller: &Caller,
        owner: Uuid,
        name: &str,
        scopes: &[Scope],
    ) -> Result<(SecretString, Token)> {
        caller.require(owns(caller, owner))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid(
                "name",
                "give the token a name of 1 to 100 characters",
            ));
        }
        if scopes.is_empty() {
            return Err(Error::invalid(
                "scopes",
                "choose at least one scope: scim or api",
            ));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        let owner_user = users::get(&self.db, owner)
            .await?
            .ok_or_else(|| Error::NotFound {
                kind: "user",
                id: owner.to_string(),
            })?;
        if owner_user.directory_role.0.is_none() {
            return Err(Error::invalid(
                "owner",
                "only users with a directory role can own tokens",
            ));
        }
        let secret: String = std::iter::once(PREFIX.to_owned())
            .chain(std::iter::once(
                rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(43)
                    .map(char::from)
                    .collect(),
            ))
            .collect();
        let mut tx = crate::db::begin_write(&self.db).await?;
        let sql = format!(
            "INSERT INTO tokens (id, user_id, name, scopes, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?) \
             RETURNING {COLUMNS}"
        );
        let token: Token = crate::db::query_as(&sql)
            .bind(Uuid::new_v4())
            .bind(owner)
            .bind(name)
            .bind(Scopes(scopes).stored())
            .bind(digest(&secret))
            .bind(OffsetDateTime::now_utc())
            .fetch_one(&mut tx)
            .await?;
        let target = Target {
            kind: "Token",
            id: Some(token.id),
            name: &token.name,
        };
        let after = serde_json::json!({ "owner": owner_user.profile.user_principal_name, "scopes": token.scopes.stored() });
        audit::record(&mut tx, caller, "Create token", target, None, Some(after)).await?;
        tx.commit().await?;
        Ok((SecretString::from(secret), token))
    }

    /// The account a bearer token acts for, if the token is valid, unrevoked, has `scope`, and
    /// its owner still holds a role. `None` for anything else: callers answer 401 either way.
    pub async fn authenticate_token(
        &self,
        secret: &str,
        scope: Scope,
    ) -> Result<Option<(Account, Token)>> {
        if !secret.starts_with(PREFIX) {
            return Ok(None);
        }
        let sql =
            format!("SELECT {COLUMNS} FROM tokens WHERE secret_hash = ? AND revoked_at IS NULL");
        let Some(token) = crate::db::query_as::<Token>(&sql)
            .bind(digest(secret))
            .fetch_optional(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if !token.scopes.0.contains(&scope) {
            return Ok(None);
        }
        let Some(owner) = users::get(&self.db, token.user_id).await? else {
            return Ok(None);
        };
        let Some(account) = Account::acting(owner) else {
            return Ok(None);
        };
        // Last use is shown to the minute: write it at most once a minute, so authenticating a
        // request is otherwise read-only and never waits for SQLite's write lock.
        let now = OffsetDateTime::now_utc();
        if token
            .last_used_at
            .is_none_or(|t| now - t >= time::Duration::minutes(1))
        {
            crate::db::query("UPDATE tokens SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(token.id)
                .execute(&self.db)
                .await?;
        }
        Ok(Some((account, token)))
    }

    pub async fn revoke_token(&self, caller: &Caller, id: Uuid) -> Result<()> {
        let mut tx = crate::db::begin_write(&self.db).await?;
        let sql = format!(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING {COLUMNS}"
        );
        let token: Option<Token> = crate::db::query_as(&sql)
            .bind(OffsetDateTime::now_utc())
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
        let token = token.ok_or_else(|| Error::NotFound {
            kind: "token",
            id: id.to_string(),
        })?;
        // Refused before the transaction commits: the revocation above is rolled back.
        caller.require(owns(caller, token.user_id))?;
        let target = Target {
            kind: "Token",
            id: Some(id),
            name: &token.name,
        };
        audit::record(&mut tx, caller, "Revoke token", target, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tokens, newest first; of one owner, or of everyone.
    pub async fn tokens(&self, owner: Option<Uuid>) -> Result<Vec<Token>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM tokens WHERE ?1 IS NULL OR user_id = ?1 ORDER BY created_at DESC"
        );
        Ok(crate::db::query_as(&sql)
            .bind(owner)
            .fetch_all(&self.db)
            .await?)
    }
}
