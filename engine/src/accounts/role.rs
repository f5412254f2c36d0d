//! Directory roles and what each may do. docs/roles.md is the authority; this file is
//! its only transcription, and every permission check in the product goes through `Role::allows`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A console account's directory role (Entra's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    GlobalAdministrator,
    ApplicationAdministrator,
    CloudApplicationAdministrator,
    ApplicationOwner,
    ReportsReader,
}

/// Things a caller may want to do. "Own apps only" restrictions of Application Owners are applied
/// by the code that loads applications; here the owner is allowed the kind of action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    ReadDirectory,
    WriteDirectory,
    CreateApplications,
    ConfigureApplications,
    ReadLogs,
    ManageSettings,
    ManageOwnTokens,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::GlobalAdministrator,
        Role::ApplicationAdministrator,
        Role::CloudApplicationAdministrator,
        Role::ApplicationOwner,
        Role::ReportsReader,
    ];

    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ReadDirectory | ReadLogs | ManageOwnTokens => true,
            WriteDirectory | ManageSettings => self == GlobalAdministrator,
            CreateApplications => matches!(
                self,
                GlobalAdministrator | ApplicationAdministrator | CloudApplicationAdministrator
            ),
            ConfigureApplications => self != ReportsReader,
        }
    }

    /// The name shown in the UI and accepted on the command line.
    pub fn display_name(self) -> &'static str {
        match self {
            Role::GlobalAdministrator => "Global Administrator",
            Role::ApplicationAdministrator => "Application Administrator",
            Role::CloudApplicationAdministrator => "Cloud Application Administrator",
            Role::ApplicationOwner => "Application Owner",
            Role::ReportsReader => "Reports Reader",
        }
    }

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GlobalAdministrator => "GlobalAdministrator",
            Role::ApplicationAdministrator => "ApplicationAdministrator",
            Role::CloudApplicationAdministrator => "CloudApplicationAdministrator",
            Role::ApplicationOwner => "ApplicationOwner",
            Role::ReportsReader => "ReportsReader",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// Accepts the stored form and the display name, case and spacing insensitive
/// ("Global Administrator", "global-administrator", "GlobalAdministrator").
impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| {
                let names: Vec<_> = Role::ALL.iter().map(|r| r.display_name()).collect();
                format!("unknown role {s:?}; expected one of: {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table_matches_design() {
        use Permission::*;
        use Role::*;
        let expected = [
            // (permission, [GA, AppAdmin, CloudAppAdmin, Owner, ReportsReader])
            (ReadDirectory, [true, true, true, true, true]),
            (WriteDirectory, [true, false, false, false, false]),
            (CreateApplications, [true, true, true, false, false]),
            (ConfigureApplications, [true, true, true, true, false]),
            (ReadLogs, [true, true, true, true, true]),
            (ManageSettings, [true, false, false, false, false]),
            (ManageOwnTokens, [true, true, true, true, true]),
        ];
        for (permission, row) in expected {
            for (role, allowed) in Role::ALL.into_iter().zip(row) {
                assert_eq!(role.allows(permission), allowed, "{role} / {permission:?}");
            }
        }
        assert!(!ReportsReader.allows(ManageSettings));
        assert!(GlobalAdministrator.allows(ManageSettings));
    }

    #[test]
    fn roles_parse_from_display_and_stored_names() {
        for role in Role::ALL {
            assert_eq!(role.display_name().parse::<Role>(), Ok(role));
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("reports-reader".parse::<Role>(), Ok(Role::ReportsReader));
        let err = "Root".parse::<Role>().unwrap_err();
        assert!(err.contains("Global Administrator"), "{err}");
    }
}
