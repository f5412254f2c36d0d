//! Target attribute paths as attribute mappings name them, and how mapped values become a SCIM
//! resource. A path is `attribute`, `attribute.sub`, `attribute[type eq "work"].sub`, each
//! optionally prefixed by an extension schema's URN (`urn:...:enterprise:2.0:User:department`).

use std::fmt;

use serde_json::{Map, Value as Json};

use super::value::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetPath {
    /// The extension schema's URN; `None` for the core schema.
    pub schema: Option<String>,
    pub attribute: String,
    /// `[type eq "work"]`: the entry of a multi-valued attribute whose `type` is "work".
    pub filter: Option<ValueFilter>,
    pub sub_attribute: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueFilter {
    pub attribute: String,
    pub value: String,
}

impl TargetPath {
    /// Parses a path; the error says what is wrong and at which character (1-based).
    pub fn parse(text: &str) -> Result<TargetPath, String> {
        let text = text.trim();
        let head = &text[..text.find('[').unwrap_or(text.len())];
        let (schema, rest) = match head.rfind(':') {
            Some(colon) if text.starts_with("urn:") => (
                Some(text[..colon].to_owned()),
                (&text[colon + 1..], colon + 1),
            ),
            _ => (None, (text, 0)),
        };
        let (rest, offset) = rest;
        let at = |i: usize| offset + i + 1;
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        let attribute = &rest[..name_end];
        if attribute.is_empty() || !attribute.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(format!(
                "character {}: expected an attribute name such as userName or emails[type eq \"work\"].value",
                at(0)
            ));
        }
        let mut rest_at = name_end;
        let mut filter = None;
        if rest[rest_at..].starts_with('[') {
            let close = rest[rest_at..]
                .find(']')
                .map(|i| rest_at + i)
                .ok_or_else(|| format!("character {}: \"[\" is never closed", at(rest_at)))?;
            let inside = &rest[rest_at + 1..close];
            let mut words = inside.splitn(3, ' ').map(str::trim);
            let (Some(left), Some(op), Some(right)) = (words.next(), words.next(), words.next())
            else {
                return Err(format!(
                    "character {}: expected a filter such as [type eq \"work\"]",
                    at(rest_at)
                ));
            };
            let value = right
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .filter(|v| !v.contains('"'));
            match value {
                Some(value) if op.eq_ignore_ascii_case("eq") && !left.is_empty() => {
                    filter = Some(ValueFilter {
                        attribute: left.to_owned(),
                        value: value.to_owned(),
                    });
                }
                _ => {
                    return Err(format!(
                        "character {}: only filters of the form [type eq \"work\"] are supported",
                        at(rest_at)
                    ));
                }
            }
            rest_at = close + 1;
        }
        let mut sub_attribute = None;
        if let Some(sub) = rest[rest_at..].strip_prefix('.') {
            if sub.is_empty() || !sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "character {}: expected a sub-attribute name after \".\"",
                    at(rest_at + 1)
                ));
            }
            sub_attribute = Some(sub.to_owned());
            rest_at = rest.len();
        }
        if rest_at != rest.len() {
            return Err(format!(
                "character {}: unexpected {:?}",
                at(rest_at),
                &rest[rest_at..]
            ));
        }
        Ok(TargetPath {
            schema,
            attribute: attribute.to_owned(),
            filter,
            sub_attribute,
        })
    }

    /// Whether SCIM types this attribute as a boolean (RFC 7643: `active`, `primary`), so text
    /// such as "True" from a Switch is sent as `true`.
    pub fn is_boolean(&self) -> bool {
        let leaf = self.sub_attribute.as_deref().unwrap_or(&self.attribute);
        leaf == "active" || leaf == "primary"
    }

    /// Whether `other` names the same attribute (names ignore case, as in SCIM).
    pub fn same_as(&self, other: &TargetPath) -> bool {
        self.to_string().eq_ignore_ascii_case(&other.to_string())
    }
}

impl fmt::Display for TargetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.attribute)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{} eq \"{}\"]", filter.attribute, filter.value)?;
        }
        if let Some(sub) = &self.sub_attribute {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Builds a SCIM resource from mapped values: sub-attributes nest, filtered paths become entries
/// of multi-valued attributes carrying the filter's value (`{"type": "work", "value": ...}`), and
/// extension attributes go under their schema, which joins `schemas`.
pub fn resource<'a>(
    core_schema: &str,
    attributes: impl IntoIterator<Item = (&'a TargetPath, &'a Value)>,
) -> Json {
    let mut schemas = vec![Json::from(core_schema)];
    let mut resource = Map::new();
    for (path, value) in attributes {
        let container = match &path.schema {
            None => &mut resource,
            Some(schema) => {
                if !schemas.iter().any(|s| s == schema.as_str()) {
                    schemas.push(Json::from(schema.as_str()));
                }
                object(resource.entry(schema.clone()))
            }
        };
        let value = value.to_json();
        match (&path.filter, &path.sub_attribute) {
            (None, None) => {
                container.insert(path.attribute.clone(), value);
            }
            (None, Some(sub)) => {
                object(container.entry(path.attribute.clone())).insert(sub.clone(), value);
            }
            (Some(filter), sub) => {
                let entries = container
                    .entry(path.attribute.clone())
                    .or_insert_with(|| Json::Array(Vec::new()));
                if !entries.is_array() {
                    *entries = Json::Array(Vec::new());
                }
                let Json::Array(entries) = entries else {
                    unreachable!("made an array just above")
                };
                let position = entries.iter().position(|e| {
                    e.get(&filter.attribute) == Some(&Json::from(filter.value.as_str()))
                });
                let entry = match position {
                    Some(i) => &mut entries[i],
                    None => {
                        let mut entry = Map::new();
                        entry.insert(filter.attribute.clone(), Json::from(filter.value.as_str()));
                        entries.push(Json::Object(entry));
                        entries.last_mut().expect("pushed just above")
                    }
                };
                if let Json::Object(entry) = entry {
                    entry.insert(sub.clone().unwrap_or_else(|| "value".to_owned()), value);
                }
            }
        }
    }
    resource.insert("schemas".into(), Json::Array(schemas));
    Json::Object(resource)
}

/// The value at `path` in a SCIM resource (names compared without regard to case, as SCIM
/// does), for comparing what a target holds with what the mappings give.
pub fn value_at<'r>(resource: &'r Json, path: &TargetPath) -> Option<&'r Json> {
    fn field<'v>(object: &'v Json, name: &str) -> Option<&'v Json> {
        let map = object.as_object()?;
        map.get(name).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }
    let container = match &path.schema {
        Some(schema) => field(resource, schema)?,
        None => resource,
    };
    let attribute = field(container, &path.attribute)?;
    match (&path.filter, &path.sub_attribute) {
        (None, None) => Some(attribute),
        (None, Some(sub)) => field(attribute, sub),
        (Some(filter), sub) => {
            let entry = attribute.as_array()?.iter().find(|entry| {
                field(entry, &filter.attribute)
                    .and_then(Json::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(&filter.value))
            })?;
            field(entry, sub.as_deref().unwrap_or("value"))
        }
    }
}

/// The JSON object at `entry`, made one if it is absent or not an object.
fn object(entry: serde_json::map::Entry<'_>) -> &mut Map<String, Json> {
    let value = entry.or_insert_with(|| Json::Object(Map::new()));
    if !value.is_object() {
        *value = Json::Object(Map::new());
    }
    match value {
        Json::Object(map) => map,
        _ => unreachable!("made an object just above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print_back() {
        for text in [
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "phoneNumbers[type eq \"mobile\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "addresses[type eq \"work\"].streetAddress",
        ] {
            let path = TargetPath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(path.to_string(), text);
        }
        let path = TargetPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap();
        assert_eq!(
            path.schema.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(path.attribute, "department");
        assert!(TargetPath::parse("active").unwrap().is_boolean());
    }

    #[test]
    fn bad_paths_say_where() {
        assert_eq!(
            TargetPath::parse("emails[type eq work].value").unwrap_err(),
            "character 7: only filters of the form [type eq \"work\"] are supported"
        );
        assert_eq!(
            TargetPath::parse("emails[type eq \"work\"").unwrap_err(),
            "character 7: \"[\" is never closed"
        );
        assert!(
            TargetPath::parse("name.")
                .unwrap_err()
                .starts_with("character 6")
        );
        assert!(TargetPath::parse("").is_err());
        assert!(
            TargetPath::parse("name givenName")
                .unwrap_err()
                .contains("unexpected")
        );
    }

    #[test]
    fn values_are_found_by_their_paths() {
        let resource = serde_json::json!({
            "userName": "ada@contoso.com",
            "Name": { "givenName": "Ada" },
            "emails": [{ "type": "home", "value": "a@home" }, { "type": "Work", "value": "a@work" }],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "R&D" }
        });
        let at = |p: &str| value_at(&resource, &TargetPath::parse(p).unwrap()).cloned();
        assert_eq!(at("userName"), Some(Json::from("ada@contoso.com")));
        assert_eq!(
            at("name.givenName"),
            Some(Json::from("Ada")),
            "names ignore case"
        );
        assert_eq!(
            at("emails[type eq \"work\"].value"),
            Some(Json::from("a@work"))
        );
        assert_eq!(
            at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            Some(Json::from("R&D"))
        );
        assert_eq!(at("title"), None);
    }

    #[test]
    fn mapped_values_become_a_scim_resource() {
        let paths: Vec<TargetPath> = [
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            "phoneNumbers[type eq \"work\"].value",
            "phoneNumbers[type eq \"mobile\"].value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        ]
        .iter()
        .map(|p| TargetPath::parse(p).unwrap())
        .collect();
        let values = [
            Value::text("ada@example.com"),
            Value::text("Ada"),
            Value::text("ada@example.com"),
            Value::text("+1 555 0100"),
            Value::text("+1 555 0199"),
            Value::text("Research"),
        ];
        let json = resource(
            "urn:ietf:params:scim:schemas:core:2.0:User",
            paths.iter().zip(values.iter()),
        );
        assert_eq!(
            json,
            serde_json::json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                ],
                "userName": "ada@example.com",
                "name": { "givenName": "Ada" },
                "emails": [{ "type": "work", "value": "ada@example.com" }],
                "phoneNumbers": [
                    { "type": "work", "value": "+1 555 0100" },
                    { "type": "mobile", "value": "+1 555 0199" }
                ],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Research" }
            })
        );
    }
}
