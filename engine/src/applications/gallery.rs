//! The application gallery: one TOML file per application in `engine/gallery/`, compiled into
//! the binary. A template says how to reach the application (authentication method, endpoints,
//! SCIM base URL or that the tenant supplies it), what to send (default Users and Groups
//! mappings, required target attributes) and how it behaves (Default Access excluded,
//! deprovision by disabling or deleting, groups, members per PATCH). Facts taken from a vendor's
//! public documentation cite it in the file; what is not public stays empty for the admin.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::mapping::{
    AttributeMappings,
    source::{GROUP_ATTRIBUTES, USER_ATTRIBUTES},
};

/// The gallery's files, by id. Adding an application is adding its file and a line here.
const FILES: &[(&str, &str)] = &[
    (
        "custom-scim",
        include_str!("../../gallery/custom-scim.toml"),
    ),
    (
        "atlassian-cloud",
        include_str!("../../gallery/atlassian-cloud.toml"),
    ),
    ("dropbox", include_str!("../../gallery/dropbox.toml")),
    ("github-emu", include_str!("../../gallery/github-emu.toml")),
    ("slack", include_str!("../../gallery/slack.toml")),
    ("vonage", include_str!("../../gallery/vonage.toml")),
    ("zoom", include_str!("../../gallery/zoom.toml")),
];

/// The id of "Create your own application".
pub const CUSTOM: &str = "custom-scim";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Category {
    Collaboration,
    Communication,
    #[serde(rename = "Developer tools")]
    DeveloperTools,
    #[serde(rename = "File storage")]
    FileStorage,
    #[serde(rename = "IT and security")]
    ItAndSecurity,
    Productivity,
    Custom,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Collaboration => "Collaboration",
            Category::Communication => "Communication",
            Category::DeveloperTools => "Developer tools",
            Category::FileStorage => "File storage",
            Category::ItAndSecurity => "IT and security",
            Category::Productivity => "Productivity",
            Category::Custom => "Custom",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AuthenticationMethod {
    /// Tenant URL + Secret Token (a bearer token the application issued).
    BearerToken,
    /// "Authorize": the admin signs in at the application's provider.
    Oauth2AuthorizationCode,
    Oauth2ClientCredentials,
}

impl AuthenticationMethod {
    pub fn is_oauth(self) -> bool {
        self != AuthenticationMethod::BearerToken
    }
}

/// How accounts leave the application when their user leaves scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deprovision {
    /// PATCH active=false (Entra's default; the account can come back).
    Disable,
    /// DELETE the account.
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logo {
    /// One or two characters shown on a coloured tile.
    pub monogram: String,
    /// `#rrggbb`.
    pub color: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthEndpoints {
    #[serde(default)]
    pub authorization_url: String,
    #[serde(default)]
    pub token_url: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningDefaults {
    pub authentication: AuthenticationMethod,
    /// Empty when each tenant has its own (the admin enters it; `scim_base_url_hint` says how).
    #[serde(default)]
    pub scim_base_url: String,
    #[serde(default)]
    pub scim_base_url_hint: String,
    /// Users and groups whose only role is Default Access are not provisioned.
    #[serde(default)]
    pub exclude_default_access: bool,
    pub deprovision: Deprovision,
    pub groups_supported: bool,
    /// The most members one group PATCH may carry (0 when groups are not supported).
    #[serde(default)]
    pub max_members_per_patch: u32,
    #[serde(default)]
    pub oauth: Option<OAuthEndpoints>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDefaults {
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Target attributes the application refuses objects without.
    #[serde(default)]
    pub required: Vec<String>,
    /// Target attributes the application can filter on (the only ones that may match);
    /// without it, `userName` and `externalId` for users, `displayName` and `externalId` for
    /// groups.
    #[serde(default)]
    pub filterable: Option<Vec<String>>,
    pub mappings: AttributeMappings,
}

fn enabled() -> bool {
    true
}

/// What the vendor documents about single sign-on with SAML: the patterns of its Basic SAML
/// Configuration (each tenant has its own values, so they are shown as placeholders).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoDefaults {
    #[serde(default)]
    pub identifier_pattern: String,
    #[serde(default)]
    pub reply_url_pattern: String,
    #[serde(default)]
    pub sign_on_url_pattern: String,
}

/// An app role the template adds to "Default Access".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleTemplate {
    pub display_name: String,
    pub value: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub publisher: String,
    pub category: Category,
    pub description: String,
    #[serde(default)]
    pub homepage: String,
    pub logo: Logo,
    /// The public pages the facts in this file come from.
    pub documentation: Vec<String>,
    #[serde(default)]
    pub app_roles: Vec<RoleTemplate>,
    pub provisioning: ProvisioningDefaults,
    /// Single sign-on, where the vendor documents it.
    #[serde(default)]
    pub sso: Option<SsoDefaults>,
    pub users: ObjectDefaults,
    pub groups: ObjectDefaults,
}

impl Template {
    /// What is wrong with the template, if anything (the gallery's tests run this on every file).
    pub fn problems(&self, file_id: &str) -> Vec<String> {
        let p = &self.provisioning;
        let rules = [
            (self.id == file_id, "id must be the file's name"),
            (!self.name.trim().is_empty(), "name is empty"),
            (!self.publisher.trim().is_empty(), "publisher is empty"),
            (!self.description.trim().is_empty(), "description is empty"),
            (
                (1..=2).contains(&self.logo.monogram.chars().count()),
                "logo.monogram must have 1 or 2 characters",
            ),
            (
                self.logo.color.len() == 7
                    && self.logo.color.starts_with('#')
                    && self.logo.color[1..].chars().all(|c| c.is_ascii_hexdigit()),
                "logo.color must be #rrggbb",
            ),
            (
                !self.documentation.is_empty()
                    && self.documentation.iter().all(|u| u.starts_with("https://")),
                "documentation must cite at least one https:// page",
            ),
            (
                p.authentication.is_oauth() == p.oauth.is_some(),
                "[provisioning.oauth] is present exactly for OAuth applications",
            ),
            (
                !p.scim_base_url.is_empty() || !p.scim_base_url_hint.is_empty(),
                "give scim_base_url, or scim_base_url_hint when each tenant has its own",
            ),
            (
                p.scim_base_url.is_empty() || p.scim_base_url.starts_with("https://"),
                "scim_base_url must be https://",
            ),
            (
                p.groups_supported == (p.max_members_per_patch > 0),
                "max_members_per_patch is above 0 exactly when groups are supported",
            ),
            (
                !self.groups.enabled || p.groups_supported,
                "groups.enabled needs groups_supported",
            ),
        ];
        let mut problems: Vec<String> = rules
            .iter()
            .filter(|(ok, _)| !ok)
            .map(|(_, problem)| (*problem).to_owned())
            .collect();
        for (kind, defaults, known) in [
            ("users", &self.users, USER_ATTRIBUTES),
            ("groups", &self.groups, GROUP_ATTRIBUTES),
        ] {
            let required: Vec<&str> = defaults.required.iter().map(String::as_str).collect();
            if let Err(errors) = defaults.mappings.compile(known, &required) {
                for e in errors {
                    problems.push(format!("{kind}.{}: {}", e.field, e.message));
                }
            }
            // Each matching attribute must be one the application filters on.
            let list =
                super::attribute_list::AttributeList::for_template(defaults, kind == "groups");
            for e in list.check(&defaults.mappings, &self.name) {
                problems.push(format!("{kind}.{}: {}", e.field, e.message));
            }
        }
        let mut names: Vec<&str> = self
            .app_roles
            .iter()
            .map(|r| r.display_name.as_str())
            .collect();
        names.push(super::roles::DEFAULT_ACCESS);
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        if before != names.len() {
            problems.push("app_roles repeat a name (or Default Access)".into());
        }
        problems
    }
}

/// Every template, in display order (Create your own application last), parsed once.
pub fn templates() -> &'static [Template] {
    static TEMPLATES: OnceLock<Vec<Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut templates: Vec<Template> = FILES
            .iter()
            .map(|(id, text)| {
                // The files are part of the source and tested; a broken one is a build defect.
                toml::from_str(text).unwrap_or_else(|e| panic!("gallery/{id}.toml: {e}"))
            })
            .collect();
        templates.sort_by_key(|t| (t.id == CUSTOM, t.name.to_lowercase()));
        templates
    })
}

pub fn template(id: &str) -> Option<&'static Template> {
    templates().iter().find(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_loads_validates_and_is_listed() {
        for (id, text) in FILES {
            let template: Template =
                toml::from_str(text).unwrap_or_else(|e| panic!("gallery/{id}.toml: {e}"));
            assert_eq!(
                template.problems(id),
                Vec::<String>::new(),
                "gallery/{id}.toml"
            );
        }
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/gallery");
        let mut on_disk: Vec<String> = std::fs::read_dir(directory)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|name| name.strip_suffix(".toml").map(str::to_owned))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(id, _)| (*id).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "every gallery file is in FILES");
        assert!(
            templates().len() >= 6,
            "Vonage, Create your own application and four others"
        );
        assert_eq!(templates().last().map(|t| t.id.as_str()), Some(CUSTOM));
    }

    #[test]
    fn vonage_is_as_the_design_describes_it() {
        let vonage = template("vonage").unwrap();
        assert_eq!(
            vonage.provisioning.authentication,
            AuthenticationMethod::Oauth2AuthorizationCode
        );
        assert!(vonage.provisioning.exclude_default_access);
        assert_eq!(vonage.provisioning.deprovision, Deprovision::Disable);
        assert!(!vonage.groups.enabled && !vonage.provisioning.groups_supported);
        // The seed tutorial's table with Entra's sources, userName matching.
        let rows: Vec<(&str, &str, Option<u8>)> = vonage
            .users
            .mappings
            .0
            .iter()
            .map(|m| (m.source.as_str(), m.target.as_str(), m.matching_precedence))
            .collect();
        assert_eq!(
            rows,
            [
                ("userPrincipalName", "userName", Some(1)),
                (
                    r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
                    "active",
                    None
                ),
                ("mail", r#"emails[type eq "work"].value"#, None),
                ("givenName", "name.givenName", None),
                ("surname", "name.familyName", None),
            ]
        );
        assert_eq!(
            vonage.users.required,
            [
                "name.givenName",
                "name.familyName",
                r#"emails[type eq "work"].value"#
            ]
        );
        assert_eq!(vonage.app_roles[0].display_name, "User");
        let custom = template(CUSTOM).unwrap();
        let targets: Vec<&str> = custom
            .users
            .mappings
            .0
            .iter()
            .map(|m| m.target.as_str())
            .collect();
        assert_eq!(targets.len(), 15);
        assert!(targets.contains(&"name.formatted") && targets.contains(&"externalId"));
        let groups: Vec<&str> = custom
            .groups
            .mappings
            .0
            .iter()
            .map(|m| m.source.as_str())
            .collect();
        assert_eq!(groups, ["displayName", "objectId", "members"]);
        assert_eq!(
            custom.provisioning.authentication,
            AuthenticationMethod::BearerToken
        );
    }

    #[test]
    fn a_broken_template_says_what_is_wrong() {
        let mut template = template("vonage").unwrap().clone();
        template.logo.color = "red".into();
        template.provisioning.oauth = None;
        template.users.required.push("title".into());
        let problems = template.problems("other");
        assert!(
            problems.contains(&"id must be the file's name".to_owned()),
            "{problems:?}"
        );
        assert!(problems.contains(&"logo.color must be #rrggbb".to_owned()));
        assert!(problems.iter().any(|p| p.contains("[provisioning.oauth]")));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("users.mappings: the application requires title")),
            "{problems:?}"
        );
    }
}
