//! Directory groups and their direct members (users or groups; nesting is stored, not expanded).
//! Like users, every write runs in one transaction with its change-feed and audit entries; a
//! membership change bumps the group's version, since it changes what the group is.

use std::collections::BTreeSet;

use crate::db::{Pool, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    feed::{self, ChangeKind, ObjectType},
    lifecycle,
};
use crate::{
    Engine, Error, Result,
    audit::{self, Caller, Target},
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct GroupProfile {
    pub display_name: String,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub external_id: Option<String>,
}

impl GroupProfile {
    pub fn validate(mut self) -> Result<GroupProfile> {
        self.display_name = self.display_name.trim().to_owned();
        if self.display_name.is_empty() {
            return Err(Error::invalid("displayName", "enter a name for the group"));
        }
        if self.display_name.chars().count() > 256 {
            return Err(Error::invalid("displayName", "at most 256 characters"));
        }
        for value in [
            &mut self.description,
            &mut self.mail_nickname,
            &mut self.external_id,
        ] {
            *value = value
                .take()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
        }
        Ok(self)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Group {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub profile: GroupProfile,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub id: Uuid,
    pub member_type: ObjectType,
    pub display_name: String,
}

pub(crate) const COLUMNS: &str = "id, display_name, description, mail_nickname, external_id, version, created_at, updated_at, deleted_at";

pub async fn get(db: impl Into<crate::db::Exec<'_>>, id: Uuid) -> Result<Option<Group>> {
    let sql = format!("SELECT {COLUMNS} FROM groups WHERE id = ?");
    Ok(crate::db::query_as(&sql)
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// The groups (not deleted) named `name`, in any case: group names need not be unique.
pub async fn find_by_name(db: &Pool, name: &str) -> Result<Vec<Group>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM groups WHERE display_name = ? COLLATE NOCASE AND deleted_at IS NULL \
         ORDER BY created_at LIMIT 100"
    );
    Ok(crate::db::query_as(&sql)
        .bind(name.trim())
        .fetch_all(db)
        .await?)
}

/// Direct members of a group, users and groups, with their display names.
pub async fn members(db: &Pool, group_id: Uuid) -> Result<Vec<Member>> {
    Ok(crate::db::query_as(
        "SELECT m.member_id AS id, m.member_type, COALESCE(u.display_name, g.display_name, '') AS display_name \
         FROM group_members m LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id \
         LEFT JOIN groups g ON m.member_type = 'Group' AND g.id = m.member_id \
         WHERE m.group_id = ? ORDER BY COALESCE(u.display_name, g.display_name, '') COLLATE NOCASE, m.member_id",
    )
    .bind(group_id)
    .fetch_all(db)
    .await?)
}

/// The groups a user or group is a direct member of.
pub async fn memberships(db: &Pool, member_id: Uuid) -> Result<Vec<(Uuid, String)>> {
    Ok(crate::db::query_as(
        "SELECT g.id, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id \
         WHERE m.member_id = ? AND g.deleted_at IS NULL ORDER BY g.display_name COLLATE NOCASE",
    )
    .bind(member_id)
    .fetch_all(db)
    .await?)
}

fn not_found(id: Uuid) -> Error {
    Error::NotFound {
        kind: "group",
        id: id.to_string(),
    }
}

/// What a member id refers to: an undeleted user or group.
async fn member_type(db: &mut Tx, group_id: Uuid, member: Uuid) -> Result<ObjectType> {
    if member == group_id {
        return Err(Error::invalid(
            "members",
            "a group cannot be a member of itself",
        ));
    }
    let kind: Option<String> = crate::db::query_scalar(
        "SELECT 'User' FROM users WHERE id = ?1 AND deleted_at IS NULL \
         UNION ALL SELECT 'Group' FROM groups WHERE id = ?1 AND deleted_at IS NULL",
    )
    .bind(member)
    .fetch_optional(&mut *db)
    .await?;
    match kind.as_deref() {
        Some("User") => Ok(ObjectType::User),
        Some(_) => Ok(ObjectType::Group),
        None => Err(Error::invalid(
            "members",
            format!("no user or group with id {member}"),
        )),
    }
}

impl Group {
    fn audit_view(&self) -> serde_json::Value {
        json!({ "profile": self.profile })
    }
}

impl Engine {
    pub async fn group(&self, id: Uuid) -> Result<Group> {
        get(&self.db, id).await?.ok_or_else(|| not_found(id))
    }

    pub async fn create_group(
        &self,
        caller: &Caller,
        profile: GroupProfile,
        members: &[Uuid],
    ) -> Result<Group> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let profile = profile.validate()?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let now = OffsetDateTime::now_utc();
        let sql = format!(
            "INSERT INTO groups (id, display_name, description, mail_nickname, external_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        );
        let group: Group = crate::db::query_as(&sql)
            .bind(Uuid::new_v4())
            .bind(&profile.display_name)
            .bind(&profile.description)
            .bind(&profile.mail_nickname)
            .bind(&profile.external_id)
            .bind(now)
            .bind(now)
            .fetch_one(&mut tx)
            .await?;
        let mut sequence = feed::append(
            &mut tx,
            ObjectType::Group,
            group.id,
            ChangeKind::Created,
            None,
        )
        .await?;
        let target = Target {
            kind: "Group",
            id: Some(group.id),
            name: &group.profile.display_name,
        };
        audit::record(
            &mut tx,
            caller,
            "Add group",
            target,
            None,
            Some(group.audit_view()),
        )
        .await?;
        sequence = change_members(&mut tx, caller, &group, members, &[])
            .await?
            .unwrap_or(sequence);
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(group)
    }

    /// Replaces a group's profile and, when `members` is given, its whole member list, in one
    /// transaction (the console saves the profile alone; SCIM PUT and PATCH send both).
    pub async fn update_group(
        &self,
        caller: &Caller,
        id: Uuid,
        profile: GroupProfile,
        members: Option<&[Uuid]>,
        expected_version: Option<i64>,
    ) -> Result<Group> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let profile = profile.validate()?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let before = get(&mut tx, id)
            .await?
            .filter(|g| g.deleted_at.is_none())
            .ok_or_else(|| not_found(id))?;
        check_version(&before, expected_version)?;
        let mut sequence = replace_profile(&mut tx, caller, &before, profile).await?;
        if let Some(members) = members {
            let current: BTreeSet<Uuid> =
                crate::db::query_scalar("SELECT member_id FROM group_members WHERE group_id = ?")
                    .bind(id)
                    .fetch_all(&mut tx)
                    .await?
                    .into_iter()
                    .collect();
            let wanted: BTreeSet<Uuid> = members.iter().copied().collect();
            let add: Vec<Uuid> = wanted.difference(&current).copied().collect();
            let remove: Vec<Uuid> = current.difference(&wanted).copied().collect();
            let renamed = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
            if let Some(s) = change_members(&mut tx, caller, &renamed, &add, &remove).await? {
                sequence = Some(s);
            }
        }
        let after = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        tx.commit().await?;
        if let Some(sequence) = sequence {
            self.feed.published(sequence);
        }
        Ok(after)
    }

    /// Adds and removes direct members; ids already in (or already out) are ignored.
    pub async fn change_group_members(
        &self,
        caller: &Caller,
        id: Uuid,
        add: &[Uuid],
        remove: &[Uuid],
        expected_version: Option<i64>,
    ) -> Result<Group> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let group = get(&mut tx, id)
            .await?
            .filter(|g| g.deleted_at.is_none())
            .ok_or_else(|| not_found(id))?;
        check_version(&group, expected_version)?;
        let sequence = change_members(&mut tx, caller, &group, add, remove).await?;
        let group = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        tx.commit().await?;
        if let Some(sequence) = sequence {
            self.feed.published(sequence);
        }
        Ok(group)
    }

    /// Soft delete, restorable for 30 days like users.
    pub async fn delete_group(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.set_deleted(caller, &lifecycle::GROUPS, id, expected_version, true)
            .await
    }

    pub async fn restore_group(&self, caller: &Caller, id: Uuid) -> Result<()> {
        self.set_deleted(caller, &lifecycle::GROUPS, id, None, false)
            .await
    }

    /// Hard delete: the group, its memberships (both ways) go; a tombstone stays in the feed.
    pub async fn purge_group(&self, caller: &Caller, id: Uuid) -> Result<()> {
        caller.require(crate::accounts::Permission::WriteDirectory)?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let before = get(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        let name = before.profile.display_name.clone();
        let sequence = lifecycle::purge(
            &mut tx,
            caller,
            &lifecycle::GROUPS,
            id,
            &name,
            before.audit_view(),
        )
        .await?;
        tx.commit().await?;
        self.feed.published(sequence);
        Ok(())
    }
}

impl Engine {
    /// Hard-deletes groups soft-deleted more than `retention` ago (the daily purge).
    pub async fn purge_deleted_groups(&self, retention: time::Duration) -> Result<u64> {
        let expired = lifecycle::expired(&self.db, &lifecycle::GROUPS, retention).await?;
        for id in &expired {
            self.purge_group(&Caller::system(), *id).await?;
        }
        Ok(expired.len() as u64)
    }
}

/// Writes `profile` over `before` inside a transaction, with its feed and audit entries. Returns
/// the feed sequence, or `None` when nothing changed.
async fn replace_profile(
    db: &mut Tx,
    caller: &Caller,
    before: &Group,
    profile: GroupProfile,
) -> Result<Option<i64>> {
    if before.profile == profile {
        return Ok(None);
    }
    let sql = format!(
        "UPDATE groups SET display_name = ?, description = ?, mail_nickname = ?, external_id = ?, \
         version = version + 1, updated_at = ? WHERE id = ? RETURNING {COLUMNS}"
    );
    let after: Group = crate::db::query_as(&sql)
        .bind(&profile.display_name)
        .bind(&profile.description)
        .bind(&profile.mail_nickname)
        .bind(&profile.external_id)
        .bind(OffsetDateTime::now_utc())
        .bind(before.id)
        .fetch_one(&mut *db)
        .await?;
    let sequence =
        feed::append(db, ObjectType::Group, before.id, ChangeKind::Updated, None).await?;
    let target = Target {
        kind: "Group",
        id: Some(before.id),
        name: &after.profile.display_name,
    };
    audit::record(
        db,
        caller,
        "Update group",
        target,
        Some(before.audit_view()),
        Some(after.audit_view()),
    )
    .await?;
    Ok(Some(sequence))
}

/// Applies membership changes inside a transaction: one feed entry per member added or removed,
/// one audit entry for the lot, one version bump. Returns the last sequence, if anything changed.
async fn change_members(
    tx: &mut Tx,
    caller: &Caller,
    group: &Group,
    add: &[Uuid],
    remove: &[Uuid],
) -> Result<Option<i64>> {
    let mut sequence = None;
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for &member in add.iter().collect::<BTreeSet<_>>() {
        let kind = member_type(tx, group.id, member).await?;
        let inserted = crate::db::query(
            "INSERT INTO group_members (group_id, member_id, member_type) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(group.id)
        .bind(member)
        .bind(kind)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 {
            sequence = Some(
                feed::append(
                    tx,
                    ObjectType::Group,
                    group.id,
                    ChangeKind::MemberAdded,
                    Some(member),
                )
                .await?,
            );
            added.push(member);
        }
    }
    for &member in remove.iter().collect::<BTreeSet<_>>() {
        let deleted =
            crate::db::query("DELETE FROM group_members WHERE group_id = ? AND member_id = ?")
                .bind(group.id)
                .bind(member)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted > 0 {
            sequence = Some(
                feed::append(
                    tx,
                    ObjectType::Group,
                    group.id,
                    ChangeKind::MemberRemoved,
                    Some(member),
                )
                .await?,
            );
            removed.push(member);
        }
    }
    if sequence.is_some() {
        crate::db::query("UPDATE groups SET version = version + 1, updated_at = ? WHERE id = ?")
            .bind(OffsetDateTime::now_utc())
            .bind(group.id)
            .execute(&mut *tx)
            .await?;
        let target = Target {
            kind: "Group",
            id: Some(group.id),
            name: &group.profile.display_name,
        };
        let change = json!({ "added": added, "removed": removed });
        audit::record(
            tx,
            caller,
            "Update group members",
            target,
            None,
            Some(change),
        )
        .await?;
    }
    Ok(sequence)
}

fn check_version(group: &Group, expected: Option<i64>) -> Result<()> {
    lifecycle::check_version(&lifecycle::GROUPS, group.version, expected)
}

/// How many direct members each of these groups has.
pub async fn member_counts(
    db: &Pool,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, i64>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT group_id, COUNT(*) FROM group_members WHERE group_id IN ({}) GROUP BY group_id",
        crate::db::placeholders(ids.len())
    );
    let mut query = crate::db::query_as::<(Uuid, i64)>(&sql);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(db).await?.into_iter().collect())
}

/// A user or group a picker offers.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Candidate {
    pub id: Uuid,
    /// What names it uniquely: a user's principal name, a group's display name.
    pub name: String,
    /// What the lists show: a user's display name, a group's display name.
    pub display_name: String,
    /// "User" or "Group".
    pub kind: String,
}

/// Users and groups whose user principal name or display name starts with `search`, for
/// pickers.
pub async fn member_candidates(db: &Pool, search: &str, limit: u32) -> Result<Vec<Candidate>> {
    let pattern = crate::db::like_prefix(search);
    Ok(crate::db::query_as(
        "SELECT id, user_principal_name AS name, display_name, 'User' AS kind FROM users \
         WHERE deleted_at IS NULL \
         AND (user_principal_name LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\') \
         UNION ALL SELECT id, display_name AS name, display_name, 'Group' AS kind FROM groups \
         WHERE deleted_at IS NULL AND display_name LIKE ?1 ESCAPE '\\' LIMIT ?2",
    )
    .bind(pattern)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The user or group called `name`, for pickers that take typed names: a user principal name,
/// a group's name, or a user's display name as the lists show it (any case). A display name
/// that several carry is refused, naming the way out. Errors name `field`.
pub async fn principal_named(db: &Pool, name: &str, field: &'static str) -> Result<(Uuid, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(crate::Error::invalid(
            field,
            "enter a user principal name, a user's display name or a group name",
        ));
    }
    let found = member_candidates(db, name, 50).await?;
    let by_name: Vec<_> = found
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(name))
        .collect();
    let by_display_name: Vec<_> = found
        .iter()
        .filter(|c| c.display_name.eq_ignore_ascii_case(name))
        .collect();
    let chosen = if by_name.is_empty() {
        by_display_name
    } else {
        by_name
    };
    match chosen.as_slice() {
        [c] => Ok((c.id, c.kind.clone())),
        [] => Err(crate::Error::invalid(
            field,
            format!("there is no user or group named {name}"),
        )),
        _ => Err(crate::Error::invalid(
            field,
            format!("several users or groups are named {name}; type the user principal name"),
        )),
    }
}
