//! Applications on a real SQLite file: created from the gallery with their roles and defaults,
//! seen only by their owners when the caller is an Application Owner, roles that cannot be
//! disabled while assigned, assignments in the change feed and the audit log, and a provisioning
//! configuration that checks every field, refuses stale saves and keeps secrets sealed.

use engine::{
    Engine, Error,
    accounts::{Account, Role},
    applications::{
        Access, Properties,
        provisioning::{Mode, SecretChanges, Status},
        roles::{PrincipalType, RoleChange},
    },
    audit::Caller,
    directory::{
        UserProfile,
        feed::{self, ChangeKind},
        listing::ListQuery,
    },
};
use secrecy::SecretString;

async fn account(engine: &Engine, upn: &str, role: Role) -> Account {
    let user = engine
        .create_user(
            &Caller::system(),
            UserProfile {
                user_principal_name: upn.into(),
                display_name: upn.into(),
                given_name: Some("Ada".into()),
                surname: Some("Lovelace".into()),
                mail: Some(upn.into()),
                ..UserProfile::default()
            },
        )
        .await
        .unwrap();
    Account {
        id: user.id,
        user_principal_name: upn.into(),
        display_name: upn.into(),
        role,
        session_stamp: String::new(),
    }
}

#[tokio::test]
async fn applications_come_from_the_gallery_and_owners_see_only_theirs() {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), private_targets()).await;
    let admin = account(&engine, "admin@contoso.com", Role::ApplicationAdministrator).await;
    let owner = account(&engine, "owner@contoso.com", Role::ApplicationOwner).await;
    let reader = account(&engine, "reader@contoso.com", Role::ReportsReader).await;
    let caller = Caller::system();

    let vonage = engine
        .create_application(&caller, &admin, "vonage", "")
        .await
        .unwrap();
    assert_eq!(vonage.display_name, "Vonage");
    let roles = engine.app_roles(&admin, vonage.id).await.unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r.display_name.as_str()).collect();
    assert_eq!(names, ["Default Access", "User"]);
    let settings = engine
        .provisioning(&admin, vonage.id)
        .await
        .unwrap()
        .settings;
    assert_eq!(
        (settings.mode, settings.status),
        (Mode::Manual, Status::Off)
    );
    assert_eq!(settings.users.mappings.0.len(), 5);
    assert_eq!(settings.deletion_threshold, 500);
    assert_eq!(settings.cycle_interval_minutes, 40);

    let custom = engine
        .create_application(&caller, &admin, "custom-scim", "Contoso HR")
        .await
        .unwrap();
    assert!(matches!(
        engine
            .create_application(&caller, &owner, "vonage", "")
            .await,
        Err(Error::Forbidden)
    ));
    assert!(matches!(
        engine
            .application_for(&reader, custom.id, Access::Read)
            .await,
        Err(Error::Forbidden)
    ));

    // The owner sees nothing until made an owner, then only that application.
    let everything = ListQuery {
        limit: 50,
        ..ListQuery::default()
    };
    assert_eq!(
        engine
            .list_applications(&owner, &everything)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        engine
            .application_for(&owner, custom.id, Access::Configure)
            .await,
        Err(Error::NotFound { .. })
    ));
    engine
        .change_owner(&caller, &admin, custom.id, owner.id, true)
        .await
        .unwrap();
    let page = engine.list_applications(&owner, &everything).await.unwrap();
    let visible: Vec<&str> = page.items.iter().map(|a| a.display_name.as_str()).collect();
    assert_eq!(visible, ["Contoso HR"]);
    assert_eq!(
        engine
            .list_applications(&admin, &everything)
            .await
            .unwrap()
            .total,
        2
    );
    let search = ListQuery {
        search: Some("von".into()),
        limit: 50,
        ..ListQuery::default()
    };
    assert_eq!(
        engine
            .list_applications(&admin, &search)
            .await
            .unwrap()
            .items[0]
            .id,
        vonage.id
    );

    // Properties keep a version: a stale save is refused.
    let properties = Properties {
        display_name: "Contoso HR (prod)".into(),
        logo_monogram: "HR".into(),
        logo_color: "#112233".into(),
        notes: "Owned by People Ops".into(),
    };
    let saved = engine
        .update_application(
            &caller,
            &owner,
            custom.id,
            properties.clone(),
            custom.version,
        )
        .await
        .unwrap();
    assert_eq!(saved.version, 2);
    assert!(matches!(
        engine
            .update_application(&caller, &owner, custom.id, properties, 1)
            .await,
        Err(Error::VersionMismatch { current: 2, .. })
    ));

    engine
        .delete_application(&caller, &owner, custom.id)
        .await
        .unwrap();
    assert!(matches!(
        engine
            .application_for(&admin, custom.id, Access::Read)
            .await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn assignments_enter_the_feed_and_assigned_roles_cannot_be_disabled() {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), private_targets()).await;
    let admin = account(&engine, "admin@contoso.com", Role::GlobalAdministrator).await;
    let ada = account(&engine, "ada@contoso.com", Role::ReportsReader).await;
    let caller = Caller::system();
    let app = engine
        .create_application(&caller, &admin, "vonage", "")
        .await
        .unwrap();
    let roles = engine.app_roles(&admin, app.id).await.unwrap();
    let user_role = roles.iter().find(|r| r.display_name == "User").unwrap();

    let watermark = feed::latest(&engine.db).await.unwrap();
    engine
        .assign(
            &caller,
            &admin,
            app.id,
            PrincipalType::User,
            ada.id,
            user_role.id,
        )
        .await
        .unwrap();
    assert!(matches!(
        engine
            .assign(
                &caller,
                &admin,
                app.id,
                PrincipalType::User,
                ada.id,
                user_role.id
            )
            .await,
        Err(Error::Conflict { .. })
    ));
    let changes = feed::since(&engine.db, watermark, 10).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (
            changes[0].object_id,
            changes[0].change,
            changes[0].related_id
        ),
        (ada.id, ChangeKind::Assigned, Some(app.id))
    );

    let disable = RoleChange {
        id: Some(user_role.id),
        display_name: "User".into(),
        value: "User".into(),
        description: String::new(),
        enabled: false,
    };
    let refused = engine
        .save_app_role(&caller, &admin, app.id, disable.clone())
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "enabled: User is assigned to 1 user(s) or group(s); remove those assignments before disabling it"
    );
    let renamed = engine
        .save_app_role(
            &caller,
            &admin,
            app.id,
            RoleChange {
                id: None,
                display_name: "Admin".into(),
                value: "Admin".into(),
                description: "Account super user".into(),
                enabled: true,
            },
        )
        .await
        .unwrap();
    assert!(renamed.enabled);

    let assignment = engine.app_assignments(&admin, app.id).await.unwrap()[0].clone();
    assert_eq!(
        (
            assignment.role_name.as_str(),
            assignment.principal_name.as_str()
        ),
        ("User", "ada@contoso.com")
    );
    engine
        .remove_assignment(&caller, &admin, app.id, assignment.id)
        .await
        .unwrap();
    let last = feed::since(&engine.db, watermark, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.change, ChangeKind::Unassigned);
    engine
        .save_app_role(&caller, &admin, app.id, disable)
        .await
        .unwrap();

    let audit = engine::audit::list(
        &engine.db,
        &engine::audit::Query {
            limit: 20,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let activities: Vec<&str> = audit.entries.iter().map(|e| e.activity.as_str()).collect();
    for expected in [
        "Add app role assignment",
        "Remove app role assignment",
        "Update app role",
        "Add app role",
    ] {
        assert!(
            activities.contains(&expected),
            "{expected} in {activities:?}"
        );
    }
}

#[tokio::test]
async fn provisioning_saves_check_every_field_refuse_stale_copies_and_seal_secrets() {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), private_targets()).await;
    let admin = account(&engine, "admin@contoso.com", Role::GlobalAdministrator).await;
    let caller = Caller::system();
    let app = engine
        .create_application(&caller, &admin, "custom-scim", "Contoso SCIM")
        .await
        .unwrap();
    let loaded = engine.provisioning(&admin, app.id).await.unwrap();

    let mut settings = loaded.settings.clone();
    settings.mode = Mode::Automatic;
    settings.status = Status::On;
    settings.notify_on_failure = true;
    settings.cycle_interval_minutes = 0;
    settings.users.mappings.0[2].source = "displayNme".into();
    let Err(Error::InvalidFields(errors)) = engine
        .save_provisioning(
            &caller,
            &admin,
            app.id,
            loaded.version,
            settings.clone(),
            SecretChanges::default(),
        )
        .await
    else {
        panic!("invalid")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "scim_base_url",
            "secret_token",
            "notification_email",
            "cycle_interval_minutes",
            "users.mappings[2].source"
        ]
    );
    assert_eq!(
        errors[0].message,
        "enter the Tenant URL (the application's SCIM base URL)"
    );

    settings.scim_base_url = "http://scim.example.com/scim/v2".into();
    settings.cycle_interval_minutes = 40;
    settings.notification_email = "ops@contoso.com".into();
    settings.users.mappings.0[2].source = "displayName".into();
    let Err(Error::InvalidFields(errors)) = engine
        .save_provisioning(
            &caller,
            &admin,
            app.id,
            loaded.version,
            settings.clone(),
            SecretChanges::default(),
        )
        .await
    else {
        panic!("invalid")
    };
    assert_eq!(
        errors[0].message,
        "use https:// (plain http is only accepted for localhost)"
    );

    settings.scim_base_url = "https://scim.example.com/scim/v2".into();
    let sentinel = "sentinel-secret-token-7d1e";
    let saved = engine
        .save_provisioning(
            &caller,
            &admin,
            app.id,
            loaded.version,
            settings.clone(),
            SecretChanges {
                secret_token: Some(SecretString::from(sentinel)),
                client_secret: None,
            },
        )
        .await
        .unwrap();
    assert!(saved.has_secret_token && saved.needs_initial_cycle);
    assert_eq!(saved.version, loaded.version + 1);

    // A second administrator still holding the first version is refused; nothing changes.
    let mut stale = loaded.settings.clone();
    stale.notification_email = "someone@contoso.com".into();
    assert!(matches!(
        engine
            .save_provisioning(
                &caller,
                &admin,
                app.id,
                loaded.version,
                stale,
                SecretChanges::default()
            )
            .await,
        Err(Error::VersionMismatch { .. })
    ));
    assert_eq!(
        engine
            .provisioning(&admin, app.id)
            .await
            .unwrap()
            .settings
            .notification_email,
        "ops@contoso.com"
    );

    // The secret is sealed on disk: not in the database file, its WAL, or the audit log.
    drop(engine);
    for file in std::fs::read_dir(data.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !bytes
                .windows(sentinel.len())
                .any(|w| w == sentinel.as_bytes()),
            "the secret is readable in a file of the data directory"
        );
    }
}

#[tokio::test]
async fn quarantine_retries_after_6_12_24_hours_then_daily_and_gives_up_after_28_days() {
    use engine::sync::{
        cycle::{Counts, CycleKind, CycleReport, Outcome},
        jobs::{self, JobState},
    };
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), private_targets()).await;
    let admin = account(&engine, "admin@contoso.com", Role::GlobalAdministrator).await;
    let app = engine
        .create_application(&Caller::system(), &admin, "custom-scim", "Contoso SCIM")
        .await
        .unwrap();
    let settings = engine.provisioning(&admin, app.id).await.unwrap().settings;
    let began = time::macros::datetime!(2026-11-01 08:00 UTC);
    let report = |outcome: Outcome| CycleReport {
        cycle_id: uuid::Uuid::new_v4(),
        kind: CycleKind::Incremental,
        started_at: began,
        finished_at: began,
        counts: Counts::default(),
        outcome,
        pending_references: 0,
        steady_state: false,
    };
    let refused = report(Outcome::Stopped {
        code: engine::sync::log::ErrorCode::InvalidCredentials,
        reason: "the target refused the credentials (HTTP 401): bad token".into(),
    });
    let mut now = began;
    let mut waits = Vec::new();
    for _ in 0..5 {
        engine::sync::quarantine::after_cycle(&engine.db, app.id, &settings, &refused, now)
            .await
            .unwrap();
        let job = jobs::load(&engine.db, app.id).await.unwrap();
        assert_eq!(job.state, JobState::Quarantine);
        assert_eq!(
            job.quarantine_began_at,
            Some(began),
            "the quarantine keeps its start"
        );
        let next = job.next_run_at.unwrap();
        waits.push((next - now).whole_hours());
        now = next;
    }
    assert_eq!(waits, [6, 12, 24, 24, 24]);
    engine::sync::quarantine::after_cycle(
        &engine.db,
        app.id,
        &settings,
        &refused,
        began + time::Duration::days(28),
    )
    .await
    .unwrap();
    assert_eq!(
        jobs::load(&engine.db, app.id).await.unwrap().state,
        JobState::Disabled
    );

    // A cycle that completes ends the quarantine.
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), private_targets()).await;
    let admin = account(&engine, "admin@contoso.com", Role::GlobalAdministrator).await;
    let app = engine
        .create_application(&Caller::system(), &admin, "custom-scim", "Contoso SCIM")
        .await
        .unwrap();
    engine::sync::quarantine::after_cycle(&engine.db, app.id, &settings, &refused, began)
        .await
        .unwrap();
    engine::sync::quarantine::after_cycle(
        &engine.db,
        app.id,
        &settings,
        &report(Outcome::Completed),
        began + time::Duration::hours(6),
    )
    .await
    .unwrap();
    let job = jobs::load(&engine.db, app.id).await.unwrap();
    assert_eq!((job.state, job.quarantine_reason), (JobState::Active, None));

    // Too many objects failing at the target quarantines too.
    let failing = report(Outcome::TooManyFailures {
        escrowed: 30,
        tried: 60,
    });
    engine::sync::quarantine::after_cycle(
        &engine.db,
        app.id,
        &settings,
        &failing,
        began + time::Duration::hours(7),
    )
    .await
    .unwrap();
    let job = jobs::load(&engine.db, app.id).await.unwrap();
    assert_eq!(job.state, JobState::Quarantine);
    assert_eq!(
        job.quarantine_reason.as_deref(),
        Some(
            "30 of the 60 objects tried failed at the target (more than 40%): see the provisioning logs"
        )
    );
}

#[tokio::test]
async fn provisioning_logs_older_than_the_retention_are_purged() {
    use engine::sync::log::{self, Entry, LogWriter};
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), private_targets()).await;
    let admin = account(&engine, "admin@contoso.com", Role::GlobalAdministrator).await;
    let app = engine
        .create_application(&Caller::system(), &admin, "custom-scim", "Contoso SCIM")
        .await
        .unwrap();
    let mut writer = LogWriter::new(app.id, uuid::Uuid::new_v4());
    writer.push(Entry::new("User", admin.id, "admin@contoso.com"));
    let mut tx = engine::db::begin_write(&engine.db).await.unwrap();
    writer.take().write(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        engine
            .purge_provisioning_logs(time::Duration::days(30))
            .await
            .unwrap(),
        0
    );
    assert_eq!(log::latest(&engine.db, app.id, 10).await.unwrap().len(), 1);
    assert_eq!(
        engine
            .purge_provisioning_logs(time::Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert!(
        log::latest(&engine.db, app.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The test peers run on loopback, which the engine refuses to reach unless allowed.
fn private_targets() -> engine::Options<'static> {
    engine::Options {
        outbound: engine::outbound::Outbound {
            allow_private_targets: true,
        },
        ..Default::default()
    }
}
