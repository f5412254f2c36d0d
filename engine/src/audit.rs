//! The audit log: who changed what, when, from where, with the object before and after. Every
//! write in the engine takes a [`Caller`] and records its entry in the same transaction as the
//! change, so the log and the data cannot disagree.

use std::net::IpAddr;

use serde_json::Value;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Result;

/// Who is acting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An administrator signed in to the console.
    Account { id: Uuid, name: String },
    /// A machine token, acting for the user who owns it.
    Token { id: Uuid, owner: String },
    /// Scimitar itself (the daily purge, start-up tasks).
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

    fn parts(&self) -> (&'static str, Option<Uuid>, String) {
        match &self.actor {
            Actor::Account { id, name } => ("User", Some(*id), name.clone()),
            Actor::Token { id, owner } => ("Token", Some(*id), format!("token of {owner}")),
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
    db: &mut SqliteConnection,
    caller: &Caller,
    activity: &str,
    target: Target<'_>,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    let (actor_type, actor_id, actor_name) = caller.parts();
    sqlx::query(
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
