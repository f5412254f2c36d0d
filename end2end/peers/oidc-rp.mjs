// An OpenID Connect relying party: the npm `openid-client` library behind a small node:http
// server, for the journeys that sign in to Scimitar's OpenID provider (docs/testing.md, Peers).
//
//   node end2end/peers/oidc-rp.mjs PORT ISSUER CLIENT_ID [CLIENT_SECRET]
//
// Without a secret it is a public client (token endpoint auth "none"); with one, a confidential
// client (client_secret_basic). It discovers the issuer (plain http is allowed: everything is on
// loopback) and always sends PKCE S256, a state and a nonce. openid-client checks the
// authorization response (state, iss) and the ID token (issuer, audience, expiry, nonce), and,
// as asked here, its signature against the provider's JWKS, also on refresh.
//
// Prints one JSON line {"url", "redirect_uri", "post_logout_redirect_uri"} once it listens on
// 127.0.0.1:PORT. The tokens of the latest sign-in are remembered (not forgotten at /logout).
// Routes:
//   GET  /login       starts the authorization code flow (scope openid profile email
//                     offline_access); the verifier, state and nonce stay here, under an HttpOnly
//                     cookie. ?tamper=1: the ID token of the token endpoint's answer gets another
//                     preferred_username (header and signature kept) before the checks
//   GET  /callback    the redirect URI: "Signed in as SUB" with the ID token's claims (<dl>), or
//                     403 "Refused" with why (the provider's error, or the failed check)
//   GET  /refresh     refresh token grant: "Refreshed for SUB" with the new ID token's claims (its
//                     sub must be the same), or 403 "Refused" with why (e.g. invalid_grant)
//   GET  /logout      RP-initiated logout: to the end_session_endpoint with id_token_hint,
//                     post_logout_redirect_uri and a state
//   GET  /signed-out  the post-logout redirect URI: "Signed out", then "state ok" or "state mismatch"
//   POST /reload      discovers the issuer again, with an empty JWKS cache (key rotation); 204
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as client from 'openid-client';

const [port, issuer, clientId, clientSecret] = process.argv.slice(2);
const url = `http://127.0.0.1:${port}`;
const redirectUri = `${url}/callback`;
const postLogoutRedirectUri = `${url}/signed-out`;
// Cookies ignore the port: each relying party on this host has a cookie of its own.
const cookieName = `oidc-rp-${port}`;

// Two Configurations, each with its own JWKS cache: `tampering` alters the ID tokens it receives.
// Without enableNonRepudiationChecks, openid-client would not check the signature of an ID token
// from the token endpoint (OpenID Connect Core 3.1.3.7 lets TLS stand in for it).
let honest, tampering;
async function reload() {
  const discover = (fetch) =>
    client.discovery(
      new URL(issuer),
      clientId,
      undefined,
      clientSecret ? client.ClientSecretBasic(clientSecret) : client.None(),
      {
        execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
        ...(fetch && { [client.customFetch]: fetch }),
      },
    );
  [honest, tampering] = await Promise.all([discover(), discover(tamperIdToken)]);
}

/** Fetches, then changes one claim of the ID token in a JSON answer, keeping its signature. */
async function tamperIdToken(resource, options) {
  const response = await fetch(resource, options);
  const body = await response.clone().json().catch(() => null);
  if (typeof body?.id_token !== 'string') return response;
  const [header, payload, signature] = body.id_token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.preferred_username = `tampered-${claims.preferred_username ?? ''}`;
  const altered = Buffer.from(JSON.stringify(claims)).toString('base64url');
  body.id_token = `${header}.${altered}.${signature}`;
  return Response.json(body, { status: response.status });
}

const logins = new Map(); // cookie -> { verifier, state, nonce, tamper }
let session = null; // the latest sign-in's { sub, idToken, refreshToken }
let logoutState = null;

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
const show = (value) =>
  Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? JSON.stringify(value) : value;
const claimList = (claims) =>
  `<dl>${Object.keys(claims)
    .sort()
    .map((name) => `<dt>${escape(name)}</dt><dd>${escape(show(claims[name]))}</dd>`)
    .join('')}</dl>`;
const refused = (why) => [403, `<h1>Refused</h1><p role="alert">${escape(why)}</p>`];

/** The provider's error and description, or the library's message, its cause's and its code. */
function reason(error) {
  if (error.error) return [error.error, error.error_description].filter(Boolean).join(': ');
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}${error.code ? ` (${error.code})` : ''}`;
}

async function login(query) {
  const pending = {
    verifier: client.randomPKCECodeVerifier(),
    state: client.randomState(),
    nonce: client.randomNonce(),
    tamper: query.get('tamper') === '1',
  };
  const cookie = randomBytes(16).toString('base64url');
  logins.set(cookie, pending);
  const location = client.buildAuthorizationUrl(honest, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  const setCookie = `${cookieName}=${cookie}; HttpOnly; SameSite=Lax; Path=/`;
  return [303, '', { Location: location.href, 'Set-Cookie': setCookie }];
}

async function callback(request, current) {
  const params = current.searchParams;
  if (params.has('error')) return refused(reason(Object.fromEntries(params)));
  const cookie = request.headers.cookie
    ?.split(/;\s*/)
    .find((pair) => pair.startsWith(`${cookieName}=`))
    ?.slice(cookieName.length + 1);
  const pending = logins.get(cookie);
  if (!pending) return refused('no sign-in started in this browser');
  logins.delete(cookie);
  const tokens = await client.authorizationCodeGrant(pending.tamper ? tampering : honest, current, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
  });
  const claims = tokens.claims();
  session = { sub: claims.sub, idToken: tokens.id_token, refreshToken: tokens.refresh_token };
  return [200, `<h1>Signed in as ${escape(claims.sub)}</h1>${claimList(claims)}`];
}

async function refresh() {
  if (!session?.refreshToken) return refused('no refresh token: sign in first');
  const tokens = await client.refreshTokenGrant(honest, session.refreshToken);
  const claims = tokens.claims();
  if (claims && claims.sub !== session.sub) {
    return refused(`the new ID token is for ${claims.sub}, not ${session.sub}`);
  }
  session.idToken = tokens.id_token ?? session.idToken;
  session.refreshToken = tokens.refresh_token ?? session.refreshToken;
  const shown = claims ? claimList(claims) : '<p>no new ID token</p>';
  return [200, `<h1>Refreshed for ${escape(session.sub)}</h1>${shown}`];
}

function logout() {
  if (!session) return refused('not signed in');
  logoutState = client.randomState();
  const location = client.buildEndSessionUrl(honest, {
    id_token_hint: session.idToken,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state: logoutState,
  });
  return [303, '', { Location: location.href }];
}

function signedOut(current) {
  const state = current.searchParams.get('state');
  return [200, `<h1>Signed out</h1><p>state ${state && state === logoutState ? 'ok' : 'mismatch'}</p>`];
}

async function route(request) {
  const current = new URL(request.url, url);
  const get = request.method === 'GET';
  try {
    if (get && current.pathname === '/login') return await login(current.searchParams);
    if (get && current.pathname === '/callback') return await callback(request, current);
    if (get && current.pathname === '/refresh') return await refresh();
    if (get && current.pathname === '/logout') return logout();
    if (get && current.pathname === '/signed-out') return signedOut(current);
  } catch (error) {
    return refused(reason(error));
  }
  if (request.method === 'POST' && current.pathname === '/reload') {
    try {
      await reload();
      return [204, ''];
    } catch (error) {
      return [502, `discovery failed: ${reason(error)}`, { 'Content-Type': 'text/plain' }];
    }
  }
  return [404, 'not found', { 'Content-Type': 'text/plain' }];
}

await reload();
const server = createServer(async (request, response) => {
  const [status, body, headers] = await route(request);
  response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
  response.end(body);
});
await new Promise((listening) => server.listen(Number(port), '127.0.0.1', listening));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
const ready = { url, redirect_uri: redirectUri, post_logout_redirect_uri: postLogoutRedirectUri };
process.stdout.write(`${JSON.stringify(ready)}\n`);
