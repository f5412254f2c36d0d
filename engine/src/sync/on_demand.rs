//! Provision on demand: one user, or one group with at most five members (Entra's limit: of a
//! larger group, the administrator chooses five), through
//! the whole pipeline now (connection, import, scope, match, action), each step's result sent on
//! a channel as it completes, so the console can show them one by one. A group's members go
//! first, each reported as a step, then the group. Decisions are written to the provisioning
//! logs, like a cycle's.

use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    cycle::{CycleKind, Run},
    log::{Action, Entry, Status},
};
use crate::{
    Engine, Result,
    accounts::Account,
    applications::Access,
    directory::{
        feed::ObjectType,
        groups::{self},
        users,
    },
};

/// The most members a group provisioned on demand may have.
pub const MAX_GROUP_MEMBERS: usize = 5;

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

/// The stages of a provision on demand, named as the portal names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Connection,
    Import,
    Member,
    Scope,
    Match,
    Action,
}

/// Sends steps to whoever watches; one who went away does not stop the provisioning.
struct Steps {
    sender: mpsc::Sender<Step>,
    /// A group is provisioned: the steps say "group" where they said "user".
    group: bool,
}

impl Steps {
    fn name(&self, stage: Stage) -> &'static str {
        match (stage, self.group) {
            (Stage::Connection, _) => "Test connection",
            (Stage::Import, false) => "Import user",
            (Stage::Import, true) => "Import group",
            (Stage::Member, _) => "Provision group member",
            (Stage::Scope, false) => "Determine if user is in scope",
            (Stage::Scope, true) => "Determine if group is in scope",
            (Stage::Match, false) => "Match user between source and target system",
            (Stage::Match, true) => "Match group between source and target system",
            (Stage::Action, _) => "Perform action",
        }
    }

    async fn send(&self, stage: Stage, result: StepResult, detail: String) {
        let _ = self
            .sender
            .send(Step {
                name: self.name(stage),
                result,
                detail,
            })
            .await;
    }

    /// Scope, Match and Action for the decision `entry`.
    async fn decision(&self, entry: &Entry) {
        let in_scope = entry.error_code != Some(super::log::ErrorCode::NotInScope);
        if !in_scope {
            let reason = entry.reason.clone().unwrap_or_default();
            self.send(Stage::Scope, StepResult::Skipped, reason).await;
            return;
        }
        self.send(Stage::Scope, StepResult::Success, "In scope.".into())
            .await;
        let matched = entry.steps.iter().any(|s| s == "Match") || entry.action == Action::Update;
        let detail = match (&entry.target_id, entry.action) {
            (Some(id), Action::Update) => format!("Matched the account {id} in the application."),
            (_, Action::Create) => "No account in the application: it will be created.".into(),
            _ if matched => "Matched.".into(),
            _ => "Not matched.".into(),
        };
        self.send(Stage::Match, StepResult::Success, detail).await;
        self.send(Stage::Action, result_of(entry), summary(entry))
            .await;
    }
}

fn result_of(entry: &Entry) -> StepResult {
    match entry.status {
        Status::Success => StepResult::Success,
        Status::Skipped => StepResult::Skipped,
        Status::Failure | Status::Warning => StepResult::Failure,
    }
}

/// The action and what it changed, or why it did not happen.
fn summary(entry: &Entry) -> String {
    let modified: Vec<String> = entry
        .modified
        .iter()
        .map(|(path, _, new)| format!("{path} = {new}"))
        .collect();
    match (&entry.reason, modified.is_empty()) {
        (Some(reason), _) if entry.status != Status::Success => {
            format!("{:?}: {reason}", entry.action)
        }
        (_, false) => format!("{:?}: {}", entry.action, modified.join(", ")),
        _ => format!("{:?}", entry.action),
    }
}

impl Engine {
    /// The user or group an administrator names for provision on demand: an id, or a name as
    /// the pickers take it (`groups::principal_named`).
    pub async fn on_demand_object(&self, name: &str) -> Result<Uuid> {
        match Uuid::try_parse(name.trim()) {
            Ok(id) => Ok(id),
            Err(_) => Ok(
                crate::directory::groups::principal_named(&self.db, name, "object")
                    .await?
                    .0,
            ),
        }
    }

    /// Provisions the user or group `object` to `application` now, sending each step on
    /// `steps`. For a group, `chosen` names the members that go with it (at most five; empty:
    /// all of them, when there are at most five).
    pub async fn provision_on_demand(
        &self,
        account: &Account,
        application: Uuid,
        object: Uuid,
        chosen: Vec<Uuid>,
        steps: mpsc::Sender<Step>,
    ) -> Result<()> {
        self.application_for(account, application, Access::Configure)
            .await?;
        let mut steps = Steps {
            sender: steps,
            group: false,
        };
        let now = OffsetDateTime::now_utc();
        let mut run = match self.prepare(application, now, Uuid::new_v4()).await {
            Ok(run) => run,
            Err(e) => {
                steps
                    .send(Stage::Connection, StepResult::Failure, e.to_string())
                    .await;
                return Ok(());
            }
        };
        if let Some(user) = users::get(&self.db, object).await? {
            let Some(mappings) = run.ctx.users.clone() else {
                let detail = "The Users mapping is disabled.".to_owned();
                steps
                    .send(Stage::Connection, StepResult::Failure, detail)
                    .await;
                return Ok(());
            };
            steps
                .send(Stage::Connection, StepResult::Success, ready())
                .await;
            let detail = format!(
                "{} ({})",
                user.profile.display_name, user.profile.user_principal_name
            );
            steps.send(Stage::Import, StepResult::Success, detail).await;
            run.ctx.discover().await;
            run.ctx.index = run
                .ctx
                .listing(CycleKind::Incremental, "User", &[object])
                .await?;
            // A refused credential stops here; the user's entry says so.
            if run.users(&mappings, &[object]).await?.is_ok()
                && run.send_references().await?.1.is_ok()
            {
                // Disables and deletes decided for this user are sent now, without the
                // threshold.
                run.finish_deprovisioning(true).await?;
            }
            return self.report(&mut run, &steps).await;
        }
        steps.group = true;
        let Some(group) = groups::get(&self.db, object).await? else {
            steps
                .send(
                    Stage::Import,
                    StepResult::Failure,
                    "The user or group is not in the directory.".into(),
                )
                .await;
            return Ok(());
        };
        let (Some(user_mappings), Some(group_mappings)) =
            (run.ctx.users.clone(), run.ctx.groups.clone())
        else {
            let detail = "The Users and Groups mappings must both be enabled.".to_owned();
            steps
                .send(Stage::Connection, StepResult::Failure, detail)
                .await;
            return Ok(());
        };
        steps
            .send(Stage::Connection, StepResult::Success, ready())
            .await;
        let members: Vec<groups::Member> = groups::members(&self.db, object)
            .await?
            .into_iter()
            .filter(|m| m.member_type == ObjectType::User)
            .collect();
        let total = members.len();
        // As the portal: a larger group goes with the members the administrator picked.
        let members = if chosen.is_empty() {
            members
        } else {
            if let Some(stranger) = chosen
                .iter()
                .find(|id| !members.iter().any(|m| m.id == **id))
            {
                let detail = format!(
                    "{stranger} is not a member of {}.",
                    group.profile.display_name
                );
                steps.send(Stage::Import, StepResult::Failure, detail).await;
                return Ok(());
            }
            members
                .into_iter()
                .filter(|m| chosen.contains(&m.id))
                .collect()
        };
        if members.len() > MAX_GROUP_MEMBERS {
            let detail = format!(
                "{} has {total} members; choose at most {MAX_GROUP_MEMBERS} of them to provision now. The others go in the next cycle.",
                group.profile.display_name,
            );
            steps.send(Stage::Import, StepResult::Failure, detail).await;
            return Ok(());
        }
        let detail = if members.len() == total {
            format!(
                "{} with {} member{}",
                group.profile.display_name,
                total,
                if total == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{} with {} of its {total} members, as chosen",
                group.profile.display_name,
                members.len(),
            )
        };
        steps.send(Stage::Import, StepResult::Success, detail).await;
        run.ctx.discover().await;
        let member_ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
        run.ctx.index = run
            .ctx
            .listing(CycleKind::Incremental, "User", &member_ids)
            .await?;
        for member in &members {
            if run.users(&user_mappings, &[member.id]).await?.is_err() {
                return self.report(&mut run, &steps).await;
            }
            if let Some(entry) = run.books.last_entry.take() {
                let detail = format!("{}: {}", entry.source_name, summary(&entry));
                steps.send(Stage::Member, result_of(&entry), detail).await;
            }
        }
        run.ctx.index = run
            .ctx
            .listing(CycleKind::Incremental, "Group", &[object])
            .await?;
        if run.groups(&group_mappings, &[object]).await?.is_ok() {
            run.finish_deprovisioning(true).await?;
        }
        self.report(&mut run, &steps).await
    }

    /// Writes the decisions to the logs and reports the last one's steps.
    async fn report(&self, run: &mut Run<'_>, steps: &Steps) -> Result<()> {
        run.books.write_all().await?;
        match run.books.last_entry.take() {
            Some(entry) => steps.decision(&entry).await,
            None => {
                let detail = "Nothing to do.".to_owned();
                steps.send(Stage::Scope, StepResult::Skipped, detail).await;
            }
        }
        Ok(())
    }
}

fn ready() -> String {
    "The credentials and mappings are ready.".into()
}
