//! The directory on a real SQLite file: every kind of change lands in the feed, in order, with
//! the audit log beside it; a hard delete leaves a tombstone; subscribers wake on commits.

use engine::{
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
    let engine = crate::open(data.path(), Default::default()).await;
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

    let activities: Vec<String> =
        engine::db::query_scalar("SELECT activity FROM audit_log ORDER BY id")
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
    let engine = crate::open(data.path(), Default::default()).await;
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

const CSV: &str = "\
userPrincipalName,displayName,givenName,surname,mail,accountEnabled,department,manager
zoe.muller@contoso.com,Zoë Müller,Zoë,Müller,zoe.muller@contoso.com,true,Engineering,
jose.garcia@contoso.com,José García,José,García,jose@contoso,true,Sales,
asa@contoso.com,Åsa Lind,Åsa,Lind,,maybe,Sales,
bjorn@contoso.com,Björn Berg,Björn,Berg,,false,Sales,zoe.muller@contoso.com
not an upn,Nobody,,,,true,,
renee@contoso.com,,Renée,,,true,,nobody@contoso.com
";

#[tokio::test]
async fn csv_rows_are_checked_one_by_one_and_only_the_good_ones_land() {
    use engine::directory::import::RowError;
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    let caller = Caller::system();

    let preview = engine.preview_import(CSV).await.unwrap();
    assert_eq!(
        (
            preview.rows,
            preview.create,
            preview.update,
            preview.unchanged
        ),
        (6, 2, 0, 0)
    );
    let errors: Vec<(u64, &str)> = preview
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "mail"),
            (4, "accountEnabled"),
            (6, "userPrincipalName"),
            (7, "displayName"),
            (7, "manager")
        ]
    );
    let RowError { message, .. } = &preview.errors[0];
    assert!(message.contains("needs a dot"), "{message}");
    assert_eq!(
        feed::since(&engine.db, 0, 10).await.unwrap().len(),
        0,
        "a preview writes nothing"
    );

    let report = engine.import_users(&caller, CSV, |_| {}).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.unchanged,
            report.errors.len()
        ),
        (2, 0, 0, 5)
    );
    let bjorn = engine::directory::users::find_by_upn(&engine.db, "bjorn@contoso.com")
        .await
        .unwrap()
        .unwrap();
    let zoe = engine::directory::users::find_by_upn(&engine.db, "zoe.muller@contoso.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bjorn.profile.manager_id,
        Some(zoe.id),
        "a manager can be a row of the same file"
    );
    assert_eq!(bjorn.profile.account_enabled, Some(false));
    assert_eq!(zoe.profile.display_name, "Zoë Müller");

    // Importing the same file again changes nothing; a changed row updates its user.
    let feed_before = feed::latest(&engine.db).await.unwrap();
    let again = engine.import_users(&caller, CSV, |_| {}).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(
        feed::latest(&engine.db).await.unwrap(),
        feed_before,
        "an idempotent re-import leaves no changes"
    );
    let changed = CSV.replace("Engineering", "Research");
    let third = engine
        .import_users(&caller, &changed, |_| {})
        .await
        .unwrap();
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 1));

    let unknown = engine
        .preview_import("userPrincipalName,shoeSize\nada@contoso.com,42\n")
        .await
        .unwrap();
    assert_eq!(
        (unknown.errors[0].line, unknown.errors[0].column.as_str()),
        (1, "shoeSize")
    );

    let exported = engine.export_users(None).await.unwrap();
    let first_line = exported.lines().next().unwrap();
    assert!(
        first_line.starts_with("userPrincipalName,displayName,givenName,surname,mail"),
        "{first_line}"
    );
    assert!(
        exported.contains(
            "bjorn@contoso.com,Björn Berg,Björn,Berg,,,false,Sales,,,zoe.muller@contoso.com"
        ),
        "{exported}"
    );
    let round_trip = engine
        .import_users(&caller, &exported, |_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            round_trip.created,
            round_trip.updated,
            round_trip.errors.len()
        ),
        (0, 0, 0),
        "{round_trip:?}"
    );
}

#[tokio::test]
async fn the_daily_purge_hard_deletes_what_was_soft_deleted_long_enough_ago() {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    let caller = Caller::system();
    let kept = engine
        .create_user(&caller, profile("kept@contoso.com"))
        .await
        .unwrap();
    let gone = engine
        .create_user(&caller, profile("gone@contoso.com"))
        .await
        .unwrap();
    engine.delete_user(&caller, gone.id, None).await.unwrap();
    assert_eq!(
        engine
            .purge_deleted_users(time::Duration::days(30))
            .await
            .unwrap(),
        0,
        "not yet 30 days"
    );
    assert_eq!(
        engine
            .purge_deleted_users(time::Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert!(engine.user(gone.id).await.is_err());
    assert!(engine.user(kept.id).await.is_ok());
    let last = feed::since(&engine.db, 0, 100)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (last.object_id, last.change),
        (gone.id, ChangeKind::HardDeleted)
    );
}

#[tokio::test]
async fn keyset_pages_go_forward_and_back() {
    use engine::directory::listing::{self, ListQuery, UserSort};
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    for n in 1..=7 {
        engine
            .create_user(&Caller::system(), profile(&format!("u{n}@contoso.com")))
            .await
            .unwrap();
    }
    let page = |after, before| {
        let query = ListQuery {
            after,
            before,
            limit: 3,
            ..ListQuery::default()
        };
        let db = engine.db.clone();
        async move {
            listing::users(&db, &query, UserSort::UserPrincipalName)
                .await
                .unwrap()
        }
    };
    let names = |items: &[engine::directory::User]| -> Vec<String> {
        items
            .iter()
            .map(|u| u.profile.user_principal_name[..2].to_owned())
            .collect()
    };

    let first = page(None, None).await;
    assert_eq!(
        (names(&first.items), first.previous.is_none(), first.total),
        (strings(&["u1", "u2", "u3"]), true, 7)
    );
    let second = page(first.next.clone(), None).await;
    assert_eq!(names(&second.items), ["u4", "u5", "u6"]);
    let third = page(second.next.clone(), None).await;
    assert_eq!(
        (names(&third.items), third.next.is_none()),
        (strings(&["u7"]), true)
    );
    let back = page(None, third.previous.clone()).await;
    assert_eq!(
        names(&back.items),
        ["u4", "u5", "u6"],
        "Previous page from the last one"
    );
    let start = page(None, back.previous.clone()).await;
    assert_eq!(
        (names(&start.items), start.previous.is_none()),
        (strings(&["u1", "u2", "u3"]), true)
    );
    assert_eq!(
        start.next, first.next,
        "and Next from there goes where it went the first time"
    );
}

#[tokio::test]
async fn the_listed_total_follows_creates_soft_deletes_restores_and_purges() {
    use engine::directory::listing::{self, ListQuery, UserSort};
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    let caller = Caller::system();
    let mut users = Vec::new();
    for n in 1..=4 {
        let user = engine
            .create_user(&caller, profile(&format!("t{n}@contoso.com")))
            .await
            .unwrap();
        users.push(user.id);
    }
    // The total the page shows (kept by triggers) and what a count of the rows says.
    let totals = || {
        let db = engine.db.clone();
        async move {
            let listed = listing::users(&db, &ListQuery::default(), UserSort::DisplayName)
                .await
                .unwrap()
                .total;
            let counted: i64 =
                engine::db::query_scalar("SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")
                    .fetch_one(&db)
                    .await
                    .unwrap();
            (listed, counted)
        }
    };
    assert_eq!(totals().await, (4, 4));
    engine.delete_user(&caller, users[0], None).await.unwrap();
    engine.delete_user(&caller, users[1], None).await.unwrap();
    assert_eq!(totals().await, (2, 2));
    engine.restore_user(&caller, users[1]).await.unwrap();
    assert_eq!(totals().await, (3, 3));
    // A purge of soft-deleted users leaves the count alone; an edit does not move it.
    engine
        .purge_deleted_users(time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(totals().await, (3, 3));
    let mut edited = profile("t3@contoso.com");
    edited.display_name = "Renamed".into();
    engine
        .update_user(&caller, users[2], edited, None)
        .await
        .unwrap();
    assert_eq!(totals().await, (3, 3));
    engine.purge_user(&caller, users[3]).await.unwrap();
    assert_eq!(totals().await, (2, 2));
    // A search counts what it finds.
    let found = listing::users(
        &engine.db,
        &ListQuery {
            search: Some("t2".into()),
            ..ListQuery::default()
        },
        UserSort::DisplayName,
    )
    .await
    .unwrap();
    assert_eq!(found.total, 1);
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn previews_evaluate_expressions_and_mappings_for_a_stored_user() {
    use engine::{
        applications::gallery,
        mapping::{Operation, Preview, preview::PreviewContext},
    };
    let vonage = gallery::template("vonage").unwrap();
    let required: Vec<&str> = vonage.users.required.iter().map(String::as_str).collect();
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), Default::default()).await;
    let mut zoe = profile("zoe.martin@contoso.com");
    zoe.given_name = Some("Zoë".into());
    zoe.mail = Some("zoe@contoso.com".into());
    let zoe = engine.create_user(&Caller::system(), zoe).await.unwrap();
    let context = PreviewContext::default();

    let preview = engine
        .preview_expression(
            zoe.id,
            r#"ToLower(NormalizeDiacritics([givenName]))"#,
            &context,
        )
        .await
        .unwrap();
    assert_eq!(
        preview,
        Preview::Value {
            value: "zoe".into()
        }
    );

    let preview = engine
        .preview_expression(zoe.id, "Join(\" \", [givenNme])", &context)
        .await
        .unwrap();
    let Preview::Invalid { errors } = preview else {
        panic!("{preview:?}")
    };
    assert_eq!(
        errors[0].message,
        "line 1, column 11: unknown attribute [givenNme]; did you mean [givenName]?"
    );

    let preview = engine
        .preview_expression(zoe.id, "IgnoreFlowIfNullOrEmpty([surname])", &context)
        .await
        .unwrap();
    assert_eq!(preview, Preview::Ignored);

    let preview = engine
        .preview_user_mappings(
            zoe.id,
            &vonage.users.mappings,
            &required,
            Operation::Create,
            &context,
        )
        .await
        .unwrap();
    assert_eq!(
        preview,
        Preview::Failed {
            message: "required attributes have no value: name.familyName".into()
        }
    );
    let preview = engine
        .preview_user_mappings(
            zoe.id,
            &vonage.users.mappings,
            &[],
            Operation::Create,
            &context,
        )
        .await
        .unwrap();
    let Preview::Resource { resource } = preview else {
        panic!("{preview:?}")
    };
    assert_eq!(resource["userName"], "zoe.martin@contoso.com");
    assert_eq!(resource["name"]["givenName"], "Zoë");
    assert_eq!(resource["active"], true);
    assert!(matches!(
        engine
            .preview_expression(uuid::Uuid::nil(), "Guid()", &context)
            .await,
        Err(engine::Error::NotFound { .. })
    ));
}
