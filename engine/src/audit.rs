//! The audit log: who changed what, when, from where, with the object before and after. Every
//! write in the engine takes a [`Caller`] and records its entry in the same transaction as the
//! change, so the log and the data cannot disagree.

use std::net::IpAddr;

use crate::db::Tx;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Error, Result,
    accounts::{Account, Permission, Role},
};

/// Who is acting, with the role they act with (docs/roles.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An administrator signed in to the console.
    Account { id: Uuid, name: String, role: Role },
    /// A machine token, acting for the account that owns it, with its role.
    Token {
        id: Uuid,
        owner: String,
        owner_id: Uuid,
        role: Role,
    },
    /// Scimitar itself (the daily purge, start-up tasks, the command line).
    System,
}

/// The actor and the client address a change came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub client: Option<IpAddr>,
}

impl Caller {
    pub fn system() -> Caller {
        Caller {
            actor: Actor::System,
            client: None,
        }
    }

    /// `account`, signed in to the console, from `client`.
    pub fn account(account: &Account, client: Option<IpAddr>) -> Caller {
        Caller {
            actor: Actor::Account {
                id: account.id,
                name: account.user_principal_name.clone(),
                role: account.role,
            },
            client,
        }
    }

    /// The console account acting, itself or through its token; none for Scimitar itself.
    pub fn account_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::Account { id, .. } => Some(*id),
            Actor::Token { owner_id, .. } => Some(*owner_id),
            Actor::System => None,
        }
    }

    /// Refuses what the caller's role does not allow (docs/roles.md). Every engine write that
    /// is not about one application checks here; application writes check the account's access
    /// to that application (`Engine::application_for`). Scimitar itself may do anything.
    pub fn require(&self, permission: Permission) -> Result<()> {
        let role = match &self.actor {
            Actor::Account { role, .. } | Actor::Token { role, .. } => *role,
            Actor::System => return Ok(()),
        };
        if role.allows(permission) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    fn parts(&self) -> (&'static str, Option<Uuid>, String) {
        match &self.actor {
            Actor::Account { id, name, .. } => ("User", Some(*id), name.clone()),
            Actor::Token { id, owner, .. } => ("Token", Some(*id), format!("token of {owner}")),
            Actor::System => ("System", None, "Scimitar".to_owned()),
        }
    }
}

/// What a change was made to.
pub struct Target<'a> {
    pub kind: &'static str,
    pub id: Option<Uuid>,
    pub name: &'a str,
}

pub async fn record(
    db: &mut Tx,
    caller: &Caller,
    activity: &str,
    target: Target<'_>,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let (actor_type, actor_id, actor_name) = caller.parts();
    crate::db::query(
        "INSERT INTO audit_log (at, actor_type, actor_id, actor_name, activity, target_type, target_id, \
         target_name, before, after, client_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(OffsetDateTime::now_utc())
    .bind(actor_type)
    .bind(actor_id)
    .bind(actor_name)
    .bind(activity)
    .bind(target.kind)
    .bind(target.id)
    .bind(target.name)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .bind(caller.client.map(|ip| ip.to_string()))
    .execute(db)
    .await?;
    Ok(())
}

/// One line of the audit log, as the Audit logs blade shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_type: String,
    pub actor_name: String,
    pub activity: String,
    pub target_type: String,
    pub target_name: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub client_address: Option<String>,
}

/// Filters of the Audit logs blade; entries come newest first, paged by id.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Start of the actor's name.
    pub actor: Option<String>,
    /// Start of the target's name.
    pub target: Option<String>,
    pub activity: Option<String>,
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub until: Option<OffsetDateTime>,
    /// Only entries made by this actor (Application Owners see their own changes).
    pub only_actor_id: Option<Uuid>,
    /// Keyset: entries older than this id.
    pub before: Option<i64>,
    pub limit: u32,
}

pub struct Page {
    pub entries: Vec<Entry>,
    /// The `before` of the next (older) page.
    pub next: Option<i64>,
}

pub async fn list(db: &crate::db::Pool, query: &Query) -> Result<Page> {
    let mut sql = crate::db::QueryBuilder::new(
        "SELECT id, at, actor_type, actor_name, activity, target_type, target_name, before, after, client_address \
         FROM audit_log WHERE TRUE",
    );
    if let Some(actor) = query.actor.as_deref().filter(|s| !s.trim().is_empty()) {
        sql.push(" AND actor_name LIKE ")
            .push_bind(crate::db::like_prefix(actor))
            .push(" ESCAPE '\\'");
    }
    if let Some(target) = query.target.as_deref().filter(|s| !s.trim().is_empty()) {
        sql.push(" AND target_name LIKE ")
            .push_bind(crate::db::like_prefix(target))
            .push(" ESCAPE '\\'");
    }
    if let Some(activity) = query.activity.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" AND activity = ").push_bind(activity.to_owned());
    }
    if let Some(from) = query.from {
        sql.push(" AND at >= ").push_bind(from);
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").push_bind(until);
    }
    if let Some(actor) = query.only_actor_id {
        sql.push(" AND actor_id = ").push_bind(actor);
    }
    if let Some(before) = query.before {
        sql.push(" AND id < ").push_bind(before);
    }
    let (entries, next) = crate::db::newest_first(sql, query.limit, db, |e: &Entry| e.id).await?;
    Ok(Page { entries, next })
}

/// The activities that occur in the log, for the blade's filter.
pub async fn activities(db: &crate::db::Pool) -> Result<Vec<String>> {
    Ok(
        crate::db::query_scalar("SELECT DISTINCT activity FROM audit_log ORDER BY activity")
            .fetch_all(db)
            .await?,
    )
}
