//! The target's attribute list ("Edit attribute list for Vonage"): the attributes a mapping may
//! write, each with its type, Required, Multi-valued, Reference and Supported for filtering. It
//! starts from the SCIM attributes every application knows, marked as the gallery template says
//! (what it requires, what it can filter on, what its mappings use); "Refresh" adds what the
//! target's own `/Schemas` describes. A mapping's target must be on the list, and a matching
//! attribute must be supported for filtering, because matching asks the target for
//! `filter=<attribute> eq "<value>"` (docs/engine.md, Attribute list).

use serde::{Deserialize, Serialize};

use super::{gallery::ObjectDefaults, target_schema::Schema};
use crate::{error::FieldError, mapping::AttributeMappings};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AttributeType {
    #[default]
    String,
    Boolean,
    Integer,
    Decimal,
    DateTime,
    Binary,
    Reference,
}

impl AttributeType {
    /// The type a SCIM schema names (`string`, `dateTime`, ...); a complex one is not a target.
    fn from_scim(kind: &str) -> Option<AttributeType> {
        Some(match kind.to_ascii_lowercase().as_str() {
            "string" => AttributeType::String,
            "boolean" => AttributeType::Boolean,
            "integer" => AttributeType::Integer,
            "decimal" => AttributeType::Decimal,
            "datetime" => AttributeType::DateTime,
            "binary" => AttributeType::Binary,
            "reference" => AttributeType::Reference,
            _ => return None,
        })
    }
}

/// One attribute of the target a mapping may write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TargetAttribute {
    /// The target path, as mappings write it: `userName`, `emails[type eq "work"].value`.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    pub required: bool,
    pub multi_valued: bool,
    /// The value is another object's id in the target (a manager, a group's members).
    pub reference: bool,
    /// The target answers `filter=<name> eq "..."`: only such an attribute may match objects.
    pub filterable: bool,
}

/// The attribute list of one object type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttributeList(pub Vec<TargetAttribute>);

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:";

/// The SCIM 2.0 user attributes (RFC 7643, with the enterprise extension) Scimitar can write,
/// as (name, type, multi-valued, reference).
const USER_CATALOGUE: &[(&str, AttributeType, bool, bool)] = &[
    ("userName", AttributeType::String, false, false),
    ("externalId", AttributeType::String, false, false),
    ("active", AttributeType::Boolean, false, false),
    ("displayName", AttributeType::String, false, false),
    ("nickName", AttributeType::String, false, false),
    ("title", AttributeType::String, false, false),
    ("userType", AttributeType::String, false, false),
    ("preferredLanguage", AttributeType::String, false, false),
    ("locale", AttributeType::String, false, false),
    ("timezone", AttributeType::String, false, false),
    ("profileUrl", AttributeType::Reference, false, false),
    ("name.formatted", AttributeType::String, false, false),
    ("name.givenName", AttributeType::String, false, false),
    ("name.familyName", AttributeType::String, false, false),
    ("name.middleName", AttributeType::String, false, false),
    ("name.honorificPrefix", AttributeType::String, false, false),
    ("name.honorificSuffix", AttributeType::String, false, false),
    (
        r#"emails[type eq "work"].value"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"emails[type eq "home"].value"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"emails[type eq "other"].value"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"phoneNumbers[type eq "work"].value"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"phoneNumbers[type eq "mobile"].value"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"phoneNumbers[type eq "fax"].value"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"addresses[type eq "work"].formatted"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"addresses[type eq "work"].streetAddress"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"addresses[type eq "work"].locality"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"addresses[type eq "work"].region"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"addresses[type eq "work"].postalCode"#,
        AttributeType::String,
        false,
        false,
    ),
    (
        r#"addresses[type eq "work"].country"#,
        AttributeType::String,
        false,
        false,
    ),
    ("roles", AttributeType::String, true, false),
];

const ENTERPRISE_CATALOGUE: &[(&str, AttributeType, bool, bool)] = &[
    ("employeeNumber", AttributeType::String, false, false),
    ("costCenter", AttributeType::String, false, false),
    ("organization", AttributeType::String, false, false),
    ("division", AttributeType::String, false, false),
    ("department", AttributeType::String, false, false),
    ("manager", AttributeType::Reference, false, true),
];

const GROUP_CATALOGUE: &[(&str, AttributeType, bool, bool)] = &[
    ("displayName", AttributeType::String, false, false),
    ("externalId", AttributeType::String, false, false),
    ("members", AttributeType::Reference, true, true),
];

/// What a target filters on when its template does not say.
const DEFAULT_USER_FILTERABLE: &[&str] = &["userName", "externalId"];
const DEFAULT_GROUP_FILTERABLE: &[&str] = &["displayName", "externalId"];

impl AttributeList {
    /// The list a new application starts with, for users (`groups` false) or groups.
    pub fn for_template(defaults: &ObjectDefaults, groups: bool) -> AttributeList {
        let catalogue: Vec<(String, AttributeType, bool, bool)> = if groups {
            GROUP_CATALOGUE
                .iter()
                .map(|(n, t, m, r)| ((*n).to_owned(), *t, *m, *r))
                .collect()
        } else {
            USER_CATALOGUE
                .iter()
                .map(|(n, t, m, r)| ((*n).to_owned(), *t, *m, *r))
                .chain(
                    ENTERPRISE_CATALOGUE
                        .iter()
                        .map(|(n, t, m, r)| (format!("{ENTERPRISE}{n}"), *t, *m, *r)),
                )
                .collect()
        };
        let filterable: Vec<&str> = match &defaults.filterable {
            Some(names) => names.iter().map(String::as_str).collect(),
            None if groups => DEFAULT_GROUP_FILTERABLE.to_vec(),
            None => DEFAULT_USER_FILTERABLE.to_vec(),
        };
        let mut list = AttributeList(
            catalogue
                .into_iter()
                .map(|(name, kind, multi_valued, reference)| TargetAttribute {
                    required: defaults
                        .required
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(&name)),
                    filterable: filterable.iter().any(|f| f.eq_ignore_ascii_case(&name)),
                    name,
                    kind,
                    multi_valued,
                    reference,
                })
                .collect(),
        );
        // Whatever the template maps or requires beyond the catalogue is on its list too.
        list.include(&defaults.mappings, &defaults.required, &filterable);
        list
    }

    /// Adds what `mappings` write (and `required` names) that the list lacks, as strings.
    /// Configurations saved before attribute lists existed get theirs this way, so every
    /// mapping they hold stays valid.
    pub fn include(
        &mut self,
        mappings: &AttributeMappings,
        required: &[String],
        filterable: &[&str],
    ) {
        for name in mappings.0.iter().map(|m| &m.target).chain(required) {
            if self.find(name).is_none() {
                self.0.push(TargetAttribute {
                    name: name.clone(),
                    required: required.contains(name),
                    filterable: filterable.iter().any(|f| f.eq_ignore_ascii_case(name)),
                    ..TargetAttribute::default()
                });
            }
        }
    }

    /// The attribute called `name` (SCIM names are case-insensitive).
    pub fn find(&self, name: &str) -> Option<&TargetAttribute> {
        self.0.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// "Refresh": the attributes the target's `/Schemas` describes for `resource` ("User" or
    /// "Group") and its extensions. Known ones take the target's type, Required and
    /// Multi-valued; new ones are added, not supported for filtering until the administrator
    /// says so. Complex multi-valued attributes (emails, addresses) keep the list's own entries.
    /// Answers how many were added and how many changed.
    pub fn refresh(&mut self, schemas: &[Schema], resource: &str) -> (usize, usize) {
        let core = format!("urn:ietf:params:scim:schemas:core:2.0:{resource}");
        let (mut added, mut changed) = (0, 0);
        for schema in schemas {
            let prefix = if schema.id.eq_ignore_ascii_case(&core) {
                String::new()
            } else if resource == "User" && schema.id.contains(":extension:") {
                format!("{}:", schema.id)
            } else {
                continue;
            };
            for attribute in &schema.attributes {
                let flattened: Vec<(String, &super::target_schema::Attribute)> =
                    if attribute.kind.eq_ignore_ascii_case("complex") {
                        if attribute.multi_valued {
                            continue;
                        }
                        attribute
                            .sub_attributes
                            .iter()
                            .map(|sub| (format!("{prefix}{}.{}", attribute.name, sub.name), sub))
                            .collect()
                    } else {
                        vec![(format!("{prefix}{}", attribute.name), attribute)]
                    };
                for (name, described) in flattened {
                    let Some(kind) = AttributeType::from_scim(&described.kind) else {
                        continue;
                    };
                    // `id` and `meta` are the target's own.
                    if name.eq_ignore_ascii_case("id") {
                        continue;
                    }
                    let reference = kind == AttributeType::Reference;
                    match self
                        .0
                        .iter_mut()
                        .find(|a| a.name.eq_ignore_ascii_case(&name))
                    {
                        Some(known) => {
                            let before = known.clone();
                            known.kind = kind;
                            known.required = described.required;
                            known.multi_valued = described.multi_valued;
                            known.reference = known.reference || reference;
                            changed += usize::from(*known != before);
                        }
                        None => {
                            self.0.push(TargetAttribute {
                                name,
                                kind,
                                required: described.required,
                                multi_valued: described.multi_valued,
                                reference,
                                filterable: false,
                            });
                            added += 1;
                        }
                    }
                }
            }
        }
        (added, changed)
    }

    /// Problems of `mappings` against this list, fields as the Mappings page names them: a
    /// target not on the list, a matching attribute the target cannot filter on. `application`
    /// names the target in the messages.
    pub fn check(&self, mappings: &AttributeMappings, application: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, mapping) in mappings.0.iter().enumerate() {
            match self.find(&mapping.target) {
                None => errors.push(FieldError::new(
                    format!("mappings[{i}].target"),
                    format!(
                        "the attribute list of {application} has no {}: add it with Edit attribute list",
                        mapping.target
                    ),
                )),
                Some(attribute)
                    if mapping.matching_precedence.is_some() && !attribute.filterable =>
                {
                    errors.push(FieldError::new(
                        format!("mappings[{i}].matchingPrecedence"),
                        format!(
                            "{application} does not support filtering on {}: a matching attribute must be supported for filtering, because matching asks {application} for the account with this value",
                            attribute.name
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        errors
    }

    /// Problems of the list itself: names empty, repeated or too long.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, attribute) in self.0.iter().enumerate() {
            let name = attribute.name.trim();
            let message = if name.is_empty() {
                Some("enter the attribute's name".to_owned())
            } else if name.chars().count() > 300 {
                Some("a name has at most 300 characters".to_owned())
            } else if self.0[..i]
                .iter()
                .any(|a| a.name.trim().eq_ignore_ascii_case(name))
            {
                Some(format!("{name} is already on the list"))
            } else {
                None
            };
            if let Some(message) = message {
                errors.push(FieldError::new(format!("attributes[{i}].name"), message));
            }
        }
        if self.0.len() > 1000 {
            errors.push(FieldError::new(
                "attributes",
                "a list has at most 1000 attributes",
            ));
        }
        errors
    }
}

impl crate::Engine {
    /// "Refresh" on the attribute list of `object` ("users" or "groups"): reads the target's
    /// `/Schemas` with the saved credentials and saves what it adds and changes (a new version,
    /// as any save). Answers (added, changed).
    pub async fn refresh_attribute_list(
        &self,
        caller: &crate::audit::Caller,
        account: &crate::accounts::Account,
        application: uuid::Uuid,
        object: &str,
        expected_version: i64,
    ) -> crate::Result<(usize, usize)> {
        let schema = self.target_schema(account, application).await?;
        let stored = self.provisioning(account, application).await?;
        let mut settings = stored.settings;
        let (list, resource) = match object {
            "groups" => (&mut settings.groups.attributes, "Group"),
            _ => (&mut settings.users.attributes, "User"),
        };
        let counts = list.refresh(&schema.schemas, resource);
        self.save_provisioning(
            caller,
            account,
            application,
            expected_version,
            settings,
            Default::default(),
        )
        .await?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::{gallery, target_schema::Attribute};

    fn vonage_users() -> AttributeList {
        AttributeList::for_template(&gallery::template("vonage").unwrap().users, false)
    }

    #[test]
    fn vonage_filters_on_user_name_only_as_its_tutorial_says() {
        let list = vonage_users();
        let filterable: Vec<&str> = list
            .0
            .iter()
            .filter(|a| a.filterable)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(filterable, ["userName"]);
        let email = list.find(r#"emails[type eq "work"].value"#).unwrap();
        assert!(email.required && !email.multi_valued && email.kind == AttributeType::String);
        let manager = list.find(&format!("{ENTERPRISE}manager")).unwrap();
        assert!(manager.reference);
    }

    #[test]
    fn a_matching_attribute_the_target_cannot_filter_on_is_refused_with_the_reason() {
        let list = vonage_users();
        let mut mappings = gallery::template("vonage").unwrap().users.mappings.clone();
        assert!(list.check(&mappings, "Vonage").is_empty());
        mappings.0[2].matching_precedence = Some(2);
        mappings.0.push(crate::mapping::AttributeMapping {
            target: "favouriteColour".into(),
            ..mappings.0[3].clone()
        });
        let errors = list.check(&mappings, "Vonage");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["mappings[2].matchingPrecedence", "mappings[5].target"]
        );
        assert!(
            errors[0].message.starts_with(
                r#"Vonage does not support filtering on emails[type eq "work"].value"#
            ),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn refresh_takes_the_targets_word_and_adds_what_it_describes() {
        let mut list = vonage_users();
        let attribute = |name: &str, kind: &str, required: bool| Attribute {
            name: name.into(),
            kind: kind.into(),
            multi_valued: false,
            required,
            sub_attributes: Vec::new(),
        };
        let schemas = [
            Schema {
                id: "urn:ietf:params:scim:schemas:core:2.0:User".into(),
                name: "User".into(),
                attributes: vec![
                    attribute("id", "string", true),
                    attribute("title", "string", true),
                    Attribute {
                        sub_attributes: vec![attribute("givenName", "string", false)],
                        ..attribute("name", "complex", false)
                    },
                    Attribute {
                        multi_valued: true,
                        ..attribute("emails", "complex", false)
                    },
                ],
            },
            Schema {
                id: "urn:vonage:extension:2.0:User".into(),
                name: "Vonage user".into(),
                attributes: vec![attribute("extension", "integer", false)],
            },
            Schema {
                id: "urn:ietf:params:scim:schemas:core:2.0:Group".into(),
                name: "Group".into(),
                attributes: vec![attribute("displayName", "string", true)],
            },
        ];
        let before = list.0.len();
        let (added, changed) = list.refresh(&schemas, "User");
        // title now required; name.givenName no longer required (the target's word).
        assert_eq!((added, changed), (1, 2));
        assert_eq!(list.0.len(), before + 1);
        let extension = list
            .find("urn:vonage:extension:2.0:User:extension")
            .unwrap();
        assert!(extension.kind == AttributeType::Integer && !extension.filterable);
        assert!(list.find("title").unwrap().required);
        assert!(
            list.find("id").is_none(),
            "the target's own id is not a target"
        );
    }

    #[test]
    fn a_list_names_each_attribute_once() {
        let mut list = vonage_users();
        list.0.push(TargetAttribute {
            name: "USERNAME".into(),
            ..TargetAttribute::default()
        });
        list.0.push(TargetAttribute::default());
        let errors = list.problems();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].message.contains("already on the list"));
        assert_eq!(errors[1].message, "enter the attribute's name");
    }
}
