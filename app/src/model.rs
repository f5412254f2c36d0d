//! Data shared by the browser and the server. Plain serde types, no behaviour that needs the
//! engine: the server decides what a caller may see and sends the result.

use serde::{Deserialize, Serialize};

/// The portal's blades, in navigation order. Which of them a caller may open is decided on the
/// server from the caller's role and sent in [`Me::blades`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Blade {
    Home,
    Users,
    Groups,
    EnterpriseApplications,
    ProvisioningLogs,
    AuditLogs,
    Settings,
}

impl Blade {
    pub const ALL: [Blade; 7] = [
        Blade::Home,
        Blade::Users,
        Blade::Groups,
        Blade::EnterpriseApplications,
        Blade::ProvisioningLogs,
        Blade::AuditLogs,
        Blade::Settings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Blade::Home => "Home",
            Blade::Users => "Users",
            Blade::Groups => "Groups",
            Blade::EnterpriseApplications => "Enterprise applications",
            Blade::ProvisioningLogs => "Provisioning logs",
            Blade::AuditLogs => "Audit logs",
            Blade::Settings => "Settings",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Blade::Home => "/",
            Blade::Users => "/users",
            Blade::Groups => "/groups",
            Blade::EnterpriseApplications => "/applications",
            Blade::ProvisioningLogs => "/provisioning-logs",
            Blade::AuditLogs => "/audit-logs",
            Blade::Settings => "/settings",
        }
    }
}

/// The signed-in administrator, as the header and the navigation show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub display_name: String,
    pub user_principal_name: String,
    /// The directory role's display name, e.g. "Global Administrator".
    pub role: String,
    pub blades: Vec<Blade>,
}

impl Me {
    pub fn may_open(&self, blade: Blade) -> bool {
        self.blades.contains(&blade)
    }
}
