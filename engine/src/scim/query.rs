//! List requests: `filter`, `startIndex`/`count`, `sortBy`/`sortOrder`, `attributes` and
//! `excludedAttributes`, from a query string or a `.search` body. Filters become SQL over the
//! directory's columns (so `userName eq "..."` is one index lookup, not a scan), and projection
//! trims the rendered JSON.
//!
//! Parameters are hostile input: filters are bounded by the parser (see `filter`), the SQL writer
//! writes a run of `or`s (or `and`s) as one flat list, without recursing along it, and refuses a
//! tree deeper than a parsed filter can be; numbers beyond range are clamped, not refused.

use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{
    ENTERPRISE_USER, GROUP, MAX_PAGE, SCIMITAR_USER, ScimError, USER, USER_EXTENSIONS,
    filter::{AttrPath, CompValue, CompareOp, Filter, MAX_TREE_DEPTH, ScimFilter},
    shown,
};

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub filter: Option<ScimFilter>,
    /// 1-based, as in the protocol.
    pub start_index: u32,
    pub count: u32,
    pub sort_by: Option<String>,
    pub descending: bool,
    pub projection: Projection,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl Projection {
    pub fn from_params(attributes: Option<&str>, excluded: Option<&str>) -> Projection {
        Projection {
            attributes: list(attributes),
            excluded: list(excluded),
        }
    }

    pub fn excludes(&self, attribute: &str) -> bool {
        let named = |list: &[String]| {
            list.iter()
                .any(|a| short_name(a).eq_ignore_ascii_case(attribute))
        };
        named(&self.excluded) || (!self.attributes.is_empty() && !named(&self.attributes))
    }

    /// Keeps what was asked (plus `id` and `schemas`, always returned) and drops what was excluded.
    pub fn apply(&self, resource: &mut Value) {
        let Some(object) = resource.as_object_mut() else {
            return;
        };
        if !self.attributes.is_empty() {
            let mut kept = Map::new();
            for (key, value) in object.iter() {
                if key == "id" || key == "schemas" {
                    kept.insert(key.clone(), value.clone());
                    continue;
                }
                for wanted in &self.attributes {
                    if let Some(picked) = pick(key, value, wanted) {
                        merge_into(&mut kept, key, picked);
                    }
                }
            }
            *object = kept;
        }
        for unwanted in &self.excluded {
            drop_attribute(object, unwanted);
        }
    }
}

/// `urn:...:User:name.givenName` -> (Some(urn), "name", Some("givenName")).
fn split(attribute: &str) -> (Option<&str>, &str, Option<&str>) {
    let (schema, rest) = match attribute.rfind(':') {
        Some(i) => (Some(&attribute[..i]), &attribute[i + 1..]),
        None => (None, attribute),
    };
    match rest.split_once('.') {
        Some((name, sub)) => (schema, name, Some(sub)),
        None => (schema, rest, None),
    }
}

fn short_name(attribute: &str) -> &str {
    split(attribute).1
}

/// The part of `key: value` that `wanted` asks for, if any.
fn pick(key: &str, value: &Value, wanted: &str) -> Option<Value> {
    if wanted.eq_ignore_ascii_case(key) {
        return Some(value.clone());
    }
    let (schema, name, sub) = split(wanted);
    let extension = USER_EXTENSIONS
        .iter()
        .find(|urn| key.eq_ignore_ascii_case(urn));
    let is_extension = extension.is_some();
    match schema {
        Some(s) if extension.is_some_and(|urn| s.eq_ignore_ascii_case(urn)) => {
            let inner = value.as_object()?;
            let (k, v) = inner.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
            let v = match sub {
                Some(sub) => sub_value(v, sub)?,
                None => v.clone(),
            };
            Some(Value::Object(Map::from_iter([(k.clone(), v)])))
        }
        Some(s) if !(s.eq_ignore_ascii_case(USER) || s.eq_ignore_ascii_case(GROUP)) => None,
        _ if is_extension => None,
        _ if name.eq_ignore_ascii_case(key) => match sub {
            Some(sub) => sub_value(value, sub),
            None => Some(value.clone()),
        },
        _ => None,
    }
}

/// `sub` of a complex value, or of each value of a multi-valued one.
fn sub_value(value: &Value, sub: &str) -> Option<Value> {
    let one = |v: &Value| -> Option<Value> {
        let (k, inner) = v
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(sub))?;
        Some(Value::Object(Map::from_iter([(k.clone(), inner.clone())])))
    };
    match value {
        Value::Array(items) => Some(Value::Array(items.iter().filter_map(one).collect())),
        other => one(other),
    }
}

fn merge_into(target: &mut Map<String, Value>, key: &str, picked: Value) {
    match (target.get_mut(key), picked) {
        (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
        (_, picked) => {
            target.insert(key.to_owned(), picked);
        }
    }
}

fn drop_attribute(object: &mut Map<String, Value>, unwanted: &str) {
    let (schema, name, sub) = split(unwanted);
    let extension = schema.and_then(|s| {
        USER_EXTENSIONS
            .iter()
            .find(|urn| s.eq_ignore_ascii_case(urn))
    });
    let container = if let Some(urn) = extension {
        match object.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(urn)) {
            Some((_, Value::Object(inner))) => inner,
            _ => return,
        }
    } else {
        &mut *object
    };
    let Some(key) = container
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
    else {
        return;
    };
    if key == "id" || key == "schemas" {
        return;
    }
    match sub {
        None => {
            container.remove(&key);
        }
        Some(sub) => {
            let strip = |v: &mut Value| {
                if let Some(o) = v.as_object_mut() {
                    o.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            };
            match container.get_mut(&key) {
                Some(Value::Array(items)) => items.iter_mut().for_each(strip),
                Some(other) => strip(other),
                None => {}
            }
        }
    }
}

impl ListQuery {
    /// Reads the protocol's parameters by name (query string or `.search` body).
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Result<ListQuery, ScimError> {
        let number = |name: &str, default: u32| -> Result<u32, ScimError> {
            use std::num::IntErrorKind;
            let Some(v) = get(name) else {
                return Ok(default);
            };
            let text = v.trim();
            // Too many digits for an i64 is still a whole number, clamped like the others.
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            let whole = digits.bytes().all(|b| b.is_ascii_digit());
            match text.parse::<i64>() {
                Ok(n) => Ok(n.clamp(0, i64::from(u32::MAX)) as u32),
                Err(e) if whole && *e.kind() == IntErrorKind::PosOverflow => Ok(u32::MAX),
                Err(e) if whole && *e.kind() == IntErrorKind::NegOverflow => Ok(0),
                Err(_) => Err(ScimError::invalid_value(format!(
                    "{name} must be a whole number, not {}",
                    shown(&v)
                ))),
            }
        };
        let filter = get("filter")
            .filter(|f| !f.trim().is_empty())
            .map(|f| ScimFilter::parse(&f))
            .transpose()?;
        let descending = match get("sortOrder").map(|o| o.to_ascii_lowercase()).as_deref() {
            None | Some("ascending") => false,
            Some("descending") => true,
            Some(other) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder must be ascending or descending, not {}",
                    shown(other)
                )));
            }
        };
        Ok(ListQuery {
            filter,
            // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1; count is capped, not refused.
            start_index: number("startIndex", 1)?.max(1),
            count: number("count", MAX_PAGE)?.min(MAX_PAGE),
            sort_by: get("sortBy").filter(|s| !s.trim().is_empty()),
            descending,
            projection: Projection::from_params(
                get("attributes").as_deref(),
                get("excludedAttributes").as_deref(),
            ),
        })
    }
}

/// A value bound to a `?` placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    Text(String),
    /// Ids are stored as 16-byte blobs.
    Uuid(uuid::Uuid),
    Bool(bool),
    Time(OffsetDateTime),
}

/// A SQL condition and its bound values, in placeholder order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    /// An id: compared as a UUID, with eq or ne only.
    Id,
    Bool,
    Time,
}

/// One place an attribute's value can be: a SQL expression, and whether it is present there.
#[derive(Clone, Copy)]
struct Column {
    expr: &'static str,
    kind: Kind,
}

/// Rows of a multi-valued attribute that lives in columns (a user's one email, two phones).
struct VirtualRow {
    present: &'static str,
    attributes: &'static [(&'static str, Column)],
}

/// The relation a multi-valued attribute lives in (a group's members).
struct Related {
    /// `EXISTS (SELECT 1 FROM ... WHERE <link> AND <condition>)`
    from: &'static str,
    attributes: &'static [(&'static str, Column)],
}

enum Attribute {
    Columns(&'static [Column]),
    Rows(&'static [VirtualRow]),
    Related(Related),
}

/// What can be filtered and sorted on, for one resource type.
pub struct Table {
    resolve: fn(&str) -> Option<Attribute>,
    pub(crate) default_order: &'static str,
}

fn user_attribute(key: &str) -> Option<Attribute> {
    const EMAILS: &[VirtualRow] = &[VirtualRow {
        present: "users.mail IS NOT NULL",
        attributes: &[
            (
                "value",
                Column {
                    expr: "users.mail",
                    kind: Kind::Text,
                },
            ),
            (
                "type",
                Column {
                    expr: "'work'",
                    kind: Kind::Text,
                },
            ),
        ],
    }];
    const PHONES: &[VirtualRow] = &[
        VirtualRow {
            present: "users.telephone_number IS NOT NULL",
            attributes: &[
                (
                    "value",
                    Column {
                        expr: "users.telephone_number",
                        kind: Kind::Text,
                    },
                ),
                (
                    "type",
                    Column {
                        expr: "'work'",
                        kind: Kind::Text,
                    },
                ),
            ],
        },
        VirtualRow {
            present: "users.mobile IS NOT NULL",
            attributes: &[
                (
                    "value",
                    Column {
                        expr: "users.mobile",
                        kind: Kind::Text,
                    },
                ),
                (
                    "type",
                    Column {
                        expr: "'mobile'",
                        kind: Kind::Text,
                    },
                ),
            ],
        },
    ];
    let columns = |c: &'static [Column]| Some(Attribute::Columns(c));
    match key {
        "id" => columns(&[Column {
            expr: "users.id",
            kind: Kind::Id,
        }]),
        "externalid" => columns(&[Column {
            expr: "users.external_id",
            kind: Kind::Text,
        }]),
        "username" => columns(&[Column {
            expr: "users.user_principal_name",
            kind: Kind::Text,
        }]),
        "displayname" => columns(&[Column {
            expr: "NULLIF(users.display_name, '')",
            kind: Kind::Text,
        }]),
        "name.givenname" => columns(&[Column {
            expr: "users.given_name",
            kind: Kind::Text,
        }]),
        "name.familyname" => columns(&[Column {
            expr: "users.surname",
            kind: Kind::Text,
        }]),
        "active" => columns(&[Column {
            expr: "users.account_enabled",
            kind: Kind::Bool,
        }]),
        "title" => columns(&[Column {
            expr: "users.job_title",
            kind: Kind::Text,
        }]),
        "preferredlanguage" => columns(&[Column {
            expr: "users.preferred_language",
            kind: Kind::Text,
        }]),
        "employeenumber" => columns(&[Column {
            expr: "users.employee_id",
            kind: Kind::Text,
        }]),
        "mailnickname" => columns(&[Column {
            expr: "users.mail_nickname",
            kind: Kind::Text,
        }]),
        "extensionattribute1" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute1')",
            kind: Kind::Text,
        }]),
        "extensionattribute2" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute2')",
            kind: Kind::Text,
        }]),
        "extensionattribute3" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute3')",
            kind: Kind::Text,
        }]),
        "extensionattribute4" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute4')",
            kind: Kind::Text,
        }]),
        "extensionattribute5" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute5')",
            kind: Kind::Text,
        }]),
        "extensionattribute6" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute6')",
            kind: Kind::Text,
        }]),
        "extensionattribute7" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute7')",
            kind: Kind::Text,
        }]),
        "extensionattribute8" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute8')",
            kind: Kind::Text,
        }]),
        "extensionattribute9" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute9')",
            kind: Kind::Text,
        }]),
        "extensionattribute10" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute10')",
            kind: Kind::Text,
        }]),
        "extensionattribute11" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute11')",
            kind: Kind::Text,
        }]),
        "extensionattribute12" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute12')",
            kind: Kind::Text,
        }]),
        "extensionattribute13" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute13')",
            kind: Kind::Text,
        }]),
        "extensionattribute14" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute14')",
            kind: Kind::Text,
        }]),
        "extensionattribute15" => columns(&[Column {
            expr: "(users.extension_attributes ->> 'extensionAttribute15')",
            kind: Kind::Text,
        }]),
        "department" => columns(&[Column {
            expr: "users.department",
            kind: Kind::Text,
        }]),
        "manager" | "manager.value" => columns(&[Column {
            expr: "users.manager_id",
            kind: Kind::Id,
        }]),
        "meta.created" => columns(&[Column {
            expr: "users.created_at",
            kind: Kind::Time,
        }]),
        "meta.lastmodified" => columns(&[Column {
            expr: "users.updated_at",
            kind: Kind::Time,
        }]),
        "emails" | "emails.value" => columns(&[Column {
            expr: "users.mail",
            kind: Kind::Text,
        }]),
        "emails.type" => columns(&[Column {
            expr: "CASE WHEN users.mail IS NOT NULL THEN 'work' END",
            kind: Kind::Text,
        }]),
        "phonenumbers" | "phonenumbers.value" => columns(&[
            Column {
                expr: "users.telephone_number",
                kind: Kind::Text,
            },
            Column {
                expr: "users.mobile",
                kind: Kind::Text,
            },
        ]),
        "emails[]" => Some(Attribute::Rows(EMAILS)),
        "phonenumbers[]" => Some(Attribute::Rows(PHONES)),
        "groups" | "groups.value" | "groups[]" => Some(Attribute::Related(Related {
            from: "group_members gm WHERE gm.member_id = users.id",
            attributes: &[(
                "value",
                Column {
                    expr: "gm.group_id",
                    kind: Kind::Id,
                },
            )],
        })),
        _ => None,
    }
}

fn group_attribute(key: &str) -> Option<Attribute> {
    let columns = |c: &'static [Column]| Some(Attribute::Columns(c));
    match key {
        "id" => columns(&[Column {
            expr: "groups.id",
            kind: Kind::Id,
        }]),
        "externalid" => columns(&[Column {
            expr: "groups.external_id",
            kind: Kind::Text,
        }]),
        "displayname" => columns(&[Column {
            expr: "groups.display_name",
            kind: Kind::Text,
        }]),
        "meta.created" => columns(&[Column {
            expr: "groups.created_at",
            kind: Kind::Time,
        }]),
        "meta.lastmodified" => columns(&[Column {
            expr: "groups.updated_at",
            kind: Kind::Time,
        }]),
        "members" | "members.value" | "members[]" | "members.type" => {
            Some(Attribute::Related(Related {
                from: "group_members m WHERE m.group_id = groups.id",
                attributes: &[
                    (
                        "value",
                        Column {
                            expr: "m.member_id",
                            kind: Kind::Id,
                        },
                    ),
                    (
                        "type",
                        Column {
                            expr: "m.member_type",
                            kind: Kind::Text,
                        },
                    ),
                ],
            }))
        }
        _ => None,
    }
}

pub const USERS: Table = Table {
    resolve: user_attribute,
    default_order: "users.rowid",
};
pub const GROUPS: Table = Table {
    resolve: group_attribute,
    default_order: "groups.rowid",
};

/// The lookup key of a path: `name[.sub]` lowercased; the core schema prefix and the enterprise
/// extension's are accepted (extension attributes have unique names here).
fn key_of(path: &AttrPath) -> Result<String, ScimError> {
    if let Some(schema) = &path.schema {
        let known = [USER, GROUP, ENTERPRISE_USER, SCIMITAR_USER]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(schema));
        if !known {
            return Err(ScimError::new(
                400,
                Some("invalidFilter"),
                format!("unknown schema {schema}"),
            ));
        }
    }
    Ok(path.key())
}

impl Table {
    pub fn condition(&self, filter: &ScimFilter) -> Result<Sql, ScimError> {
        let mut sql = Sql::default();
        self.write(&filter.0, &mut sql, None, 0)?;
        Ok(sql)
    }

    /// The column to sort by for `sortBy`, if it is one we can sort on.
    /// What `ORDER BY` sorts by for `sortBy`: text without regard to case, as filters compare.
    pub fn sort_column(&self, sort_by: &str) -> Result<String, ScimError> {
        let path = super::filter::PatchPath::parse(sort_by)
            .map_err(|e| ScimError::invalid_value(format!("sortBy: {e}")))?;
        match (self.resolve)(&key_of(&path.attr)?) {
            Some(Attribute::Columns([column, ..])) => Ok(match column.kind {
                Kind::Text => format!("{} COLLATE NOCASE", column.expr),
                _ => column.expr.to_owned(),
            }),
            _ => Err(ScimError::invalid_value(format!(
                "cannot sort by {}",
                shown(sort_by)
            ))),
        }
    }

    /// Writes `filter` as SQL. Inside a value path, `scope` maps sub-attribute names to columns.
    /// `depth` is how many calls up this one is; a parsed filter never gets past `MAX_TREE_DEPTH`.
    fn write(
        &self,
        filter: &Filter,
        sql: &mut Sql,
        scope: Option<&[(&str, Column)]>,
        depth: usize,
    ) -> Result<(), ScimError> {
        if depth > MAX_TREE_DEPTH {
            return Err(ScimError::new(
                400,
                Some("invalidFilter"),
                "the filter nests too deeply to be searched",
            ));
        }
        match filter {
            Filter::Or(..) | Filter::And(..) => {
                let (joiner, operands) = match filter {
                    Filter::Or(..) => (" OR ", operands(filter, |f| matches!(f, Filter::Or(..)))),
                    _ => (" AND ", operands(filter, |f| matches!(f, Filter::And(..)))),
                };
                sql.text.push('(');
                for (i, operand) in operands.into_iter().enumerate() {
                    if i > 0 {
                        sql.text.push_str(joiner);
                    }
                    self.write(operand, sql, scope, depth + 1)?;
                }
                sql.text.push(')');
            }
            Filter::Not(inner) => {
                sql.text.push_str("NOT COALESCE((");
                self.write(inner, sql, scope, depth + 1)?;
                sql.text.push_str("), FALSE)");
            }
            Filter::Present(path) | Filter::Compare(path, ..) => {
                let columns: Vec<Column> = match scope {
                    Some(scope) => {
                        let key = path.name.to_ascii_lowercase();
                        scope
                            .iter()
                            .filter(|(name, _)| *name == key)
                            .map(|(_, c)| *c)
                            .collect()
                    }
                    None => match (self.resolve)(&key_of(path)?) {
                        Some(Attribute::Columns(columns)) => columns.to_vec(),
                        Some(Attribute::Related(related)) => {
                            // `members eq "id"` / `members pr`: about the related rows' values.
                            let inner = match filter {
                                Filter::Present(_) => Filter::Present(AttrPath {
                                    schema: None,
                                    name: "value".into(),
                                    sub: None,
                                }),
                                Filter::Compare(p, op, v) => Filter::Compare(
                                    AttrPath {
                                        schema: None,
                                        name: p.sub.clone().unwrap_or_else(|| "value".into()),
                                        sub: None,
                                    },
                                    *op,
                                    v.clone(),
                                ),
                                _ => unreachable!("matched above"),
                            };
                            return self.write_related(&related, &inner, sql, depth);
                        }
                        _ => Vec::new(),
                    },
                };
                if columns.is_empty() {
                    return Err(ScimError::new(
                        400,
                        Some("invalidFilter"),
                        format!("unknown attribute {path}"),
                    ));
                }
                sql.text.push('(');
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        sql.text.push_str(" OR ");
                    }
                    match filter {
                        Filter::Present(_) if column.kind == Kind::Text => {
                            sql.text
                                .push_str(&format!("({0} IS NOT NULL AND {0} <> '')", column.expr));
                        }
                        Filter::Present(_) => {
                            sql.text.push_str(&format!("({} IS NOT NULL)", column.expr));
                        }
                        Filter::Compare(_, op, value) => compare(column, *op, value, sql)?,
                        _ => unreachable!("matched above"),
                    }
                }
                sql.text.push(')');
            }
            Filter::ValuePath {
                attr,
                filter: inner,
            } => {
                if scope.is_some() {
                    return Err(ScimError::new(
                        400,
                        Some("invalidFilter"),
                        "value paths cannot nest",
                    ));
                }
                let key = format!("{}[]", key_of(attr)?);
                match (self.resolve)(&key) {
                    Some(Attribute::Rows(rows)) => {
                        sql.text.push('(');
                        for (i, row) in rows.iter().enumerate() {
                            if i > 0 {
                                sql.text.push_str(" OR ");
                            }
                            sql.text.push_str(&format!("({} AND ", row.present));
                            self.write(inner, sql, Some(row.attributes), depth + 1)?;
                            sql.text.push(')');
                        }
                        sql.text.push(')');
                    }
                    Some(Attribute::Related(related)) => {
                        self.write_related(&related, inner, sql, depth)?
                    }
                    _ => {
                        return Err(ScimError::new(
                            400,
                            Some("invalidFilter"),
                            format!("{attr} is not a multi-valued attribute"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn write_related(
        &self,
        related: &Related,
        inner: &Filter,
        sql: &mut Sql,
        depth: usize,
    ) -> Result<(), ScimError> {
        sql.text
            .push_str(&format!("EXISTS (SELECT 1 FROM {} AND ", related.from));
        self.write(inner, sql, Some(related.attributes), depth + 1)?;
        sql.text.push(')');
        Ok(())
    }
}

/// The operands of a run of `or`s (or `and`s: `same` says which), in order: `a or b or c` is a
/// left-deep tree, walked here with a stack of its own rather than by recursion.
fn operands(filter: &Filter, same: impl Fn(&Filter) -> bool) -> Vec<&Filter> {
    let mut out = Vec::new();
    let mut pending = vec![filter];
    while let Some(next) = pending.pop() {
        match next {
            Filter::Or(a, b) | Filter::And(a, b) if same(next) => {
                pending.push(b);
                pending.push(a);
            }
            other => out.push(other),
        }
    }
    out
}

fn like_pattern(value: &str, prefix: &str, suffix: &str) -> String {
    format!("{prefix}{}{suffix}", crate::db::like_escaped(value))
}

fn compare(
    column: &Column,
    op: CompareOp,
    value: &CompValue,
    sql: &mut Sql,
) -> Result<(), ScimError> {
    let expr = column.expr;
    let wrong = |expected: &str| {
        ScimError::new(
            400,
            Some("invalidFilter"),
            format!("{expr_name} needs {expected}", expr_name = "this attribute"),
        )
    };
    if let CompValue::Null = value {
        return match op {
            CompareOp::Eq => {
                sql.text.push_str(&format!("({expr} IS NULL)"));
                Ok(())
            }
            CompareOp::Ne => {
                sql.text.push_str(&format!("({expr} IS NOT NULL)"));
                Ok(())
            }
            _ => Err(ScimError::new(
                400,
                Some("invalidFilter"),
                "null can only be compared with eq or ne",
            )),
        };
    }
    let (bind, collate) = match (column.kind, value) {
        (Kind::Text, CompValue::String(s)) => (Bind::Text(s.clone()), " COLLATE NOCASE"),
        (Kind::Id, CompValue::String(s)) => {
            let matches_nothing = !matches!(op, CompareOp::Ne);
            match uuid::Uuid::parse_str(s.trim()) {
                Ok(id) if matches!(op, CompareOp::Eq | CompareOp::Ne) => (Bind::Uuid(id), ""),
                Ok(_) => {
                    return Err(ScimError::new(
                        400,
                        Some("invalidFilter"),
                        "ids compare with eq or ne only",
                    ));
                }
                // Not an id at all: `id eq "x"` matches nothing, `id ne "x"` everything.
                Err(_) => {
                    sql.text
                        .push_str(if matches_nothing { "(FALSE)" } else { "(TRUE)" });
                    return Ok(());
                }
            }
        }
        (Kind::Bool, CompValue::Bool(b)) => (Bind::Bool(*b), ""),
        (Kind::Bool, CompValue::String(s))
            if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
        {
            (Bind::Bool(s.eq_ignore_ascii_case("true")), "")
        }
        (Kind::Time, CompValue::String(s)) => {
            let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
                ScimError::new(
                    400,
                    Some("invalidFilter"),
                    format!("{s:?} is not an RFC 3339 date-time"),
                )
            })?;
            (Bind::Time(t.to_offset(time::UtcOffset::UTC)), "")
        }
        (Kind::Bool, _) => return Err(wrong("true or false")),
        (Kind::Time, _) => return Err(wrong("a date-time string")),
        (_, _) => return Err(wrong("a string")),
    };
    let text = |b: &Bind| {
        if let Bind::Text(s) = b {
            s.clone()
        } else {
            String::new()
        }
    };
    let (operator, bind) = match op {
        CompareOp::Eq => ("=", bind),
        CompareOp::Ne => ("<>", bind),
        CompareOp::Gt => (">", bind),
        CompareOp::Ge => (">=", bind),
        CompareOp::Lt => ("<", bind),
        CompareOp::Le => ("<=", bind),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew if column.kind == Kind::Text => {
            let s = text(&bind);
            let pattern = match op {
                CompareOp::Co => like_pattern(&s, "%", "%"),
                CompareOp::Sw => like_pattern(&s, "", "%"),
                _ => like_pattern(&s, "%", ""),
            };
            sql.text.push_str(&format!("({expr} LIKE ? ESCAPE '\\')"));
            sql.binds.push(Bind::Text(pattern));
            return Ok(());
        }
        _ => {
            return Err(ScimError::new(
                400,
                Some("invalidFilter"),
                "co, sw and ew compare strings only",
            ));
        }
    };
    if op == CompareOp::Ne {
        sql.text
            .push_str(&format!("({expr} IS NULL OR {expr} {operator} ?{collate})"));
    } else {
        sql.text
            .push_str(&format!("({expr} {operator} ?{collate})"));
    }
    sql.binds.push(bind);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_sql(filter: &str) -> Sql {
        USERS
            .condition(&ScimFilter::parse(filter).unwrap())
            .unwrap()
    }

    #[test]
    fn simple_comparisons_use_the_columns() {
        let sql = user_sql("userName eq \"Ada@Contoso.com\"");
        assert_eq!(sql.text, "((users.user_principal_name = ? COLLATE NOCASE))");
        assert_eq!(sql.binds, vec![Bind::Text("Ada@Contoso.com".into())]);
        let sql = user_sql("active eq false and not (title pr)");
        assert!(
            sql.text.contains("users.account_enabled = ?") && sql.text.contains("NOT COALESCE"),
            "{}",
            sql.text
        );
        let sql = user_sql("name.familyName sw \"50%\"");
        assert_eq!(sql.binds, vec![Bind::Text("50\\%%".into())]);
    }

    #[test]
    fn value_paths_become_virtual_rows_or_subqueries() {
        let sql = user_sql("emails[type eq \"work\" and value co \"@contoso\"]");
        assert!(
            sql.text
                .starts_with("((users.mail IS NOT NULL AND ((('work' = ? COLLATE NOCASE))"),
            "{}",
            sql.text
        );
        assert!(sql.text.contains("users.mail LIKE ?"), "{}", sql.text);
        let sql = user_sql("phoneNumbers[type eq \"mobile\"].value eq \"+1\"");
        assert!(
            sql.text.contains("users.mobile IS NOT NULL"),
            "{}",
            sql.text
        );
        let group = GROUPS
            .condition(
                &ScimFilter::parse("members[value eq \"00000000-0000-0000-0000-000000000000\"]")
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(
            group.text,
            "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = groups.id AND ((m.member_id = ?)))"
        );
        assert_eq!(group.binds, vec![Bind::Uuid(uuid::Uuid::nil())]);
    }

    #[test]
    fn unknown_attributes_and_wrong_types_are_invalid_filters() {
        let err = USERS
            .condition(&ScimFilter::parse("nickName eq \"x\"").unwrap())
            .unwrap_err();
        assert_eq!((err.status, err.scim_type), (400, Some("invalidFilter")));
        assert!(err.detail.contains("nickName"), "{}", err.detail);
        let err = USERS
            .condition(&ScimFilter::parse("active eq \"maybe\"").unwrap())
            .unwrap_err();
        assert_eq!(err.scim_type, Some("invalidFilter"));
        let err = USERS
            .condition(&ScimFilter::parse("meta.created gt \"yesterday\"").unwrap())
            .unwrap_err();
        assert!(err.detail.contains("RFC 3339"), "{}", err.detail);
    }

    #[test]
    fn list_parameters_are_read_and_bounded() {
        let params = |pairs: &'static [(&'static str, &'static str)]| {
            ListQuery::from_params(|name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        let query = params(&[
            ("startIndex", "0"),
            ("count", "5000"),
            ("sortOrder", "descending"),
        ])
        .unwrap();
        assert_eq!(
            (query.start_index, query.count, query.descending),
            (1, MAX_PAGE, true)
        );
        assert_eq!(
            params(&[("count", "ten")]).unwrap_err().scim_type,
            Some("invalidValue")
        );
        let bad = params(&[("filter", "userName eq")]).unwrap_err();
        assert_eq!(bad.scim_type, Some("invalidFilter"));
        assert!(bad.detail.contains("at character 12"), "{}", bad.detail);
    }

    #[test]
    fn projection_keeps_and_drops_attributes() {
        let resource = serde_json::json!({
            "schemas": [USER], "id": "1", "userName": "ada", "externalId": "x",
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            ENTERPRISE_USER: { "department": "R&D", "employeeNumber": "7" }
        });
        let mut only = resource.clone();
        Projection::from_params(Some("externalId,name.givenName"), None).apply(&mut only);
        assert_eq!(
            only,
            serde_json::json!({ "schemas": [USER], "id": "1", "externalId": "x", "name": { "givenName": "Ada" } })
        );
        let mut without = resource.clone();
        Projection::from_params(None, Some(&format!("name,{ENTERPRISE_USER}:department")))
            .apply(&mut without);
        assert_eq!(
            without,
            serde_json::json!({ "schemas": [USER], "id": "1", "userName": "ada", "externalId": "x",
                ENTERPRISE_USER: { "employeeNumber": "7" } })
        );
    }
}
