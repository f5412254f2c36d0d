//! The inbound SCIM service: `/Users` and `/Groups` over the directory. Every write goes through
//! the same engine functions as the console (validation, change feed, audit log); PATCH renders
//! the stored resource, applies the operations, and saves the result like a PUT.

use std::collections::HashMap;

use crate::db::QueryAs;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    LIST_RESPONSE, ScimError, USER_EXTENSIONS, patch,
    query::{Bind, GROUPS, ListQuery, Projection, Sql, Table, USERS},
    resources::{group_from_json, group_json, user_from_json, user_json},
};
use crate::{
    Engine, Error,
    audit::Caller,
    directory::{
        feed::ObjectType,
        groups::{self, Group, Member},
        users::{self, User},
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    fn table(self) -> &'static Table {
        match self {
            ResourceKind::User => &USERS,
            ResourceKind::Group => &GROUPS,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }
}

fn bind_all<'q, O>(mut query: QueryAs<'q, O>, binds: &'q [Bind]) -> QueryAs<'q, O> {
    for bind in binds {
        query = match bind {
            Bind::Text(s) => query.bind(s),
            Bind::Uuid(id) => query.bind(id),
            Bind::Bool(b) => query.bind(b),
            Bind::Time(t) => query.bind(t),
        };
    }
    query
}

fn parse_id(kind: ResourceKind, id: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(id).map_err(|_| ScimError::not_found(kind.name(), id))
}

/// A list page of one resource type: the total that match, and the rendered resources.
struct Page {
    total: i64,
    resources: Vec<Value>,
}

impl Engine {
    /// `GET /Users` or `/Groups` (and their `.search`).
    pub async fn scim_list(
        &self,
        kind: ResourceKind,
        query: &ListQuery,
        base: &str,
    ) -> Result<Value, ScimError> {
        let offset = i64::from(query.start_index.saturating_sub(1));
        let page = self
            .scim_page(kind, query, offset, i64::from(query.count), base)
            .await?;
        Ok(list_response(page.total, query, page.resources))
    }

    /// `POST /.search` at the root: users, then groups.
    pub async fn scim_search_all(&self, query: &ListQuery, base: &str) -> Result<Value, ScimError> {
        let offset = i64::from(query.start_index.saturating_sub(1));
        let count = i64::from(query.count);
        let users = self
            .scim_page(ResourceKind::User, query, offset, count, base)
            .await?;
        let group_offset = (offset - users.total).max(0);
        let room = count - users.resources.len() as i64;
        let groups = self
            .scim_page(ResourceKind::Group, query, group_offset, room.max(0), base)
            .await?;
        let mut resources = users.resources;
        resources.extend(groups.resources);
        Ok(list_response(users.total + groups.total, query, resources))
    }

    async fn scim_page(
        &self,
        kind: ResourceKind,
        query: &ListQuery,
        offset: i64,
        limit: i64,
        base: &str,
    ) -> Result<Page, ScimError> {
        let table = kind.table();
        let condition = match &query.filter {
            Some(filter) => table.condition(filter)?,
            None => Sql {
                text: "TRUE".into(),
                binds: Vec::new(),
            },
        };
        let order = match &query.sort_by {
            Some(sort_by) => format!(
                "{} {}, {}",
                table.sort_column(sort_by)?,
                if query.descending { "DESC" } else { "ASC" },
                table.default_order
            ),
            None => table.default_order.to_owned(),
        };
        let (from, columns) = match kind {
            ResourceKind::User => ("users", users::COLUMNS),
            ResourceKind::Group => ("groups", groups::COLUMNS),
        };
        let filter = format!(
            "FROM {from} WHERE {from}.deleted_at IS NULL AND ({})",
            condition.text
        );
        let total: i64 = {
            let sql = format!("SELECT COUNT(*) {filter}");
            let mut q = crate::db::query_scalar::<i64>(&sql);
            for bind in &condition.binds {
                q = match bind {
                    Bind::Text(s) => q.bind(s),
                    Bind::Uuid(id) => q.bind(id),
                    Bind::Bool(b) => q.bind(b),
                    Bind::Time(t) => q.bind(t),
                };
            }
            q.fetch_one(&self.db).await.map_err(Error::from)?
        };
        if limit == 0 {
            return Ok(Page {
                total,
                resources: Vec::new(),
            });
        }
        let sql =
            format!("SELECT {columns} {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}");
        let resources = match kind {
            ResourceKind::User => {
                let rows: Vec<User> = bind_all(crate::db::query_as(&sql), &condition.binds)
                    .fetch_all(&self.db)
                    .await
                    .map_err(Error::from)?;
                let groups = if query.projection.excludes("groups") {
                    HashMap::new()
                } else {
                    self.scim_memberships(rows.iter().map(|u| u.id)).await?
                };
                rows.iter()
                    .map(|u| user_json(u, groups.get(&u.id).map_or(&[][..], Vec::as_slice), base))
                    .collect::<Vec<_>>()
            }
            ResourceKind::Group => {
                let rows: Vec<Group> = bind_all(crate::db::query_as(&sql), &condition.binds)
                    .fetch_all(&self.db)
                    .await
                    .map_err(Error::from)?;
                let members = if query.projection.excludes("members") {
                    HashMap::new()
                } else {
                    self.scim_members(rows.iter().map(|g| g.id)).await?
                };
                rows.iter()
                    .map(|g| group_json(g, members.get(&g.id).map_or(&[][..], Vec::as_slice), base))
                    .collect()
            }
        };
        let resources = resources
            .into_iter()
            .map(|mut r| {
                query.projection.apply(&mut r);
                r
            })
            .collect();
        Ok(Page { total, resources })
    }

    /// Group memberships of many users at once: user id -> (group id, group name).
    async fn scim_memberships(
        &self,
        ids: impl Iterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, Vec<(Uuid, String)>>, ScimError> {
        let ids: Vec<Uuid> = ids.collect();
        let sql = format!(
            "SELECT gm.member_id, g.id, g.display_name FROM group_members gm \
             JOIN groups g ON g.id = gm.group_id AND g.deleted_at IS NULL \
             WHERE gm.member_id IN ({}) ORDER BY g.display_name COLLATE NOCASE",
            crate::db::placeholders(ids.len())
        );
        let mut query = crate::db::query_as::<(Uuid, Uuid, String)>(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        let mut out: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        for (member, group, name) in query.fetch_all(&self.db).await.map_err(Error::from)? {
            out.entry(member).or_default().push((group, name));
        }
        Ok(out)
    }

    /// Direct members of many groups at once.
    async fn scim_members(
        &self,
        ids: impl Iterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, Vec<Member>>, ScimError> {
        let ids: Vec<Uuid> = ids.collect();
        let sql = format!(
            "SELECT group_id, member_id, member_type FROM group_members WHERE group_id IN ({}) \
             ORDER BY member_type DESC, member_id",
            crate::db::placeholders(ids.len())
        );
        let mut query = crate::db::query_as::<(Uuid, Uuid, ObjectType)>(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        let mut out: HashMap<Uuid, Vec<Member>> = HashMap::new();
        for (group, id, member_type) in query.fetch_all(&self.db).await.map_err(Error::from)? {
            out.entry(group).or_default().push(Member {
                id,
                member_type,
                display_name: String::new(),
            });
        }
        Ok(out)
    }

    async fn scim_user(&self, id: &str) -> Result<User, ScimError> {
        let uuid = parse_id(ResourceKind::User, id)?;
        users::get(&self.db, uuid)
            .await?
            .filter(|u| u.deleted_at.is_none())
            .ok_or_else(|| ScimError::not_found("User", id))
    }

    async fn scim_group(&self, id: &str) -> Result<Group, ScimError> {
        let uuid = parse_id(ResourceKind::Group, id)?;
        groups::get(&self.db, uuid)
            .await?
            .filter(|g| g.deleted_at.is_none())
            .ok_or_else(|| ScimError::not_found("Group", id))
    }

    async fn render_user(&self, user: &User, base: &str) -> Result<Value, ScimError> {
        Ok(user_json(
            user,
            &groups::memberships(&self.db, user.id).await?,
            base,
        ))
    }

    async fn render_group(&self, group: &Group, base: &str) -> Result<Value, ScimError> {
        let members = self
            .scim_members(std::iter::once(group.id))
            .await?
            .remove(&group.id)
            .unwrap_or_default();
        Ok(group_json(group, &members, base))
    }

    /// `GET /{type}/{id}`: the resource and its version (for the ETag header).
    pub async fn scim_get(
        &self,
        kind: ResourceKind,
        id: &str,
        projection: &Projection,
        base: &str,
    ) -> Result<(Value, i64), ScimError> {
        let (mut resource, version) = match kind {
            ResourceKind::User => {
                let user = self.scim_user(id).await?;
                (self.render_user(&user, base).await?, user.version)
            }
            ResourceKind::Group => {
                let group = self.scim_group(id).await?;
                (self.render_group(&group, base).await?, group.version)
            }
        };
        projection.apply(&mut resource);
        Ok((resource, version))
    }

    /// `POST /{type}`.
    pub async fn scim_create(
        &self,
        caller: &Caller,
        kind: ResourceKind,
        body: &Value,
        base: &str,
    ) -> Result<(Value, i64), ScimError> {
        match kind {
            ResourceKind::User => {
                let user = self.create_user(caller, user_from_json(body)?).await?;
                Ok((self.render_user(&user, base).await?, user.version))
            }
            ResourceKind::Group => {
                let (profile, members) = group_from_json(body)?;
                let group = self.create_group(caller, profile, &members).await?;
                let group = self.group(group.id).await?;
                Ok((self.render_group(&group, base).await?, group.version))
            }
        }
    }

    /// `PUT /{type}/{id}`: the body replaces every attribute SCIM can see.
    pub async fn scim_replace(
        &self,
        caller: &Caller,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
        base: &str,
    ) -> Result<(Value, i64), ScimError> {
        self.scim_save(caller, kind, id, if_match, base, |_| Ok(body.clone()))
            .await
    }

    /// `PATCH /{type}/{id}`.
    pub async fn scim_patch(
        &self,
        caller: &Caller,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<i64>,
        base: &str,
    ) -> Result<(Value, i64), ScimError> {
        let operations = patch::parse(body)?;
        self.scim_save(caller, kind, id, if_match, base, |current| {
            let mut resource = current.clone();
            patch::apply(&mut resource, &operations, &USER_EXTENSIONS)?;
            Ok(resource)
        })
        .await
    }

    /// Reads the resource, computes its new representation from the current one, saves it. The
    /// save is conditional on the version read, so a concurrent write is never lost: with
    /// If-Match the client hears 412; without, the change is recomputed on the newer state.
    async fn scim_save(
        &self,
        caller: &Caller,
        kind: ResourceKind,
        id: &str,
        if_match: Option<i64>,
        base: &str,
        change: impl Fn(&Value) -> Result<Value, ScimError>,
    ) -> Result<(Value, i64), ScimError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = match kind {
                ResourceKind::User => {
                    let user = self.scim_user(id).await?;
                    let expected = if_match.unwrap_or(user.version);
                    let updated = change(&self.render_user(&user, base).await?)?;
                    let profile = user_from_json(&updated)?;
                    self.update_user(caller, user.id, profile, Some(expected))
                        .await
                        .map(|u| (u.id, u.version))
                }
                ResourceKind::Group => {
                    let group = self.scim_group(id).await?;
                    let expected = if_match.unwrap_or(group.version);
                    let updated = change(&self.render_group(&group, base).await?)?;
                    let (mut profile, members) = group_from_json(&updated)?;
                    profile.description = group.profile.description.clone();
                    profile.mail_nickname = group.profile.mail_nickname.clone();
                    self.update_group(caller, group.id, profile, Some(&members), Some(expected))
                        .await
                        .map(|g| (g.id, g.version))
                }
            };
            match result {
                Ok(_) => return self.scim_get(kind, id, &Projection::default(), base).await,
                Err(Error::VersionMismatch { .. }) if if_match.is_none() && attempts < 3 => {
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// `DELETE /{type}/{id}`: a soft delete, restorable from the console for 30 days.
    pub async fn scim_delete(
        &self,
        caller: &Caller,
        kind: ResourceKind,
        id: &str,
        if_match: Option<i64>,
    ) -> Result<(), ScimError> {
        match kind {
            ResourceKind::User => {
                let user = self.scim_user(id).await?;
                self.delete_user(caller, user.id, if_match).await?;
            }
            ResourceKind::Group => {
                let group = self.scim_group(id).await?;
                self.delete_group(caller, group.id, if_match).await?;
            }
        }
        Ok(())
    }
}

fn list_response(total: i64, query: &ListQuery, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": query.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
