//! Lists the console shows: sorted, searched, and paged by keyset (the last row's sort value and
//! id), so page 1,000 costs what page 1 costs. Searches match the start of a name, as the
//! portal's do, which the `COLLATE NOCASE` indexes serve.

use crate::db::Pool;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{groups::Group, users::User};
use crate::Result;

/// Where the previous page ended: its last row's sort value and id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub key: String,
    pub id: Uuid,
}

impl Cursor {
    /// A compact form for URLs: `<id>.<key>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.id.simple(), self.key)
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let (id, key) = text.split_once('.')?;
        Some(Cursor {
            id: Uuid::parse_str(id).ok()?,
            key: key.to_owned(),
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserSort {
    #[default]
    DisplayName,
    UserPrincipalName,
    Mail,
    Department,
}

impl UserSort {
    fn key(self) -> &'static str {
        match self {
            UserSort::DisplayName => "display_name",
            UserSort::UserPrincipalName => "user_principal_name",
            UserSort::Mail => "COALESCE(mail, '')",
            UserSort::Department => "COALESCE(department, '')",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub descending: bool,
    /// The page after this cursor...
    pub after: Option<Cursor>,
    /// ...or the page before this one ("Previous page"); `after` wins if both are given.
    pub before: Option<Cursor>,
    pub limit: u32,
    /// The "Deleted users/groups" view instead of the active objects.
    pub deleted: bool,
}

pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next: Option<Cursor>,
    /// The cursor of the previous page, if there is one.
    pub previous: Option<Cursor>,
    /// How many objects match, all pages together.
    pub total: i64,
}

/// Which rows a list may show before any search: the directory's active or deleted objects, or
/// (for applications) everything or only what one owner owns.
pub(crate) struct Base {
    pub clause: &'static str,
    pub bind: Option<Uuid>,
    /// The total without a search is the table's row of `directory_counts` (kept by triggers),
    /// not a count of a million rows on every page.
    pub counted: bool,
}

impl Base {
    fn directory(query: &ListQuery) -> Base {
        Base {
            clause: if query.deleted {
                "deleted_at IS NOT NULL"
            } else {
                "deleted_at IS NULL"
            },
            bind: None,
            counted: !query.deleted,
        }
    }
}

/// `WHERE` text and binds shared by the count and the page query.
struct Filter {
    text: String,
    binds: Vec<String>,
}

fn filter(query: &ListQuery, base: &Base, searchable: &[&str]) -> Filter {
    let mut text = base.clause.to_owned();
    let mut binds = Vec::new();
    if let Some(search) = query.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let clauses: Vec<String> = searchable
            .iter()
            .map(|c| format!("{c} LIKE ? ESCAPE '\\'"))
            .collect();
        text.push_str(&format!(" AND ({})", clauses.join(" OR ")));
        binds.extend(searchable.iter().map(|_| crate::db::like_prefix(search)));
    }
    Filter { text, binds }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn page<T>(
    db: &Pool,
    table: &str,
    columns: &str,
    key: &str,
    query: &ListQuery,
    base: Base,
    searchable: &[&str],
    key_of: impl Fn(&T) -> (String, Uuid),
) -> Result<Page<T>>
where
    T: crate::db::FromRow,
{
    let filter = filter(query, &base, searchable);
    let total = if base.counted && filter.binds.is_empty() {
        crate::db::query_scalar::<i64>("SELECT active FROM directory_counts WHERE object = ?")
            .bind(table)
            .fetch_one(db)
            .await?
    } else {
        let count_sql = format!("SELECT COUNT(*) FROM {table} WHERE {}", filter.text);
        let mut count = crate::db::query_scalar::<i64>(&count_sql);
        if let Some(id) = base.bind {
            count = count.bind(id);
        }
        for bind in &filter.binds {
            count = count.bind(bind);
        }
        count.fetch_one(db).await?
    };

    // Going back reads the rows before the cursor in reverse order, then turns them around.
    let (cursor, backwards) = match (&query.after, &query.before) {
        (Some(after), _) => (Some(after), false),
        (None, Some(before)) => (Some(before), true),
        (None, None) => (None, false),
    };
    let (op, direction) = if query.descending != backwards {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let mut text = filter.text.clone();
    if cursor.is_some() {
        text.push_str(&format!(
            " AND ({key} COLLATE NOCASE {op} ? OR ({key} COLLATE NOCASE = ? AND id {op} ?))"
        ));
    }
    let limit = query.limit.clamp(1, 500);
    let sql = format!(
        "SELECT {columns} FROM {table} WHERE {text} ORDER BY {key} COLLATE NOCASE {direction}, id {direction} LIMIT {}",
        limit + 1
    );
    let mut rows = crate::db::query_as::<T>(&sql);
    if let Some(id) = base.bind {
        rows = rows.bind(id);
    }
    for bind in &filter.binds {
        rows = rows.bind(bind);
    }
    if let Some(cursor) = cursor {
        rows = rows.bind(&cursor.key).bind(&cursor.key).bind(cursor.id);
    }
    let mut items = rows.fetch_all(db).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    if backwards {
        items.reverse();
    }
    let cursor_of = |item: Option<&T>| {
        item.map(|item| {
            let (key, id) = key_of(item);
            Cursor { key, id }
        })
    };
    // Forwards, a next page exists if a row was left over, and a previous one if we started
    // from a cursor; backwards, the other way round.
    let (next, previous) = if backwards {
        (
            cursor_of(items.last()),
            cursor_of(items.first()).filter(|_| more),
        )
    } else {
        (
            cursor_of(items.last()).filter(|_| more),
            cursor_of(items.first()).filter(|_| cursor.is_some()),
        )
    };
    Ok(Page {
        items,
        next,
        previous,
        total,
    })
}

pub async fn users(db: &Pool, query: &ListQuery, sort: UserSort) -> Result<Page<User>> {
    let key_of = move |u: &User| {
        let p = &u.profile;
        let key = match sort {
            UserSort::DisplayName => p.display_name.clone(),
            UserSort::UserPrincipalName => p.user_principal_name.clone(),
            UserSort::Mail => p.mail.clone().unwrap_or_default(),
            UserSort::Department => p.department.clone().unwrap_or_default(),
        };
        (key, u.id)
    };
    let searchable = [
        "display_name",
        "user_principal_name",
        "mail",
        "department",
        "given_name",
        "surname",
    ];
    page(
        db,
        "users",
        super::users::COLUMNS,
        sort.key(),
        query,
        Base::directory(query),
        &searchable,
        key_of,
    )
    .await
}

pub async fn groups(db: &Pool, query: &ListQuery) -> Result<Page<Group>> {
    let key_of = |g: &Group| (g.profile.display_name.clone(), g.id);
    page(
        db,
        "groups",
        super::groups::COLUMNS,
        "display_name",
        query,
        Base::directory(query),
        &["display_name", "mail_nickname"],
        key_of,
    )
    .await
}
