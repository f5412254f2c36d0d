//! SAML 2.0 identity provider (docs/sso.md, SAML): reading a service provider's AuthnRequest
//! (HTTP-Redirect or HTTP-POST binding) and metadata, answering with a signed Response over the
//! HTTP-POST binding, and publishing the IdP metadata. Incoming XML is read with `roxmltree`
//! (no DTDs, bounded size and node count) and only the few things needed are taken from it;
//! outgoing XML is written here, escaped, and signed with `bergshamra` (XML-DSig, exclusive
//! canonicalisation, RSA-SHA256).

use std::{io::Read, net::IpAddr};

use base64::Engine as _;
use secrecy::ExposeSecret;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    Method, NameIdFormat, SamlSettings,
    access::{self, Refusal},
    claims::{self, Issued},
    keys::{self, SigningCertificate},
    sign_in_log::{self, NewEntry, Outcome, Protocol},
};
use crate::{Engine, Error, Result, directory::users, mapping::UserSource};

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// The largest message accepted, encoded or inflated.
const MAX_MESSAGE: usize = 64 * 1024;
/// The most XML nodes a message or metadata document may have.
const MAX_NODES: u32 = 10_000;
/// The largest metadata document accepted.
pub const MAX_METADATA: usize = 512 * 1024;
/// The longest RelayState carried back to a service provider (SAML says 80 bytes; some send
/// more, so a little more is tolerated).
const MAX_RELAY_STATE: usize = 1024;
/// How long an assertion is valid, and how much clock difference it allows.
const ASSERTION_LIFETIME: Duration = Duration::hours(1);
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Where Scimitar answers as the identity provider of one application. Each application is its
/// own identity provider, with its own entity id and keys, under the console's address.
#[derive(Clone, Debug)]
pub struct IdentityProvider {
    base: String,
    application: Uuid,
}

impl IdentityProvider {
    /// `base`: the console's public address, such as `https://scimitar.contoso.com`.
    pub fn new(base: &str, application: Uuid) -> IdentityProvider {
        IdentityProvider {
            base: base.trim_end_matches('/').to_owned(),
            application,
        }
    }

    /// The "Scimitar Identifier" (Entra's "Microsoft Entra Identifier").
    pub fn entity_id(&self) -> String {
        format!("{}/saml/{}", self.base, self.application)
    }

    /// The "Login URL": both bindings.
    pub fn sso_url(&self) -> String {
        format!("{}/saml/{}/sso", self.base, self.application)
    }

    /// The "Logout URL".
    pub fn logout_url(&self) -> String {
        format!("{}/saml/{}/logout", self.base, self.application)
    }

    /// The "App Federation Metadata Url".
    pub fn metadata_url(&self) -> String {
        format!("{}/saml/{}/metadata", self.base, self.application)
    }
}

/// A sign-on as it arrived at the Login URL.
#[derive(Clone, Copy, Debug)]
pub enum Request<'a> {
    /// IdP-initiated: My Apps or "Test this application"; no AuthnRequest.
    IdpInitiated,
    /// `SAMLRequest` of the HTTP-Redirect binding: base64 of raw DEFLATE.
    Redirect {
        saml_request: &'a str,
        relay_state: Option<&'a str>,
    },
    /// `SAMLRequest` of the HTTP-POST binding: base64.
    Post {
        saml_request: &'a str,
        relay_state: Option<&'a str>,
    },
}

/// What a service provider's AuthnRequest asks, once read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: String,
    pub acs_url: Option<String>,
    /// The service provider wants the user to enter their password again.
    pub force_authn: bool,
}

/// What to send the browser: an auto-submitting form that posts the response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostForm {
    pub acs_url: String,
    /// Base64 of the signed `samlp:Response`.
    pub saml_response: String,
    pub relay_state: Option<String>,
}

/// The outcome of a sign-on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignOn {
    Post(PostForm),
    /// Refused; the sign-in log's entry has this correlation id.
    Refused {
        refusal: Refusal,
        correlation: Uuid,
    },
}

/// Where the response goes and who it is for: the AuthnRequest's or the settings' defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub acs_url: String,
    pub audience: String,
    pub in_response_to: Option<String>,
    pub relay_state: Option<String>,
    pub force_authn: bool,
}

impl Request<'_> {
    /// Reads and checks the request against `settings`: the issuer is one of the Identifiers,
    /// the Assertion Consumer Service URL (if it names one) is one of the Reply URLs.
    pub fn destination(&self, settings: &SamlSettings) -> std::result::Result<Destination, String> {
        let (request, relay_state) = match *self {
            Request::IdpInitiated => {
                let acs_url = settings
                    .reply_urls
                    .first()
                    .ok_or("no Reply URL is set up")?;
                let audience = settings
                    .identifiers
                    .first()
                    .ok_or("no Identifier is set up")?;
                return Ok(Destination {
                    acs_url: acs_url.clone(),
                    audience: audience.clone(),
                    in_response_to: None,
                    relay_state: Some(settings.relay_state.clone()).filter(|s| !s.is_empty()),
                    force_authn: false,
                });
            }
            Request::Redirect {
                saml_request,
                relay_state,
            } => (inflate(&decode(saml_request)?)?, relay_state),
            Request::Post {
                saml_request,
                relay_state,
            } => (decode(saml_request)?, relay_state),
        };
        let xml = String::from_utf8(request).map_err(|_| "the SAML request is not UTF-8 text")?;
        let request = parse_authn_request(&xml)?;
        if !settings.identifiers.contains(&request.issuer) {
            return Err(format!(
                "the request comes from {}, which is not an Identifier of this application",
                quoted(&request.issuer)
            ));
        }
        let acs_url = match &request.acs_url {
            Some(url) if settings.reply_urls.contains(url) => url.clone(),
            Some(url) => {
                return Err(format!(
                    "the reply URL {} is not a Reply URL of this application",
                    quoted(url)
                ));
            }
            None => settings
                .reply_urls
                .first()
                .ok_or("no Reply URL is set up")?
                .clone(),
        };
        let relay_state = relay_state.filter(|s| !s.is_empty());
        if relay_state.is_some_and(|s| s.len() > MAX_RELAY_STATE) {
            return Err(format!(
                "the RelayState is longer than {MAX_RELAY_STATE} bytes"
            ));
        }
        Ok(Destination {
            acs_url,
            audience: request.issuer,
            in_response_to: Some(request.id),
            relay_state: relay_state.map(str::to_owned),
            force_authn: request.force_authn,
        })
    }
}

/// A value from a message, shortened and quoted for an error message.
fn quoted(value: &str) -> String {
    let short: String = value.chars().take(120).collect();
    let ellipsis = if short.len() < value.len() { "…" } else { "" };
    format!("\"{}{ellipsis}\"", short.escape_debug())
}

fn decode(encoded: &str) -> std::result::Result<Vec<u8>, String> {
    // Base64 makes 3 bytes 4 characters.
    if encoded.len() > MAX_MESSAGE / 3 * 4 + 4 {
        return Err(format!(
            "the SAML request is larger than {} KiB",
            MAX_MESSAGE / 1024
        ));
    }
    // Line breaks are dropped; a space is a `+` that a query string decoded as one.
    let compact: String = encoded
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t'))
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "the SAML request is not base64".into())
}

fn inflate(deflated: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|_| "the SAML request is not DEFLATE-compressed (HTTP-Redirect binding)")?;
    if inflated.len() > MAX_MESSAGE {
        return Err(format!(
            "the SAML request inflates to more than {} KiB",
            MAX_MESSAGE / 1024
        ));
    }
    Ok(inflated)
}

/// The HTTP-Redirect binding's encoding of an HTTP-POST binding's `SAMLRequest`: the Login URL
/// turns a posted request into a redirect to itself, because the session cookie (SameSite=Lax)
/// does not come with another site's POST but does with a top-level GET.
pub fn redirect_encoding(posted: &str) -> std::result::Result<String, String> {
    use std::io::Write;
    let xml = decode(posted)?;
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&xml)
        .and_then(|()| encoder.finish())
        .map(|deflated| base64::engine::general_purpose::STANDARD.encode(deflated))
        .map_err(|e| format!("the SAML request cannot be compressed: {e}"))
}

/// The deepest nesting a message may have (SAML's is under ten). `roxmltree` recurses once per
/// level, so a deeper document would exhaust the stack before it could be refused.
const MAX_DEPTH: usize = 64;

/// Whether `xml` nests elements at most `limit` deep: a scan that knows tags, quoted attribute
/// values, comments, CDATA and processing instructions, so that none of them can hide a level.
/// It only bounds; the parser judges whether the document is well formed.
fn nesting_within(xml: &str, limit: usize) -> bool {
    let bytes = xml.as_bytes();
    let skip_to = |from: usize, end: &[u8]| {
        bytes[from..]
            .windows(end.len())
            .position(|w| w == end)
            .map_or(bytes.len(), |at| from + at + end.len())
    };
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        if rest.starts_with(b"<!--") {
            i = skip_to(i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_to(i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_to(i + 2, b"?>");
        } else {
            // A tag (or a declaration such as DOCTYPE): up to its `>` outside quotes.
            let closing = rest.get(1) == Some(&b'/');
            let declaration = rest.get(1) == Some(&b'!');
            let (mut quote, mut j, mut self_closing) = (None, i + 1, false);
            while j < bytes.len() {
                match (quote, bytes[j]) {
                    (None, b'"' | b'\'') => quote = Some(bytes[j]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => {
                        self_closing = bytes[j - 1] == b'/';
                        break;
                    }
                    _ => {}
                }
                j += 1;
            }
            if closing {
                depth = depth.saturating_sub(1);
            } else if !declaration && !self_closing {
                depth += 1;
                if depth > limit {
                    return false;
                }
            }
            i = j + 1;
        }
    }
    true
}

/// Parses untrusted XML: no DTD (so no entities), bounded depth and number of nodes.
fn parse_xml(xml: &str) -> std::result::Result<roxmltree::Document<'_>, String> {
    if !nesting_within(xml, MAX_DEPTH) {
        return Err(format!("the XML nests deeper than {MAX_DEPTH} levels"));
    }
    roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
        },
    )
    .map_err(|e| format!("the XML does not parse: {e}"))
}

fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    namespace: &str,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.has_tag_name((namespace, name)))
}

/// Reads an AuthnRequest: its ID, Issuer, AssertionConsumerServiceURL and ForceAuthn. The
/// binding it asks for must be HTTP-POST, the only one Scimitar answers with.
pub fn parse_authn_request(xml: &str) -> std::result::Result<AuthnRequest, String> {
    let document = parse_xml(xml)?;
    let root = document.root_element();
    if !root.has_tag_name((PROTOCOL, "AuthnRequest")) {
        return Err(format!(
            "expected a samlp:AuthnRequest, found {}",
            quoted(root.tag_name().name())
        ));
    }
    if root.attribute("Version") != Some("2.0") {
        return Err("the AuthnRequest is not SAML 2.0".into());
    }
    let id = root
        .attribute("ID")
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .ok_or("the AuthnRequest has no ID")?;
    let issuer = child(root, ASSERTION, "Issuer")
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .ok_or("the AuthnRequest has no Issuer")?;
    if let Some(binding) = root.attribute("ProtocolBinding")
        && binding != POST_BINDING
    {
        return Err(format!(
            "the AuthnRequest asks for the binding {}; Scimitar answers with HTTP-POST",
            quoted(binding)
        ));
    }
    Ok(AuthnRequest {
        id: id.to_owned(),
        issuer: issuer.to_owned(),
        acs_url: root
            .attribute("AssertionConsumerServiceURL")
            .map(str::to_owned),
        force_authn: matches!(root.attribute("ForceAuthn"), Some("true" | "1")),
    })
}

/// What a service provider's metadata says, to fill the Basic SAML Configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceProviderMetadata {
    pub entity_id: String,
    /// HTTP-POST Assertion Consumer Services, the default first, then by index.
    pub reply_urls: Vec<String>,
    pub logout_url: Option<String>,
    pub name_id_format: Option<NameIdFormat>,
}

/// Reads a service provider's metadata (an EntityDescriptor with an SPSSODescriptor).
pub fn parse_sp_metadata(xml: &str) -> std::result::Result<ServiceProviderMetadata, String> {
    if xml.len() > MAX_METADATA {
        return Err(format!(
            "the metadata is larger than {} KiB",
            MAX_METADATA / 1024
        ));
    }
    let document = parse_xml(xml)?;
    let root = document.root_element();
    // An EntitiesDescriptor holding one entity is accepted too.
    let entity = if root.has_tag_name((METADATA, "EntityDescriptor")) {
        root
    } else {
        root.descendants()
            .find(|n| n.has_tag_name((METADATA, "EntityDescriptor")))
            .ok_or("this is not SAML metadata: no md:EntityDescriptor")?
    };
    let entity_id = entity
        .attribute("entityID")
        .filter(|e| !e.is_empty())
        .ok_or("the EntityDescriptor has no entityID")?;
    let sp = child(entity, METADATA, "SPSSODescriptor")
        .ok_or("this metadata describes no service provider (no md:SPSSODescriptor)")?;
    let mut services: Vec<(bool, u32, String)> = sp
        .children()
        .filter(|n| n.has_tag_name((METADATA, "AssertionConsumerService")))
        .filter(|n| n.attribute("Binding") == Some(POST_BINDING))
        .filter_map(|n| {
            Some((
                n.attribute("isDefault") == Some("true"),
                n.attribute("index")?.parse().ok().unwrap_or(u32::MAX),
                n.attribute("Location")?.to_owned(),
            ))
        })
        .collect();
    if services.is_empty() {
        return Err("the metadata has no HTTP-POST AssertionConsumerService".into());
    }
    services.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let logout_url = sp
        .children()
        .filter(|n| n.has_tag_name((METADATA, "SingleLogoutService")))
        .find(|n| {
            matches!(
                n.attribute("Binding"),
                Some(POST_BINDING | REDIRECT_BINDING)
            )
        })
        .and_then(|n| n.attribute("Location"))
        .map(str::to_owned);
    let name_id_format = sp
        .children()
        .filter(|n| n.has_tag_name((METADATA, "NameIDFormat")))
        .find_map(|n| n.text().and_then(|t| NameIdFormat::from_urn(t.trim())));
    Ok(ServiceProviderMetadata {
        entity_id: entity_id.to_owned(),
        reply_urls: services.into_iter().map(|(_, _, url)| url).collect(),
        logout_url,
        name_id_format,
    })
}

/// Escapes text for an XML element or attribute value.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\r' => escaped.push_str("&#13;"),
            // XML 1.0 has no way to carry the other control characters.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

fn instant(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn new_id() -> String {
    format!("_{}", Uuid::new_v4().simple())
}

/// An enveloped signature template for the element with ID `id`: exclusive canonicalisation,
/// RSA-SHA256, SHA-256 digest, the certificate in KeyInfo.
fn signature_template(id: &str, certificate: &SigningCertificate) -> String {
    format!(
        "<ds:Signature xmlns:ds=\"{DSIG}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>\
         <ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\
         <ds:Reference URI=\"#{id}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\
         <ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\
         <ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>\
         <ds:SignatureValue></ds:SignatureValue>\
         <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
         </ds:Signature>",
        certificate.base64()
    )
}

/// Signs every empty signature template of `xml` with `signer`'s key.
fn sign(xml: String, signer: &keys::Signer) -> std::result::Result<String, String> {
    let key = bergshamra_keys::loader::load_rsa_private_pem(
        signer.private_pem.expose_secret().as_bytes(),
    )
    .map_err(|e| format!("the signing key does not load: {e}"))?;
    let mut manager = bergshamra_keys::KeysManager::new();
    manager.add_key(key);
    // `ID` is among the attributes it resolves references by.
    let context = bergshamra_dsig::DsigContext::new(manager);
    let signed = bergshamra_dsig::sign::sign_owned(&context, xml)
        .map_err(|e| format!("signing failed: {e}"))?;
    // A fragment is embedded in a larger document: no XML declaration.
    Ok(match signed.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(signed.clone(), |(_, body)| body.trim_start().to_owned()),
        None => signed,
    })
}

/// Builds and signs the Response that tells `destination` who `issued` is.
pub(crate) fn response(
    idp: &IdentityProvider,
    settings: &SamlSettings,
    destination: &Destination,
    issued: &Issued,
    signer: &keys::Signer,
    now: OffsetDateTime,
) -> std::result::Result<String, String> {
    let issuer = escape(&idp.entity_id());
    let acs = escape(&destination.acs_url);
    let in_response_to = destination
        .in_response_to
        .as_deref()
        .map(|id| format!(" InResponseTo=\"{}\"", escape(id)))
        .unwrap_or_default();
    let (response_id, assertion_id) = (new_id(), new_id());
    let issue_instant = instant(now);
    let signing = settings.signing;
    let mut attributes = String::new();
    for (name, values) in &issued.attributes {
        attributes.push_str(&format!("<saml:Attribute Name=\"{}\">", escape(name)));
        for value in values {
            attributes.push_str(&format!(
                "<saml:AttributeValue>{}</saml:AttributeValue>",
                escape(value)
            ));
        }
        attributes.push_str("</saml:Attribute>");
    }
    let attribute_statement = if attributes.is_empty() {
        String::new()
    } else {
        format!("<saml:AttributeStatement>{attributes}</saml:AttributeStatement>")
    };
    let assertion = format!(
        "<saml:Assertion xmlns:saml=\"{ASSERTION}\" ID=\"{assertion_id}\" Version=\"2.0\" IssueInstant=\"{issue_instant}\">\
         <saml:Issuer>{issuer}</saml:Issuer>{signature}\
         <saml:Subject><saml:NameID Format=\"{format}\">{name_id}</saml:NameID>\
         <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
         <saml:SubjectConfirmationData{in_response_to} NotOnOrAfter=\"{confirm_until}\" Recipient=\"{acs}\"/>\
         </saml:SubjectConfirmation></saml:Subject>\
         <saml:Conditions NotBefore=\"{not_before}\" NotOnOrAfter=\"{not_after}\">\
         <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
         {attribute_statement}\
         <saml:AuthnStatement AuthnInstant=\"{issue_instant}\" SessionIndex=\"{assertion_id}\">\
         <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>\
         </saml:AuthnStatement></saml:Assertion>",
        signature = if signing.signs_assertion() {
            signature_template(&assertion_id, &signer.certificate)
        } else {
            String::new()
        },
        format = settings.name_id.format.urn(),
        name_id = escape(&issued.name_id),
        confirm_until = instant(now + CLOCK_SKEW),
        not_before = instant(now - CLOCK_SKEW),
        not_after = instant(now + ASSERTION_LIFETIME),
        audience = escape(&destination.audience),
    );
    // The assertion is signed on its own; exclusive canonicalisation keeps its signature valid
    // inside the response.
    let assertion = if signing.signs_assertion() {
        sign(assertion, signer)?
    } else {
        assertion
    };
    let response = format!(
        "<samlp:Response xmlns:samlp=\"{PROTOCOL}\" xmlns:saml=\"{ASSERTION}\" ID=\"{response_id}\" Version=\"2.0\" \
         IssueInstant=\"{issue_instant}\" Destination=\"{acs}\"{in_response_to}>\
         <saml:Issuer>{issuer}</saml:Issuer>{signature}\
         <samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
         {assertion}</samlp:Response>",
        signature = if signing.signs_response() {
            signature_template(&response_id, &signer.certificate)
        } else {
            String::new()
        },
    );
    if signing.signs_response() {
        sign(response, signer)
    } else {
        Ok(response)
    }
}

/// The IdP metadata: the entity id, the Login URL for both bindings, the Logout URL, and every
/// published signing certificate; signed with the active key when there is one (SAML 2.0
/// Metadata, 3.1), so a service provider that pins our certificate can check the document.
pub(crate) fn metadata(
    idp: &IdentityProvider,
    certificates: &[SigningCertificate],
    name_id_format: NameIdFormat,
    signer: Option<&keys::Signer>,
) -> std::result::Result<String, String> {
    let keys: String = certificates
        .iter()
        .map(|c| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                c.base64()
            )
        })
        .collect();
    let sso = escape(&idp.sso_url());
    let id = new_id();
    let xml = format!(
        "<md:EntityDescriptor xmlns:md=\"{METADATA}\" xmlns:ds=\"{DSIG}\" ID=\"{id}\" entityID=\"{entity}\">\
         {signature}\
         <md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"{PROTOCOL}\">\
         {keys}\
         <md:SingleLogoutService Binding=\"{REDIRECT_BINDING}\" Location=\"{logout}\"/>\
         <md:NameIDFormat>{format}</md:NameIDFormat>\
         <md:SingleSignOnService Binding=\"{REDIRECT_BINDING}\" Location=\"{sso}\"/>\
         <md:SingleSignOnService Binding=\"{POST_BINDING}\" Location=\"{sso}\"/>\
         </md:IDPSSODescriptor></md:EntityDescriptor>",
        entity = escape(&idp.entity_id()),
        logout = escape(&idp.logout_url()),
        format = name_id_format.urn(),
        signature = signer
            .map(|s| signature_template(&id, &s.certificate))
            .unwrap_or_default(),
    );
    let xml = match signer {
        Some(signer) => sign(xml, signer)?,
        None => xml,
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{xml}\n"
    ))
}

impl Engine {
    /// The IdP metadata of `application`, if it signs in with SAML.
    pub async fn saml_metadata(&self, idp: &IdentityProvider) -> Result<Option<String>> {
        let Ok((_, settings)) = access::set_up(self, idp.application, Method::Saml).await? else {
            return Ok(None);
        };
        let certificates = keys::published(&self.db, idp.application).await?;
        let signer = self.active_signer(idp.application).await?;
        metadata(
            idp,
            &certificates,
            settings.saml.name_id.format,
            signer.as_ref(),
        )
        .map(Some)
        .map_err(|why| Error::invalid("certificate", why))
    }

    /// Checks a sign-on request before anyone signs in, so that a request that cannot succeed
    /// is refused at once (with the reason) instead of after the password.
    pub async fn saml_check(
        &self,
        idp: &IdentityProvider,
        request: &Request<'_>,
    ) -> Result<std::result::Result<Destination, Refusal>> {
        Ok(
            match access::set_up(self, idp.application, Method::Saml).await? {
                Err(refusal) => Err(refusal),
                Ok((_, settings)) => request
                    .destination(&settings.saml)
                    .map_err(Refusal::BadRequest),
            },
        )
    }

    /// Signs `user` in to the application of `idp`: a signed response for the service
    /// provider, or the reason why not. Either way the sign-in log has an entry.
    pub async fn saml_sign_on(
        &self,
        idp: &IdentityProvider,
        user: Uuid,
        request: &Request<'_>,
        client: Option<IpAddr>,
    ) -> Result<SignOn> {
        // Loaded once: for the decision, the claims and the log entry.
        let user = users::get(&self.db, user).await?;
        let set_up = access::set_up(self, idp.application, Method::Saml).await?;
        let outcome = match (&set_up, &user) {
            (Err(refusal), _) => Err(refusal.clone()),
            (Ok(_), None) => Err(Refusal::Deleted),
            (Ok((app, settings)), Some(user)) => match access::admit(self, user, app).await? {
                Err(refusal) => Err(refusal),
                Ok(app_roles) => {
                    let settings = &settings.saml;
                    let signer = self.active_signer(idp.application).await?;
                    request
                        .destination(settings)
                        .and_then(|destination| {
                            let source = UserSource {
                                user,
                                in_scope: true,
                                app_roles: &app_roles,
                            };
                            let issued =
                                claims::issue(&settings.name_id, &settings.claims, &source)?;
                            let signer = signer
                                .ok_or("the application has no active signing certificate")?;
                            let xml = response(
                                idp,
                                settings,
                                &destination,
                                &issued,
                                &signer,
                                OffsetDateTime::now_utc(),
                            )?;
                            Ok(PostForm {
                                saml_response: base64::engine::general_purpose::STANDARD
                                    .encode(xml),
                                acs_url: destination.acs_url,
                                relay_state: destination.relay_state,
                            })
                        })
                        .map_err(Refusal::BadRequest)
                }
            },
        };
        // An application without single sign-on is named in the log all the same.
        let application_name = match set_up {
            Ok((app, _)) => app.display_name,
            Err(_) => crate::applications::get(&self.db, idp.application)
                .await?
                .map(|a| a.display_name)
                .unwrap_or_default(),
        };
        let reason = match &outcome {
            Ok(form) => format!("SAML response sent to {}", form.acs_url),
            Err(refusal) => refusal.to_string(),
        };
        let correlation = sign_in_log::record(
            &self.db,
            &NewEntry {
                user_id: user.as_ref().map(|u| u.id),
                user_principal_name: user
                    .as_ref()
                    .map_or("", |u| u.profile.user_principal_name.as_str()),
                application_id: Some(idp.application),
                application_name: &application_name,
                protocol: Protocol::Saml,
                outcome: if outcome.is_ok() {
                    Outcome::Success
                } else {
                    Outcome::Failure
                },
                reason: &reason,
                client,
            },
        )
        .await?;
        Ok(match outcome {
            Ok(form) => SignOn::Post(form),
            Err(refusal) => SignOn::Refused {
                refusal,
                correlation,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_DEPTH, nesting_within, parse_authn_request};

    #[test]
    fn nesting_is_bounded_whatever_hides_the_levels() {
        let deep = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(nesting_within(&deep(MAX_DEPTH), MAX_DEPTH));
        assert!(!nesting_within(&deep(MAX_DEPTH + 1), MAX_DEPTH));
        // Self-closing elements, comments, CDATA, instructions and quoted values add no level
        // and cannot take one away.
        let flat =
            "<a><b/><!-- <c><c><c> --><![CDATA[<c><c>]]><?x <c><c>?><d e=\"/>/>/>\" f='>'/></a>";
        assert!(nesting_within(flat, 1));
        let hidden = format!("{}{}", r#"<a x="/>/>/>">"#.repeat(100), "</a>".repeat(100));
        assert!(!nesting_within(&hidden, MAX_DEPTH));
        // The parser never sees a document that would exhaust its stack.
        let refused = parse_authn_request(&deep(100_000)).unwrap_err();
        assert_eq!(
            refused,
            format!("the XML nests deeper than {MAX_DEPTH} levels")
        );
    }
}
