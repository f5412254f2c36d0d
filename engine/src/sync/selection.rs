//! Which objects a cycle visits (docs/engine.md, Cycles): on an initial cycle everyone in scope
//! and everyone linked; on an incremental one, what the change feed names since the watermark and
//! the escrowed objects that are due. With the app roles of each and the groups of users.

use std::collections::{BTreeSet, HashMap, HashSet};

use uuid::Uuid;

use super::{
    cycle::{BATCH, Context},
    links,
};
use crate::{
    Result,
    applications::provisioning::Scope as SyncScope,
    directory::{
        feed::{self, ChangeKind, ObjectType},
        groups::{self},
    },
    mapping::AppRoleAssignment,
};

/// Up to this many users, [`Context::managers_first`] looks up their managers by id; beyond,
/// it reads every user's manager at once.
const MANAGERS_BY_LOOKUP: usize = 5_000;

impl Context<'_> {
    /// An initial cycle's objects: everyone in scope, and everyone linked (to disable those
    /// who left).
    pub(super) async fn everything(&self) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
        let db = &self.engine.db;
        let mut users: BTreeSet<Uuid> = match self.settings.scope {
            // Assigned directly, or a direct member of an assigned group.
            SyncScope::AssignedOnly => crate::db::query_scalar(
                "SELECT principal_id FROM app_role_assignments WHERE application_id = ? AND principal_type = 'User' \
                 UNION SELECT m.member_id FROM app_role_assignments a JOIN group_members m ON m.group_id = a.principal_id \
                 WHERE a.application_id = ? AND a.principal_type = 'Group' AND m.member_type = 'User'",
            )
            .bind(self.application)
            .bind(self.application)
            .fetch_all(db)
            .await?
            .into_iter()
            .collect(),
            SyncScope::All => crate::db::query_scalar("SELECT id FROM users WHERE deleted_at IS NULL")
                .fetch_all(db)
                .await?
                .into_iter()
                .collect(),
        };
        users.extend(links::linked(db, self.application, "User").await?);
        let mut groups: BTreeSet<Uuid> = match self.settings.scope {
            SyncScope::AssignedOnly => crate::db::query_scalar(
                "SELECT principal_id FROM app_role_assignments WHERE application_id = ? AND principal_type = 'Group'",
            )
            .bind(self.application)
            .fetch_all(db)
            .await?
            .into_iter()
            .collect(),
            SyncScope::All => crate::db::query_scalar("SELECT id FROM groups WHERE deleted_at IS NULL")
                .fetch_all(db)
                .await?
                .into_iter()
                .collect(),
        };
        groups.extend(links::linked(db, self.application, "Group").await?);
        // Groups are never users: drop group principals from the user set.
        users.retain(|id| !groups.contains(id));
        Ok((users.into_iter().collect(), groups.into_iter().collect()))
    }

    /// An incremental cycle's objects: those the feed names after `watermark` (up to `head`),
    /// and the escrowed ones that are due.
    pub(super) async fn changed_since(
        &self,
        watermark: i64,
        head: i64,
    ) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
        let db = &self.engine.db;
        let (mut users, mut groups) = (BTreeSet::new(), BTreeSet::new());
        let mut from = watermark;
        while from < head {
            let page = feed::since(db, from, 1000).await?;
            let Some(last) = page.last() else { break };
            from = last.sequence;
            for change in page.iter().filter(|c| c.sequence <= head) {
                let assignment =
                    matches!(change.change, ChangeKind::Assigned | ChangeKind::Unassigned);
                if assignment && change.related_id != Some(self.application) {
                    continue;
                }
                match change.object_type {
                    ObjectType::User => {
                        users.insert(change.object_id);
                    }
                    ObjectType::Group => {
                        groups.insert(change.object_id);
                        // Members of an assigned group enter or leave scope with it.
                        if let Some(member) = change.related_id.filter(|_| !assignment) {
                            users.insert(member);
                        }
                        if assignment {
                            for member in groups::members(db, change.object_id).await? {
                                if member.member_type == ObjectType::User {
                                    users.insert(member.id);
                                }
                            }
                        }
                    }
                }
            }
        }
        let due: Vec<(Uuid, String)> = crate::db::query_as(
            "SELECT source_id, object_type FROM provisioning_escrows WHERE application_id = ? AND next_attempt_at <= ?",
        )
        .bind(self.application)
        .bind(self.now)
        .fetch_all(db)
        .await?;
        for (id, kind) in due {
            if kind == "Group" {
                groups.insert(id);
            } else {
                users.insert(id);
            }
        }
        users.retain(|id| !groups.contains(id));
        Ok((users.into_iter().collect(), groups.into_iter().collect()))
    }

    /// The roles of `principals` for this application (docs/engine.md, Scope).
    pub(super) async fn roles_of(
        &self,
        principals: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<AppRoleAssignment>>> {
        crate::applications::roles::roles_of(&self.engine.db, self.application, principals).await
    }

    /// The groups (not deleted) that any of `users` is a direct member of.
    pub(super) async fn groups_of(&self, users: &[Uuid]) -> Result<Vec<Uuid>> {
        let sql = format!(
            "SELECT DISTINCT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id \
             WHERE g.deleted_at IS NULL AND m.member_id IN ({})",
            crate::db::placeholders(users.len())
        );
        let mut query = crate::db::query_scalar(&sql);
        for id in users {
            query = query.bind(id);
        }
        Ok(query.fetch_all(&self.engine.db).await?)
    }

    /// `users` in batches, managers before the people who report to them (docs/engine.md,
    /// References): a batch never holds a user and their manager, so a manager new to the
    /// target has their account when their reports are sent, and the reference pass has little
    /// left to do. Each user sits at their depth in the chain of managers among `users`.
    pub(super) async fn managers_first(&self, users: &[Uuid]) -> Result<Vec<Vec<Uuid>>> {
        // Only the managers of `users` are followed. A few users (every incremental cycle): look
        // up theirs; many (an initial cycle of a large scope): one pass over the directory.
        let mut managers: HashMap<Uuid, Uuid> = HashMap::new();
        if users.len() > MANAGERS_BY_LOOKUP {
            managers.extend(
                crate::db::query_as::<(Uuid, Uuid)>(
                    "SELECT id, manager_id FROM users WHERE manager_id IS NOT NULL AND deleted_at IS NULL",
                )
                .fetch_all(&self.engine.db)
                .await?,
            );
        } else {
            for chunk in users.chunks(500) {
                let sql = format!(
                    "SELECT id, manager_id FROM users WHERE manager_id IS NOT NULL AND deleted_at IS NULL \
                     AND id IN ({})",
                    crate::db::placeholders(chunk.len())
                );
                let mut query = crate::db::query_as::<(Uuid, Uuid)>(&sql);
                for id in chunk {
                    query = query.bind(id);
                }
                managers.extend(query.fetch_all(&self.engine.db).await?);
            }
        }
        let wanted: HashSet<Uuid> = users.iter().copied().collect();
        let mut depth: HashMap<Uuid, usize> = HashMap::with_capacity(users.len());
        for &start in users {
            // Up the chain from `start` to the first user whose depth is known, or who has no
            // manager among `users` (a loop of managers counts as having none).
            let (mut chain, mut on_chain) = (Vec::new(), HashSet::new());
            let (mut next, mut base) = (Some(start), 0);
            while let Some(user) = next {
                if let Some(known) = depth.get(&user) {
                    base = known + 1;
                    break;
                }
                if !wanted.contains(&user) || !on_chain.insert(user) {
                    break;
                }
                chain.push(user);
                next = managers.get(&user).copied();
            }
            for (above, user) in chain.iter().rev().enumerate() {
                depth.insert(*user, base + above);
            }
        }
        let mut levels: Vec<Vec<Uuid>> = Vec::new();
        for user in users {
            let level = depth[user];
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            levels[level].push(*user);
        }
        Ok(levels
            .iter()
            .flat_map(|level| level.chunks(BATCH).map(<[Uuid]>::to_vec))
            .collect())
    }
}
