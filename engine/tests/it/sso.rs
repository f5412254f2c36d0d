//! Single sign-on with SAML on a real SQLite file (or PostgreSQL), every response checked by
//! `xmlsec1`, the XML Security Library's own command (Debian's package; `scripts/setup test`):
//! assigned users get a response signed with the application's key, others the reason why not
//! and a sign-in log entry; requests that do not fit the settings are refused; a new certificate
//! is published before it signs.

use std::{io::Write, process::Command};

use base64::Engine as _;
use engine::{
    Engine, Error,
    accounts::{Account, Role},
    applications::roles::PrincipalType,
    audit::Caller,
    directory::{UserProfile, groups::GroupProfile},
    sso::{
        Claim, Method, Settings, SigningOption,
        access::Refusal,
        saml::{self, IdentityProvider, Request, SignOn},
        sign_in_log::Query,
    },
};
use uuid::Uuid;

const SP: &str = "https://sp.contoso.com/saml/metadata";
const ACS: &str = "https://sp.contoso.com/saml/acs";
const BASE: &str = "https://scimitar.contoso.com";

struct Setup {
    engine: Engine,
    admin: Account,
    application: Uuid,
    assigned: Uuid,
    _data: tempfile::TempDir,
}

async fn user(engine: &Engine, upn: &str) -> Uuid {
    engine
        .create_user(
            &Caller::system(),
            UserProfile {
                user_principal_name: upn.into(),
                display_name: "Adele Vance".into(),
                given_name: Some("Adele".into()),
                surname: Some("Vance & <Co>".into()),
                mail: Some(upn.into()),
                ..UserProfile::default()
            },
        )
        .await
        .unwrap()
        .id
}

fn saml_settings() -> Settings {
    let mut settings = Settings {
        method: Method::Saml,
        ..Settings::default()
    };
    settings.saml.identifiers = vec![SP.into()];
    settings.saml.reply_urls = vec![ACS.into(), "https://sp.contoso.com/other/acs".into()];
    settings.saml.relay_state = "/home".into();
    settings
}

/// Vonage with SAML set up, one user assigned to it as "User".
async fn setup() -> Setup {
    let data = tempfile::tempdir().unwrap();
    let engine = crate::open(data.path(), engine::Options::default()).await;
    let caller = Caller::system();
    let admin_id = user(&engine, "admin@contoso.com").await;
    let admin = Account {
        id: admin_id,
        user_principal_name: "admin@contoso.com".into(),
        display_name: "Admin".into(),
        role: Role::ApplicationAdministrator,
        session_stamp: String::new(),
    };
    let app = engine
        .create_application(&caller, &admin, "vonage", "")
        .await
        .unwrap();
    engine
        .save_single_sign_on(&caller, &admin, app.id, 0, saml_settings())
        .await
        .unwrap();
    let assigned = user(&engine, "adele@contoso.com").await;
    let role = engine.app_roles(&admin, app.id).await.unwrap()[1].id;
    engine
        .assign(&caller, &admin, app.id, PrincipalType::User, assigned, role)
        .await
        .unwrap();
    Setup {
        engine,
        admin,
        application: app.id,
        assigned,
        _data: data,
    }
}

fn posted(sign_on: SignOn) -> saml::PostForm {
    match sign_on {
        SignOn::Post(form) => form,
        SignOn::Refused { refusal, .. } => panic!("refused: {refusal}"),
    }
}

fn refusal(sign_on: SignOn) -> Refusal {
    match sign_on {
        SignOn::Post(form) => panic!("signed in: {form:?}"),
        SignOn::Refused { refusal, .. } => refusal,
    }
}

fn decoded(form: &saml::PostForm) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&form.saml_response)
            .unwrap(),
    )
    .unwrap()
}

/// `xmlsec1 --verify` of `xml` with `certificate_pem` as the only trusted key, the signature on
/// the element named `id_node` (e.g. `urn:oasis:names:tc:SAML:2.0:assertion:Assertion`).
fn xmlsec_verifies(xml: &str, certificate_pem: &str, id_node: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (document, certificate) = (dir.path().join("response.xml"), dir.path().join("cert.pem"));
    std::fs::File::create(&document)
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    std::fs::write(&certificate, certificate_pem).unwrap();
    let output = Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem"])
        .arg(&certificate)
        .args(["--id-attr:ID", id_node])
        .arg(&document)
        .output()
        .expect("xmlsec1 runs (scripts/setup test installs Debian's xmlsec1)");
    if !output.status.success() {
        eprintln!("xmlsec1: {}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.success()
}

const ASSERTION_NODE: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
const RESPONSE_NODE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";

/// The HTTP-Redirect binding's encoding of an AuthnRequest.
fn redirect_encoded(xml: &str) -> String {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
}

fn authn_request(id: &str, issuer: &str, acs: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-12-07T10:00:00Z" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"#
    )
}

#[tokio::test]
async fn an_assigned_user_gets_a_response_signed_with_the_published_key() {
    let s = setup().await;
    let idp = IdentityProvider::new(BASE, s.application);
    let form = posted(
        s.engine
            .saml_sign_on(&idp, s.assigned, &Request::IdpInitiated, None)
            .await
            .unwrap(),
    );
    assert_eq!(form.acs_url, ACS);
    assert_eq!(form.relay_state.as_deref(), Some("/home"));
    let xml = decoded(&form);
    assert!(
        xml.contains(&format!("<saml:Audience>{SP}</saml:Audience>")),
        "{xml}"
    );
    assert!(xml.contains(r#"Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">adele@contoso.com</saml:NameID>"#));
    // Entra's default claims, escaped.
    assert!(xml.contains(r#"<saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"><saml:AttributeValue>Vance &amp; &lt;Co&gt;</saml:AttributeValue>"#), "{xml}");
    assert!(!xml.contains("InResponseTo"));

    // The metadata publishes the key that signed it; xmlsec1 accepts the signature with it,
    // and refuses it once the assertion is changed.
    let metadata = s.engine.saml_metadata(&idp).await.unwrap().unwrap();
    let certificates = s
        .engine
        .signing_certificates(&s.admin, s.application)
        .await
        .unwrap();
    assert_eq!(certificates.len(), 1);
    assert!(metadata.contains(&certificates[0].base64()));
    assert!(metadata.contains(&format!(r#"entityID="{BASE}/saml/{}""#, s.application)));
    let pem = certificates[0].pem();
    assert!(xmlsec_verifies(&xml, &pem, ASSERTION_NODE));
    let tampered = xml.replace(
        "adele@contoso.com</saml:NameID>",
        "admin@contoso.com</saml:NameID>",
    );
    assert!(!xmlsec_verifies(&tampered, &pem, ASSERTION_NODE));
    // The metadata itself is signed with the active key.
    const METADATA_NODE: &str = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor";
    assert!(xmlsec_verifies(&metadata, &pem, METADATA_NODE));
    let tampered = metadata.replace("/saml/", "/evil/");
    assert!(!xmlsec_verifies(&tampered, &pem, METADATA_NODE));

    // The sign-in log says so.
    let log = s
        .engine
        .sign_in_logs(
            &s.admin,
            &Query {
                limit: 10,
                ..Query::default()
            },
        )
        .await
        .unwrap()
        .entries;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0].user_principal_name.as_str(),
            log[0].application_name.as_str(),
            log[0].result.as_str()
        ),
        ("adele@contoso.com", "Vonage", "Success")
    );
    assert_eq!(log[0].reason, format!("SAML response sent to {ACS}"));
}

#[tokio::test]
async fn the_response_is_signed_where_the_signing_option_says() {
    let s = setup().await;
    let idp = IdentityProvider::new(BASE, s.application);
    let pem = s
        .engine
        .signing_certificates(&s.admin, s.application)
        .await
        .unwrap()[0]
        .pem();
    for (signing, response_signed, assertion_signed) in [
        (SigningOption::SignResponse, true, false),
        (SigningOption::SignResponseAndAssertion, true, true),
    ] {
        let stored = s
            .engine
            .single_sign_on(&s.admin, s.application)
            .await
            .unwrap();
        let mut settings = stored.settings;
        settings.saml.signing = signing;
        s.engine
            .save_single_sign_on(
                &Caller::system(),
                &s.admin,
                s.application,
                stored.version,
                settings,
            )
            .await
            .unwrap();
        let xml = decoded(&posted(
            s.engine
                .saml_sign_on(&idp, s.assigned, &Request::IdpInitiated, None)
                .await
                .unwrap(),
        ));
        assert_eq!(
            xml.matches("<ds:Signature ").count(),
            usize::from(response_signed) + usize::from(assertion_signed),
            "{signing:?}: {xml}"
        );
        // The response's signature comes first, right after its Issuer.
        assert!(xmlsec_verifies(&xml, &pem, RESPONSE_NODE), "{signing:?}");
        let tampered = xml.replace("status:Success", "status:Requester");
        assert!(
            !xmlsec_verifies(&tampered, &pem, RESPONSE_NODE),
            "{signing:?}"
        );
    }
}

#[tokio::test]
async fn unassigned_disabled_and_deleted_users_are_refused_and_logged() {
    let s = setup().await;
    let idp = IdentityProvider::new(BASE, s.application);
    let caller = Caller::system();
    let stranger = user(&s.engine, "stranger@contoso.com").await;
    assert_eq!(
        refusal(
            s.engine
                .saml_sign_on(&idp, stranger, &Request::IdpInitiated, None)
                .await
                .unwrap()
        )
        .to_string(),
        "You are not assigned to this application. Ask your administrator to assign you to Vonage."
    );

    // A member of an assigned group is assigned; once the group is deleted, no longer.
    let group = s
        .engine
        .create_group(
            &caller,
            GroupProfile {
                display_name: "Sales".into(),
                ..GroupProfile::default()
            },
            &[stranger],
        )
        .await
        .unwrap();
    let role = s.engine.app_roles(&s.admin, s.application).await.unwrap()[0].id;
    s.engine
        .assign(
            &caller,
            &s.admin,
            s.application,
            PrincipalType::Group,
            group.id,
            role,
        )
        .await
        .unwrap();
    posted(
        s.engine
            .saml_sign_on(&idp, stranger, &Request::IdpInitiated, None)
            .await
            .unwrap(),
    );
    s.engine
        .delete_group(&caller, group.id, None)
        .await
        .unwrap();
    assert!(matches!(
        refusal(
            s.engine
                .saml_sign_on(&idp, stranger, &Request::IdpInitiated, None)
                .await
                .unwrap()
        ),
        Refusal::NotAssigned { .. }
    ));

    let mut profile = s.engine.user(s.assigned).await.unwrap().profile;
    profile.account_enabled = Some(false);
    s.engine
        .update_user(&caller, s.assigned, profile, None)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            s.engine
                .saml_sign_on(&idp, s.assigned, &Request::IdpInitiated, None)
                .await
                .unwrap()
        ),
        Refusal::Disabled
    );
    s.engine
        .delete_user(&caller, s.assigned, None)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            s.engine
                .saml_sign_on(&idp, s.assigned, &Request::IdpInitiated, None)
                .await
                .unwrap()
        ),
        Refusal::Deleted
    );

    let failures = s
        .engine
        .sign_in_logs(
            &s.admin,
            &Query {
                result: Some("Failure".into()),
                limit: 10,
                ..Query::default()
            },
        )
        .await
        .unwrap()
        .entries;
    let reasons: Vec<(&str, &str)> = failures
        .iter()
        .map(|e| (e.user_principal_name.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("adele@contoso.com", "Your account has been deleted."),
            ("adele@contoso.com", "Your account is disabled."),
            (
                "stranger@contoso.com",
                "You are not assigned to this application. Ask your administrator to assign you to Vonage."
            ),
            (
                "stranger@contoso.com",
                "You are not assigned to this application. Ask your administrator to assign you to Vonage."
            ),
        ]
    );
    // Filtered by user.
    let adele = s
        .engine
        .sign_in_logs(
            &s.admin,
            &Query {
                user: Some("adele".into()),
                limit: 10,
                ..Query::default()
            },
        )
        .await
        .unwrap()
        .entries;
    assert_eq!(adele.len(), 2);
}

#[tokio::test]
async fn sp_initiated_requests_must_fit_the_settings() {
    let s = setup().await;
    let idp = IdentityProvider::new(BASE, s.application);
    let encoded = redirect_encoded(&authn_request(
        "_req1",
        SP,
        "https://sp.contoso.com/other/acs",
    ));
    let request = Request::Redirect {
        saml_request: &encoded,
        relay_state: Some("state-1"),
    };
    let destination = s.engine.saml_check(&idp, &request).await.unwrap().unwrap();
    assert_eq!(destination.acs_url, "https://sp.contoso.com/other/acs");
    let form = posted(
        s.engine
            .saml_sign_on(&idp, s.assigned, &request, None)
            .await
            .unwrap(),
    );
    assert_eq!(
        (form.acs_url.as_str(), form.relay_state.as_deref()),
        ("https://sp.contoso.com/other/acs", Some("state-1"))
    );
    let xml = decoded(&form);
    assert_eq!(
        xml.matches(r#"InResponseTo="_req1""#).count(),
        2,
        "the response and its subject confirmation: {xml}"
    );

    // The HTTP-POST binding: plain base64.
    let posted_request =
        base64::engine::general_purpose::STANDARD.encode(authn_request("_req2", SP, ACS));
    let request = Request::Post {
        saml_request: &posted_request,
        relay_state: None,
    };
    assert_eq!(
        posted(
            s.engine
                .saml_sign_on(&idp, s.assigned, &request, None)
                .await
                .unwrap()
        )
        .acs_url,
        ACS
    );

    for (encoded, expected) in [
        (
            redirect_encoded(&authn_request("_r", "https://evil.example", ACS)),
            "The request comes from \"https://evil.example\", which is not an Identifier of this application",
        ),
        (
            redirect_encoded(&authn_request("_r", SP, "https://evil.example/acs")),
            "The reply URL \"https://evil.example/acs\" is not a Reply URL of this application",
        ),
        (
            redirect_encoded(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#),
            "The XML does not parse",
        ),
        ("not base64!".to_owned(), "The SAML request is not base64"),
        (
            redirect_encoded(&"<a>".repeat(40_000)),
            "The SAML request inflates to more than 64 KiB",
        ),
    ] {
        let request = Request::Redirect {
            saml_request: &encoded,
            relay_state: None,
        };
        let refused = s
            .engine
            .saml_check(&idp, &request)
            .await
            .unwrap()
            .unwrap_err();
        assert!(refused.to_string().starts_with(expected), "{refused}");
        let signed_in = refusal(
            s.engine
                .saml_sign_on(&idp, s.assigned, &request, None)
                .await
                .unwrap(),
        );
        assert_eq!(signed_in, refused);
    }
}

#[tokio::test]
async fn settings_say_which_field_is_wrong() {
    let s = setup().await;
    let stored = s
        .engine
        .single_sign_on(&s.admin, s.application)
        .await
        .unwrap();
    let mut settings = stored.settings.clone();
    settings.saml.identifiers = vec![];
    settings.saml.reply_urls = vec!["http://sp.contoso.com/acs".into()];
    settings.saml.relay_state = "x".repeat(81);
    settings.saml.name_id.source = "[nosuch]".into();
    settings.saml.claims.push(Claim {
        name: "role".into(),
        namespace: String::new(),
        source: "Join(\",\", [mail]".into(),
    });
    let Err(Error::InvalidFields(errors)) = s
        .engine
        .save_single_sign_on(
            &Caller::system(),
            &s.admin,
            s.application,
            stored.version,
            settings,
        )
        .await
    else {
        panic!("saved");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "saml.identifiers",
            "saml.replyUrls[0]",
            "saml.relayState",
            "saml.nameId.source",
            "saml.claims[4].source"
        ]
    );
    assert!(
        errors[1].message.contains("https://"),
        "{}",
        errors[1].message
    );
    assert!(
        errors[4].message.contains("line 1, column"),
        "{}",
        errors[4].message
    );

    // A stale save is refused.
    let mut settings = stored.settings;
    settings.saml.relay_state = String::new();
    s.engine
        .save_single_sign_on(
            &Caller::system(),
            &s.admin,
            s.application,
            stored.version,
            settings.clone(),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.engine
            .save_single_sign_on(
                &Caller::system(),
                &s.admin,
                s.application,
                stored.version,
                settings
            )
            .await,
        Err(Error::VersionMismatch { .. })
    ));
}

#[tokio::test]
async fn a_new_certificate_is_published_before_it_signs() {
    let s = setup().await;
    let caller = Caller::system();
    let idp = IdentityProvider::new(BASE, s.application);
    let old = s
        .engine
        .signing_certificates(&s.admin, s.application)
        .await
        .unwrap()
        .remove(0);
    let new = s
        .engine
        .new_signing_certificate(&caller, &s.admin, s.application)
        .await
        .unwrap();
    assert!(old.active && !new.active);
    let metadata = s.engine.saml_metadata(&idp).await.unwrap().unwrap();
    assert!(metadata.contains(&old.base64()) && metadata.contains(&new.base64()));
    // Still signed with the old key until the new one is made active.
    let sign_in = || async {
        decoded(&posted(
            s.engine
                .saml_sign_on(&idp, s.assigned, &Request::IdpInitiated, None)
                .await
                .unwrap(),
        ))
    };
    let xml = sign_in().await;
    assert!(xmlsec_verifies(&xml, &old.pem(), ASSERTION_NODE));
    assert!(!xmlsec_verifies(&xml, &new.pem(), ASSERTION_NODE));

    assert!(matches!(
        s.engine
            .delete_signing_certificate(&caller, &s.admin, s.application, old.id)
            .await,
        Err(Error::Invalid { .. })
    ));
    s.engine
        .activate_signing_certificate(&caller, &s.admin, s.application, new.id)
        .await
        .unwrap();
    let xml = sign_in().await;
    assert!(xmlsec_verifies(&xml, &new.pem(), ASSERTION_NODE));
    assert!(!xmlsec_verifies(&xml, &old.pem(), ASSERTION_NODE));
    // The old one can go now; the metadata drops it.
    s.engine
        .delete_signing_certificate(&caller, &s.admin, s.application, old.id)
        .await
        .unwrap();
    let metadata = s.engine.saml_metadata(&idp).await.unwrap().unwrap();
    assert!(!metadata.contains(&old.base64()) && metadata.contains(&new.base64()));
}

#[test]
fn service_provider_metadata_fills_the_basic_settings() {
    let metadata = r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.contoso.com/saml/metadata">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.contoso.com/saml/slo"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.contoso.com/artifact" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.contoso.com/second" index="2"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.contoso.com/default" index="3" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#;
    let parsed = saml::parse_sp_metadata(metadata).unwrap();
    assert_eq!(parsed.entity_id, "https://sp.contoso.com/saml/metadata");
    assert_eq!(
        parsed.reply_urls,
        [
            "https://sp.contoso.com/default",
            "https://sp.contoso.com/second"
        ]
    );
    assert_eq!(
        parsed.logout_url.as_deref(),
        Some("https://sp.contoso.com/saml/slo")
    );
    assert_eq!(
        parsed.name_id_format,
        Some(engine::sso::NameIdFormat::Persistent)
    );
    assert!(saml::parse_sp_metadata("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"><md:IDPSSODescriptor/></md:EntityDescriptor>")
        .unwrap_err()
        .contains("no service provider"));
}
