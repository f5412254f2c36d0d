//! The role table (docs/roles.md), at the engine: every write, called with each role, is allowed
//! or refused as the table below says, whatever door the call came through. The table is written
//! by hand here, not computed from `Role::allows`. Then the account guards.

use engine::{
    Engine, Error,
    accounts::{Account, Role, Scope},
    applications::{
        Properties,
        roles::{PrincipalType, RoleChange},
    },
    audit::Caller,
    directory::{UserProfile, generator::Spec, groups::GroupProfile},
    scim::service::ResourceKind,
    sync::notify::{Security, SmtpSettings},
};
use uuid::Uuid;

const GA: Role = Role::GlobalAdministrator;
const AA: Role = Role::ApplicationAdministrator;
const CAA: Role = Role::CloudApplicationAdministrator;
const OWNER: Role = Role::ApplicationOwner;

/// Each write and the roles that may make it (an Application Owner, on an application it owns;
/// Reports Readers make none but their own tokens).
const TABLE: &[(&str, &[Role])] = &[
    ("create user", &[GA]),
    ("update user", &[GA]),
    ("delete user", &[GA]),
    ("restore user", &[GA]),
    ("delete user permanently", &[GA]),
    ("give console access", &[GA]),
    ("create group", &[GA]),
    ("update group", &[GA]),
    ("change group members", &[GA]),
    ("delete group", &[GA]),
    ("delete group permanently", &[GA]),
    ("import users", &[GA]),
    ("generate a directory", &[GA]),
    ("SCIM create user", &[GA]),
    ("SCIM delete user", &[GA]),
    ("save SMTP settings", &[GA]),
    ("create a token for another account", &[GA]),
    ("revoke another account's token", &[GA]),
    (
        "create one's own token",
        &[GA, AA, CAA, OWNER, Role::ReportsReader],
    ),
    (
        "revoke one's own token",
        &[GA, AA, CAA, OWNER, Role::ReportsReader],
    ),
    ("create an application", &[GA, AA, CAA]),
    ("update an application", &[GA, AA, CAA, OWNER]),
    ("add an owner", &[GA, AA, CAA, OWNER]),
    ("save an app role", &[GA, AA, CAA, OWNER]),
    ("assign", &[GA, AA, CAA, OWNER]),
    ("save the provisioning configuration", &[GA, AA, CAA, OWNER]),
    ("restart provisioning", &[GA, AA, CAA, OWNER]),
    ("allow deletes", &[GA, AA, CAA, OWNER]),
    ("delete an application", &[GA, AA, CAA, OWNER]),
];

struct World {
    engine: Engine,
    /// Sets things up; a Global Administrator.
    admin: Account,
}

/// A console account with `role` (a directory user with a password and the role).
async fn account(engine: &Engine, upn: &str, role: Role) -> Account {
    let user = engine
        .create_user(&Caller::system(), profile(upn))
        .await
        .unwrap();
    engine
        .set_console_access(
            &Caller::system(),
            user.id,
            Some(role),
            Some("a long enough password".to_owned().into()),
        )
        .await
        .unwrap();
    engine.account(user.id).await.unwrap().unwrap()
}

fn profile(upn: &str) -> UserProfile {
    UserProfile {
        user_principal_name: upn.into(),
        display_name: upn.into(),
        ..UserProfile::default()
    }
}

fn fresh() -> String {
    format!("u{}@contoso.com", Uuid::new_v4().simple())
}

impl World {
    /// Makes `write` as `who`, on fresh objects made for it.
    async fn attempt(&self, write: &str, who: &Account) -> engine::Result<()> {
        let (engine, system) = (&self.engine, Caller::system());
        let caller = Caller::account(who, None);
        let user = engine.create_user(&system, profile(&fresh())).await?;
        let group = engine
            .create_group(
                &system,
                GroupProfile {
                    display_name: fresh(),
                    ..GroupProfile::default()
                },
                &[],
            )
            .await?;
        let app = engine
            .create_application(&system, &self.admin, "custom-scim", &fresh())
            .await?;
        if who.role == OWNER {
            engine
                .change_owner(&system, &self.admin, app.id, who.id, true)
                .await?;
        }
        let other = account(engine, &fresh(), Role::ReportsReader).await;
        match write {
            "create user" => engine
                .create_user(&caller, profile(&fresh()))
                .await
                .map(drop),
            "update user" => {
                let mut changed = user.profile.clone();
                changed.job_title = Some("Analyst".into());
                engine
                    .update_user(&caller, user.id, changed, None)
                    .await
                    .map(drop)
            }
            "delete user" => engine.delete_user(&caller, user.id, None).await,
            "restore user" => {
                engine.delete_user(&system, user.id, None).await?;
                engine.restore_user(&caller, user.id).await
            }
            "delete user permanently" => engine.purge_user(&caller, user.id).await,
            "give console access" => {
                let password = Some("a long enough password".to_owned().into());
                engine
                    .set_console_access(&caller, user.id, Some(Role::ReportsReader), password)
                    .await
            }
            "create group" => {
                let profile = GroupProfile {
                    display_name: fresh(),
                    ..GroupProfile::default()
                };
                engine.create_group(&caller, profile, &[]).await.map(drop)
            }
            "update group" => {
                let mut changed = group.profile.clone();
                changed.description = Some("Changed".into());
                engine
                    .update_group(&caller, group.id, changed, None, None)
                    .await
                    .map(drop)
            }
            "change group members" => engine
                .change_group_members(&caller, group.id, &[user.id], &[], None)
                .await
                .map(drop),
            "delete group" => engine.delete_group(&caller, group.id, None).await,
            "delete group permanently" => engine.purge_group(&caller, group.id).await,
            "import users" => {
                let csv = format!("userPrincipalName,displayName\n{},Imported\n", fresh());
                engine.import_users(&caller, &csv, |_| {}).await.map(drop)
            }
            "generate a directory" => {
                let spec = Spec {
                    users: 2,
                    groups: 1,
                    seed: rand_seed(),
                    missing: 0.0,
                };
                let domain = format!("{}.example", Uuid::new_v4().simple());
                engine
                    .generate_directory(&caller, spec, &domain)
                    .await
                    .map(drop)
            }
            "SCIM create user" => {
                let body = serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": fresh(),
                });
                scim(
                    engine
                        .scim_create(&caller, ResourceKind::User, &body, "http://x/scim/v2")
                        .await
                        .map(drop),
                )
            }
            "SCIM delete user" => scim(
                engine
                    .scim_delete(&caller, ResourceKind::User, &user.id.to_string(), None)
                    .await,
            ),
            "save SMTP settings" => {
                let settings = SmtpSettings {
                    host: "127.0.0.1".into(),
                    port: 2525,
                    security: Security::None,
                    username: String::new(),
                    from_address: "scimitar@contoso.com".into(),
                    has_password: false,
                };
                engine
                    .save_smtp_settings(&caller, who, settings, None)
                    .await
            }
            "create a token for another account" => engine
                .create_token(&caller, other.id, "theirs", &[Scope::Api])
                .await
                .map(drop),
            "revoke another account's token" => {
                let (_, token) = engine
                    .create_token(&system, other.id, "theirs", &[Scope::Api])
                    .await?;
                engine.revoke_token(&caller, token.id).await
            }
            "create one's own token" => engine
                .create_token(&caller, who.id, "mine", &[Scope::Api])
                .await
                .map(drop),
            "revoke one's own token" => {
                let (_, token) = engine
                    .create_token(&system, who.id, "mine", &[Scope::Api])
                    .await?;
                engine.revoke_token(&caller, token.id).await
            }
            "create an application" => engine
                .create_application(&caller, who, "custom-scim", &fresh())
                .await
                .map(drop),
            "update an application" => {
                let properties = Properties {
                    display_name: fresh(),
                    logo_monogram: "AP".into(),
                    logo_color: "#0078d4".into(),
                    notes: String::new(),
                };
                engine
                    .update_application(&caller, who, app.id, properties, app.version)
                    .await
                    .map(drop)
            }
            "add an owner" => {
                engine
                    .change_owner(&caller, who, app.id, user.id, true)
                    .await
            }
            "save an app role" => {
                let role = RoleChange {
                    id: None,
                    display_name: "Analyst".into(),
                    value: "analyst".into(),
                    description: "Analysts".into(),
                    enabled: true,
                };
                engine
                    .save_app_role(&caller, who, app.id, role)
                    .await
                    .map(drop)
            }
            "assign" => {
                let role = engine.app_roles(&self.admin, app.id).await?[0].id;
                engine
                    .assign(&caller, who, app.id, PrincipalType::User, user.id, role)
                    .await
            }
            "save the provisioning configuration" => {
                let stored = engine.provisioning(&self.admin, app.id).await?;
                let mut settings = stored.settings;
                settings.cycle_interval_minutes = 60;
                engine
                    .save_provisioning(
                        &caller,
                        who,
                        app.id,
                        stored.version,
                        settings,
                        Default::default(),
                    )
                    .await
                    .map(drop)
            }
            "restart provisioning" => engine.restart_job(&caller, who, app.id, false).await,
            "allow deletes" => engine.allow_deletes(&caller, who, app.id).await,
            "delete an application" => engine.delete_application(&caller, who, app.id).await,
            other => panic!("no such write in the table: {other}"),
        }
    }
}

/// The engine's refusal of a SCIM write, as the SCIM door answers it.
fn scim(result: Result<(), engine::scim::ScimError>) -> engine::Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.status == 403 => Err(Error::Forbidden),
        Err(e) => panic!("SCIM write failed: {e:?}"),
    }
}

fn rand_seed() -> u64 {
    u64::from_le_bytes(Uuid::new_v4().as_bytes()[..8].try_into().unwrap())
}

#[tokio::test]
async fn every_engine_write_answers_each_role_as_the_role_table_says() {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    let admin = account(&engine, "admin@contoso.com", GA).await;
    let world = World { engine, admin };
    let mut accounts = Vec::new();
    for role in Role::ALL {
        let upn = format!("{}@contoso.com", role.as_str().to_lowercase());
        accounts.push(account(&world.engine, &upn, role).await);
    }
    let mut wrong = Vec::new();
    for (write, allowed) in TABLE {
        for who in &accounts {
            let outcome = world.attempt(write, who).await;
            let expected = allowed.contains(&who.role);
            match (&outcome, expected) {
                (Ok(()), true) | (Err(Error::Forbidden), false) => {}
                _ => wrong.push(format!("{write} as {}: {outcome:?}", who.role)),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_account_guards_hold_at_every_door() {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    let only = account(&engine, "only@contoso.com", GA).await;
    let me = Caller::account(&only, None);
    let system = Caller::system();

    // Nobody deletes or disables their own account while acting with it (a SCIM DELETE with
    // one's own token included).
    let own = engine
        .delete_user(&me, only.id, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(own.contains("your own account"), "{own}");
    let scim = engine
        .scim_delete(&me, ResourceKind::User, &only.id.to_string(), None)
        .await
        .unwrap_err();
    assert_eq!(scim.status, 400, "{scim:?}");
    assert!(scim.detail.contains("your own account"), "{scim:?}");
    let mut disabled = engine.user(only.id).await.unwrap().profile;
    disabled.account_enabled = Some(false);
    let own = engine
        .update_user(&me, only.id, disabled.clone(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(own.contains("disable your own account"), "{own}");

    // The last Global Administrator who can sign in stays, even for Scimitar itself.
    for refused in [
        engine.delete_user(&system, only.id, None).await,
        engine.purge_user(&system, only.id).await,
        engine
            .update_user(&system, only.id, disabled.clone(), None)
            .await
            .map(drop),
    ] {
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("last Global Administrator"), "{message}");
    }
    let user = engine.user(only.id).await.unwrap();
    assert!(user.deleted_at.is_none() && user.profile.is_enabled());

    // With a second one, the first may go (by someone else).
    let second = account(&engine, "second@contoso.com", GA).await;
    engine
        .delete_user(&Caller::account(&second, None), only.id, None)
        .await
        .unwrap();
}
