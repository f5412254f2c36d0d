//! Directory users and groups as SCIM resources, both ways. `*_json` renders what we store (and
//! only that: absent values are left out, never defaulted); `*_from_json` reads a full
//! representation (POST, PUT, or the result of a PATCH) into the directory's terms.

use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use super::{ENTERPRISE_USER, GROUP, SCIMITAR_USER, ScimError, USER};
use crate::directory::{
    UserProfile,
    feed::ObjectType,
    groups::{Group, GroupProfile, Member},
    users::User,
};

fn timestamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn meta(
    kind: &str,
    location: String,
    created: OffsetDateTime,
    modified: OffsetDateTime,
    version: i64,
) -> Value {
    json!({
        "resourceType": kind,
        "created": timestamp(created),
        "lastModified": timestamp(modified),
        "location": location,
        "version": etag(version),
    })
}

/// The weak entity tag of a version, as in `meta.version` and the `ETag` header.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Reads `W/"3"` (or `"3"`, or `3`) back into a version.
pub fn parse_etag(tag: &str) -> Option<i64> {
    tag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// Inserts `value` under `key` unless it is absent.
fn put(object: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), value.into());
    }
}

pub fn user_json(user: &User, groups: &[(Uuid, String)], base: &str) -> Value {
    let p = &user.profile;
    let mut out = Map::new();
    let mut schemas = vec![json!(USER)];
    out.insert("id".into(), json!(user.id));
    put(&mut out, "externalId", p.external_id.clone());
    out.insert("userName".into(), json!(p.user_principal_name));
    let mut name = Map::new();
    put(&mut name, "givenName", p.given_name.clone());
    put(&mut name, "familyName", p.surname.clone());
    if !name.is_empty() {
        out.insert("name".into(), Value::Object(name));
    }
    put(
        &mut out,
        "displayName",
        Some(p.display_name.clone()).filter(|d| !d.is_empty()),
    );
    put(
        &mut out,
        "emails",
        p.mail
            .as_ref()
            .map(|mail| json!([{ "value": mail, "type": "work" }])),
    );
    let phones: Vec<Value> = [(&p.telephone_number, "work"), (&p.mobile, "mobile")]
        .into_iter()
        .filter_map(|(number, kind)| number.as_ref().map(|n| json!({ "value": n, "type": kind })))
        .collect();
    if !phones.is_empty() {
        out.insert("phoneNumbers".into(), Value::Array(phones));
    }
    put(&mut out, "active", p.account_enabled);
    put(&mut out, "title", p.job_title.clone());
    put(&mut out, "preferredLanguage", p.preferred_language.clone());
    if !groups.is_empty() {
        let groups: Vec<Value> = groups
            .iter()
            .map(|(id, name)| json!({ "value": id, "$ref": format!("{base}/Groups/{id}"), "display": name }))
            .collect();
        out.insert("groups".into(), Value::Array(groups));
    }
    let mut enterprise = Map::new();
    put(&mut enterprise, "employeeNumber", p.employee_id.clone());
    put(&mut enterprise, "department", p.department.clone());
    put(
        &mut enterprise,
        "manager",
        p.manager_id
            .map(|m| json!({ "value": m, "$ref": format!("{base}/Users/{m}") })),
    );
    if !enterprise.is_empty() {
        schemas.push(json!(ENTERPRISE_USER));
        out.insert(ENTERPRISE_USER.into(), Value::Object(enterprise));
    }
    let mut directory = Map::new();
    put(&mut directory, "mailNickname", p.mail_nickname.clone());
    for (name, value) in p.extension_attributes.iter() {
        directory.insert(name.clone(), json!(value));
    }
    if !directory.is_empty() {
        schemas.push(json!(SCIMITAR_USER));
        out.insert(SCIMITAR_USER.into(), Value::Object(directory));
    }
    let location = format!("{base}/Users/{}", user.id);
    out.insert(
        "meta".into(),
        meta(
            "User",
            location,
            user.created_at,
            user.updated_at,
            user.version,
        ),
    );
    out.insert("schemas".into(), Value::Array(schemas));
    Value::Object(out)
}

pub fn group_json(group: &Group, members: &[Member], base: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP]));
    out.insert("id".into(), json!(group.id));
    put(&mut out, "externalId", group.profile.external_id.clone());
    out.insert("displayName".into(), json!(group.profile.display_name));
    if !members.is_empty() {
        let members: Vec<Value> = members
            .iter()
            .map(|m| {
                let (endpoint, kind) = match m.member_type {
                    ObjectType::User => ("Users", "User"),
                    ObjectType::Group => ("Groups", "Group"),
                };
                json!({ "value": m.id, "$ref": format!("{base}/{endpoint}/{}", m.id), "type": kind })
            })
            .collect();
        out.insert("members".into(), Value::Array(members));
    }
    let location = format!("{base}/Groups/{}", group.id);
    out.insert(
        "meta".into(),
        meta(
            "Group",
            location,
            group.created_at,
            group.updated_at,
            group.version,
        ),
    );
    Value::Object(out)
}

/// An attribute of a JSON object, its name compared without regard to case (RFC 7643 §2.1).
pub fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn text(object: &Map<String, Value>, name: &str, path: &str) -> Result<Option<String>, ScimError> {
    match field(object, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ScimError::invalid_value(format!(
            "{path} must be a string, not {other}"
        ))),
    }
}

fn complex<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ScimError> {
    match field(object, name) {
        None => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(ScimError::invalid_value(format!(
            "{name} must be an object, not {other}"
        ))),
    }
}

fn values<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Vec<&'a Map<String, Value>>, ScimError> {
    match field(object, name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object().ok_or_else(|| {
                    ScimError::invalid_value(format!("each of {name} must be an object"))
                })
            })
            .collect(),
        Some(other) => Err(ScimError::invalid_value(format!(
            "{name} must be an array, not {other}"
        ))),
    }
}

fn id(value: &str, path: &str) -> Result<Uuid, ScimError> {
    Uuid::parse_str(value.trim())
        .map_err(|_| ScimError::invalid_value(format!("{path}: {value:?} is not an id")))
}

/// The first value whose `type` is `kind`, or else (for the preferred kind) the primary or first.
fn typed_value(
    items: &[&Map<String, Value>],
    kind: &str,
    fallback: bool,
    path: &str,
) -> Result<Option<String>, ScimError> {
    let of_kind = items.iter().find(|i| {
        field(i, "type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
    });
    let chosen = of_kind.or_else(|| {
        fallback
            .then(|| {
                items
                    .iter()
                    .find(|i| field(i, "primary").and_then(Value::as_bool) == Some(true))
                    .or_else(|| items.iter().find(|i| field(i, "type").is_none()))
            })
            .flatten()
    });
    chosen
        .map(|item| text(item, "value", path))
        .transpose()
        .map(Option::flatten)
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        // Some clients (and Entra expressions) send "True"/"False".
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A full User representation in the directory's terms. Attributes we do not store are ignored.
pub fn user_from_json(body: &Value) -> Result<UserProfile, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
    let user_name = text(object, "userName", "userName")?
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    let name = complex(object, "name")?;
    let emails = values(object, "emails")?;
    let phones = values(object, "phoneNumbers")?;
    let enterprise = complex(object, ENTERPRISE_USER)?;
    let directory = complex(object, SCIMITAR_USER)?;
    let mut extension_attributes = crate::directory::users::ExtensionAttributes::new();
    for n in 1..=15 {
        let name = crate::directory::users::extension_attribute(n);
        if let Some(value) = directory
            .map(|d| text(d, &name, &name))
            .transpose()?
            .flatten()
        {
            extension_attributes.insert(name, value);
        }
    }
    let active = match field(object, "active") {
        None => None,
        Some(v) => Some(boolean(v).ok_or_else(|| {
            ScimError::invalid_value(format!("active must be true or false, not {v}"))
        })?),
    };
    let manager = match enterprise.and_then(|e| field(e, "manager")) {
        None => None,
        Some(Value::String(s)) => Some(id(s, "manager")?),
        Some(Value::Object(m)) => text(m, "value", "manager.value")?
            .map(|v| id(&v, "manager.value"))
            .transpose()?,
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "manager must be an object, not {other}"
            )));
        }
    };
    Ok(UserProfile {
        user_principal_name: user_name,
        display_name: text(object, "displayName", "displayName")?.unwrap_or_default(),
        given_name: name
            .map(|n| text(n, "givenName", "name.givenName"))
            .transpose()?
            .flatten(),
        surname: name
            .map(|n| text(n, "familyName", "name.familyName"))
            .transpose()?
            .flatten(),
        mail: typed_value(&emails, "work", true, "emails.value")?,
        mail_nickname: directory
            .map(|d| text(d, "mailNickname", "mailNickname"))
            .transpose()?
            .flatten(),
        account_enabled: active,
        department: enterprise
            .map(|e| text(e, "department", "department"))
            .transpose()?
            .flatten(),
        job_title: text(object, "title", "title")?,
        employee_id: enterprise
            .map(|e| text(e, "employeeNumber", "employeeNumber"))
            .transpose()?
            .flatten(),
        manager_id: manager,
        preferred_language: text(object, "preferredLanguage", "preferredLanguage")?,
        telephone_number: typed_value(&phones, "work", true, "phoneNumbers.value")?,
        mobile: typed_value(&phones, "mobile", false, "phoneNumbers.value")?,
        external_id: text(object, "externalId", "externalId")?,
        extension_attributes: sqlx::types::Json(extension_attributes),
    })
}

/// A full Group representation: its profile and the ids of its direct members.
pub fn group_from_json(body: &Value) -> Result<(GroupProfile, Vec<Uuid>), ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
    let display_name = text(object, "displayName", "displayName")?
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
    let members = values(object, "members")?
        .into_iter()
        .map(|m| {
            let value = text(m, "value", "members.value")?
                .ok_or_else(|| ScimError::invalid_value("each member needs a value (its id)"))?;
            id(&value, "members.value")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let profile = GroupProfile {
        display_name,
        description: None,
        mail_nickname: None,
        external_id: text(object, "externalId", "externalId")?,
    };
    Ok((profile, members))
}
