// JWT-checking reverse proxy test peer: puts OAuth 2.0 bearer-token auth in front of a real SCIM
// server (scim2-server), so tests can provision through tokens that oidc.mjs issues.
//
//   node end2end/peers/jwt-proxy.mjs '<JSON config>'
//
// The config (the only argument) is an object with:
//   port      TCP port on 127.0.0.1; 0 (the default) picks a free one
//   target    base URL of the SCIM server, e.g. http://127.0.0.1:5000
//   issuer    the authorization server's issuer; its keys come from its discovery document
//   audience  the `aud` every token must carry
//
// Once listening it prints one line to stdout, {"url": "http://127.0.0.1:PORT", "port": PORT},
// and runs until SIGTERM or SIGINT. A request is forwarded (path appended to the target's path,
// Host kept so the server's locations name the proxy, Authorization dropped) only if its bearer
// token is an RS256 JWT from the issuer for the audience; any other gets a SCIM 401 with
// `WWW-Authenticate: Bearer error="invalid_token"`. Not forwarded: `POST /__control` with
// {"refuse": true|false} makes it refuse every token until set back; `GET /__control` answers
// {"refuse", "accepted", "refused"}, the last two counting the requests let through and turned away.
import { Agent, createServer, request } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

// Headers that describe one hop, not the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

const { port = 0, target, issuer, audience } = JSON.parse(process.argv[2] ?? '{}');
if (!target || !issuer || !audience) {
  throw new Error('jwt-proxy.mjs: the config needs "target", "issuer" and "audience"');
}
const targetUrl = new URL(target);
const basePath = targetUrl.pathname.replace(/\/$/, '');
const agent = new Agent({ keepAlive: true });

const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
if (!discovery.ok) throw new Error(`jwt-proxy.mjs: ${issuer} discovery answered ${discovery.status}`);
const keys = createRemoteJWKSet(new URL((await discovery.json()).jwks_uri));

const state = { refuse: false, accepted: 0, refused: 0 };

function forwardedHeaders(headers) {
  const listed = new Set((headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(
    ([name]) => name !== 'authorization' && !HOP_BY_HOP.has(name) && !listed.has(name),
  ));
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendScimError(res, status, detail, headers = {}) {
  const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail };
  sendJson(res, status, body, { 'content-type': 'application/scim+json', ...headers });
}

// Resolves to why the request's token is refused, or to nothing when it is accepted.
async function refusal(req) {
  if (state.refuse) return 'tokens are refused (control switch)';
  const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return 'a bearer token is required';
  try {
    await jwtVerify(token, keys, { issuer, audience, algorithms: ['RS256'] });
  } catch (error) {
    return `invalid token: ${error.message}`;
  }
  return undefined;
}

async function control(req, res) {
  if (req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    let refuse;
    try {
      ({ refuse } = JSON.parse(body));
    } catch {
      // Not JSON: answered as any other malformed command below.
    }
    if (typeof refuse !== 'boolean') return sendJson(res, 400, { error: 'expected {"refuse": true|false}' });
    state.refuse = refuse;
  }
  return sendJson(res, 200, state);
}

function forward(req, res) {
  const upstream = request({
    protocol: targetUrl.protocol,
    hostname: targetUrl.hostname,
    port: targetUrl.port,
    path: basePath + req.url,
    method: req.method,
    headers: forwardedHeaders(req.headers),
    agent,
  });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode, answer.statusMessage, forwardedHeaders(answer.headers));
    answer.pipe(res);
  });
  upstream.on('error', (error) => {
    if (res.headersSent) res.destroy(error);
    else sendScimError(res, 502, `SCIM server unreachable: ${error.message}`);
  });
  req.pipe(upstream);
}

const server = createServer(async (req, res) => {
  if (new URL(req.url, 'http://proxy').pathname === '/__control') return control(req, res);
  const reason = await refusal(req);
  if (reason) {
    state.refused += 1;
    req.resume();
    return sendScimError(res, 401, reason, { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  state.accepted += 1;
  return forward(req, res);
});
await new Promise((listening) => server.listen(port, '127.0.0.1', listening));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

const url = `http://127.0.0.1:${server.address().port}`;
process.stdout.write(`${JSON.stringify({ url, port: server.address().port })}\n`);
