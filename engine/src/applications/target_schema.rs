//! The target's schema, as its `/Schemas` endpoint describes it: which attributes an automation
//! may map to. The answer is read into our own bounded shape (names, types, flags, one level of
//! sub-attributes), never passed on as the target wrote it.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Access, provisioning};
use crate::{Engine, Error, Result, accounts::Account};

/// The most schemas, and attributes per schema or attribute, read from an answer.
const MOST: usize = 200;
/// The longest name or type kept.
const LONGEST: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TargetSchema {
    /// Each schema the target describes (core User and Group, extensions).
    pub schemas: Vec<Schema>,
    /// What the application's template requires on users and groups (mapped or not, objects
    /// without them are not sent).
    pub required_user_attributes: Vec<String>,
    pub required_group_attributes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// The schema's URN, the prefix of an extension attribute's target path.
    pub id: String,
    pub name: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub name: String,
    /// string, boolean, decimal, integer, dateTime, reference, complex, binary.
    #[serde(rename = "type")]
    pub kind: String,
    pub multi_valued: bool,
    pub required: bool,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub sub_attributes: Vec<Attribute>,
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(LONGEST)
        .collect()
}

fn attributes(list: &Value, depth: u8) -> Vec<Attribute> {
    list.as_array()
        .into_iter()
        .flatten()
        .take(MOST)
        .filter(|a| a["name"].is_string())
        .map(|a| Attribute {
            name: text(&a["name"]),
            kind: text(&a["type"]),
            multi_valued: a["multiValued"].as_bool().unwrap_or(false),
            required: a["required"].as_bool().unwrap_or(false),
            sub_attributes: if depth == 0 {
                attributes(&a["subAttributes"], 1)
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// The schemas of a `/Schemas` answer: a list response, or (some targets) a bare array.
fn read(answer: &Value) -> Vec<Schema> {
    let list = match answer {
        Value::Array(_) => answer,
        _ => &answer["Resources"],
    };
    list.as_array()
        .into_iter()
        .flatten()
        .take(MOST)
        .filter(|s| s["id"].is_string())
        .map(|s| Schema {
            id: text(&s["id"]),
            name: text(&s["name"]),
            attributes: attributes(&s["attributes"], 0),
        })
        .collect()
}

impl Engine {
    /// The schema of `application`'s target, read now with the saved Tenant URL and
    /// credentials.
    pub async fn target_schema(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<TargetSchema> {
        let app = self
            .application_for(account, application, Access::Configure)
            .await?;
        let settings = provisioning::load(&self.db, application).await?.settings;
        let client = self
            .target_client(application, &settings, OffsetDateTime::now_utc())
            .await?;
        let answer = client
            .schemas()
            .await
            .map_err(|e| Error::invalid("scimBaseUrl", e.to_string()))?;
        let template = app.template();
        Ok(TargetSchema {
            schemas: read(&answer),
            required_user_attributes: template.users.required.clone(),
            required_group_attributes: template.groups.required.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_fields_we_describe_are_kept_within_bounds() {
        let long = "x".repeat(1000);
        let answer = json!({ "Resources": [
            { "id": "urn:ietf:params:scim:schemas:core:2.0:User", "name": "User", "attributes": [
                { "name": "userName", "type": "string", "required": true, "secret": "dropped" },
                { "name": "name", "type": "complex", "subAttributes": [
                    { "name": "givenName", "type": "string",
                      "subAttributes": [{ "name": "deeper", "type": "string" }] },
                ] },
                { "name": long, "type": "string", "multiValued": true },
                { "type": "string" },
            ] },
            { "name": "no id: dropped" },
        ] });
        let schemas = read(&answer);
        assert_eq!(schemas.len(), 1);
        let attributes = &schemas[0].attributes;
        assert_eq!(
            attributes.len(),
            3,
            "an attribute without a name is dropped"
        );
        assert!(attributes[0].required && attributes[0].kind == "string");
        assert_eq!(attributes[1].sub_attributes[0].name, "givenName");
        assert!(
            attributes[1].sub_attributes[0].sub_attributes.is_empty(),
            "one level"
        );
        assert_eq!(attributes[2].name.len(), LONGEST);
        assert!(!serde_json::to_string(&schemas).unwrap().contains("dropped"));
    }
}
