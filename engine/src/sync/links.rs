//! Links: which account in the target a directory object is, and the resource last sent to it,
//! so an update PATCHes only what changed. A link is written right after the target accepted
//! the object; a crash in between is healed by matching (the next cycle finds the account by its
//! matching attribute instead of creating it twice).

use std::collections::HashMap;

use crate::db::Pool;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub target_id: String,
    pub exported: Value,
    pub disabled: bool,
}

pub async fn get(db: &Pool, application: Uuid, source: Uuid) -> Result<Option<Link>> {
    let row: Option<(String, sqlx::types::Json<Value>, bool)> = crate::db::query_as(
        "SELECT target_id, exported, disabled FROM provisioning_links WHERE application_id = ? AND source_id = ?",
    )
    .bind(application)
    .bind(source)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(target_id, exported, disabled)| Link {
        target_id,
        exported: exported.0,
        disabled,
    }))
}

/// The links of the linked objects among `sources`.
pub async fn get_many(
    db: &Pool,
    application: Uuid,
    sources: &[Uuid],
) -> Result<HashMap<Uuid, Link>> {
    if sources.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT source_id, target_id, exported, disabled FROM provisioning_links WHERE application_id = ? \
         AND source_id IN ({})",
        crate::db::placeholders(sources.len())
    );
    let mut query = crate::db::query_as(&sql).bind(application);
    for source in sources {
        query = query.bind(source);
    }
    let rows: Vec<(Uuid, String, sqlx::types::Json<Value>, bool)> = query.fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(source, target_id, exported, disabled)| {
            let link = Link {
                target_id,
                exported: exported.0,
                disabled,
            };
            (source, link)
        })
        .collect())
}

pub async fn put(
    db: impl Into<crate::db::Exec<'_>>,
    application: Uuid,
    source: Uuid,
    object_type: &str,
    link: &Link,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO provisioning_links (application_id, source_id, object_type, target_id, exported, disabled, exported_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (application_id, source_id) DO UPDATE SET \
         target_id = excluded.target_id, exported = excluded.exported, disabled = excluded.disabled, exported_at = excluded.exported_at",
    )
    .bind(application)
    .bind(source)
    .bind(object_type)
    .bind(&link.target_id)
    .bind(sqlx::types::Json(&link.exported))
    .bind(link.disabled)
    .bind(OffsetDateTime::now_utc())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn remove(
    db: impl Into<crate::db::Exec<'_>>,
    application: Uuid,
    source: Uuid,
) -> Result<()> {
    crate::db::query("DELETE FROM provisioning_links WHERE application_id = ? AND source_id = ?")
        .bind(application)
        .bind(source)
        .execute(db)
        .await?;
    Ok(())
}

/// Every linked source object of one type, for cycles that must visit what left scope.
pub async fn linked(db: &Pool, application: Uuid, object_type: &str) -> Result<Vec<Uuid>> {
    Ok(crate::db::query_scalar(
        "SELECT source_id FROM provisioning_links WHERE application_id = ? AND object_type = ?",
    )
    .bind(application)
    .bind(object_type)
    .fetch_all(db)
    .await?)
}

/// How many source objects of one type are linked.
pub async fn count(db: &Pool, application: Uuid, object_type: &str) -> Result<usize> {
    let count: i64 = crate::db::query_scalar(
        "SELECT COUNT(*) FROM provisioning_links WHERE application_id = ? AND object_type = ?",
    )
    .bind(application)
    .bind(object_type)
    .fetch_one(db)
    .await?;
    Ok(count as usize)
}

/// How many of `sources` are linked.
pub async fn count_among(db: &Pool, application: Uuid, sources: &[Uuid]) -> Result<usize> {
    let mut linked = 0;
    for chunk in sources.chunks(500) {
        let sql = format!(
            "SELECT COUNT(*) FROM provisioning_links WHERE application_id = ? AND source_id IN ({})",
            crate::db::placeholders(chunk.len())
        );
        let mut query = crate::db::query_scalar(&sql).bind(application);
        for source in chunk {
            query = query.bind(source);
        }
        let count: i64 = query.fetch_one(db).await?;
        linked += count as usize;
    }
    Ok(linked)
}

/// Target ids of linked, enabled users, by source id (group members are sent by target id).
pub async fn target_ids(
    db: &Pool,
    application: Uuid,
    sources: &[Uuid],
) -> Result<Vec<(Uuid, String)>> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT source_id, target_id FROM provisioning_links WHERE application_id = ? AND NOT disabled \
         AND source_id IN ({})",
        crate::db::placeholders(sources.len())
    );
    let mut query = crate::db::query_as(&sql).bind(application);
    for source in sources {
        query = query.bind(source);
    }
    Ok(query.fetch_all(db).await?)
}
