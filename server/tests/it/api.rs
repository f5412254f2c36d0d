//! The REST API against the role table of docs/roles.md: every operation of the OpenAPI
//! document, called without a token, with a revoked token, with a token lacking the api scope,
//! and with a token of each role; the operations the test knows must be exactly the document's, so a new route fails
//! here until it is classified. No answer may contain a stored secret.

use std::collections::BTreeSet;

use engine::{
    Engine,
    accounts::Account,
    applications::{Application, provisioning::SecretChanges},
    audit::Caller,
    directory::{UserProfile, users},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::harness::Console;

const PASSWORD: &str = "a long enough password";
const SENTINEL: &str = "sentinel-secret-token-5f2c9e";

/// What an operation needs of the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Needs {
    /// Applications: create from gallery (administrators, not owners).
    Create,
    /// Configure, assign, provisioning, on demand, restart: administrators, owners on their own.
    Configure,
    /// As Configure, and it asks the target or the OAuth provider, which this test does not
    /// have: allowed, it answers 400 naming the field (seed_over_the_api.rs has them answer).
    ConfigureWithTarget,
    /// Provisioning logs, audit logs: every role (owners: their applications).
    ReadLogs,
    /// Finding users and groups: every role.
    ReadDirectory,
}

/// Every operation the API serves, with what it needs. Keep in step with the document.
const OPERATIONS: &[(&str, &str, Needs)] = &[
    ("GET", "/applications", Needs::Configure),
    ("POST", "/applications", Needs::Create),
    ("GET", "/applications/{id}", Needs::Configure),
    ("PATCH", "/applications/{id}", Needs::Configure),
    ("DELETE", "/applications/{id}", Needs::Configure),
    ("GET", "/applications/{id}/assignments", Needs::Configure),
    ("POST", "/applications/{id}/assignments", Needs::Configure),
    (
        "DELETE",
        "/applications/{id}/assignments/{assignment}",
        Needs::Configure,
    ),
    ("GET", "/applications/{id}/provisioning", Needs::Configure),
    ("PUT", "/applications/{id}/provisioning", Needs::Configure),
    ("GET", "/applications/{id}/job", Needs::Configure),
    ("POST", "/applications/{id}/job/start", Needs::Configure),
    ("POST", "/applications/{id}/job/pause", Needs::Configure),
    ("POST", "/applications/{id}/job/restart", Needs::Configure),
    (
        "POST",
        "/applications/{id}/job/allow-deletes",
        Needs::Configure,
    ),
    (
        "POST",
        "/applications/{id}/job/test-connection",
        Needs::Configure,
    ),
    (
        "POST",
        "/applications/{id}/job/provision-on-demand",
        Needs::Configure,
    ),
    ("GET", "/applications/{id}/roles", Needs::Configure),
    (
        "GET",
        "/applications/{id}/provisioning/target-schema",
        Needs::ConfigureWithTarget,
    ),
    (
        "POST",
        "/applications/{id}/provisioning/authorize",
        Needs::ConfigureWithTarget,
    ),
    ("GET", "/users", Needs::ReadDirectory),
    ("GET", "/groups", Needs::ReadDirectory),
    ("GET", "/provisioning-logs", Needs::ReadLogs),
    ("GET", "/provisioning-logs/export", Needs::ReadLogs),
    ("GET", "/audit-logs", Needs::ReadLogs),
];

/// The callers: (upn, role). `owner` owns the application under test; `stranger` owns none.
const CALLERS: &[(&str, &str)] = &[
    ("global@contoso.com", "Global Administrator"),
    ("appadmin@contoso.com", "Application Administrator"),
    ("cloudadmin@contoso.com", "Cloud Application Administrator"),
    ("owner@contoso.com", "Application Owner"),
    ("stranger@contoso.com", "Application Owner"),
    ("reader@contoso.com", "Reports Reader"),
];

/// What docs/roles.md says `upn` gets from an operation needing `needs`.
fn expected(upn: &str, needs: Needs, app_scoped: bool) -> Result<(), StatusCode> {
    match (upn, needs) {
        (_, Needs::ReadLogs | Needs::ReadDirectory) => Ok(()),
        ("reader@contoso.com", _) => Err(StatusCode::FORBIDDEN),
        ("owner@contoso.com" | "stranger@contoso.com", Needs::Create) => Err(StatusCode::FORBIDDEN),
        // An owner cannot tell that someone else's application exists.
        ("stranger@contoso.com", Needs::Configure | Needs::ConfigureWithTarget) if app_scoped => {
            Err(StatusCode::NOT_FOUND)
        }
        _ => Ok(()),
    }
}

struct World {
    console: Console,
    engine: Engine,
    global: Account,
    owner: Account,
    grace: Uuid,
    app: Application,
}

impl World {
    /// An application owned by owner@, as `path` needs it: the shared one, or a fresh one to
    /// delete; and a fresh assignment where the path removes one.
    async fn path(&self, template: &str, method: &str) -> String {
        let system = Caller::system();
        let app = if method == "DELETE" && template == "/applications/{id}" {
            self.owned_application("Throwaway").await
        } else {
            self.app.clone()
        };
        let mut path = template.replace("{id}", &app.id.to_string());
        if template.contains("{assignment}") {
            let roles = self.engine.app_roles(&self.global, app.id).await.unwrap();
            let role = roles
                .iter()
                .find(|r| r.display_name == "User")
                .unwrap_or(&roles[0]);
            let _ = self
                .engine
                .assign(
                    &system,
                    &self.global,
                    app.id,
                    engine::applications::roles::PrincipalType::User,
                    self.grace,
                    role.id,
                )
                .await;
            let assignment = self
                .engine
                .app_assignments(&self.global, app.id)
                .await
                .unwrap()
                .into_iter()
                .find(|a| a.principal_id == self.grace)
                .unwrap();
            path = path.replace("{assignment}", &assignment.id.to_string());
        }
        match template {
            "/users" => path.push_str("?userPrincipalName=GRACE.HOPPER@contoso.com"),
            "/groups" => path.push_str("?displayName=engineering"),
            _ => {}
        }
        format!("/api/v1{path}")
    }

    /// A valid body for the operation, built from the current state.
    async fn body(&self, method: &str, path: &str) -> Option<Value> {
        let roles = self
            .engine
            .app_roles(&self.global, self.app.id)
            .await
            .unwrap();
        match (method, path) {
            ("POST", "/applications") => {
                Some(json!({ "template": "custom-scim", "displayName": "Made over the API" }))
            }
            ("PATCH", "/applications/{id}") => {
                let current = engine::applications::get(&self.engine.db, self.app.id)
                    .await
                    .unwrap()
                    .unwrap();
                Some(json!({ "version": current.version, "notes": "changed over the API" }))
            }
            ("POST", "/applications/{id}/assignments") => Some(json!({
                "principalType": "User", "principalId": self.grace, "roleId": roles[0].id,
            })),
            ("PUT", "/applications/{id}/provisioning") => {
                let current = self
                    .engine
                    .provisioning(&self.global, self.app.id)
                    .await
                    .unwrap();
                Some(json!({ "version": current.version, "settings": current.settings }))
            }
            ("POST", "/applications/{id}/job/restart") => Some(json!({ "forgetLinks": false })),
            ("POST", "/applications/{id}/job/provision-on-demand") => {
                Some(json!({ "objectId": self.grace }))
            }
            _ => None,
        }
    }

    async fn owned_application(&self, name: &str) -> Application {
        owned_application(&self.engine, &self.global, &self.owner, name).await
    }
}

/// A custom application made by `global` and owned by `owner` too.
async fn owned_application(
    engine: &Engine,
    global: &Account,
    owner: &Account,
    name: &str,
) -> Application {
    let system = Caller::system();
    let app = engine
        .create_application(&system, global, "custom-scim", name)
        .await
        .unwrap();
    engine
        .change_owner(&system, global, app.id, owner.id, true)
        .await
        .unwrap();
    app
}

async fn call(
    console: &Console,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, String) {
    let client = reqwest::Client::new();
    let mut request = client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        console.url(path),
    );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_role_table_says() {
    let console = Console::start();
    let mut tokens = Vec::new();
    for (upn, role) in CALLERS {
        let created = console.admin_create(upn, role, PASSWORD);
        assert!(created.status.success(), "{created:?}");
        tokens.push((*upn, console.token(upn, &["api"])));
    }
    let scim_only = console.token("global@contoso.com", &["scim"]);
    let engine = console.engine().await;
    let account = |upn: &'static str| {
        let engine = engine.clone();
        async move {
            let user = users::find_by_upn(&engine.db, upn).await.unwrap().unwrap();
            engine.account(user.id).await.unwrap().unwrap()
        }
    };
    let (global, owner) = (
        account("global@contoso.com").await,
        account("owner@contoso.com").await,
    );
    let revoked = console.token("appadmin@contoso.com", &["api"]);
    let newest = engine
        .tokens(Some(account("appadmin@contoso.com").await.id))
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|t| t.created_at)
        .unwrap();
    engine
        .revoke_token(&Caller::system(), newest.id)
        .await
        .unwrap();

    let system = Caller::system();
    let grace = engine
        .create_user(
            &system,
            UserProfile {
                user_principal_name: "grace.hopper@contoso.com".into(),
                display_name: "Grace Hopper".into(),
                given_name: Some("Grace".into()),
                surname: Some("Hopper".into()),
                mail: Some("grace.hopper@contoso.com".into()),
                ..UserProfile::default()
            },
        )
        .await
        .unwrap()
        .id;
    let app = owned_application(&engine, &global, &owner, "Payroll").await;
    let world = World {
        console,
        engine,
        global,
        owner,
        grace,
        app,
    };
    // A stored secret no answer may ever show.
    let config = world
        .engine
        .provisioning(&world.global, world.app.id)
        .await
        .unwrap();
    let mut settings = config.settings.clone();
    settings.scim_base_url = "http://127.0.0.1:9/scim/v2".into();
    settings.mode = engine::applications::provisioning::Mode::Automatic;
    world
        .engine
        .save_provisioning(
            &system,
            &world.global,
            world.app.id,
            config.version,
            settings,
            SecretChanges {
                secret_token: Some(SENTINEL.to_owned().into()),
                client_secret: None,
            },
        )
        .await
        .unwrap();

    // The document is open (it holds no data) and lists exactly the operations above.
    let (status, document) = call(&world.console, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let document: Value = serde_json::from_str(&document).unwrap();
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let known: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented, known,
        "the OpenAPI document and this test's table differ"
    );
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    // Typed contracts: the settings and the job's reports are described field by field, and
    // report times are RFC 3339 date-times.
    let schemas = &document["components"]["schemas"];
    for field in [
        "scimBaseUrl",
        "users",
        "groups",
        "scope",
        "deletionThreshold",
        "target",
    ] {
        assert!(
            schemas["Settings"]["properties"][field].is_object(),
            "Settings.{field} in {}",
            schemas["Settings"]
        );
    }
    assert_eq!(
        schemas["CycleReport"]["properties"]["startedAt"]["format"], "date-time",
        "{}",
        schemas["CycleReport"]
    );
    assert!(schemas["JobOut"]["properties"]["lastInterruption"].is_object());

    for (method, template, needs) in OPERATIONS {
        let app_scoped = template.contains("{id}");
        // No token, a revoked token, a token without the api scope: 401 with a JSON error.
        for token in [None, Some(revoked.as_str()), Some(scim_only.as_str())] {
            let path = world.path(template, method).await;
            let (status, body) = call(
                &world.console,
                method,
                &path,
                token,
                world.body(method, template).await,
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {template} with {token:?}: {body}"
            );
            let error: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(error["code"], "unauthenticated", "{body}");
        }
        for (upn, token) in &tokens {
            let path = world.path(template, method).await;
            let body = world.body(method, template).await;
            let (status, answer) = call(&world.console, method, &path, Some(token), body).await;
            assert!(
                !answer.contains(SENTINEL),
                "{method} {template} as {upn} shows the secret: {answer}"
            );
            match expected(upn, *needs, app_scoped) {
                Ok(()) if *needs == Needs::ConfigureWithTarget => {
                    assert_eq!(
                        status,
                        StatusCode::BAD_REQUEST,
                        "{method} {template} as {upn}: {answer}"
                    );
                    let error: Value = serde_json::from_str(&answer).unwrap();
                    assert!(error["field"].is_string(), "{answer}");
                }
                Ok(()) => assert!(
                    status.is_success() || status == StatusCode::CONFLICT,
                    "{method} {template} as {upn}: {status} {answer}"
                ),
                Err(denied) => {
                    assert_eq!(status, denied, "{method} {template} as {upn}: {answer}");
                    let error: Value = serde_json::from_str(&answer).unwrap();
                    assert!(
                        error["code"].is_string() && error["message"].is_string(),
                        "{answer}"
                    );
                }
            }
        }
    }

    // What the owner and the stranger see of the lists follows their ownership.
    let owner_token = &tokens
        .iter()
        .find(|(u, _)| *u == "owner@contoso.com")
        .unwrap()
        .1;
    let stranger_token = &tokens
        .iter()
        .find(|(u, _)| *u == "stranger@contoso.com")
        .unwrap()
        .1;
    let (_, mine) = call(
        &world.console,
        "GET",
        "/api/v1/applications",
        Some(owner_token),
        None,
    )
    .await;
    let (_, theirs) = call(
        &world.console,
        "GET",
        "/api/v1/applications",
        Some(stranger_token),
        None,
    )
    .await;
    let names = |body: &str| -> Vec<String> {
        serde_json::from_str::<Vec<Value>>(body)
            .unwrap()
            .iter()
            .map(|a| a["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(names(&mine).contains(&"Payroll".to_owned()), "{mine}");
    assert_eq!(names(&theirs), Vec::<String>::new());

    // Errors name the field at fault.
    let global_token = &tokens[0].1;
    let (status, answer) = call(
        &world.console,
        "GET",
        "/api/v1/provisioning-logs?status=Bogus",
        Some(global_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        (error["code"].as_str(), error["field"].as_str()),
        (Some("invalid"), Some("status")),
        "{answer}"
    );
    let (status, answer) = call(
        &world.console,
        "GET",
        "/api/v1/no-such-route",
        Some(global_token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}
