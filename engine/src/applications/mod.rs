//! Enterprise applications: created from a gallery template, with owners, app roles and the
//! assignments of users and groups, and a provisioning configuration. Who may do what follows
//! docs/roles.md: administrators manage every application, Application Owners only the
//! ones they own (they do not even see the others), Reports Readers none.

pub mod attribute_list;
pub mod connection;
pub mod gallery;
pub mod oauth;
pub mod provisioning;
pub mod roles;
pub mod schema_document;
pub mod target_schema;

use crate::db::Pool;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    Engine, Error, Result,
    accounts::{Account, Permission, Role},
    audit::{self, Caller, Target},
    directory::listing::{self, Base, ListQuery, Page},
};

/// An application as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Application {
    pub id: Uuid,
    /// The gallery template it was created from.
    pub template: String,
    pub display_name: String,
    pub logo_monogram: String,
    pub logo_color: String,
    pub notes: String,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Application {
    pub fn template(&self) -> &'static gallery::Template {
        gallery::template(&self.template)
            .or_else(|| gallery::template(gallery::CUSTOM))
            .expect("the gallery always has Create your own application")
    }

    fn audit_view(&self) -> serde_json::Value {
        json!({ "displayName": self.display_name, "template": self.template, "logo": [self.logo_monogram, self.logo_color], "notes": self.notes })
    }
}

/// What an administrator may change on the Properties page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Properties {
    pub display_name: String,
    pub logo_monogram: String,
    pub logo_color: String,
    pub notes: String,
}

impl Properties {
    fn validate(mut self) -> Result<Properties> {
        self.display_name = self.display_name.trim().to_owned();
        self.logo_monogram = self.logo_monogram.trim().to_owned();
        self.logo_color = self.logo_color.trim().to_owned();
        if self.display_name.is_empty() {
            return Err(Error::invalid("displayName", "enter a name"));
        }
        if self.display_name.chars().count() > 120 {
            return Err(Error::invalid("displayName", "at most 120 characters"));
        }
        if !(1..=2).contains(&self.logo_monogram.chars().count()) {
            return Err(Error::invalid("logoMonogram", "one or two characters"));
        }
        let hex = self.logo_color.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid("logoColor", "a colour such as #0f6cbd"));
        }
        if self.notes.chars().count() > 4000 {
            return Err(Error::invalid("notes", "at most 4,000 characters"));
        }
        Ok(self)
    }
}

/// What the caller wants to do with an application. Both need the right to configure
/// applications today (administrators, and owners for their own); callers say which they mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Configure,
}

const COLUMNS: &str =
    "id, template, display_name, logo_monogram, logo_color, notes, version, created_at, updated_at";

pub async fn get(db: impl Into<crate::db::Exec<'_>>, id: Uuid) -> Result<Option<Application>> {
    Ok(
        crate::db::query_as(format!("SELECT {COLUMNS} FROM applications WHERE id = ?"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn is_owner(db: &Pool, application: Uuid, user: Uuid) -> Result<bool> {
    Ok(crate::db::query_scalar::<i64>(
        "SELECT COUNT(*) FROM application_owners WHERE application_id = ? AND user_id = ?",
    )
    .bind(application)
    .bind(user)
    .fetch_one(db)
    .await?
        > 0)
}

/// The owners of an application: (user id, display name, user principal name).
pub async fn owners(db: &Pool, application: Uuid) -> Result<Vec<(Uuid, String, String)>> {
    Ok(crate::db::query_as(
        "SELECT u.id, u.display_name, u.user_principal_name FROM application_owners o \
         JOIN users u ON u.id = o.user_id WHERE o.application_id = ? ORDER BY u.display_name COLLATE NOCASE",
    )
    .bind(application)
    .fetch_all(db)
    .await?)
}

impl Engine {
    /// The application `id` if `account` may have `access` to it; `Forbidden` otherwise, and
    /// `NotFound` for an Application Owner asking for an application they do not own (they
    /// cannot tell it exists).
    pub async fn application_for(
        &self,
        account: &Account,
        id: Uuid,
        access: Access,
    ) -> Result<Application> {
        // Every role that may see an application may configure it (docs/roles.md); reading
        // logs of applications (Reports Readers) gets its own narrow access with the logs.
        if !account.may(match access {
            Access::Read | Access::Configure => Permission::ConfigureApplications,
        }) {
            return Err(Error::Forbidden);
        }
        let not_found = || Error::NotFound {
            kind: "application",
            id: id.to_string(),
        };
        let application = get(&self.db, id).await?.ok_or_else(not_found)?;
        if account.role == Role::ApplicationOwner && !is_owner(&self.db, id, account.id).await? {
            return Err(not_found());
        }
        Ok(application)
    }

    /// All applications the account may read, searched by the start of the name, by keyset.
    pub async fn list_applications(
        &self,
        account: &Account,
        query: &ListQuery,
    ) -> Result<Page<Application>> {
        if !account.may(Permission::ConfigureApplications) {
            return Err(Error::Forbidden);
        }
        let base = if account.role == Role::ApplicationOwner {
            Base {
                clause: "id IN (SELECT application_id FROM application_owners WHERE user_id = ?)",
                bind: Some(account.id),
                counted: false,
            }
        } else {
            Base {
                clause: "1 = 1",
                bind: None,
                counted: false,
            }
        };
        listing::page(
            &self.db,
            "applications",
            COLUMNS,
            "display_name",
            query,
            base,
            &["display_name"],
            |a: &Application| (a.display_name.clone(), a.id),
        )
        .await
    }

    /// Adds an application from the gallery: its roles (Default Access and the template's), its
    /// provisioning configuration with the template's defaults (mode Manual, status Off), and
    /// the creator as its first owner.
    pub async fn create_application(
        &self,
        caller: &Caller,
        account: &Account,
        template_id: &str,
        display_name: &str,
    ) -> Result<Application> {
        if !account.may(Permission::CreateApplications) {
            return Err(Error::Forbidden);
        }
        let template = gallery::template(template_id).ok_or_else(|| {
            Error::invalid("template", format!("no gallery entry {template_id:?}"))
        })?;
        let name = if display_name.trim().is_empty() {
            if template.id == gallery::CUSTOM {
                return Err(Error::invalid(
                    "displayName",
                    "enter the name of your application",
                ));
            }
            template.name.clone()
        } else {
            display_name.to_owned()
        };
        let properties = Properties {
            display_name: name,
            logo_monogram: template.logo.monogram.clone(),
            logo_color: template.logo.color.clone(),
            notes: String::new(),
        }
        .validate()?;
        let now = OffsetDateTime::now_utc();
        let application = Application {
            id: Uuid::new_v4(),
            template: template.id.clone(),
            display_name: properties.display_name,
            logo_monogram: properties.logo_monogram,
            logo_color: properties.logo_color,
            notes: String::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = crate::db::begin_write(&self.db).await?;
        crate::db::query(format!(
            "INSERT INTO applications ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(application.id)
        .bind(&application.template)
        .bind(&application.display_name)
        .bind(&application.logo_monogram)
        .bind(&application.logo_color)
        .bind(&application.notes)
        .bind(application.version)
        .bind(application.created_at)
        .bind(application.updated_at)
        .execute(&mut tx)
        .await?;
        roles::insert_template_roles(&mut tx, application.id, template).await?;
        provisioning::insert_defaults(&mut tx, application.id, template).await?;
        crate::db::query("INSERT INTO application_owners (application_id, user_id) VALUES (?, ?)")
            .bind(application.id)
            .bind(account.id)
            .execute(&mut tx)
            .await?;
        audit::record(
            &mut tx,
            caller,
            "Add application",
            target(&application),
            None,
            Some(application.audit_view()),
        )
        .await?;
        tx.commit().await?;
        Ok(application)
    }

    pub async fn update_application(
        &self,
        caller: &Caller,
        account: &Account,
        id: Uuid,
        properties: Properties,
        expected_version: i64,
    ) -> Result<Application> {
        let before = self.application_for(account, id, Access::Configure).await?;
        let properties = properties.validate()?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let updated: Option<Application> = crate::db::query_as(format!(
            "UPDATE applications SET display_name = ?, logo_monogram = ?, logo_color = ?, notes = ?, \
             version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING {COLUMNS}"
        ))
        .bind(&properties.display_name)
        .bind(&properties.logo_monogram)
        .bind(&properties.logo_color)
        .bind(&properties.notes)
        .bind(OffsetDateTime::now_utc())
        .bind(id)
        .bind(expected_version)
        .fetch_optional(&mut tx)
        .await?;
        let Some(updated) = updated else {
            let current = get(&mut tx, id).await?.map_or(0, |a| a.version);
            return Err(Error::VersionMismatch {
                kind: "application",
                expected: expected_version,
                current,
            });
        };
        audit::record(
            &mut tx,
            caller,
            "Update application properties",
            target(&updated),
            Some(before.audit_view()),
            Some(updated.audit_view()),
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes the application with its roles, assignments, owners and configuration. Its
    /// accounts in the target are left as they are (as in Entra).
    pub async fn delete_application(
        &self,
        caller: &Caller,
        account: &Account,
        id: Uuid,
    ) -> Result<()> {
        let application = self.application_for(account, id, Access::Configure).await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        let assigned: Vec<(String, Uuid)> = crate::db::query_as(
            "SELECT principal_type, principal_id FROM app_role_assignments WHERE application_id = ?",
        )
        .bind(id)
        .fetch_all(&mut tx)
        .await?;
        let mut latest = None;
        for (kind, principal) in assigned {
            latest =
                Some(roles::feed_assignment_change(&mut tx, &kind, principal, id, false).await?);
        }
        crate::db::query("DELETE FROM applications WHERE id = ?")
            .bind(id)
            .execute(&mut tx)
            .await?;
        audit::record(
            &mut tx,
            caller,
            "Delete application",
            target(&application),
            Some(application.audit_view()),
            None,
        )
        .await?;
        tx.commit().await?;
        if let Some(sequence) = latest {
            self.feed.published(sequence);
        }
        Ok(())
    }

    /// Adds (`add`) or removes an owner. Owners are directory users; an application keeps at
    /// least one, as Entra recommends, unless an administrator removes the last.
    pub async fn change_owner(
        &self,
        caller: &Caller,
        account: &Account,
        id: Uuid,
        user: Uuid,
        add: bool,
    ) -> Result<()> {
        let application = self.application_for(account, id, Access::Configure).await?;
        let owner = self.user(user).await?;
        let mut tx = crate::db::begin_write(&self.db).await?;
        if !add && account.role == Role::ApplicationOwner {
            let owners: i64 = crate::db::query_scalar(
                "SELECT COUNT(*) FROM application_owners WHERE application_id = ? AND user_id <> ?",
            )
            .bind(id)
            .bind(user)
            .fetch_one(&mut tx)
            .await?;
            if owners == 0 {
                return Err(Error::invalid(
                    "remove",
                    "an application keeps at least one owner; add another owner first",
                ));
            }
        }
        let changed = if add {
            crate::db::query(
                "INSERT INTO application_owners (application_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            )
        } else {
            crate::db::query("DELETE FROM application_owners WHERE application_id = ? AND user_id = ?")
        }
        .bind(id)
        .bind(user)
        .execute(&mut tx)
        .await?
        .rows_affected();
        if changed > 0 {
            let name = &owner.profile.user_principal_name;
            audit::record(
                &mut tx,
                caller,
                if add {
                    "Add owner to application"
                } else {
                    "Remove owner from application"
                },
                target(&application),
                (!add).then(|| json!({ "owner": name })),
                add.then(|| json!({ "owner": name })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) fn target(application: &Application) -> Target<'_> {
    Target {
        kind: "Application",
        id: Some(application.id),
        name: &application.display_name,
    }
}
