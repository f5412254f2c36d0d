//! Attributes & Claims: what a sign-in tells the application about the user. The Unique User
//! Identifier (the SAML NameID) and each additional claim (a SAML attribute or an ID token
//! claim) are expressions of the mapping language (`[userPrincipalName]`,
//! `Join(" ", [givenName], [surname])`), evaluated over the directory user as provisioning
//! evaluates them, with the user's app roles in the application.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    FieldError,
    mapping::{Environment, Evaluated, Expression, UserSource, Value, source::USER_ATTRIBUTES},
};

/// Where Entra's default claims live.
pub const ENTRA_CLAIMS_NAMESPACE: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";

/// How many additional claims an application may send.
const MAX_CLAIMS: usize = 50;
/// The longest claim name or namespace.
const MAX_NAME: usize = 256;

/// The Name ID formats a service provider may ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NameIdFormat {
    #[default]
    EmailAddress,
    Unspecified,
    Persistent,
    Transient,
}

impl NameIdFormat {
    pub const ALL: [NameIdFormat; 4] = [
        NameIdFormat::EmailAddress,
        NameIdFormat::Unspecified,
        NameIdFormat::Persistent,
        NameIdFormat::Transient,
    ];

    pub fn urn(self) -> &'static str {
        match self {
            NameIdFormat::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            NameIdFormat::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            NameIdFormat::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            NameIdFormat::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }

    pub fn from_urn(urn: &str) -> Option<NameIdFormat> {
        NameIdFormat::ALL.into_iter().find(|f| f.urn() == urn)
    }
}

/// The Unique User Identifier: its format and the expression that gives its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NameId {
    pub format: NameIdFormat,
    pub source: String,
}

impl Default for NameId {
    /// Entra's default: the user principal name, as an email address.
    fn default() -> NameId {
        NameId {
            format: NameIdFormat::EmailAddress,
            source: "[userPrincipalName]".into(),
        }
    }
}

/// One additional claim: `namespace/name` = what `source` gives (several values: several
/// values of one attribute; none: the claim is left out, as Entra does).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    pub source: String,
}

impl Claim {
    /// Entra's default claims for a SAML application.
    pub fn defaults() -> Vec<Claim> {
        [
            ("givenname", "[givenName]"),
            ("surname", "[surname]"),
            ("emailaddress", "[mail]"),
            ("name", "[userPrincipalName]"),
        ]
        .into_iter()
        .map(|(name, source)| Claim {
            name: name.into(),
            namespace: ENTRA_CLAIMS_NAMESPACE.into(),
            source: source.into(),
        })
        .collect()
    }

    /// The attribute name the application receives.
    pub fn full_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace.trim_end_matches('/'), self.name)
        }
    }
}

/// An expression as claims use it: parsed, naming only directory user attributes, and not
/// `SelectUniqueValue` (which needs a target to ask).
fn parse(source: &str) -> Result<Expression, String> {
    let expression = Expression::parse(source)
        .and_then(|e| e.check_attributes(USER_ATTRIBUTES).map(|()| e))
        .map_err(|e| e.to_string())?;
    if expression.calls("SelectUniqueValue") {
        return Err("SelectUniqueValue needs a target to ask; claims cannot use it".into());
    }
    Ok(expression)
}

/// Every problem with the Name ID and the claims of SAML, each with its field.
pub(super) fn problems(name_id: &NameId, claims: &[Claim]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(message) = parse(&name_id.source) {
        errors.push(FieldError::new("saml.nameId.source", message));
    }
    errors.extend(claim_problems("saml.claims", claims, true));
    errors
}

/// Every problem with `claims` (the fields under `list`, e.g. `oidc.claims[2].source`).
/// `namespaces`: whether a claim may have one (SAML attributes do; JWT claims do not).
pub(super) fn claim_problems(list: &str, claims: &[Claim], namespaces: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if claims.len() > MAX_CLAIMS {
        errors.push(FieldError::new(
            list,
            format!("at most {MAX_CLAIMS} claims"),
        ));
    }
    for (i, claim) in claims.iter().enumerate() {
        let field = |part: &str| format!("{list}[{i}].{part}");
        let name = claim.name.trim();
        if name.is_empty() {
            errors.push(FieldError::new(field("name"), "enter a name"));
        } else if name.len() > MAX_NAME || name.chars().any(|c| c.is_control()) {
            errors.push(FieldError::new(
                field("name"),
                format!("at most {MAX_NAME} characters, no control characters"),
            ));
        } else if claims[..i]
            .iter()
            .any(|c| c.full_name() == claim.full_name())
        {
            errors.push(FieldError::new(
                field("name"),
                format!("{} is already claimed", claim.full_name()),
            ));
        }
        if !namespaces && !claim.namespace.is_empty() {
            errors.push(FieldError::new(
                field("namespace"),
                "OpenID Connect claims have no namespace; put the whole name in Claim name",
            ));
        } else if claim.namespace.len() > MAX_NAME
            || claim
                .namespace
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            errors.push(FieldError::new(
                field("namespace"),
                format!("a URI of at most {MAX_NAME} characters, without spaces"),
            ));
        }
        if let Err(message) = parse(&claim.source) {
            errors.push(FieldError::new(field("source"), message));
        }
    }
    errors
}

/// What one sign-in says about the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub name_id: String,
    /// (full name, values), in the order of the settings; claims without a value are left out.
    pub attributes: Vec<(String, Vec<String>)>,
}

/// Evaluates the Name ID and the claims for `user`. Fails (with the reason a sign-in log
/// shows) when the Name ID has no value or an expression fails for this user.
pub(super) fn issue(
    name_id: &NameId,
    claims: &[Claim],
    user: &UserSource<'_>,
) -> Result<Issued, String> {
    let name_id = values(&name_id.source, user)
        .map_err(|e| format!("the Unique User Identifier failed: {e}"))?
        .into_iter()
        .next()
        .ok_or("the Unique User Identifier has no value for this user")?;
    Ok(Issued {
        name_id,
        attributes: evaluate(claims, user)?,
    })
}

/// Each claim's (full name, values) for `user`, in the order of the settings; claims without a
/// value are left out. Fails with the reason when an expression fails for this user.
pub(super) fn evaluate(
    claims: &[Claim],
    user: &UserSource<'_>,
) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut attributes = Vec::new();
    for claim in claims {
        let found = values(&claim.source, user)
            .map_err(|e| format!("the claim {} failed: {e}", claim.full_name()))?;
        if !found.is_empty() {
            attributes.push((claim.full_name(), found));
        }
    }
    Ok(attributes)
}

/// What the expression `source` gives for `user`, as claim texts.
fn values(source: &str, user: &UserSource<'_>) -> Result<Vec<String>, String> {
    let mut random = rand::thread_rng();
    let mut environment = Environment {
        now: OffsetDateTime::now_utc(),
        random: &mut random,
    };
    let expression = parse(source)?;
    match expression
        .evaluate(user, &mut environment)
        .map_err(|e| e.to_string())?
    {
        Evaluated::Value(value) => Ok(texts(value)),
        Evaluated::Ignored | Evaluated::UniqueCandidates(_) => Ok(Vec::new()),
    }
}

/// A value as claim texts: a list gives one text per item; null and empty give none.
fn texts(value: Value) -> Vec<String> {
    match value {
        Value::List(items) => items.into_iter().flat_map(texts).collect(),
        value => value
            .as_text()
            .map(|t| t.into_owned())
            .filter(|t| !t.is_empty())
            .into_iter()
            .collect(),
    }
}
