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
    SignInLogs,
    AuditLogs,
    Settings,
    /// Reached from the account menu, not the navigation.
    MyTokens,
}

impl Blade {
    pub const ALL: [Blade; 9] = [
        Blade::Home,
        Blade::Users,
        Blade::Groups,
        Blade::EnterpriseApplications,
        Blade::ProvisioningLogs,
        Blade::SignInLogs,
        Blade::AuditLogs,
        Blade::Settings,
        Blade::MyTokens,
    ];

    pub fn in_navigation(self) -> bool {
        self != Blade::MyTokens
    }

    pub fn title(self) -> &'static str {
        match self {
            Blade::Home => "Home",
            Blade::Users => "Users",
            Blade::Groups => "Groups",
            Blade::EnterpriseApplications => "Enterprise applications",
            Blade::ProvisioningLogs => "Provisioning logs",
            Blade::SignInLogs => "Sign-in logs",
            Blade::AuditLogs => "Audit logs",
            Blade::Settings => "Settings",
            Blade::MyTokens => "My tokens",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Blade::Home => "/",
            Blade::Users => "/users",
            Blade::Groups => "/groups",
            Blade::EnterpriseApplications => "/applications",
            Blade::ProvisioningLogs => "/provisioning-logs",
            Blade::SignInLogs => "/sign-in-logs",
            Blade::AuditLogs => "/audit-logs",
            Blade::Settings => "/settings",
            Blade::MyTokens => "/tokens",
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
    /// May create, edit and delete users and groups (Global Administrators).
    pub writes_directory: bool,
    /// May add applications from the gallery (administrators, not Application Owners).
    pub creates_applications: bool,
}

impl Me {
    pub fn may_open(&self, blade: Blade) -> bool {
        self.blades.contains(&blade)
    }
}

/// One line of the Users list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub department: Option<String>,
    pub enabled: bool,
    pub role: Option<String>,
}

/// A page of a list, and where the next one starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPage<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub total: i64,
}

/// Everything the user page shows and edits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetails {
    pub id: String,
    pub version: i64,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub mail: String,
    pub mail_nickname: String,
    pub department: String,
    pub job_title: String,
    pub employee_id: String,
    pub manager: String,
    pub preferred_language: String,
    pub telephone_number: String,
    pub mobile: String,
    pub enabled: bool,
    pub deleted: bool,
    /// The directory role's stored name, empty when the user is not a console account.
    pub role: String,
    pub groups: Vec<(String, String)>,
}

/// The directory roles, as (stored name, display name), for role pickers.
pub const ROLES: [(&str, &str); 5] = [
    ("GlobalAdministrator", "Global Administrator"),
    ("ApplicationAdministrator", "Application Administrator"),
    (
        "CloudApplicationAdministrator",
        "Cloud Application Administrator",
    ),
    ("ApplicationOwner", "Application Owner"),
    ("ReportsReader", "Reports Reader"),
];

/// One line of the Groups list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub members: i64,
}

/// A direct member of a group, as the group page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerOption {
    /// What the field takes: a user principal name, a group's name.
    pub value: String,
    /// What the suggestion shows: "Grace Hopper (grace.hopper@contoso.com)", "Sales (Group)".
    pub label: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub display_name: String,
    /// "User" or "Group".
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetails {
    pub id: String,
    pub version: i64,
    pub display_name: String,
    pub description: String,
    pub mail_nickname: String,
    pub deleted: bool,
    pub members: Vec<MemberRow>,
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    pub actor: String,
    pub activity: String,
    pub target: String,
    pub client_address: String,
    /// The object before and after the change, as JSON, when the entry has them.
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next: Option<String>,
    /// The activities in the log, for the filter.
    pub activities: Vec<String>,
}

/// A machine token, as the token lists show it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

/// A bad row of an uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// An uploaded CSV file: what importing it would do, and what it did once imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub id: String,
    pub file_name: String,
    pub rows: u64,
    pub create: u64,
    pub update: u64,
    pub unchanged: u64,
    pub errors: Vec<ImportRowError>,
    /// (created, updated, unchanged) once the import has run.
    pub done: Option<(u64, u64, u64)>,
}

/// One line of All applications.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRow {
    pub id: String,
    pub display_name: String,
    pub logo_monogram: String,
    pub logo_color: String,
    /// The gallery entry's name ("Vonage", "Create your own application").
    pub template: String,
    /// "Manual", "Automatic, Off" or "Automatic, On".
    pub provisioning: String,
}

/// One entry of the gallery (New application).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryEntry {
    pub id: String,
    pub name: String,
    pub publisher: String,
    pub category: String,
    pub description: String,
    pub logo_monogram: String,
    pub logo_color: String,
    /// How Admin Credentials work: "Secret Token", "OAuth 2.0 authorization", ...
    pub authentication: String,
    pub groups_supported: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRow {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
}

/// An application's Overview and Properties.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetails {
    pub id: String,
    pub version: i64,
    pub display_name: String,
    pub logo_monogram: String,
    pub logo_color: String,
    pub notes: String,
    pub template_name: String,
    pub publisher: String,
    pub description: String,
    pub documentation: Vec<String>,
    pub created: String,
    pub owners: Vec<OwnerRow>,
    pub assignments: u32,
    pub provisioning: String,
    /// Users whose only role is Default Access are not provisioned (Vonage).
    pub excludes_default_access: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRoleRow {
    pub id: String,
    pub display_name: String,
    pub value: String,
    pub description: String,
    pub enabled: bool,
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub id: String,
    pub principal_id: String,
    /// "User" or "Group".
    pub principal_type: String,
    pub principal_name: String,
    pub role: String,
    pub assigned: String,
}

/// The Users and groups blade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentsView {
    pub application: String,
    pub excludes_default_access: bool,
    pub roles: Vec<AppRoleRow>,
    pub assignments: Vec<AssignmentRow>,
}

/// Objects of a cycle, by what became of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleCounts {
    pub total: u64,
    pub processed: u64,
    pub created: u64,
    pub updated: u64,
    pub disabled: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// The cycle running now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleProgress {
    /// "Initial" or "Incremental".
    pub kind: String,
    pub started: String,
    pub counts: CycleCounts,
    /// When the engine last changed the counts (Unix milliseconds): how fresh the page is.
    pub changed_at_ms: i64,
}

/// The last cycle that ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CycleSummary {
    pub kind: String,
    pub finished: String,
    pub seconds: f64,
    /// "Completed", or what stopped it, in words.
    pub outcome: String,
    pub steady_state: bool,
    /// References waiting for an object that failed: not steady state.
    pub pending_references: u64,
    pub counts: CycleCounts,
}

/// Why a job is in quarantine and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineNotice {
    pub reason: String,
    pub since: String,
    pub next_attempt: Option<String>,
    pub fix: String,
    /// The job gave up (28 days in quarantine): only Restart brings it back.
    pub disabled: bool,
}

/// A cycle that could not finish: when (UTC) and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interruption {
    pub at: String,
    pub reason: String,
}

/// The provisioning overview: the job, the cycle running, the last one, linked objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvisioningStatus {
    /// "Not run", "Active", "Paused", "Quarantine" or "Disabled".
    pub state: String,
    /// Provisioning Mode as saved: a Manual job has nothing to start or stop.
    pub automatic: bool,
    /// Mappings, scoping or scope changed since the last cycle: the next is an initial cycle.
    pub needs_initial_cycle: bool,
    /// "View technical information": (name, value) facts about the job.
    pub technical: Vec<(String, String)>,
    pub running: Option<CycleProgress>,
    pub last: Option<CycleSummary>,
    pub quarantine: Option<QuarantineNotice>,
    /// The last cycle that could not finish, until a cycle completes.
    pub last_interruption: Option<Interruption>,
    /// The last cycle stopped before disables and deletes over the threshold: Allow deletes.
    pub deletes_staged: bool,
    pub linked_users: u64,
    pub linked_groups: u64,
}

/// The Provisioning blade's form, secrets reduced to whether they are set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningForm {
    pub application_id: String,
    pub application: String,
    pub version: i64,
    /// "bearer-token", "oauth2-authorization-code" or "oauth2-client-credentials".
    pub authentication: String,
    pub automatic: bool,
    pub scim_base_url: String,
    pub scim_base_url_hint: String,
    pub has_secret_token: bool,
    pub client_id: String,
    pub authorization_url: String,
    pub token_url: String,
    pub scopes: String,
    pub has_client_secret: bool,
    /// "alice@contoso.com on 2026-11-26 20:15 UTC" once authorized.
    pub authorized: Option<String>,
    pub token_expires: Option<String>,
    pub notification_email: String,
    pub notify_on_failure: bool,
    pub sync_all: bool,
    pub prevent_accidental_deletion: bool,
    pub deletion_threshold: u32,
    pub skip_out_of_scope_deletions: bool,
    pub cycle_interval_minutes: u32,
    pub concurrency: u32,
    pub requests_per_second: u32,
    pub use_target_capabilities: bool,
    pub on: bool,
    pub users_enabled: bool,
    pub groups_enabled: bool,
    pub groups_supported: bool,
    pub users_mapping_count: u32,
    pub groups_mapping_count: u32,
    /// How an Authorize that just came back ended: (succeeded, message).
    pub authorization_outcome: Option<(bool, String)>,
}

/// A Test Connection verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionVerdict {
    pub success: bool,
    pub message: String,
}

/// One row of the Attribute Mappings table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    /// "Direct", "Constant", "Expression" or "None".
    pub mapping_type: String,
    pub source: String,
    pub target: String,
    pub default_value: String,
    /// 0 when the row is not a matching attribute.
    pub matching_precedence: u8,
    pub only_during_creation: bool,
}

/// One clause of a scoping filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClauseRow {
    pub attribute: String,
    pub operator: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterRow {
    pub name: String,
    pub clauses: Vec<ClauseRow>,
}

/// The Mappings page of one object type ("users" or "groups").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingsForm {
    pub application_id: String,
    pub application: String,
    pub object: String,
    pub version: i64,
    pub enabled: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub rows: Vec<MappingRow>,
    pub filters: Vec<FilterRow>,
    /// The template's rows, for "Restore default mappings".
    pub defaults: Vec<MappingRow>,
    pub required: Vec<String>,
    pub source_attributes: Vec<String>,
    /// The names on the target's attribute list: what a mapping may write.
    pub target_attributes: Vec<String>,
    pub operators: Vec<String>,
    pub functions: Vec<String>,
}

/// One attribute of the target's attribute list, as its page edits it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeRow {
    pub name: String,
    /// String, Boolean, Integer, Decimal, DateTime, Binary or Reference.
    pub kind: String,
    pub required: bool,
    pub multi_valued: bool,
    pub reference: bool,
    pub filterable: bool,
}

/// "Edit attribute list for Vonage": one object type's list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeListForm {
    pub application_id: String,
    pub application: String,
    /// "users" or "groups".
    pub object: String,
    pub version: i64,
    pub rows: Vec<AttributeRow>,
    /// Attributes a mapping writes: they stay on the list.
    pub mapped: Vec<String>,
}

/// What an expression gives for a user (or why it cannot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewResult {
    pub ok: bool,
    /// The value as JSON, "(not sent)" for an ignored flow, or the error.
    pub text: String,
}

/// Settings > Email (the password only as "set or not").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    /// "none", "starttls" or "tls".
    pub security: String,
    pub username: String,
    pub from_address: String,
    pub has_password: bool,
}

/// The Provisioning logs filters, as the address carries them (every one optional). The list,
/// the downloads and the API read the same names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    pub application: Option<String>,
    pub identity: Option<String>,
    /// A day, 2026-01-31: entries from its start.
    pub from: Option<String>,
    /// A day: entries until its end.
    pub to: Option<String>,
    pub status: Option<String>,
    pub action: Option<String>,
    pub cycle: Option<String>,
    pub change: Option<String>,
    pub job: Option<String>,
    /// "User" or "Group".
    pub object_type: Option<String>,
}

impl LogQuery {
    pub const NAMES: [&'static str; 10] = [
        "application",
        "identity",
        "from",
        "to",
        "status",
        "action",
        "cycle",
        "change",
        "job",
        "object_type",
    ];

    /// Reads the filters from the address's parameters through `param`.
    pub fn from_params(param: impl Fn(&str) -> String) -> LogQuery {
        let some = |name: &str| Some(param(name)).filter(|v| !v.trim().is_empty());
        LogQuery {
            application: some("application"),
            identity: some("identity"),
            from: some("from"),
            to: some("to"),
            status: some("status"),
            action: some("action"),
            cycle: some("cycle"),
            change: some("change"),
            job: some("job"),
            object_type: some("object_type"),
        }
    }

    /// The filters as address parameters (empty ones included; links drop them).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let values = [
            &self.application,
            &self.identity,
            &self.from,
            &self.to,
            &self.status,
            &self.action,
            &self.cycle,
            &self.change,
            &self.job,
            &self.object_type,
        ];
        LogQuery::NAMES
            .into_iter()
            .zip(values)
            .map(|(name, value)| (name, value.clone().unwrap_or_default()))
            .collect()
    }
}

/// A provisioning log entry as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: String,
    pub at: String,
    pub application: String,
    pub object_type: String,
    pub identity: String,
    pub target_id: String,
    pub action: String,
    pub status: String,
    pub error_code: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    /// The cursor of the next (older) page.
    pub next: Option<String>,
    /// (id, name) of the applications the caller may filter on.
    pub applications: Vec<(String, String)>,
}

/// One attribute an entry changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifiedProperty {
    pub attribute: String,
    pub old: String,
    pub new: String,
}

/// A provisioning log entry in full, for the details panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: String,
    pub at: String,
    pub application_id: String,
    pub application: String,
    pub job_id: String,
    pub cycle_id: String,
    pub change_id: String,
    pub object_type: String,
    pub source_id: String,
    pub source_name: String,
    pub target_id: String,
    pub action: String,
    pub status: String,
    pub steps: Vec<String>,
    pub modified: Vec<ModifiedProperty>,
    pub error_code: String,
    pub reason: String,
    pub duration_ms: i64,
    /// Troubleshooting & Recommendations: what the error means and what to do.
    pub cause: String,
    pub fix: String,
}

/// An application on the Home blade: its job's state and the failures of the last day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeApplication {
    pub id: String,
    pub name: String,
    pub state: String,
    pub quarantine_reason: Option<String>,
    /// "Initial cycle: 120 of 400 objects" while one runs.
    pub running: Option<String>,
    pub failures_24h: i64,
    /// The day the failures link filters from (yesterday, UTC).
    pub failures_from: String,
    pub last: Option<CycleSummary>,
}

/// One step of a provision on demand, as it completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnDemandStep {
    /// Connection, Import, Member, Scope, Match, Action.
    pub name: String,
    /// Success, Skipped or Failure.
    pub result: String,
    pub detail: String,
}

/// "Review your schema here": the provisioning schema as the page edits it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaForm {
    pub application_id: String,
    pub application: String,
    pub version: i64,
    /// The document, pretty JSON.
    pub text: String,
}

/// My Apps: who is signed in and the applications they may open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyApps {
    pub display_name: String,
    pub user_principal_name: String,
    /// They also hold a console role: the page links to the console.
    pub console: bool,
    pub apps: Vec<MyAppTile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyAppTile {
    pub id: String,
    pub name: String,
    pub logo_monogram: String,
    pub logo_color: String,
    pub launch_url: String,
}

/// The Single sign-on blade of one application.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoForm {
    pub application_id: String,
    pub application: String,
    pub version: i64,
    pub settings: SsoSettings,
    /// "Set up <application>": what the service provider is told about Scimitar.
    pub identity_provider: IdentityProviderUrls,
    /// What an OpenID Connect client is told about Scimitar.
    pub openid_provider: OpenIdProviderUrls,
    pub client_secrets: Vec<ClientSecretRow>,
    /// The vendor's documented patterns, shown as placeholders (empty when none).
    pub hints: SsoHints,
}

/// What Save sends: the method, Basic SAML Configuration, Attributes & Claims, signing, and the
/// OpenID Connect registration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    /// "Disabled", "Saml" or "OpenIdConnect".
    pub method: String,
    pub identifiers: Vec<String>,
    pub reply_urls: Vec<String>,
    pub sign_on_url: String,
    pub relay_state: String,
    pub logout_url: String,
    /// "SignAssertion", "SignResponse" or "SignResponseAndAssertion".
    pub signing: String,
    /// "EmailAddress", "Unspecified", "Persistent" or "Transient".
    pub name_id_format: String,
    pub name_id_source: String,
    pub claims: Vec<ClaimRow>,
    /// "Confidential" or "Public".
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub home_page_url: String,
    /// The ID token's claims (no namespace).
    pub oidc_claims: Vec<ClaimRow>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRow {
    pub name: String,
    pub namespace: String,
    pub source: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProviderUrls {
    pub identifier: String,
    pub login_url: String,
    pub logout_url: String,
    pub metadata_url: String,
    /// IdP-initiated sign-in, as My Apps opens it ("Test this application").
    pub test_url: String,
}

/// The OpenID Connect endpoints of one application, and its client id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdProviderUrls {
    pub client_id: String,
    pub issuer: String,
    pub discovery: String,
    pub authorization: String,
    pub token: String,
    pub userinfo: String,
    pub jwks: String,
    pub logout: String,
}

/// A client secret as the blade lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretRow {
    pub id: String,
    pub description: String,
    /// The first characters, then an ellipsis.
    pub hint: String,
    pub created: String,
    pub expires: String,
    pub expired: bool,
}

/// A client secret just made: its value, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewClientSecret {
    pub value: String,
    pub description: String,
    pub expires: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoHints {
    pub identifier: String,
    pub reply_url: String,
    pub sign_on_url: String,
}

/// A SAML Signing Certificate as the blade lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRow {
    pub id: String,
    /// "Active", "Inactive" or "Expired".
    pub status: String,
    pub created: String,
    pub expires: String,
    pub thumbprint: String,
    /// "Certificate (Base64)": PEM.
    pub pem: String,
    /// "Certificate (Raw)": the DER, in base64 for a data: link.
    pub raw_base64: String,
}

/// What a service provider's uploaded metadata fills in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpMetadata {
    pub identifier: String,
    pub reply_urls: Vec<String>,
    pub logout_url: String,
    /// Empty when the metadata names no format Scimitar knows.
    pub name_id_format: String,
}

/// One page of the Sign-in logs blade, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInLogPage {
    pub rows: Vec<SignInRow>,
    /// The `before` of the next (older) page.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInRow {
    pub at: String,
    pub user: String,
    pub application: String,
    pub protocol: String,
    pub result: String,
    pub reason: String,
    pub client_address: String,
    pub correlation_id: String,
}

/// The Sign-in logs blade's filters, as its address (and the CSV download's) carries them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignInFilters {
    pub user: String,
    pub application: String,
    pub result: String,
    pub from: String,
    pub to: String,
    pub before: String,
}
