//! "Review your schema here": an application's whole provisioning schema as one JSON document
//! (each object type's switches, target object actions, attribute mappings, scoping filters and
//! attribute list), to read, download, edit and upload. Copying a configuration tested on a test
//! instance to the production one is this. Credentials, the Tenant URL and the job's settings
//! belong to the instance and are not in it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::provisioning::{Configuration, ObjectSettings};
use crate::{Engine, Error, FieldError, Result, accounts::Account, audit::Caller};

/// The version of the document's shape, so a later Scimitar can read an older one.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchemaDocument {
    pub schema_version: u32,
    pub users: ObjectSettings,
    pub groups: ObjectSettings,
}

/// The document in `text`, or where it is wrong: the path of the value (`users.mappings[2]`)
/// with the line and column.
pub fn parse(text: &str) -> std::result::Result<SchemaDocument, FieldError> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let document: SchemaDocument = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." {
            "schema".to_owned()
        } else {
            path
        };
        let message = inner.to_string();
        // serde_json ends its messages with the position; say it first, as the editor does.
        let message = match message.rsplit_once(" at line ") {
            Some((what, at)) => format!("line {}: {what}", at.replacen(" column ", ", column ", 1)),
            None => message,
        };
        FieldError::new(field, message)
    })?;
    if document.schema_version != SCHEMA_VERSION {
        return Err(FieldError::new(
            "schemaVersion",
            format!(
                "this Scimitar reads schemaVersion {SCHEMA_VERSION}; the document has {}",
                document.schema_version
            ),
        ));
    }
    Ok(document)
}

impl Engine {
    /// The provisioning schema of `application`, as pretty JSON.
    pub async fn provisioning_schema(
        &self,
        account: &Account,
        application: Uuid,
    ) -> Result<String> {
        let c = self.provisioning(account, application).await?;
        let document = SchemaDocument {
            schema_version: SCHEMA_VERSION,
            users: c.settings.users,
            groups: c.settings.groups,
        };
        Ok(serde_json::to_string_pretty(&document).expect("settings serialize"))
    }

    /// Replaces the provisioning schema of `application` with the document `text`, checked as
    /// any Save is (every problem with its path); a malformed document changes nothing.
    pub async fn replace_provisioning_schema(
        &self,
        caller: &Caller,
        account: &Account,
        application: Uuid,
        expected_version: i64,
        text: &str,
    ) -> Result<Configuration> {
        let document = parse(text).map_err(|e| Error::InvalidFields(vec![e]))?;
        let stored = self.provisioning(account, application).await?;
        let mut settings = stored.settings;
        settings.users = document.users;
        settings.groups = document.groups;
        self.save_provisioning(
            caller,
            account,
            application,
            expected_version,
            settings,
            Default::default(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::{gallery, provisioning::Settings};

    fn vonage_document() -> String {
        let settings = Settings::defaults(gallery::template("vonage").unwrap());
        serde_json::to_string_pretty(&SchemaDocument {
            schema_version: SCHEMA_VERSION,
            users: settings.users,
            groups: settings.groups,
        })
        .unwrap()
    }

    #[test]
    fn a_document_reads_back_as_written() {
        let text = vonage_document();
        let document = parse(&text).unwrap();
        assert_eq!(serde_json::to_string_pretty(&document).unwrap(), text);
    }

    #[test]
    fn a_bad_document_is_refused_with_the_path_and_position_of_the_error() {
        let text = vonage_document().replacen(
            r#""mappingType": "Direct""#,
            r#""mappingType": "Sideways""#,
            1,
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(error.field, "users.mappings[0].mappingType");
        assert!(error.message.starts_with("line "), "{}", error.message);
        assert!(
            error.message.contains("unknown variant `Sideways`"),
            "{}",
            error.message
        );

        let error = parse(r#"{"schemaVersion": 1, "users": {}, "extra": 1}"#).unwrap_err();
        assert!(
            error.message.contains("unknown field `extra`") || error.field == "users",
            "{error:?}"
        );
        let error = parse("[").unwrap_err();
        assert_eq!(error.field, "schema");
        let newer = vonage_document().replace(r#""schemaVersion": 1"#, r#""schemaVersion": 2"#);
        assert_eq!(parse(&newer).unwrap_err().field, "schemaVersion");
    }
}
