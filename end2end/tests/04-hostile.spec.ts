// Hostile strings wherever a user, a token or a target can put one, loaded in Chromium: every page
// shows them as text and no injected script runs. Escaping is the first wall; the
// Content-Security-Policy with a per-response nonce is the second, and the journeys' clean consoles
// show that the console's own scripts still run under it. Also: both log downloads arrive whole
// through the browser (they used to be cut short under gzip).
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type APIRequestContext, type Page, expect, test } from '@playwright/test';
import { SignInPage, createAccount, createToken, hydrated, watchConsole } from './console';
import * as peers from './peers';

const ADMIN = 'hostile-admin@contoso.com';
/** What an injected script would do, seen from the page (names are at most 120 characters). */
const RUN = 'window.__pwned=1';
const PAYLOAD = `</title><script>${RUN}</script><img src=x onerror="${RUN}">`;

test.describe.configure({ mode: 'serial' });

let app = '';
/** An OAuth "provider" that sends every authorization back refused, with the payload as reason. */
let provider: Server;
let user = '';
let group = '';

async function api(request: APIRequestContext, method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, token: string, data?: object) {
  const response = await request.fetch(`${process.env.SCIMITAR_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
    data: data ? JSON.stringify(data) : undefined,
  });
  expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Loads `path`, waits for hydration, and checks that nothing injected ran. */
async function visit(page: Page, path: string, shows: RegExp | string = PAYLOAD) {
  await page.goto(path);
  await hydrated(page);
  await expect(page.getByText(shows).filter({ visible: true }).first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
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

  // An application named by its owner, with notes, provisioning to a real SCIM server, and an
  // OAuth "provider" that sends the browser back with an error description of its choosing.
  const created = await api(request, 'POST', '/api/v1/applications', apiToken, { template: 'custom-scim', displayName: PAYLOAD });
  app = created.id;
  await api(request, 'PATCH', `/api/v1/applications/${app}`, apiToken, { version: created.version, notes: PAYLOAD });
  const scim = await peers.scimServer();
  let config = await api(request, 'GET', `/api/v1/applications/${app}/provisioning`, apiToken);
  await api(request, 'PUT', `/api/v1/applications/${app}/provisioning`, apiToken, {
    version: config.version,
    settings: { ...config.settings, scimBaseUrl: `${scim}/v2` },
    secretToken: 'any',
  });
  // A provisioning log entry whose identity is the group's name (on demand: out of scope, logged).
  await api(request, 'POST', `/api/v1/applications/${app}/job/provision-on-demand`, apiToken, { objectId: group });

  provider = createServer((req, res) => {
    const asked = new URL(req.url ?? '/', 'http://provider');
    const back = new URL(asked.searchParams.get('redirect_uri') ?? '');
    back.searchParams.set('state', asked.searchParams.get('state') ?? '');
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', PAYLOAD);
    res.writeHead(302, { Location: back.toString() }).end();
  });
  await new Promise<void>((listening) => provider.listen(0, '127.0.0.1', listening));
  const authorize = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/authorize`;
  config = await api(request, 'GET', `/api/v1/applications/${app}/provisioning`, apiToken);
  await api(request, 'PUT', `/api/v1/applications/${app}/provisioning`, apiToken, {
    version: config.version,
    settings: {
      ...config.settings,
      authentication: 'oauth2-authorization-code',
      oauth: { clientId: 'hostile', authorizationUrl: authorize, tokenUrl: `${scim}/token`, scopes: '' },
    },
  });
});

test.afterAll(() => {
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

  // Authorize: the "provider" answers with the payload as its error description.
  await page.goto(`/applications/${app}/provisioning`);
  await hydrated(page);
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
