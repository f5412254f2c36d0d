//! What expressions read: the attributes of a directory user or group, by Entra's names, plus
//! the computed `IsSoftDeleted` and the object's app role assignments in the application being
//! provisioned. Attribute names are matched without regard to case, as Entra does.

use uuid::Uuid;

use super::{
    limits::{Size, UNLIMITED},
    value::Value,
};
use crate::directory::{
    groups::Group,
    users::{User, UserPrincipalName},
};

/// An object expressions and scoping filters read attributes from.
pub trait Source {
    /// The attribute's value, [`Value::Null`] when it is missing or unknown.
    fn attribute(&self, name: &str) -> Value;
}

/// One app role of the application that the object is assigned with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRoleAssignment {
    pub role_id: Uuid,
    pub display_name: String,
    /// The role's value as the application knows it ("User", "Admin"); `None` for
    /// Default Access, which has none.
    pub value: Option<String>,
}

/// The user attributes mappings and scoping filters may read, by Entra's names.
pub const USER_ATTRIBUTES: &[&str] = &[
    "objectId",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "accountEnabled",
    "department",
    "jobTitle",
    "employeeId",
    "manager",
    "preferredLanguage",
    "telephoneNumber",
    "mobile",
    "externalId",
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
    "IsSoftDeleted",
    "appRoleAssignments",
];

/// The group attributes mappings and scoping filters may read.
pub const GROUP_ATTRIBUTES: &[&str] = &[
    "objectId",
    "displayName",
    "description",
    "mailNickname",
    "externalId",
    "members",
    "IsSoftDeleted",
    "appRoleAssignments",
];

/// The longest of most profile attributes (`UserProfile::validate`, a group's displayName).
const PROFILE: u64 = 256;
/// The longest extension attribute (`UserProfile::validate`).
const EXTENSION: u64 = 1_024;
/// The longest app role value or display name (`Engine::save_app_role`).
pub const ROLE: u64 = 120;
/// What the save-time size check assumes of an attribute the directory does not limit (a
/// group's description, mailNickname and externalId): the longest it limits any attribute to,
/// which is also Entra's limit on a group's description. A longer value can still take a
/// function over the bound at run time; then that object fails, not the console.
pub const ASSUMED: u64 = EXTENSION;

/// The longest value attribute `name` can have, for users and groups alike: what
/// [`super::limits::check`] works from. Lists (`members`, `appRoleAssignments`) have no limit on
/// their number of values.
pub fn most(name: &str) -> Size {
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "objectid" | "manager" => Size::one(36),
        "userprincipalname" => Size::one(UserPrincipalName::MAX_TOTAL as u64),
        "accountenabled" | "issoftdeleted" => Size::one(5),
        "members" => Size::many(36, UNLIMITED),
        "approleassignments" => Size::many(ROLE, UNLIMITED),
        "description" | "mailnickname" | "externalid" => Size::one(ASSUMED),
        _ if name.starts_with("extensionattribute") => Size::one(EXTENSION),
        _ if USER_ATTRIBUTES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&name)) =>
        {
            Size::one(PROFILE)
        }
        _ => Size::one(ASSUMED),
    }
}

/// The spelling of `name` in `known`, ignoring case.
pub fn canonical<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

/// A directory user as the application being provisioned sees it.
pub struct UserSource<'a> {
    pub user: &'a User,
    /// Whether the user is in the application's scope (assigned, or "Sync all users and groups",
    /// and passing its scoping filters). Out of scope reads as `IsSoftDeleted`, as in Entra.
    pub in_scope: bool,
    pub app_roles: &'a [AppRoleAssignment],
}

impl Source for UserSource<'_> {
    fn attribute(&self, name: &str) -> Value {
        let profile = &self.user.profile;
        let text = |value: &Option<String>| Value::from(value.as_deref());
        match name {
            "objectId" => Value::Text(self.user.id.to_string()),
            "userPrincipalName" => Value::text(profile.user_principal_name.as_str()),
            "displayName" if profile.display_name.is_empty() => Value::Null,
            "displayName" => Value::text(profile.display_name.as_str()),
            "givenName" => text(&profile.given_name),
            "surname" => text(&profile.surname),
            "mail" => text(&profile.mail),
            "mailNickname" => text(&profile.mail_nickname),
            "accountEnabled" => Value::Bool(profile.is_enabled()),
            "department" => text(&profile.department),
            "jobTitle" => text(&profile.job_title),
            "employeeId" => text(&profile.employee_id),
            "manager" => profile.manager_id.map_or(Value::Null, Value::Reference),
            "preferredLanguage" => text(&profile.preferred_language),
            "telephoneNumber" => text(&profile.telephone_number),
            "mobile" => text(&profile.mobile),
            "externalId" => text(&profile.external_id),
            "IsSoftDeleted" => Value::Bool(
                self.user.deleted_at.is_some() || !profile.is_enabled() || !self.in_scope,
            ),
            "appRoleAssignments" => app_roles(self.app_roles),
            _ if name.starts_with("extensionAttribute") => {
                Value::from(profile.extension_attributes.get(name).map(String::as_str))
            }
            _ => match canonical(name, USER_ATTRIBUTES) {
                Some(known) if known != name => self.attribute(known),
                _ => Value::Null,
            },
        }
    }
}

/// A directory group with its direct members, as the application being provisioned sees it.
pub struct GroupSource<'a> {
    pub group: &'a Group,
    pub members: &'a [Uuid],
    pub in_scope: bool,
    pub app_roles: &'a [AppRoleAssignment],
}

impl Source for GroupSource<'_> {
    fn attribute(&self, name: &str) -> Value {
        let profile = &self.group.profile;
        match name {
            "objectId" => Value::Text(self.group.id.to_string()),
            "displayName" => Value::text(profile.display_name.as_str()),
            "description" => Value::from(profile.description.as_deref()),
            "mailNickname" => Value::from(profile.mail_nickname.as_deref()),
            "externalId" => Value::from(profile.external_id.as_deref()),
            "members" => Value::List(self.members.iter().copied().map(Value::Reference).collect()),
            "IsSoftDeleted" => Value::Bool(self.group.deleted_at.is_some() || !self.in_scope),
            "appRoleAssignments" => app_roles(self.app_roles),
            _ => match canonical(name, GROUP_ATTRIBUTES) {
                Some(known) if known != name => self.attribute(known),
                _ => Value::Null,
            },
        }
    }
}

/// `[appRoleAssignments]`: the object's roles in the application, each with its id, display name
/// and value (what `AppRoleAssignmentsComplex` and `SingleAppRoleAssignment` read).
fn app_roles(roles: &[AppRoleAssignment]) -> Value {
    Value::List(
        roles
            .iter()
            .map(|r| {
                Value::Object(vec![
                    ("id", Value::Reference(r.role_id)),
                    ("displayName", Value::text(r.display_name.as_str())),
                    ("value", Value::from(r.value.as_deref())),
                ])
            })
            .collect(),
    )
}

/// A plain attribute bag, for tests and hand-written examples.
impl Source for Vec<(&str, Value)> {
    fn attribute(&self, name: &str) -> Value {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or(Value::Null, |(_, v)| v.clone())
    }
}
