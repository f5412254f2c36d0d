//! What `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` say about Scimitar's inbound
//! SCIM: the attributes it stores, and no others (clients and checkers fill what we advertise).

use serde_json::{Value, json};

use super::{ENTERPRISE_USER, GROUP, SCIMITAR_USER, USER};

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": super::MAX_PAGE },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A Scimitar token with the scim scope, sent as Authorization: Bearer <token>",
            "primary": true
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") }
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "Directory users",
            "schema": USER,
            "schemaExtensions": [
                { "schema": ENTERPRISE_USER, "required": false },
                { "schema": SCIMITAR_USER, "required": false }
            ],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") }
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Directory groups",
            "schema": GROUP,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") }
        }),
    ]
}

fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": description, "required": false,
        "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none"
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(target), Some(changes)) = (attribute.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            target.insert(key.clone(), value.clone());
        }
    }
    attribute
}

pub fn schemas(base: &str) -> Vec<Value> {
    let user = json!({
        "id": USER, "name": "User", "description": "A directory user",
        "attributes": [
            with(attribute("userName", "string", "The user principal name, unique without regard to case"),
                json!({ "required": true, "uniqueness": "server" })),
            with(attribute("name", "complex", "The user's name"), json!({ "subAttributes": [
                attribute("givenName", "string", "Given name"),
                attribute("familyName", "string", "Surname"),
            ]})),
            attribute("displayName", "string", "The name shown in lists"),
            with(attribute("emails", "complex", "The user's work email (one value)"), json!({
                "multiValued": true,
                "subAttributes": [
                    attribute("value", "string", "The email address"),
                    with(attribute("type", "string", "Only work is stored"), json!({ "canonicalValues": ["work"] })),
                ]
            })),
            with(attribute("phoneNumbers", "complex", "Work and mobile numbers"), json!({
                "multiValued": true,
                "subAttributes": [
                    attribute("value", "string", "The number"),
                    with(attribute("type", "string", "work or mobile"), json!({ "canonicalValues": ["work", "mobile"] })),
                ]
            })),
            attribute("active", "boolean", "Whether the account is enabled"),
            attribute("title", "string", "Job title"),
            attribute("preferredLanguage", "string", "Preferred language, e.g. en-US"),
            with(attribute("groups", "complex", "Groups the user is a direct member of"), json!({
                "multiValued": true, "mutability": "readOnly",
                "subAttributes": [
                    with(attribute("value", "string", "Group id"), json!({ "mutability": "readOnly" })),
                    with(attribute("$ref", "reference", "Group URI"),
                        json!({ "mutability": "readOnly", "referenceTypes": ["Group"] })),
                    with(attribute("display", "string", "Group name"), json!({ "mutability": "readOnly" })),
                ]
            })),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{USER}") }
    });
    let enterprise = json!({
        "id": ENTERPRISE_USER, "name": "EnterpriseUser", "description": "Enterprise attributes",
        "attributes": [
            attribute("employeeNumber", "string", "Employee id"),
            attribute("department", "string", "Department"),
            with(attribute("manager", "complex", "The user's manager"), json!({ "subAttributes": [
                attribute("value", "string", "The manager's id"),
                with(attribute("$ref", "reference", "The manager's URI"), json!({ "referenceTypes": ["User"] })),
            ]})),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{ENTERPRISE_USER}") }
    });
    let mut directory_attributes = vec![attribute(
        "mailNickname",
        "string",
        "The mail alias (Entra's mailNickname)",
    )];
    directory_attributes.extend((1..=15).map(|n| {
        attribute(
            &crate::directory::users::extension_attribute(n),
            "string",
            &format!("Extension attribute {n}"),
        )
    }));
    let directory = json!({
        "id": SCIMITAR_USER, "name": "ScimitarUser", "description": "Directory attributes without a standard schema",
        "attributes": directory_attributes,
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{SCIMITAR_USER}") }
    });
    let group = json!({
        "id": GROUP, "name": "Group", "description": "A directory group",
        "attributes": [
            with(attribute("displayName", "string", "The group's name"), json!({ "required": true })),
            with(attribute("members", "complex", "Direct members: users and groups"), json!({
                "multiValued": true,
                "subAttributes": [
                    with(attribute("value", "string", "Member id"), json!({ "mutability": "immutable" })),
                    with(attribute("$ref", "reference", "Member URI"),
                        json!({ "mutability": "immutable", "referenceTypes": ["User", "Group"] })),
                    with(attribute("type", "string", "User or Group"),
                        json!({ "mutability": "immutable", "canonicalValues": ["User", "Group"] })),
                ]
            })),
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{GROUP}") }
    });
    [user, enterprise, directory, group]
        .into_iter()
        .map(|mut s| {
            s["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]);
            s
        })
        .collect()
}
