//! The directory on a real SQLite file: every kind of change lands in the feed, in order, with
//! the audit log beside it; a hard delete leaves a tombstone; subscribers wake on commits.

use engine::{
    Engine,
    audit::Caller,
    directory::{
        UserProfile,
        feed::{self, ChangeKind, ObjectType},
        groups::GroupProfile,
    },
};

fn profile(upn: &str) -> UserProfile {
    UserProfile {
        user_principal_name: upn.into(),
        display_name: upn.into(),
        ..UserProfile::default()
    }
}

#[tokio::test]
async fn every_change_is_in_the_feed_and_a_hard_delete_leaves_a_tombstone() {
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(data.path()).await.unwrap();
    let caller = Caller::system();
    let mut woken = engine.directory_changes();

    let ada = engine
        .create_user(&caller, profile("ada@contoso.com"))
        .await
        .unwrap();
    assert!(woken.has_changed().unwrap(), "a commit wakes subscribers");
    let watermark = *woken.borrow_and_update();

    let mut renamed = ada.profile.clone();
    renamed.display_name = "Ada Lovelace".into();
    let ada = engine
        .update_user(&caller, ada.id, renamed.clone(), Some(ada.version))
        .await
        .unwrap();
    assert_eq!(ada.version, 2);
    let stale = engine.update_user(&caller, ada.id, renamed, Some(1)).await;
    assert!(
        matches!(
            stale,
            Err(engine::Error::VersionMismatch { current: 2, .. })
        ),
        "{stale:?}"
    );

    let engines = GroupProfile {
        display_name: "Engines".into(),
        ..Default::default()
    };
    let group = engine
        .create_group(&caller, engines, &[ada.id])
        .await
        .unwrap();
    engine
        .change_group_members(&caller, group.id, &[], &[ada.id], None)
        .await
        .unwrap();
    engine.delete_user(&caller, ada.id, None).await.unwrap();
    engine.restore_user(&caller, ada.id).await.unwrap();
    engine.purge_user(&caller, ada.id).await.unwrap();
    assert!(engine.user(ada.id).await.is_err(), "the row is gone");

    let changes = feed::since(&engine.db, 0, 100).await.unwrap();
    let kinds: Vec<(ObjectType, ChangeKind)> =
        changes.iter().map(|c| (c.object_type, c.change)).collect();
    assert_eq!(
        kinds,
        [
            (ObjectType::User, ChangeKind::Created),
            (ObjectType::User, ChangeKind::Updated),
            (ObjectType::Group, ChangeKind::Created),
            (ObjectType::Group, ChangeKind::MemberAdded),
            (ObjectType::Group, ChangeKind::MemberRemoved),
            (ObjectType::User, ChangeKind::SoftDeleted),
            (ObjectType::User, ChangeKind::Restored),
            (ObjectType::User, ChangeKind::HardDeleted),
        ]
    );
    assert!(
        changes.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "monotonic"
    );
    assert_eq!(
        changes.last().unwrap().object_id,
        ada.id,
        "the tombstone names the deleted user"
    );
    assert_eq!(
        changes[3].related_id,
        Some(ada.id),
        "membership changes name the member"
    );

    // Reading from a watermark returns only what came after it, in pages.
    let after = feed::since(&engine.db, watermark, 3).await.unwrap();
    assert_eq!(after.len(), 3);
    assert_eq!(after[0].change, ChangeKind::Updated);

    let activities: Vec<String> = sqlx::query_scalar("SELECT activity FROM audit_log ORDER BY id")
        .fetch_all(&engine.db)
        .await
        .unwrap();
    assert_eq!(
        activities,
        [
            "Add user",
            "Update user",
            "Add group",
            "Update group members",
            "Update group members",
            "Delete user",
            "Restore user",
            "Delete user permanently"
        ]
    );
}

#[tokio::test]
async fn bad_profiles_are_refused_and_nothing_is_written() {
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(data.path()).await.unwrap();
    let caller = Caller::system();
    let mut bad = profile("ada@contoso.com");
    bad.mail = Some("not-an-address".into());
    let err = engine.create_user(&caller, bad).await.unwrap_err();
    assert!(
        matches!(err, engine::Error::Invalid { field: "mail", .. }),
        "{err}"
    );
    engine
        .create_user(&caller, profile("ada@contoso.com"))
        .await
        .unwrap();
    let twin = engine
        .create_user(&caller, profile("ADA@CONTOSO.COM"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            twin,
            engine::Error::Conflict {
                field: "userPrincipalName",
                ..
            }
        ),
        "{twin}"
    );
    let changes = feed::since(&engine.db, 0, 100).await.unwrap();
    assert_eq!(changes.len(), 1, "only the one user that was created");
}
