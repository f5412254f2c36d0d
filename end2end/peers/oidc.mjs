// OAuth 2.0 / OpenID Connect test peer: a real authorization server (npm `oidc-provider`) on
// loopback, for the Rust integration tests and the Playwright journeys.
//
//   node end2end/peers/oidc.mjs '<JSON config>'
//
// The config (the only argument) is an object with:
//   port            TCP port on 127.0.0.1; 0 (the default) picks a free one
//   clients         [{ client_id, client_secret, redirect_uris, grant_types }], grant_types from
//                   authorization_code, refresh_token and client_credentials (any other
//                   oidc-provider client metadata passes through)
//   resource        the audience of every access token, e.g. the SCIM endpoint's base URL
//   accessTokenTtl  access token lifetime in seconds (default 3600)
//   scopes          default ["openid", "offline_access", "scim"]; the scopes other than openid and
//                   offline_access belong to the resource
//
// Once listening it prints one line to stdout, {"issuer": "http://127.0.0.1:PORT", "port": PORT},
// and runs until SIGTERM or SIGINT. Access tokens are RS256 JWTs with `aud` = resource, for the
// authorization code flow (PKCE S256 required) and for client_credentials; the `resource`
// parameter is optional. Clients allowed the refresh_token grant always get a refresh token.
// Sign-in and consent are oidc-provider's development forms: any login and password pass.
// Like the providers that insist on it, an authorization request with the openid scope and no
// nonce is refused (400 invalid_request); the ID token carries the nonce sent.
import { createServer } from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

const OIDC_SCOPES = ['openid', 'offline_access'];

const config = JSON.parse(process.argv[2] ?? '{}');
const { port = 0, clients = [], resource, accessTokenTtl = 3600 } = config;
const scopes = config.scopes ?? ['openid', 'offline_access', 'scim'];
if (!resource) throw new Error('oidc.mjs: the config needs "resource"');

// oidc-provider prints its notices with console.info: stdout carries only the ready line.
console.info = console.error;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'peer', alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((listening) => server.listen(port, '127.0.0.1', listening));
const issuer = `http://127.0.0.1:${server.address().port}`;

const resourceServer = {
  scope: scopes.filter((scope) => !OIDC_SCOPES.includes(scope)).join(' '),
  audience: resource,
  accessTokenFormat: 'jwt',
  accessTokenTTL: accessTokenTtl,
  jwt: { sign: { alg: 'RS256' } },
};

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    response_types: client.grant_types?.includes('authorization_code') ? ['code'] : [],
    ...client,
  })),
  jwks: { keys: [signingKey] },
  scopes: scopes.filter((scope) => OIDC_SCOPES.includes(scope)),
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  pkce: { required: () => true },
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { AccessToken: accessTokenTtl, ClientCredentials: accessTokenTtl },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return resourceServer;
      },
    },
  },
});
provider.use(async (ctx, next) => {
  if (ctx.path === '/auth') {
    const asked = String(ctx.query.scope ?? '').split(' ');
    if (asked.includes('openid') && !ctx.query.nonce) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'nonce is required with the openid scope' };
      return;
    }
  }
  await next();
});
server.on('request', provider.callback());

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

process.stdout.write(`${JSON.stringify({ issuer, port: server.address().port })}\n`);
