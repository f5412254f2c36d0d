//! Provision on demand: one user through the whole pipeline now (connection, import, scope,
//! match, action), each step's result sent on a channel as it completes, so the console can show
//! them one by one. The decision is also written to the provisioning logs, like a cycle's.

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    cycle::CycleKind,
    log::{Action, Status},
};
use crate::{Engine, Result, accounts::Account, applications::Access, directory::users};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StepResult {
    Success,
    Skipped,
    Failure,
}

/// One step of a provision on demand, as it completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub result: StepResult,
    pub detail: String,
}

impl Engine {
    /// Provisions the user `user` to `application` now, sending each step on `steps`.
    pub async fn provision_on_demand(
        &self,
        account: &Account,
        application: Uuid,
        user: Uuid,
        steps: mpsc::Sender<Step>,
    ) -> Result<()> {
        self.application_for(account, application, Access::Configure)
            .await?;
        let send = |name: &'static str, result: StepResult, detail: String| {
            let steps = steps.clone();
            async move {
                // A reader that went away does not stop the provisioning.
                let _ = steps
                    .send(Step {
                        name,
                        result,
                        detail,
                    })
                    .await;
            }
        };
        let now = OffsetDateTime::now_utc();
        let prepared = self
            .prepare(application, now, Uuid::new_v4(), CycleKind::Incremental)
            .await;
        let (mut run, mappings) = match prepared {
            Ok(run) => match run.ctx.users.clone() {
                Some(mappings) => (run, mappings),
                None => {
                    send(
                        "Connection",
                        StepResult::Failure,
                        "The Users mapping is disabled.".into(),
                    )
                    .await;
                    return Ok(());
                }
            },
            Err(e) => {
                send("Connection", StepResult::Failure, e.to_string()).await;
                return Ok(());
            }
        };
        send(
            "Connection",
            StepResult::Success,
            "The credentials and mappings are ready.".into(),
        )
        .await;
        let Some(found) = users::get(&self.db, user).await? else {
            send(
                "Import",
                StepResult::Failure,
                "The user is not in the directory.".into(),
            )
            .await;
            return Ok(());
        };
        send(
            "Import",
            StepResult::Success,
            format!(
                "{} ({})",
                found.profile.display_name, found.profile.user_principal_name
            ),
        )
        .await;
        // A refused credential stops here; the user's entry says so.
        if run.users(&mappings, &[user]).await?.is_ok() {
            // Disables and deletes decided for this one user are sent now, without the threshold.
            run.finish_deprovisioning(true).await?;
        }
        run.books.log.flush(&self.db).await?;
        let Some(entry) = run.books.last_entry.clone() else {
            send(
                "Scope",
                StepResult::Skipped,
                "Nothing to do for this user.".into(),
            )
            .await;
            return Ok(());
        };
        let in_scope = entry.error_code.as_deref() != Some("NotInScope");
        send(
            "Scope",
            if in_scope {
                StepResult::Success
            } else {
                StepResult::Skipped
            },
            if in_scope {
                "In scope.".into()
            } else {
                entry.reason.clone().unwrap_or_default()
            },
        )
        .await;
        if !in_scope {
            return Ok(());
        }
        let matched = entry.steps.iter().any(|s| s == "Match") || entry.action == Action::Update;
        send(
            "Match",
            StepResult::Success,
            match (&entry.target_id, entry.action) {
                (Some(id), Action::Update) => {
                    format!("Matched the account {id} in the application.")
                }
                (_, Action::Create) => "No account in the application: it will be created.".into(),
                _ if matched => "Matched.".into(),
                _ => "Not matched.".into(),
            },
        )
        .await;
        let result = match entry.status {
            Status::Success => StepResult::Success,
            Status::Skipped => StepResult::Skipped,
            Status::Failure | Status::Warning => StepResult::Failure,
        };
        let modified: Vec<String> = entry
            .modified
            .iter()
            .map(|(path, _, new)| format!("{path} = {new}"))
            .collect();
        let detail = match (&entry.reason, modified.is_empty()) {
            (Some(reason), _) if entry.status != Status::Success => {
                format!("{:?}: {reason}", entry.action)
            }
            (_, false) => format!("{:?}: {}", entry.action, modified.join(", ")),
            _ => format!("{:?}", entry.action),
        };
        send("Action", result, detail).await;
        Ok(())
    }
}
