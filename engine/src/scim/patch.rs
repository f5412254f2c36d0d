//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON. The service renders the stored resource,
//! applies the operations here, and reads the result back as a full representation, so PATCH
//! and PUT share one path into the directory. Lenient where real clients differ from the RFC:
//! `op` in any case (Entra sends "Add"), `remove` of `members` with a value list (Entra), and
//! `add`/`replace` through a value filter that matches nothing adds the value it describes.
//!
//! Bodies come from anyone holding a token: paths are bounded by their parser (see `filter`),
//! errors quote at most the start of what was sent, and adding or removing many values (a
//! group's members) takes time in proportion to them, not their square.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    ScimError,
    filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath},
    shown,
};

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PatchOperation {
    pub op: Op,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Reads a PatchOp request body.
pub fn parse(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
    let operations = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| ScimError::invalid_syntax("a PatchOp needs an Operations array"))?;
    operations
        .iter()
        .enumerate()
        .map(|(i, operation)| {
            let operation = operation.as_object().ok_or_else(|| {
                ScimError::invalid_syntax(format!("Operations[{i}] must be an object"))
            })?;
            let get = |name: &str| {
                operation
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            };
            let op = match get("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("add") => Op::Add,
                Some("replace") => Op::Replace,
                Some("remove") => Op::Remove,
                Some(other) => {
                    return Err(ScimError::invalid_syntax(format!(
                        "Operations[{i}].op must be add, replace or remove, not {}",
                        shown(other)
                    )));
                }
                None => {
                    return Err(ScimError::invalid_syntax(format!(
                        "Operations[{i}].op must be add, replace or remove"
                    )));
                }
            };
            let path = match get("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(PatchPath::parse(p).map_err(|e| {
                    ScimError::new(
                        400,
                        Some("invalidPath"),
                        format!("Operations[{i}].path {}: {e}", shown(p)),
                    )
                })?),
                Some(_) => {
                    return Err(ScimError::invalid_syntax(format!(
                        "Operations[{i}].path must be a string"
                    )));
                }
            };
            let value = get("value").cloned().filter(|v| !v.is_null());
            if op == Op::Remove && path.is_none() {
                return Err(ScimError::new(
                    400,
                    Some("noTarget"),
                    format!("Operations[{i}]: remove needs a path"),
                ));
            }
            if op != Op::Remove && value.is_none() {
                return Err(ScimError::invalid_value(format!(
                    "Operations[{i}]: {op:?} needs a value"
                )));
            }
            Ok(PatchOperation { op, path, value })
        })
        .collect()
}

/// Applies operations in order. `extensions` are the schema URNs whose attributes live in an
/// object of their own (the enterprise user).
pub fn apply(
    resource: &mut Value,
    operations: &[PatchOperation],
    extensions: &[&str],
) -> Result<(), ScimError> {
    let object = resource
        .as_object_mut()
        .ok_or_else(|| ScimError::invalid_syntax("not an object"))?;
    for operation in operations {
        apply_one(object, operation, extensions)?;
    }
    Ok(())
}

fn apply_one(
    resource: &mut Map<String, Value>,
    operation: &PatchOperation,
    extensions: &[&str],
) -> Result<(), ScimError> {
    let value = operation.value.clone().unwrap_or(Value::Null);
    let Some(path) = &operation.path else {
        // No path: the value is an object of attributes (and extension objects) to set.
        let Value::Object(attributes) = value else {
            return Err(ScimError::invalid_value(
                "without a path, the value must be an object of attributes",
            ));
        };
        for (name, value) in attributes {
            let path = match extension_urn(&name, extensions) {
                Some(urn) => PatchPath {
                    attr: AttrPath {
                        schema: None,
                        name: urn.to_owned(),
                        sub: None,
                    },
                    filter: None,
                    sub: None,
                },
                None => PatchPath::parse(&name)
                    .map_err(|e| ScimError::new(400, Some("invalidPath"), e.to_string()))?,
            };
            let single = PatchOperation {
                op: operation.op,
                path: Some(path),
                value: Some(value),
            };
            apply_one(resource, &single, extensions)?;
        }
        return Ok(());
    };

    // Which object holds the attribute: the resource itself or an extension's object.
    let (container, name) = match target(path, extensions) {
        Target::Extension(urn) => {
            // The extension as a whole.
            let key = existing_key(resource, urn).unwrap_or_else(|| urn.to_owned());
            match operation.op {
                Op::Remove => {
                    resource.remove(&key);
                }
                Op::Add | Op::Replace => {
                    let Value::Object(mut incoming) = value else {
                        return Err(ScimError::invalid_value(format!("{urn} must be an object")));
                    };
                    incoming.retain(|k, _| !k.eq_ignore_ascii_case("schemas"));
                    let slot = resource
                        .entry(key)
                        .or_insert_with(|| Value::Object(Map::new()));
                    merge(slot, Value::Object(incoming));
                }
            }
            return Ok(());
        }
        Target::InExtension(urn) => {
            let key = existing_key(resource, urn).unwrap_or_else(|| urn.to_owned());
            if operation.op == Op::Remove && !resource.contains_key(&key) {
                return Ok(());
            }
            let slot = resource
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(inner) = slot else {
                return Err(ScimError::invalid_value(format!("{urn} must be an object")));
            };
            (inner, path.attr.name.clone())
        }
        Target::Core => (&mut *resource, path.attr.name.clone()),
    };
    let key = existing_key(container, &name).unwrap_or(name);

    match (&path.filter, &path.attr.sub) {
        (None, None) => match operation.op {
            Op::Remove => match (container.get_mut(&key), value) {
                // Entra removes members by listing them: drop those values.
                (Some(Value::Array(items)), Value::Array(gone)) => {
                    let gone = Seen::of(&gone);
                    items.retain(|item| !gone.contains(item));
                }
                _ => {
                    container.remove(&key);
                }
            },
            Op::Add => match (container.get_mut(&key), value) {
                (Some(Value::Array(items)), Value::Array(more)) => {
                    let mut seen = Seen::of(items);
                    for item in more {
                        if !seen.contains(&item) {
                            seen.insert(&item);
                            items.push(item);
                        }
                    }
                }
                (Some(existing @ Value::Object(_)), incoming @ Value::Object(_)) => {
                    merge(existing, incoming)
                }
                (_, value) => {
                    container.insert(key, value);
                }
            },
            Op::Replace => match (container.get_mut(&key), value) {
                (Some(existing @ Value::Object(_)), incoming @ Value::Object(_)) => {
                    merge(existing, incoming)
                }
                (_, value) => {
                    container.insert(key, value);
                }
            },
        },
        (None, Some(sub)) => {
            let slot = container
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(parent) = slot else {
                return Err(ScimError::invalid_value(format!(
                    "{key} is not a complex attribute"
                )));
            };
            let sub_key = existing_key(parent, sub).unwrap_or_else(|| sub.clone());
            if operation.op == Op::Remove {
                parent.remove(&sub_key);
            } else {
                parent.insert(sub_key, value);
            }
            if parent.is_empty() {
                container.remove(&key);
            }
        }
        (Some(filter), _) => {
            let items = match container
                .entry(key.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(items) => items,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "{key} is not multi-valued"
                    )));
                }
            };
            let matching: Vec<usize> = (0..items.len())
                .filter(|&i| filter.matches(&items[i]))
                .collect();
            match (operation.op, &path.sub) {
                (Op::Remove, None) => {
                    // `matching` is in ascending order.
                    let mut index = 0;
                    items.retain(|_| {
                        let keep = matching.binary_search(&index).is_err();
                        index += 1;
                        keep
                    });
                }
                (Op::Remove, Some(sub)) => {
                    for &i in &matching {
                        if let Some(item) = items[i].as_object_mut() {
                            item.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                        }
                    }
                }
                (_, Some(sub)) if matching.is_empty() => {
                    let mut item = described_by(filter);
                    item.insert(sub.clone(), value);
                    items.push(Value::Object(item));
                }
                (_, Some(sub)) => {
                    for &i in &matching {
                        if let Some(item) = items[i].as_object_mut() {
                            let sub_key = existing_key(item, sub).unwrap_or_else(|| sub.clone());
                            item.insert(sub_key, value.clone());
                        }
                    }
                }
                (_, None) if matching.is_empty() => {
                    let mut item = described_by(filter);
                    if let Value::Object(fields) = value {
                        item.extend(fields);
                    }
                    items.push(Value::Object(item));
                }
                (_, None) => {
                    for &i in &matching {
                        merge(&mut items[i], value.clone());
                    }
                }
            }
            if items.is_empty() {
                container.remove(&key);
            }
        }
    }
    Ok(())
}

enum Target<'a> {
    Core,
    /// The path is an extension URN itself.
    Extension(&'a str),
    /// The path names an attribute inside an extension.
    InExtension(&'a str),
}

fn target<'a>(path: &PatchPath, extensions: &[&'a str]) -> Target<'a> {
    if let Some(urn) = extension_urn(&path.attr.name, extensions) {
        return Target::Extension(urn);
    }
    if let Some(schema) = &path.attr.schema {
        let whole = format!("{schema}:{}", path.attr.name);
        if let Some(urn) = extension_urn(&whole, extensions) {
            return Target::Extension(urn);
        }
        if let Some(urn) = extension_urn(schema, extensions) {
            return Target::InExtension(urn);
        }
    }
    Target::Core
}

fn extension_urn<'a>(name: &str, extensions: &[&'a str]) -> Option<&'a str> {
    extensions
        .iter()
        .copied()
        .find(|urn| urn.eq_ignore_ascii_case(name))
}

fn existing_key(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

/// Sets each of `incoming`'s attributes on `existing` (objects), or replaces it (other values).
fn merge(existing: &mut Value, incoming: Value) {
    match (existing, incoming) {
        (Value::Object(target), Value::Object(fields)) => {
            for (k, v) in fields {
                let key = existing_key(target, &k).unwrap_or(k);
                target.insert(key, v);
            }
        }
        (slot, value) => *slot = value,
    }
}

/// Two values of a multi-valued attribute are the same when their `value`s are (ids compare
/// without regard to case), or, without `value`, when they are equal.
fn same_value(a: &Value, b: &Value) -> bool {
    let value = |v: &Value| {
        v.as_object()
            .and_then(|o| existing_key(o, "value").and_then(|k| o.get(&k).cloned()))
    };
    match (value(a), value(b)) {
        (Some(Value::String(x)), Some(Value::String(y))) => x.eq_ignore_ascii_case(&y),
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Values of a multi-valued attribute, to tell whether one is among them as `same_value` would:
/// at once for those with a string `value` (members, emails), by comparison for the others.
struct Seen {
    /// The `value`s, ASCII-lowercased, of those with a string `value`.
    values: HashSet<String>,
    others: Vec<Value>,
}

impl Seen {
    fn of(items: &[Value]) -> Seen {
        let mut seen = Seen {
            values: HashSet::new(),
            others: Vec::new(),
        };
        for item in items {
            seen.insert(item);
        }
        seen
    }

    fn contains(&self, item: &Value) -> bool {
        match string_value(item) {
            Some(value) => self.values.contains(&value),
            None => self.others.iter().any(|other| same_value(other, item)),
        }
    }

    fn insert(&mut self, item: &Value) {
        match string_value(item) {
            Some(value) => {
                self.values.insert(value);
            }
            None => self.others.push(item.clone()),
        }
    }
}

/// An object's `value`, ASCII-lowercased, if it is a string. Two values of which one has this are
/// the `same_value` exactly when both have it and it is equal.
fn string_value(item: &Value) -> Option<String> {
    let object = item.as_object()?;
    let key = existing_key(object, "value")?;
    object.get(&key)?.as_str().map(str::to_ascii_lowercase)
}

/// The attributes a filter pins with `eq` (`type eq "work"`), to build the value it describes.
fn described_by(filter: &Filter) -> Map<String, Value> {
    let mut out = Map::new();
    match filter {
        Filter::Compare(path, CompareOp::Eq, value) if path.sub.is_none() => {
            let value = match value {
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => serde_json::json!(n),
                CompValue::Null => Value::Null,
            };
            out.insert(path.name.clone(), value);
        }
        Filter::And(a, b) => {
            out.extend(described_by(a));
            out.extend(described_by(b));
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn patched(resource: Value, operations: Value) -> Value {
        let operations =
            parse(&json!({ "schemas": [PATCH_OP], "Operations": operations })).unwrap();
        let mut resource = resource;
        apply(&mut resource, &operations, &[EXT]).unwrap();
        resource
    }

    #[test]
    fn add_replace_and_remove_simple_attributes() {
        let user = json!({ "userName": "ada", "title": "Engineer" });
        assert_eq!(
            patched(
                user.clone(),
                json!([{ "op": "Replace", "path": "title", "value": "CTO" }])
            ),
            json!({ "userName": "ada", "title": "CTO" })
        );
        assert_eq!(
            patched(user.clone(), json!([{ "op": "remove", "path": "TITLE" }])),
            json!({ "userName": "ada" })
        );
        assert_eq!(
            patched(
                user.clone(),
                json!([{ "op": "remove", "path": "nickName" }])
            ),
            user,
            "removing an absent attribute succeeds"
        );
        assert_eq!(
            patched(
                user,
                json!([{ "op": "add", "value": { "displayName": "Ada", "name.givenName": "Ada" } }])
            ),
            json!({ "userName": "ada", "title": "Engineer", "displayName": "Ada", "name": { "givenName": "Ada" } })
        );
    }

    #[test]
    fn complex_and_sub_attributes() {
        let user = json!({ "name": { "givenName": "Ada", "familyName": "Byron" } });
        assert_eq!(
            patched(
                user.clone(),
                json!([{ "op": "replace", "path": "name", "value": { "familyName": "Lovelace" } }])
            ),
            json!({ "name": { "givenName": "Ada", "familyName": "Lovelace" } }),
            "replace of a complex attribute sets the given sub-attributes"
        );
        assert_eq!(
            patched(
                user.clone(),
                json!([{ "op": "remove", "path": "name.givenName" }])
            ),
            json!({ "name": { "familyName": "Byron" } })
        );
        assert_eq!(
            patched(
                json!({ "name": { "givenName": "Ada" } }),
                json!([{ "op": "remove", "path": "name.givenName" }])
            ),
            json!({}),
            "an emptied complex attribute disappears"
        );
    }

    #[test]
    fn value_filters_select_replace_and_create() {
        let user = json!({ "emails": [{ "value": "a@contoso.com", "type": "work" }, { "value": "a@home.net", "type": "home" }] });
        assert_eq!(
            patched(
                user.clone(),
                json!([{ "op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@contoso.com" }])
            ),
            json!({ "emails": [{ "value": "ada@contoso.com", "type": "work" }, { "value": "a@home.net", "type": "home" }] })
        );
        assert_eq!(
            patched(
                user,
                json!([{ "op": "remove", "path": "emails[type eq \"home\"]" }])
            ),
            json!({ "emails": [{ "value": "a@contoso.com", "type": "work" }] })
        );
        assert_eq!(
            patched(
                json!({}),
                json!([{ "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555" }])
            ),
            json!({ "phoneNumbers": [{ "type": "mobile", "value": "+1 555" }] }),
            "a filter that matches nothing adds the value it describes (Entra)"
        );
    }

    #[test]
    fn members_are_added_once_and_removed_either_way() {
        let group = json!({ "displayName": "Ops", "members": [{ "value": "a" }] });
        let added = patched(
            group,
            json!([{ "op": "add", "path": "members", "value": [{ "value": "A" }, { "value": "b" }] }]),
        );
        assert_eq!(
            added["members"],
            json!([{ "value": "a" }, { "value": "b" }])
        );
        let removed = patched(
            added.clone(),
            json!([{ "op": "remove", "path": "members[value eq \"b\"]" }]),
        );
        assert_eq!(removed["members"], json!([{ "value": "a" }]));
        let removed = patched(
            added,
            json!([{ "op": "Remove", "path": "members", "value": [{ "value": "a" }, { "value": "b" }] }]),
        );
        assert_eq!(removed, json!({ "displayName": "Ops", "members": [] }));
    }

    #[test]
    fn extension_attributes_by_urn() {
        let user = json!({ "userName": "ada" });
        let with_department = patched(
            user.clone(),
            json!([{ "op": "add", "path": format!("{EXT}:department"), "value": "R&D" }]),
        );
        assert_eq!(
            with_department,
            json!({ "userName": "ada", EXT: { "department": "R&D" } })
        );
        let whole = patched(
            user.clone(),
            json!([{ "op": "replace", "path": EXT, "value": { "schemas": [EXT], "employeeNumber": "42" } }]),
        );
        assert_eq!(
            whole,
            json!({ "userName": "ada", EXT: { "employeeNumber": "42" } })
        );
        assert_eq!(
            patched(whole, json!([{ "op": "remove", "path": EXT }])),
            user
        );
        let no_path = patched(
            json!({}),
            json!([{ "op": "add", "value": { EXT: { "department": "Ops" } } }]),
        );
        assert_eq!(no_path, json!({ EXT: { "department": "Ops" } }));
    }

    #[test]
    fn malformed_operations_are_refused_with_a_reason() {
        let bad =
            |ops: Value| parse(&json!({ "schemas": [PATCH_OP], "Operations": ops })).unwrap_err();
        assert_eq!(
            bad(json!([{ "op": "move", "path": "a" }])).scim_type,
            Some("invalidSyntax")
        );
        assert_eq!(bad(json!([{ "op": "remove" }])).scim_type, Some("noTarget"));
        assert_eq!(
            bad(json!([{ "op": "add", "path": "a" }])).scim_type,
            Some("invalidValue")
        );
        let path = bad(json!([{ "op": "remove", "path": "emails[type eq" }]));
        assert_eq!(path.scim_type, Some("invalidPath"));
        assert!(path.detail.contains("at character"), "{}", path.detail);
    }
}
