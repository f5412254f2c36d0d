//! The seed tutorial's job done with the REST API alone, as an automation would: Vonage from the
//! gallery, people found by user principal name and group name, an app role from the list,
//! assignments, the provisioning configuration, Authorize (its URL opened in a browser signed in
//! as the token's owner, at a real `oidc-provider`), the target's schema, Start, and the accounts
//! arriving in a real `scim2-server` behind the JWT-checking proxy.

use std::time::Duration;

use engine::{audit::Caller, directory::groups::GroupProfile};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    harness::{Console, PASSWORD},
    peers,
    sync::{profile, until_within},
};

const AUDIENCE: &str = "urn:scimitar:automation-test";

/// The API, with `token`.
struct Api<'c> {
    console: &'c Console,
    token: String,
    http: reqwest::Client,
}

impl Api<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), self.console.url(&format!("/api/v1{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        if status == StatusCode::NO_CONTENT {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

#[tokio::test]
async fn the_seed_tutorial_over_the_rest_api_alone() {
    let console = Console::start();
    let created = console.admin_create("admin@contoso.com", "Global Administrator", PASSWORD);
    assert!(created.status.success());
    let api = Api {
        console: &console,
        token: console.token("admin@contoso.com", &["api"]),
        http: reqwest::Client::new(),
    };
    // The directory the tutorial starts from.
    let engine = console.engine().await;
    let system = Caller::system();
    let grace = engine
        .create_user(
            &system,
            profile("grace@contoso.com", "Grace", Some("Hopper")),
        )
        .await
        .unwrap();
    engine
        .create_group(
            &system,
            GroupProfile {
                display_name: "Sales".into(),
                ..GroupProfile::default()
            },
            &[grace.id],
        )
        .await
        .unwrap();
    let (_scim, scim_origin) = peers::scim_server(None);
    let callback = console.url("/oauth/callback");
    let oidc = peers::oidc(
        json!([{
            "client_id": "vonage", "client_secret": "vonage-secret",
            "redirect_uris": [callback], "grant_types": ["authorization_code", "refresh_token"],
        }]),
        AUDIENCE,
        600,
    );
    let proxy = peers::jwt_proxy(&scim_origin, &oidc.url, AUDIENCE);

    // Vonage from the gallery; Grace by her name, Sales by its; the role to give them.
    let app = api
        .post(
            "/applications",
            json!({ "template": "vonage", "displayName": "Vonage" }),
        )
        .await;
    let id = app["id"].as_str().unwrap().to_owned();
    let found = api.get("/users?userPrincipalName=Grace@Contoso.com").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], grace.id.to_string());
    let sales = api.get("/groups?displayName=sales").await;
    assert_eq!(sales[0]["displayName"], "Sales", "{sales}");
    assert!(api.get("/users?userPrincipalName=nobody@contoso.com").await[0].is_null());
    let roles = api.get(&format!("/applications/{id}/roles")).await;
    let role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["isDefault"].as_bool().unwrap())
        .unwrap_or_else(|| panic!("a role other than Default Access: {roles}"));
    api.post(
        &format!("/applications/{id}/assignments"),
        json!({ "principalType": "User", "principalId": found[0]["id"], "roleId": role["id"] }),
    )
    .await;

    // Admin Credentials, then Authorize: the URL opens in the browser of the token's owner.
    let current = api.get(&format!("/applications/{id}/provisioning")).await;
    let mut settings = current["settings"].clone();
    settings["mode"] = json!("Automatic");
    settings["scimBaseUrl"] = json!(format!("{}/v2", proxy.url));
    settings["oauth"] = json!({
        "clientId": "vonage",
        "authorizationUrl": format!("{}/auth", oidc.url),
        "tokenUrl": format!("{}/token", oidc.url),
        "scopes": "openid offline_access scim",
    });
    api.call(
        reqwest::Method::PUT,
        &format!("/applications/{id}/provisioning"),
        Some(json!({
            "version": current["version"], "settings": settings, "clientSecret": "vonage-secret",
        })),
    )
    .await;
    let authorize = api
        .post(
            &format!("/applications/{id}/provisioning/authorize"),
            json!({}),
        )
        .await;
    let url = authorize["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/auth", oidc.url)), "{url}");
    let back = peers::sign_in_and_consent(url, &callback).await;
    // Someone else's browser cannot finish it; the owner's can, once.
    let other = console
        .signed_in("ops@contoso.com", "Global Administrator")
        .await;
    assert_eq!(
        other.get(&back).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let browser = console.browser();
    console
        .sign_in(&browser, "admin@contoso.com", PASSWORD)
        .await;
    let finished = browser.get(&back).send().await.unwrap();
    assert!(finished.status().is_redirection(), "{}", finished.status());
    let configuration = api.get(&format!("/applications/{id}/provisioning")).await;
    assert_eq!(
        configuration["authorizedBy"], "admin@contoso.com",
        "{configuration}"
    );
    assert_eq!(
        browser.get(&back).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST,
        "single use"
    );

    // The target's schema, through the token the authorization stored.
    let schema = api
        .get(&format!("/applications/{id}/provisioning/target-schema"))
        .await;
    let user = schema["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "urn:ietf:params:scim:schemas:core:2.0:User")
        .unwrap_or_else(|| panic!("the core User schema: {schema}"));
    assert!(
        user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "userName" && a["type"] == "string"),
        "{user}"
    );
    assert!(
        schema["requiredUserAttributes"]
            .as_array()
            .unwrap()
            .contains(&json!("name.familyName")),
        "{schema}"
    );

    // Start: Grace arrives, and the job's report says so with RFC 3339 times.
    api.post(&format!("/applications/{id}/job/start"), json!({}))
        .await;
    until_within("the first cycle", Duration::from_secs(60), || async {
        api.get(&format!("/applications/{id}/job")).await["lastCycle"].is_object()
    })
    .await;
    let job = api.get(&format!("/applications/{id}/job")).await;
    let report = &job["lastCycle"];
    assert_eq!(report["counts"]["created"], 1, "{job}");
    let started = report["startedAt"].as_str().unwrap();
    time::OffsetDateTime::parse(started, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| panic!("an RFC 3339 time: {started}"));
    let accounts: Value = reqwest::get(format!("{scim_origin}/v2/Users"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["Resources"][0]["userName"], "grace@contoso.com");
}
