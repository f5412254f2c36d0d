//! Directory users. `userPrincipalName` is the sign-in name and is unique without regard to case
//! (the column is `COLLATE NOCASE`); `UserPrincipalName::parse` is the only place that checks it.

use sqlx::SqlitePool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Error, Result, accounts::Role};

/// A syntactically valid user principal name: `local@domain`, as Entra accepts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPrincipalName(String);

impl UserPrincipalName {
    pub const MAX_LOCAL: usize = 64;
    pub const MAX_TOTAL: usize = 256;

    pub fn parse(value: &str, field: &'static str) -> Result<Self> {
        let value = value.trim();
        let fail = |message: &str| Err(Error::invalid(field, message));
        if value.is_empty() {
            return fail("enter a user principal name such as ada@contoso.com");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return fail("a user principal name has the form name@domain, and this one has no @");
        };
        if local.is_empty() {
            return fail("the part before @ is empty");
        }
        if local.chars().count() > Self::MAX_LOCAL {
            return fail("the part before @ is longer than 64 characters");
        }
        if value.chars().count() > Self::MAX_TOTAL {
            return fail("a user principal name has at most 256 characters");
        }
        let allowed_local =
            |c: char| c.is_ascii_alphanumeric() || "'.-_!#^~+&$%*/=?`{|}".contains(c);
        if let Some(bad) = local.chars().find(|&c| !allowed_local(c)) {
            return fail(&format!("the character {bad:?} is not allowed before @"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return fail(
                "the part before @ cannot start or end with a dot or contain two dots in a row",
            );
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return fail("the domain after @ needs a dot, as in contoso.com");
        }
        for label in labels {
            let valid = !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !valid {
                return fail(&format!("the domain {domain:?} is not a valid domain name"));
            }
        }
        Ok(UserPrincipalName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user as stored. Later issues add the remaining profile fields to what is read here.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub user_principal_name: String,
    pub display_name: String,
    pub account_enabled: bool,
    #[sqlx(try_from = "Option<String>")]
    pub directory_role: RoleColumn,
    pub password_hash: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

/// The `directory_role` column: NULL for users who are not console accounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoleColumn(pub Option<Role>);

impl TryFrom<Option<String>> for RoleColumn {
    type Error = String;

    fn try_from(value: Option<String>) -> Result<Self, String> {
        value.map(|s| s.parse()).transpose().map(RoleColumn)
    }
}

const COLUMNS: &str = "id, user_principal_name, display_name, account_enabled, directory_role, \
                       password_hash, created_at, updated_at, deleted_at";

/// A new user with the fields the console needs to make an account.
pub struct NewUser<'a> {
    pub user_principal_name: &'a UserPrincipalName,
    pub display_name: &'a str,
    pub directory_role: Option<Role>,
    pub password_hash: Option<String>,
}

pub async fn insert(db: impl sqlx::SqliteExecutor<'_>, user: NewUser<'_>) -> Result<User> {
    let now = OffsetDateTime::now_utc();
    let sql = format!(
        "INSERT INTO users (id, user_principal_name, display_name, directory_role, password_hash, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    );
    sqlx::query_as::<_, User>(&sql)
        .bind(Uuid::new_v4())
        .bind(user.user_principal_name.as_str())
        .bind(user.display_name)
        .bind(user.directory_role.map(Role::as_str))
        .bind(user.password_hash)
        .bind(now)
        .bind(now)
        .fetch_one(db)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(ref d) if d.is_unique_violation() => Error::Conflict {
                field: "userPrincipalName",
                message: format!(
                    "a user named {} already exists",
                    user.user_principal_name.as_str()
                ),
            },
            e => e.into(),
        })
}

pub async fn find_by_upn(db: &SqlitePool, upn: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE user_principal_name = ?");
    Ok(sqlx::query_as(&sql)
        .bind(upn.trim())
        .fetch_optional(db)
        .await?)
}

pub async fn get(db: &SqlitePool, id: Uuid) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(db).await?)
}

/// Whether an enabled, undeleted Global Administrator who can sign in exists.
pub async fn global_administrator_exists(db: impl sqlx::SqliteExecutor<'_>) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE directory_role = ? AND account_enabled \
         AND deleted_at IS NULL AND password_hash IS NOT NULL)",
    )
    .bind(Role::GlobalAdministrator.as_str())
    .fetch_one(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upn(s: &str) -> Result<UserPrincipalName> {
        UserPrincipalName::parse(s, "upn")
    }

    #[test]
    fn valid_names_are_accepted_and_trimmed() {
        assert_eq!(
            upn(" ada.lovelace@contoso.com ").unwrap().as_str(),
            "ada.lovelace@contoso.com"
        );
        assert!(upn("o'brien+test@sub.example.co.uk").is_ok());
    }

    #[test]
    fn invalid_names_say_what_is_wrong() {
        for (input, expected) in [
            ("", "enter a user principal name"),
            ("ada", "no @"),
            ("@contoso.com", "before @ is empty"),
            ("ada@localhost", "needs a dot"),
            ("ada lovelace@contoso.com", "' ' is not allowed"),
            ("ada..l@contoso.com", "two dots"),
            ("ada@-contoso.com", "not a valid domain"),
        ] {
            let err = upn(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
            assert!(err.starts_with("upn: "), "{err}");
        }
    }
}
