// The real third-party servers a journey talks to (docs/testing.md, Peers): scim2-server from
// the Python venv, and the Node peers in end2end/peers (oidc-provider and the JWT-checking SCIM
// proxy, the fault-injecting proxy, openid-client's relying party), aiosmtpd, and pysaml2's SAML
// service provider. Each starts on a free loopback port; `stop()` ends them all.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const repo = resolve(import.meta.dirname, '..', '..');
const running: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Resolves once something accepts connections on `port` (30 s at most). */
async function listening(port: number, what: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => (socket.end(), done(true)));
      socket.on('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} never listened on ${port}`);
    await new Promise((next) => setTimeout(next, 50));
  }
}

/** A Node peer: the first line it prints is JSON saying where it listens. */
async function nodePeer(script: string, config: object): Promise<Record<string, string>> {
  const child = spawn('node', [join(repo, 'end2end', 'peers', script), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  running.push(child);
  const line = await new Promise<string>((done, fail) => {
    child.on('exit', (code) => fail(new Error(`${script} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', done);
  });
  return JSON.parse(line);
}

/** scim2-server; returns its origin (the SCIM base is `${origin}/v2`). */
export async function scimServer(): Promise<string> {
  const port = await freePort();
  const child = spawn(join(repo, 'end2end', '.venv', 'bin', 'scim2-server'), ['--hostname', '127.0.0.1', '--port', `${port}`], {
    stdio: 'ignore',
  });
  running.push(child);
  await listening(port, 'scim2-server');
  return `http://127.0.0.1:${port}`;
}

export async function oidc(clients: object[], audience: string): Promise<string> {
  return (await nodePeer('oidc.mjs', { clients, resource: audience })).issuer;
}

export async function jwtProxy(target: string, issuer: string, audience: string): Promise<string> {
  return (await nodePeer('jwt-proxy.mjs', { target, issuer, audience })).url;
}

/** The fault-injecting proxy in front of `target`; set its faults with `setFaults`. */
export async function faultProxy(target: string): Promise<string> {
  return (await nodePeer('fault-proxy.mjs', { target })).url;
}

/** Replaces the fault proxy's settings (e.g. `{ delayMs: 800 }`). */
export async function setFaults(proxy: string, faults: object) {
  const response = await fetch(`${proxy}/__faults`, { method: 'POST', body: JSON.stringify(faults) });
  if (!response.ok) throw new Error(`fault proxy: ${await response.text()}`);
}

/** Makes the JWT-checking proxy refuse every token (`true`) or check them again (`false`). */
export async function refuseTokens(proxy: string, refuse: boolean) {
  const response = await fetch(`${proxy}/__control`, { method: 'POST', body: JSON.stringify({ refuse }) });
  if (!response.ok) throw new Error(`jwt proxy: ${await response.text()}`);
}

/** aiosmtpd keeping every message in a maildir; `messages()` reads them as raw text. */
export async function smtpSink(): Promise<{ port: number; messages: () => string[] }> {
  const port = await freePort();
  const maildir = mkdtempSync(join(tmpdir(), 'scimitar-mail-'));
  const child = spawn(
    join(repo, 'end2end', '.venv', 'bin', 'python'),
    ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', join(maildir, 'mail')],
    { stdio: 'ignore' },
  );
  running.push(child);
  await listening(port, 'aiosmtpd');
  const messages = () => {
    const inbox = join(maildir, 'mail', 'new');
    return existsSync(inbox) ? readdirSync(inbox).map((name) => readFileSync(join(inbox, name), 'utf8')) : [];
  };
  return { port, messages };
}

/** pysaml2's service provider (peers/saml-sp.py), trusting the IdP metadata at `idpMetadata`
 * once told to `reload()` it. */
export async function samlServiceProvider(idpMetadata: string) {
  const port = await freePort();
  const child = spawn(join(repo, 'end2end', '.venv', 'bin', 'python'), [join(repo, 'end2end', 'peers', 'saml-sp.py'), `${port}`, idpMetadata], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  running.push(child);
  const line = await new Promise<string>((done, fail) => {
    child.on('exit', (code) => fail(new Error(`saml-sp.py exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', done);
  });
  const sp: { url: string; entity_id: string; acs: string } = JSON.parse(line);
  return {
    ...sp,
    /** This service provider's metadata, as its administrator would download it. */
    metadata: async () => (await fetch(`${sp.url}/metadata`)).text(),
    /** Downloads the identity provider's metadata again (after a certificate rotation). */
    reload: async () => {
      const response = await fetch(`${sp.url}/reload`, { method: 'POST' });
      if (!response.ok) throw new Error(`saml-sp reload: ${response.status} ${await response.text()}`);
    },
  };
}

/** openid-client's relying party (peers/oidc-rp.mjs) for the OpenID provider at `issuer`: a
 * public client without `clientSecret`, a confidential one (client_secret_basic) with it. */
export async function oidcRelyingParty(issuer: string, clientId: string, clientSecret?: string) {
  const port = await freePort();
  const args = [join(repo, 'end2end', 'peers', 'oidc-rp.mjs'), `${port}`, issuer, clientId];
  if (clientSecret) args.push(clientSecret);
  // Its stderr shows why it stopped, e.g. a discovery document it refused.
  const child = spawn('node', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const line = await new Promise<string>((done, fail) => {
    child.on('exit', (code) => fail(new Error(`oidc-rp.mjs exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', done);
  });
  const rp: { url: string; redirect_uri: string; post_logout_redirect_uri: string } = JSON.parse(line);
  return {
    ...rp,
    /** Discovers the provider again and forgets the keys it had fetched (after a key rotation). */
    reload: async () => {
      const response = await fetch(`${rp.url}/reload`, { method: 'POST' });
      if (!response.ok) throw new Error(`oidc-rp reload: ${response.status} ${await response.text()}`);
    },
  };
}

export function stop() {
  for (const child of running.splice(0)) child.kill('SIGTERM');
}
