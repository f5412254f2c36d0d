// Hostile strings wherever a user, a token or a target can put one, loaded in Chromium: every page
// shows them as text and no injected script runs. Escaping is the first wall; the
// Content-Security-Policy with a per-response nonce is the second, and the journeys' clean consoles
// show that the console's own scripts still run under it. Also: both log downloads arrive whole
// through the browser (they used to be cut short under gzip).
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type APIRequestContext, type Page, expect } from '@playwright/test';
import { SignInPage, createAccount, createToken, hydrated, watchConsole, test } from './console';
import * as peers from './peers';

const ADMIN = 'hostile-admin@contoso.com';
/** What an injected script would do, seen from the page (names are at most 120 characters). */
const RUN = 'window.__pwned=1';
const PAYLOAD = `</title><script>${RUN}</script><img src=x onerror="${RUN}">`;

test.describe.configure({ mode: 'serial' });

let app = '';
let oauthApp = '';
let user = '';
let group = '';
/** Peers of the attacker's: a SCIM "target" whose every error detail is the payload, and an
 * OAuth "provider" that sends every authorization back refused with the payload as its reason. */
let target: Server;
let provider: Server;

async function api(request: APIRequestContext, method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, token: string, data?: object) {
  const response = await request.fetch(`${process.env.SCIMITAR_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    data: data ? JSON.stringify(data) : undefined,
  });
  expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Loads `path`, waits for hydration, and checks that it shows `shows` and nothing injected ran. */
async function visit(page: Page, path: string, shows: string = PAYLOAD) {
  await page.goto(path);
  await hydrated(page);
  await expect(page.getByText(shows).filter({ visible: true }).first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test.beforeAll(async ({ request }) => {
  createAccount(ADMIN, 'Global Administrator');
  const apiToken = createToken(ADMIN, 'api');
  const scimToken = createToken(ADMIN, 'scim');

  // Names arriving over SCIM.
  user = (
    await api(request, 'POST', '/scim/v2/Users', scimToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'mallory@contoso.com',
      displayName: PAYLOAD,
      name: { givenName: PAYLOAD, familyName: 'Mallory' },
      active: true,
    })
  ).id;
  group = (
    await api(request, 'POST', '/scim/v2/Groups', scimToken, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: PAYLOAD,
      members: [{ value: user }],
    })
  ).id;

  target = createServer((_, res) => {
    const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', detail: PAYLOAD });
    res.writeHead(400, { 'Content-Type': 'application/scim+json' }).end(body);
  });
  const targetUrl = await listen(target);
  provider = createServer((req, res) => {
    const asked = new URL(req.url ?? '/', 'http://provider');
    const back = new URL(asked.searchParams.get('redirect_uri') ?? '');
    back.searchParams.set('state', asked.searchParams.get('state') ?? '');
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', PAYLOAD);
    res.writeHead(302, { Location: back.toString() }).end();
  });
  const providerUrl = await listen(provider);

  // An application named by its owner, with notes, provisioning everyone to the hostile target:
  // provision on demand logs the target's error detail as the entry's reason.
  const created = await api(request, 'POST', '/api/v1/applications', apiToken, { template: 'custom-scim', displayName: PAYLOAD });
  app = created.id;
  await api(request, 'PATCH', `/api/v1/applications/${app}`, apiToken, { version: created.version, notes: PAYLOAD });
  const config = await api(request, 'GET', `/api/v1/applications/${app}/provisioning`, apiToken);
  await api(request, 'PUT', `/api/v1/applications/${app}/provisioning`, apiToken, {
    version: config.version,
    settings: { ...config.settings, scimBaseUrl: `${targetUrl}/scim/v2`, scope: 'All' },
    secretToken: 'any',
  });
  for (const objectId of [user, group]) {
    await api(request, 'POST', `/api/v1/applications/${app}/job/provision-on-demand`, apiToken, { objectId });
  }

  // A second application whose OAuth provider is the hostile one.
  oauthApp = (await api(request, 'POST', '/api/v1/applications', apiToken, { template: 'custom-scim', displayName: 'OAuth probe' })).id;
  const oauthConfig = await api(request, 'GET', `/api/v1/applications/${oauthApp}/provisioning`, apiToken);
  await api(request, 'PUT', `/api/v1/applications/${oauthApp}/provisioning`, apiToken, {
    version: oauthConfig.version,
    settings: {
      ...oauthConfig.settings,
      authentication: 'oauth2-authorization-code',
      scimBaseUrl: `${targetUrl}/scim/v2`,
      oauth: { clientId: 'hostile', authorizationUrl: `${providerUrl}/authorize`, tokenUrl: `${providerUrl}/token`, scopes: '' },
    },
  });
});

test.afterAll(() => {
  target?.close();
  provider?.close();
});

test('stored markup in names, notes, logs and OAuth errors shows as text and never runs', async ({ page }) => {
  const console = watchConsole(page);
  await page.goto('/signin');
  await new SignInPage(page).signIn(ADMIN);
  await expect(page).toHaveURL(/\/$/);

  await visit(page, `/applications/${app}`);
  expect(await page.title()).toBe(`${PAYLOAD} - Scimitar`);
  await visit(page, '/applications');
  await visit(page, `/users/${user}`);
  await visit(page, '/users', 'mallory@contoso.com');
  await visit(page, `/groups/${group}`);
  await visit(page, '/groups');
  await visit(page, '/provisioning-logs');
  await visit(page, '/audit-logs');

  // A target error text: Test Connection repeats the SCIM error's detail.
  await page.goto(`/applications/${app}/provisioning`);
  await hydrated(page);
  await page.getByLabel('Provisioning Mode').selectOption('Automatic');
  await page.getByRole('button', { name: 'Test Connection' }).click();
  await expect(page.getByText('Test Connection failed.')).toBeVisible();
  await expect(page.getByText(PAYLOAD, { exact: false }).filter({ visible: true }).first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  // A log entry's reason, written from the target's error detail.
  await page.goto('/provisioning-logs');
  await hydrated(page);
  await page.getByRole('link', { name: 'mallory@contoso.com' }).first().click();
  await expect(page.locator('[data-test="log-outcome"]')).toContainText(PAYLOAD);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.locator('img[src="x"]').count()).toBe(0);

  // Authorize: the "provider" answers with the payload as its error description.
  await page.goto(`/applications/${oauthApp}/provisioning`);
  await hydrated(page);
  await page.getByLabel('Provisioning Mode').selectOption('Automatic');
  await page.getByRole('button', { name: 'Authorize' }).click();
  await expect(page).toHaveURL(/authorization=done/);
  await hydrated(page);
  await expect(page.getByText(`The provider refused: ${PAYLOAD}`)).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  expect(console.problems()).toEqual([]);
});

test('both provisioning log downloads arrive whole through the browser', async ({ page }) => {
  await page.goto('/signin');
  await new SignInPage(page).signIn(ADMIN);
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/provisioning-logs');
  await hydrated(page);
  for (const [format, test] of [
    ['csv', (text: string) => expect(text.split('\n')[0]).toContain('Entry ID')],
    ['json', (text: string) => expect(Array.isArray(JSON.parse(text))).toBeTruthy()],
  ] as const) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-test="download-${format}"]`).click()]);
    expect(await download.failure()).toBeNull();
    const text = readFileSync((await download.path())!, 'utf8');
    test(text);
    expect(text).toContain('__pwned');
  }
});
