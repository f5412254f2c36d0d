//! Directory users. `userPrincipalName` is unique without regard to case (the column is
//! `COLLATE NOCASE`); [`UserProfile::validate`] is the one place that checks a user's attributes.
//! Every write runs in one transaction with its change-feed entry and its audit entry.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::types::Json;

use crate::db::{Pool, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    feed::{self, ChangeKind, ObjectType},
    lifecycle,
};
use crate::{
    Engine, Error, Result,
    accounts::{Permission, Role},
    audit::{self, Caller, Target},
};

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
        check_domain(domain).map_err(|message| Error::invalid(field, message))?;
        Ok(UserPrincipalName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("there is nothing after the @; add the domain, as in contoso.com".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain after @ needs a dot, as in contoso.com".into());
    }
    let valid = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if labels.iter().all(|l| valid(l)) {
        Ok(())
    } else {
        Err(format!("the domain {domain:?} is not a valid domain name"))
    }
}

/// The rule every user name meets, however it arrives: SCIM clients may send any unique string
/// (RFC 7643 §4.1.1), so the stricter `name@domain` form ([`UserPrincipalName::parse`]) is what
/// the console's forms and imports ask of people, not what the directory stores.
fn check_user_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(
            "userPrincipalName",
            "enter a user principal name such as ada@contoso.com",
        ));
    }
    if name.chars().count() > UserPrincipalName::MAX_TOTAL {
        return Err(Error::invalid(
            "userPrincipalName",
            "a user principal name has at most 256 characters",
        ));
    }
    if let Some(bad) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            "userPrincipalName",
            format!("the character {bad:?} is not allowed"),
        ));
    }
    Ok(name.to_owned())
}

/// Checks an email address the way mail systems accept them in practice: one @, a plausible
/// local part, a domain with a dot.
pub fn check_mail(mail: &str, field: &'static str) -> Result<()> {
    let fail = |message: String| Err(Error::invalid(field, message));
    let Some((local, domain)) = mail.rsplit_once('@') else {
        return fail(format!("{mail:?} is not an email address: it has no @"));
    };
    if local.is_empty() || local.len() > 64 || local.chars().any(|c| c.is_whitespace() || c == '@')
    {
        return fail(format!(
            "{mail:?} is not an email address: the part before @ is not valid"
        ));
    }
    check_domain(domain).or_else(fail)
}

/// The attributes of a user that administrators, imports and SCIM clients set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct UserProfile {
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    /// `None`: never set, which counts as enabled (Entra's default for accountEnabled).
    pub account_enabled: Option<bool>,
    pub department: Option<String>,
    pub job_title: Option<String>,
    pub employee_id: Option<String>,
    pub manager_id: Option<Uuid>,
    pub preferred_language: Option<String>,
    pub telephone_number: Option<String>,
    pub mobile: Option<String>,
    pub external_id: Option<String>,
    /// `extensionAttribute1` ..= `extensionAttribute15` that have a value.
    pub extension_attributes: Json<ExtensionAttributes>,
}

/// Entra's fifteen free-form extension attributes, by number.
pub type ExtensionAttributes = std::collections::BTreeMap<String, String>;

/// The name of extension attribute `n` (1 ..= 15).
pub fn extension_attribute(n: u8) -> String {
    format!("extensionAttribute{n}")
}

impl UserProfile {
    pub fn is_enabled(&self) -> bool {
        self.account_enabled.unwrap_or(true)
    }

    /// Trims every value (blank becomes absent) and checks the attributes; errors name the field
    /// in the directory's terms (`userPrincipalName`, `mail`, ...).
    pub fn validate(mut self) -> Result<UserProfile> {
        self.user_principal_name = check_user_name(&self.user_principal_name)?;
        // Optional here, as in SCIM; the console's forms ask for one.
        self.display_name = self.display_name.trim().to_owned();
        for (field, value) in [
            ("displayName", Some(&mut self.display_name)),
            ("givenName", self.given_name.as_mut()),
            ("surname", self.surname.as_mut()),
            ("mail", self.mail.as_mut()),
            ("mailNickname", self.mail_nickname.as_mut()),
            ("department", self.department.as_mut()),
            ("jobTitle", self.job_title.as_mut()),
            ("employeeId", self.employee_id.as_mut()),
            ("preferredLanguage", self.preferred_language.as_mut()),
            ("telephoneNumber", self.telephone_number.as_mut()),
            ("mobile", self.mobile.as_mut()),
            ("externalId", self.external_id.as_mut()),
        ] {
            if let Some(value) = value {
                *value = value.trim().to_owned();
                if value.chars().count() > 256 {
                    return Err(Error::invalid(field, "at most 256 characters"));
                }
            }
        }
        let blank_to_none = |v: &mut Option<String>| {
            if v.as_deref().is_some_and(str::is_empty) {
                *v = None;
            }
        };
        for value in [
            &mut self.given_name,
            &mut self.surname,
            &mut self.mail,
            &mut self.mail_nickname,
            &mut self.department,
            &mut self.job_title,
            &mut self.employee_id,
            &mut self.preferred_language,
            &mut self.telephone_number,
            &mut self.mobile,
            &mut self.external_id,
        ] {
            blank_to_none(value);
        }
        if let Some(mail) = &self.mail {
            check_mail(mail, "mail")?;
        }
        let names: Vec<String> = (1..=15).map(extension_attribute).collect();
        let mut extension_attributes = ExtensionAttributes::new();
        for (name, value) in std::mem::take(&mut self.extension_attributes.0) {
            let Some(known) = names.iter().find(|n| n.eq_ignore_ascii_case(&name)) else {
                return Err(Error::invalid(
                    "extensionAttributes",
                    format!("{name} is not extensionAttribute1 to 15"),
                ));
            };
            let value = value.trim().to_owned();
            if value.chars().count() > 1024 {
                return Err(Error::invalid(
                    "extensionAttributes",
                    format!("{known} has at most 1024 characters"),
                ));
            }
            if !value.is_empty() {
                extension_attributes.insert(known.clone(), value);
            }
        }
        self.extension_attributes = Json(extension_attributes);
        Ok(self)
    }
}

/// A user as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub profile: UserProfile,
    #[sqlx(try_from = "Option<String>")]
    pub directory_role: RoleColumn,
    pub password_hash: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

impl User {
    /// What the audit log keeps of a user: the profile, never the password hash.
    fn audit_view(&self) -> serde_json::Value {
        json!({ "profile": self.profile, "role": self.directory_role.0.map(Role::display_name) })
    }
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

pub(crate) const COLUMNS: &str = "id, user_principal_name, display_name, given_name, surname, mail, \
    mail_nickname, account_enabled, department, job_title, employee_id, manager_id, preferred_language, \
    telephone_number, mobile, external_id, extension_attributes, directory_role, password_hash, version, \
    created_at, updated_at, \
    deleted_at";

/// The columns a [`UserProfile`] is stored in, in [`bind_profile`]'s order.
const PROFILE_COLUMNS: &str = "user_principal_name, display_name, given_name, surname, mail, mail_nickname, \
    account_enabled, department, job_title, employee_id, manager_id, preferred_language, telephone_number, mobile, \
    external_id, extension_attributes";

/// Binds a profile's values, in [`PROFILE_COLUMNS`] order.
fn bind_profile<'q, O>(
    query: crate::db::QueryAs<'q, O>,
    p: &'q UserProfile,
) -> crate::db::QueryAs<'q, O> {
    query
        .bind(&p.user_principal_name)
        .bind(&p.display_name)
        .bind(&p.given_name)
        .bind(&p.surname)
        .bind(&p.mail)
        .bind(&p.mail_nickname)
        .bind(p.account_enabled)
        .bind(&p.department)
        .bind(&p.job_title)
        .bind(&p.employee_id)
        .bind(p.manager_id)
        .bind(&p.preferred_language)
        .bind(&p.telephone_number)
        .bind(&p.mobile)
        .bind(&p.external_id)
        .bind(&p.extension_attributes)
}

pub async fn find_by_upn(db: impl Into<crate::db::Exec<'_>>, upn: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE user_principal_name = ?");
    Ok(crate::db::query_as(&sql)
        .bind(upn.trim())
        .fetch_optional(db)
        .await?)
}

pub async fn get(db: impl Into<crate::db::Exec<'_>>, id: Uuid) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?");
    Ok(crate::db::query_as(&sql)
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// The users among `ids` that exist, in no particular order.
pub async fn get_many(db: &Pool, ids: &[Uuid]) -> Result<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE id IN ({})",
        crate::db::placeholders(ids.len())
    );
    let mut query = crate::db::query_as(&sql);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(db).await?)
}

/// Whether an enabled, undeleted Global Administrator who can sign in exists.
pub async fn global_administrator_exists(db: impl Into<crate::db::Exec<'_>>) -> Result<bool> {
    Ok(crate::db::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE directory_role = ? AND COALESCE(account_enabled, TRUE) \
         AND deleted_at IS NULL AND password_hash IS NOT NULL)",
    )
    .bind(Role::GlobalAdministrator.as_str())
    .fetch_one(db)
    .await?)
}

fn not_found(id: Uuid) -> Error {
    Error::NotFound {
        kind: "user",
        id: id.to_string(),
    }
}

fn upn_taken(e: sqlx::Error, upn: &str) -> Error {
    match e {
        sqlx::Error::Database(ref d) if d.is_unique_violation() => Error::Conflict {
            field: "userPrincipalName",
            message: format!("a user named {upn} already exists"),
        },
        e => e.into(),
    }
}

async fn check_manager(db: &mut Tx, user: Option<Uuid>, manager: Option<Uuid>) -> Result<()> {
    let Some(manager) = manager else {
        return Ok(());
    };
    if Some(manager) == user {
        return Err(Error::invalid(
            "manager",
            "a user cannot be their own manager",
        ));
    }
    if get(&mut *db, manager)
        .await?
        .is_none_or(|m| m.deleted_at.is_some())
    {
        return Err(Error::invalid(
            "manager",
            format!("no user with id {manager}"),
        ));
    }
    Ok(())
}

/// Inserts a user (with a role and password hash for console accounts) inside `db`'s transaction.
pub(crate) async fn insert(
    db: &mut Tx,
    caller: &Caller,
    profile: UserProfile,
    role: Option<Role>,
    password_hash: Option<String>,
) -> Result<(User, i64)> {
    let profile = profile.validate()?;
    check_manager(db, None, profile.manager_id).await?;
    let now = OffsetDateTime::now_utc();
    let sql = format!(
        "INSERT INTO users (id, {PROFILE_COLUMNS}, directory_role, password_hash, created_at, updated_at) \
         VALUES (?, {}, ?, ?, ?, ?) RETURNING {COLUMNS}",
        PROFILE_COLUMNS
            .split(", ")
            .map(|_| "?")
            .collect::<Vec<_>>()
            .join(", ")
    );
    let p = &profile;
    let user: User = bind_profile(crate::db::query_as(&sql).bind(Uuid::new_v4()), p)
        .bind(role.map(Role::as_str))
        .bind(password_hash)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *db)
        .await
        .map_err(|e| upn_taken(e, &p.user_principal_name))?;
    let sequence = feed::append(db, ObjectType::User, user.id, ChangeKind::Created, None).await?;
    let target = Target {
        kind: "User",
        id: Some(user.id),
        name: &user.profile.user_principal_name,
    };
    audit::record(
        db,
        caller,
        "Add user",
        target,
        None,
        Some(user.audit_view()),
    )
    .await?;
    Ok((user, sequence))
}

/// Writes `profile` over `before` inside a transaction, with its feed and audit entries. Returns
/// the feed sequence, or `None` when nothing changed.
pub(crate) async fn replace_profile(
    db: &mut Tx,
    caller: &Caller,
    before: &User,
    profile: UserProfile,
) -> Result<Option<i64>> {
    let profile = profile.validate()?;
    if before.profile == profile {
        return Ok(None);
    }
    check_manager(db, Some(before.id), profile.manager_id).await?;
    let sql = format!(
        "UPDATE users SET {}, version = version + 1, updated_at = ? WHERE id = ? RETURNING {COLUMNS}",
        PROFILE_COLUMNS
            .split(", ")
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let p = &profile;
    let after: User = bind_profile(crate::db::query_as(&sql), p)
        .bind(OffsetDateTime::now_utc())
        .bind(before.id)
        .fetch_one(&mut *db)
        .await
        .map_err(|e| upn_taken(e, &p.user_principal_name))?;
    let sequence = feed::append(db, ObjectType::User, before.id, ChangeKind::Updated, None).await?;
    let target = Target {
        kind: "User",
        id: Some(before.id),
        name: &after.profile.user_principal_name,
    };
    audit::record(
        db,
        caller,
        "Update user",
        target,
        Some(before.audit_view()),
        Some(after.audit_view()),
    )
    .await?;
    Ok(Some(sequence))
}

impl Engine {
    pub async fn create_user(&self, caller: &Caller, profile: UserProfile) -> Result<User> {
        caller.require(Permission::WriteDirectory)?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let (user, sequence) = insert(&mut tx, caller, profile, None, None).await?;
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(user)
    }

    pub async fn user(&self, id: Uuid) -> Result<User> {
        get(&self.db, id).await?.ok_or_else(|| not_found(id))
    }

    /// Replaces a user's profile. With `expected_version`, refuses if the user changed since.
    pub async fn update_user(
        &self,
        caller: &Caller,
        id: Uuid,
        profile: UserProfile,
        expected_version: Option<i64>,
    ) -> Result<User> {
        caller.require(Permission::WriteDirectory)?;
        let profile = profile.validate()?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let before = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        check_version(&before, expected_version)?;
        if before.profile.is_enabled() && !profile.is_enabled() {
            crate::accounts::guard_removal(&mut tx, caller, id, "disable").await?;
        }
        let sequence = replace_profile(&mut tx, caller, &before, profile).await?;
        let after = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        tx.commit().await?;
        if let Some(sequence) = sequence {
            self.feed.published(sequence);
        }
        Ok(after)
    }

    /// Soft delete: the user disappears from lists and provisioning, and can be restored for
    /// 30 days (see [`Engine::purge_deleted_users`]).
    pub async fn delete_user(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.set_deleted(caller, &lifecycle::USERS, id, expected_version, true)
            .await
    }

    pub async fn restore_user(&self, caller: &Caller, id: Uuid) -> Result<()> {
        self.set_deleted(caller, &lifecycle::USERS, id, None, false)
            .await
    }

    /// Hard delete ("Delete permanently"): the row and its memberships go; a tombstone stays in
    /// the change feed so provisioning deletes the account in every application.
    pub async fn purge_user(&self, caller: &Caller, id: Uuid) -> Result<()> {
        caller.require(Permission::WriteDirectory)?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let before = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        crate::accounts::guard_removal(&mut tx, caller, id, "delete").await?;
        crate::db::query("UPDATE users SET manager_id = NULL WHERE manager_id = ?")
            .bind(id)
            .execute(&mut tx)
            .await?;
        let name = before.profile.user_principal_name.clone();
        let sequence = lifecycle::purge(
            &mut tx,
            caller,
            &lifecycle::USERS,
            id,
            &name,
            before.audit_view(),
        )
        .await?;
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(())
    }

    /// Hard-deletes users soft-deleted more than `retention` ago (the daily purge).
    pub async fn purge_deleted_users(&self, retention: time::Duration) -> Result<u64> {
        let expired = lifecycle::expired(&self.db, &lifecycle::USERS, retention).await?;
        for id in &expired {
            self.purge_user(&Caller::system(), *id).await?;
        }
        Ok(expired.len() as u64)
    }
}

fn check_version(user: &User, expected: Option<i64>) -> Result<()> {
    lifecycle::check_version(&lifecycle::USERS, user.version, expected)
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

    #[test]
    fn profiles_are_trimmed_and_checked() {
        let profile = UserProfile {
            user_principal_name: " ada@contoso.com".into(),
            display_name: " Ada ".into(),
            mail: Some("  ".into()),
            department: Some(" R&D ".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(profile.display_name, "Ada");
        assert_eq!(profile.mail, None);
        assert_eq!(profile.department.as_deref(), Some("R&D"));

        let bad_mail = UserProfile {
            user_principal_name: "ada@contoso.com".into(),
            display_name: "Ada".into(),
            mail: Some("ada.contoso.com".into()),
            ..Default::default()
        };
        let err = bad_mail.validate().unwrap_err();
        assert!(matches!(err, Error::Invalid { field: "mail", .. }), "{err}");
        let mut extension_attributes = ExtensionAttributes::new();
        extension_attributes.insert("EXTENSIONATTRIBUTE3".into(), " cost centre 12 ".into());
        let profile = UserProfile {
            user_principal_name: "ada@contoso.com".into(),
            extension_attributes: Json(extension_attributes.clone()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            profile
                .extension_attributes
                .0
                .get("extensionAttribute3")
                .map(String::as_str),
            Some("cost centre 12")
        );
        extension_attributes.insert("extensionAttribute16".into(), "x".into());
        let sixteen = UserProfile {
            user_principal_name: "ada@contoso.com".into(),
            extension_attributes: Json(extension_attributes),
            ..Default::default()
        };
        let err = sixteen.validate().unwrap_err();
        assert!(
            err.to_string()
                .contains("extensionAttribute16 is not extensionAttribute1 to 15"),
            "{err}"
        );
    }
}
