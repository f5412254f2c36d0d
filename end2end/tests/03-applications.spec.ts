// The seed tutorial in the console, end to end, against real peers: add Vonage from the gallery,
// configure its provisioning (Authorize at a real oidc-provider, Test Connection through the
// JWT-checking proxy and the fault-injecting proxy to a real scim2-server), check the mappings,
// assign users, turn it on, and watch it (step 6): the progress bar, the provisioning logs, an
// unassignment, a quarantine with its email at a real aiosmtpd. Then the ways an administrator
// gets it wrong. Screenshots of every blade on the way are kept in the test's output folder.
import { readFileSync, writeFileSync } from 'node:fs';
import { type Browser, type Page, type TestInfo, expect } from '@playwright/test';
import { SignInPage, createAccount, createToken, hydrated, watchConsole, test } from './console';
import * as peers from './peers';

const AUDIENCE = 'urn:scimitar:e2e-scim';
let issuer = '';
let scim = '';
let delays = '';
let tokens = '';
let tenantUrl = '';
let smtp: Awaited<ReturnType<typeof peers.smtpSink>>;

/** The people of the tutorial beside Grace Hopper (made in 02): Hedy has no surname. */
const PEOPLE = [
  { userName: 'katherine.johnson@contoso.com', givenName: 'Katherine', familyName: 'Johnson' },
  { userName: 'dorothy.vaughan@contoso.com', givenName: 'Dorothy', familyName: 'Vaughan' },
  { userName: 'mary.jackson@contoso.com', givenName: 'Mary', familyName: 'Jackson' },
  { userName: 'hedy@contoso.com', givenName: 'Hedy', familyName: undefined },
];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  scim = await peers.scimServer();
  delays = await peers.faultProxy(scim);
  smtp = await peers.smtpSink();
  issuer = await peers.oidc(
    [
      {
        client_id: 'vonage-client',
        client_secret: 'vonage-client-secret',
        redirect_uris: [`${process.env.SCIMITAR_URL}/oauth/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
    AUDIENCE,
  );
  tokens = await peers.jwtProxy(delays, issuer, AUDIENCE);
  tenantUrl = `${tokens}/v2`;
});

/** Takes a full-page screenshot named after the step into the test's output folder, and has
 * the page loaded afresh in that state (console.ts, loadsCleanly). */
function screenshots(page: Page, testInfo: TestInfo, sweep: () => Promise<void>) {
  let step = 0;
  return async (name: string) => {
    await sweep();
    await page.screenshot({ path: testInfo.outputPath(`${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
}

/** The users scim2-server holds, straight from it (no Scimitar code in between). */
async function targetUsers(): Promise<Array<Record<string, any>>> {
  const response = await fetch(`${scim}/v2/Users?count=100`);
  return (await response.json()).Resources ?? [];
}

test.afterAll(() => peers.stop());

/** The browser only ever talks to loopback: the provider's pages would fetch web fonts. */
async function loopbackOnly(page: import('@playwright/test').Page) {
  await page.context().route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => route.abort(),
  );
}

async function signedIn(browser: Browser, upn: string) {
  const page = await browser.newPage();
  await loopbackOnly(page);
  await page.goto('/signin');
  await new SignInPage(page).signIn(upn);
  await expect(page.getByRole('navigation', { name: 'Portal' })).toBeVisible();
  return page;
}

test('the seed tutorial, end to end: Vonage provisioned and monitored', async ({ page, sweep }, testInfo) => {
  // Every page it reaches is also loaded afresh and checked beside it (console.ts).
  test.setTimeout(420_000);
  const browserConsole = watchConsole(page);
  const shot = screenshots(page, testInfo, sweep);
  await loopbackOnly(page);

  // The directory: the people over inbound SCIM, as an HR system would push them (Katherine
  // came with 02's import already: 409).
  const scimToken = createToken('admin@contoso.com', 'scim');
  for (const person of PEOPLE) {
    const created = await fetch(`${process.env.SCIMITAR_URL}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${scimToken}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: person.userName,
        displayName: `${person.givenName} ${person.familyName ?? ''}`.trim(),
        name: { givenName: person.givenName, familyName: person.familyName },
        emails: [{ value: person.userName, type: 'work', primary: true }],
        active: true,
      }),
    });
    expect([201, 409]).toContain(created.status);
  }

  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');

  // Settings: the SMTP server the quarantine email goes through.
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Settings' }).click();
  await hydrated(page);
  await page.getByLabel('SMTP server').fill('127.0.0.1');
  await page.getByLabel('Port', { exact: true }).fill(`${smtp.port}`);
  await page.getByLabel('Security').selectOption('none');
  await page.getByLabel('From address').fill('scimitar@contoso.com');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await shot('settings-smtp');

  // Enterprise applications > New application > Vonage > Create.
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Enterprise applications' }).click();
  await page.getByRole('link', { name: 'New application' }).click();
  await hydrated(page);
  await page.getByLabel('Search the gallery').fill('von');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.locator('.gallery-entry')).toHaveCount(1);
  await page.getByRole('button', { name: 'Create Vonage' }).click();
  await expect(page.getByRole('heading', { name: 'Vonage', level: 1 })).toBeVisible();
  await shot('vonage-overview');

  // Provisioning > Automatic > Advanced pointed at the test provider and proxy > Authorize.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning', exact: true }).click();
  await hydrated(page);
  await page.getByLabel('Provisioning Mode').selectOption('Automatic');
  await page.getByLabel('Client id').fill('vonage-client');
  await page.getByLabel('Client secret').fill('vonage-client-secret');
  await page.getByLabel('Authorization URL').fill(`${issuer}/auth`);
  await page.getByLabel('Token URL').fill(`${issuer}/token`);
  await page.getByLabel('Scopes').fill('openid offline_access scim');
  await page.getByLabel('Tenant URL').fill(tenantUrl);
  await page.getByRole('button', { name: 'Authorize' }).click();

  // The provider's own sign-in and consent pages.
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await page.locator('input[name="login"]').fill('account.superuser@vonage.example');
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/\/provisioning\?authorization=done/);
  await expect(page.getByText('Authorized. Test the connection, then Save.')).toBeVisible();
  await expect(page.getByText('Authorized by admin@contoso.com on')).toBeVisible();

  await hydrated(page);
  await page.getByRole('button', { name: 'Test Connection' }).click();
  await expect(page.locator('[data-test="connection-result"]')).toContainText(
    'Test Connection succeeded. The supplied credentials are authorized to enable provisioning.',
  );
  await shot('provisioning-test-connection');

  // Notification Email, Scope, Save.
  await page.getByLabel('Notification Email', { exact: true }).fill('provisioning-alerts@contoso.com');
  await page.getByLabel('Send an email notification when a failure occurs').check();
  await page.getByLabel('Scope', { exact: true }).selectOption({ label: 'Sync only assigned users and groups' });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your changes have been saved.')).toBeVisible();

  // Mappings: the seed's five attributes, userName matching.
  await page.getByRole('link', { name: 'Provision Scimitar Users' }).click();
  await hydrated(page);
  const rows = page.locator('.data-table.mappings tbody tr');
  await expect(rows).toHaveCount(5);
  await expect(rows.locator('td:nth-child(3)')).toHaveText(['userName', 'active', 'emails[type eq "work"].value', 'name.givenName', 'name.familyName']);
  await expect(rows.nth(0).getByText('Matching')).toBeVisible();
  await expect(rows.filter({ hasText: 'Matching' })).toHaveCount(1);
  // The editor fits a 1,440 px screen; a wide table scrolls inside it.
  await page.setViewportSize({ width: 1440, height: 900 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1440);
  await shot('mappings');

  // Edit Attribute, as the portal's dialog: an invalid expression says where it is wrong, as it
  // is typed, and Preview shows the value for a user. Cancel keeps the mapping as it was.
  await page.getByLabel('Preview for user').fill('grace.hopper@contoso.com');
  await page.getByRole('button', { name: 'Edit active' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit Attribute' });
  await expect(dialog.getByLabel('Mapping type')).toHaveValue('Expression');
  await expect(dialog.getByLabel('Target attribute')).toHaveValue('active');
  await expect(dialog.getByLabel('Match objects using this attribute')).toHaveValue('No');
  await expect(dialog.getByLabel('Apply this mapping')).toHaveValue('always');
  const expression = dialog.getByLabel('Expression');
  await expression.fill('Switch([IsSoftDeleted], , "False", "True" "True", "False")');
  await expect(dialog.locator('.expression-error')).toHaveText(
    'line 1, column 43: expected "," or ")" in the arguments of Switch, found \'"\'',
  );
  await expression.fill('Switch([IsSoftDeleted], , "False", "True", "True", "False")');
  await expect(dialog.locator('.expression-error')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await expect(dialog.locator('.preview')).toHaveText('"True"');
  await shot('edit-attribute');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);

  // Users and groups: five users with User (Hedy has no surname), one with Default Access, and
  // the warning.
  await page.goto(page.url().replace(/\/provisioning\/users$/, '/users'));
  await hydrated(page);
  await expect(page.getByRole('note')).toContainText('assigned with Default Access are not provisioned');
  const assignments: Array<[string, string]> = [
    ['grace.hopper@contoso.com', 'User'],
    ...PEOPLE.map((p): [string, string] => [p.userName, 'User']),
    ['admin@contoso.com', 'Default Access'],
  ];
  for (const [index, [upn, role]] of assignments.entries()) {
    // Grace by the name the lists show, with the role chosen by default: the first one that
    // is provisioned, not Default Access.
    if (index === 0) {
      await page.getByLabel('User or group').fill('Grace Hopper');
      await expect(page.getByLabel('Select a role').locator('option:checked')).toHaveText('User');
    } else {
      await page.getByLabel('User or group').fill(upn);
      await page.getByLabel('Select a role').selectOption({ label: role });
    }
    await page.getByRole('button', { name: 'Assign' }).click();
    await expect(page.getByRole('heading', { name: `Assigned (${index + 1})` })).toBeVisible();
  }
  const assigned = page.locator('.data-table tbody');
  await expect(assigned.locator('tr', { hasText: 'Grace Hopper' })).toContainText('User');
  await expect(assigned.locator('tr', { hasText: 'Ada Admin' })).toContainText('Default Access');
  await shot('users-and-groups');

  // Every request to the application now takes a second, one at a time and one per account
  // (no Bulk), so the cycle's progress can be watched moving.
  await peers.setFaults(delays, { delayMs: 1000 });

  // Provisioning Status On > Save.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning', exact: true }).click();
  await hydrated(page);
  await page.getByLabel('Requests at once').fill('1');
  await page.getByLabel("Use the application's SCIM capabilities").uncheck();
  await page.getByLabel('On', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your changes have been saved.')).toBeVisible();

  // Step 6: the progress bar moves while the initial cycle runs, read every second without a
  // reload (the page is the one Save left, hydrated), and the last cycle's counts appear at its
  // end.
  const seen: Array<[number, number]> = [];
  await expect
    .poll(
      async () => {
        // One look at the page as it is now: a locator's getAttribute would wait for a bar that
        // the cycle's end has just taken away, past the poll's own timeout.
        const bar = await page.evaluate(() => {
          const progress = document.querySelector('[data-test="cycle-progress"]');
          return progress && [Number(progress.getAttribute('value')), Number(progress.getAttribute('max'))];
        });
        if (bar && !bar.some(Number.isNaN)) {
          const [value, max] = bar;
          seen.push([value, max]);
          if (value > 0 && value < max && seen.filter(([v]) => v === value).length === 1) await shot('progress');
        }
        return page.locator('[data-test="last-cycle"]').count();
      },
      { timeout: 90_000, intervals: [150] },
    )
    .toBeGreaterThan(0);
  expect(seen.some(([value, max]) => value > 0 && value < max), `progress seen: ${JSON.stringify(seen)}`).toBe(true);
  await expect(page.locator('[data-test="last-cycle"]')).toContainText('Initial cycle finished');
  const overview = page.getByRole('region', { name: 'Provisioning overview' });
  await expect(overview).toContainText('Created: 4');
  await expect(overview).toContainText('Failed: 1');
  await expect(overview).toContainText('Skipped: 1');
  // View technical information stays open while the overview is read again every second.
  await overview.getByText('View technical information').click();
  const technical = overview.locator('[data-test="technical"]');
  await expect(technical).toContainText(/Job ID\s*scim\.[0-9a-f]{32}/);
  await expect(technical).toContainText('Last cycle ID');
  for (let read = 0; read < 2; read++) await page.waitForResponse((r) => r.url().includes('/api/provisioning/status'));
  await expect(technical).toHaveAttribute('open', '');
  await expect(technical.getByText('Last cycle ID')).toBeVisible();
  await shot('provisioning-overview-after-initial-cycle');
  await peers.setFaults(delays, {});

  // After a reload everything is still there, and the server's first paint shows the cycle.
  await page.reload();
  await expect(page.getByLabel('Provisioning Mode')).toHaveValue('Automatic');
  await expect(page.getByLabel('On', { exact: true })).toBeChecked();
  await expect(page.getByLabel('Notification Email', { exact: true })).toHaveValue('provisioning-alerts@contoso.com');
  await expect(page.getByLabel('Send an email notification when a failure occurs')).toBeChecked();
  await expect(page.getByText('Authorized by admin@contoso.com on')).toBeVisible();
  await expect(page.getByLabel('Tenant URL')).toHaveValue(tenantUrl);
  await expect(page.locator('[data-test="last-cycle"]')).toContainText('Initial cycle finished');
  await hydrated(page);

  // The target holds exactly the four complete users, with the right attributes.
  const expected = [
    { userName: 'grace.hopper@contoso.com', givenName: 'Grace', familyName: 'Hopper' },
    ...PEOPLE.filter((p) => p.familyName),
  ].sort((a, b) => a.userName.localeCompare(b.userName));
  const held = (await targetUsers()).sort((a, b) => a.userName.localeCompare(b.userName));
  expect(
    held.map((u) => ({
      userName: u.userName,
      givenName: u.name?.givenName,
      familyName: u.name?.familyName,
      email: u.emails?.find((e: { type: string }) => e.type === 'work')?.value,
      active: u.active,
    })),
  ).toEqual(expected.map((p) => ({ ...p, email: p.userName, active: true })));

  // The provisioning logs: Success for the four, a Failure naming name.familyName, Skipped for
  // the Default Access user.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning logs' }).click();
  const logRows = page.locator('[data-test="log-row"]');
  await expect(logRows).toHaveCount(6);
  for (const person of expected) {
    await expect(logRows.filter({ hasText: person.userName })).toContainText(['Create']);
    await expect(logRows.filter({ hasText: person.userName }).locator('td.status')).toHaveText('Success');
  }
  await expect(logRows.filter({ hasText: 'admin@contoso.com' }).locator('td.status')).toHaveText('Skipped');
  await expect(logRows.filter({ hasText: 'hedy@contoso.com' }).locator('td.status')).toHaveText('Failure');
  await shot('provisioning-logs');
  await logRows.filter({ hasText: 'hedy@contoso.com' }).getByRole('link').click();
  const details = page.locator('[data-test="log-details"]');
  await expect(details).toContainText('name.familyName');
  await details.getByRole('link', { name: 'Troubleshooting & Recommendations' }).click();
  await expect(details).toContainText('MissingRequiredAttribute');
  await expect(details).toContainText('lacks a value the application requires');
  await shot('provisioning-log-details');

  // Provision on demand: Grace through the whole pipeline now, each step as it completes, then
  // the log entries it wrote.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provision on demand' }).click();
  await hydrated(page);
  await page.getByLabel('User or group').fill('grace.hopper@contoso.com');
  await page.getByRole('button', { name: 'Provision' }).click();
  const steps = page.locator('[data-test="on-demand-steps"] li');
  await expect(steps.locator('strong')).toHaveText([
    'Test connection',
    'Import user',
    'Determine if user is in scope',
    'Match user between source and target system',
    'Perform action',
  ]);
  await expect(steps.filter({ hasText: 'Failure' })).toHaveCount(0);
  await shot('provision-on-demand');
  await page.getByRole('link', { name: 'See the provisioning log entries' }).click();
  await expect(logRows.first()).toContainText('grace.hopper@contoso.com');

  // Unassign Katherine: she becomes active=false in the target and the log shows Disable.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Users and groups' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: /^Remove Katherine Johnson/ }).click();
  await expect(page.getByRole('heading', { name: 'Assigned (5)' })).toBeVisible();
  await expect
    .poll(async () => (await targetUsers()).find((u) => u.userName === 'katherine.johnson@contoso.com')?.active, {
      timeout: 60_000,
    })
    .toBe(false);
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning logs' }).click();
  await page.getByLabel('Action').selectOption('Disable');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(logRows).toHaveCount(1);
  await expect(logRows).toContainText('katherine.johnson@contoso.com');
  await expect(logRows.locator('td.status')).toHaveText('Success');
  await shot('provisioning-logs-disable');

  // The application refuses the token: the next cycle (woken by a directory change) puts the
  // job in quarantine; the banner says why and what to do, and the email arrives.
  await peers.refuseTokens(tokens, true);
  const renamed = await fetch(`${process.env.SCIMITAR_URL}/scim/v2/Users?filter=${encodeURIComponent('userName eq "dorothy.vaughan@contoso.com"')}`, {
    headers: { Authorization: `Bearer ${scimToken}` },
  });
  const dorothy = (await renamed.json()).Resources[0];
  const patched = await fetch(`${process.env.SCIMITAR_URL}/scim/v2/Users/${dorothy.id}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${scimToken}`, 'Content-Type': 'application/scim+json' },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Dot' }],
    }),
  });
  expect(patched.status).toBe(200);
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning', exact: true }).click();
  const banner = page.locator('[data-test="quarantine"]');
  await expect(banner).toBeVisible({ timeout: 60_000 });
  await expect(banner).toContainText('Provisioning is in quarantine.');
  await expect(banner).toContainText('refused the credentials');
  await expect(banner).toContainText('Next attempt:');
  // Advice in the words of this application's credentials: it has no Secret Token.
  await expect(banner).toContainText('select Authorize and sign in at the application again');
  await expect(banner).not.toContainText('Secret Token');
  await shot('quarantine-banner');
  await expect
    .poll(() => smtp.messages().find((m) => m.includes('Subject: Provisioning to Vonage is in quarantine')), { timeout: 30_000 })
    .toBeTruthy();
  const email = smtp.messages().find((m) => m.includes('is in quarantine'))!;
  expect(email).toContain('To: provisioning-alerts@contoso.com');
  expect(email).toContain('refused the credentials');

  // Only the provider's pages (another origin) may have complained about blocked fonts; the
  // quarantined job's 401 is the application's answer, not the console's.
  expect(browserConsole.problems().filter((p) => !p.includes(issuer))).toEqual([]);
});

test("step 5 in full: the attribute list decides what may match, and the schema goes out and back as JSON", async ({ page, sweep }, testInfo) => {
  const shot = screenshots(page, testInfo, sweep);
  const browserConsole = watchConsole(page, ['422 /api/provisioning/mappings/save', '422 /api/provisioning/schema/save', '422 /api/provisioning/schema/save']);
  // A test instance of Vonage, as the tutorial recommends before touching production.
  const created = await fetch(`${process.env.SCIMITAR_URL}/api/v1/applications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${createToken('admin@contoso.com', 'api')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ template: 'vonage', displayName: 'Vonage' }),
  });
  expect(created.status).toBe(201);
  const app = (await created.json()).id;
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page).toHaveURL(/\/$/);
  await page.goto(`/applications/${app}/provisioning`);
  await hydrated(page);
  await page.getByLabel('Provisioning Mode').selectOption('Automatic');
  await page.getByRole('link', { name: 'Provision Scimitar Users' }).click();
  // The Mappings page is a lazy route: the address changes once its part of the WASM is in.
  await expect(page).toHaveURL(/\/provisioning\/users$/);
  await hydrated(page);
  const mappings = page.url();

  // Show advanced options > Edit attribute list for Vonage: the tutorial's table.
  await page.getByText('Show advanced options').click();
  await page.getByRole('link', { name: 'Edit attribute list for Vonage' }).click();
  await hydrated(page);
  const filtering = (name: string) => page.getByLabel(`Supported for filtering: ${name}`, { exact: true });
  await expect(filtering('userName')).toBeChecked();
  await expect(filtering('emails[type eq "work"].value')).not.toBeChecked();
  await expect(page.getByLabel('Required: name.familyName', { exact: true })).toBeChecked();
  await shot('attribute-list');

  // Matching on the work email is refused with the tutorial's reason: Vonage cannot filter on it.
  const matchOnWorkEmail = async () => {
    await page.getByRole('button', { name: 'Edit emails[type eq "work"].value' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit Attribute' });
    await dialog.getByLabel('Match objects using this attribute').selectOption('Yes');
    await expect(dialog.getByLabel('Matching precedence')).toHaveValue('2');
    await dialog.getByRole('button', { name: 'Ok' }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
  };
  await page.goto(mappings);
  await hydrated(page);
  await matchOnWorkEmail();
  const rows = page.locator('.data-table.mappings tbody tr');
  await expect(rows.nth(2).locator('.field-error').filter({ hasText: 'does not support filtering' })).toHaveText(
    'Vonage does not support filtering on emails[type eq "work"].value: a matching attribute must be supported for filtering, because matching asks Vonage for the account with this value.',
  );

  // Once the list says Vonage filters on it, the same mapping saves.
  await page.getByText('Show advanced options').click();
  await page.getByRole('link', { name: 'Edit attribute list for Vonage' }).click();
  await hydrated(page);
  await filtering('emails[type eq "work"].value').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('The attribute list has been saved.')).toBeVisible();
  await page.goto(mappings);
  await hydrated(page);
  await matchOnWorkEmail();
  await expect(page.getByText('Your mappings have been saved.')).toBeVisible();
  await expect(rows.nth(2).locator('td:nth-child(5)')).toHaveText('2 Matching');

  // Add New Mapping opens the same dialog, empty; the target comes from the attribute list.
  await page.getByRole('button', { name: 'Add New Mapping' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit Attribute' });
  await dialog.getByLabel('Source attribute').selectOption('jobTitle');
  await dialog.getByLabel('Target attribute').selectOption('title');
  await dialog.getByLabel('Apply this mapping').selectOption('Only during object creation');
  await dialog.getByRole('button', { name: 'Ok' }).click();
  await expect(rows).toHaveCount(6);
  await expect(rows.nth(5)).toContainText('jobTitle');
  await expect(rows.nth(5)).toContainText('Only during object creation');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  // The notice of the first Save is still up: the page read afresh shows this one landed.
  await expect(page.getByRole('button', { name: 'Save', exact: true })).toBeEnabled();
  await expect(async () => {
    await page.reload();
    await expect(rows).toHaveCount(6, { timeout: 1000 });
  }).toPass();
  await hydrated(page);

  // Review your schema here: the whole schema as JSON, downloaded as it shows.
  await page.getByText('Show advanced options').click();
  await page.getByRole('link', { name: 'Review your schema here' }).click();
  await hydrated(page);
  const editor = page.getByLabel('Schema (JSON)');
  const shown = JSON.parse(await editor.inputValue());
  expect(shown.schemaVersion).toBe(1);
  expect(shown.users.mappings[2]).toMatchObject({ target: 'emails[type eq "work"].value', matchingPrecedence: 2 });
  expect(shown.users.mappings[5]).toMatchObject({ mappingType: 'Direct', source: 'jobTitle', target: 'title' });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
  expect(download.suggestedFilename()).toBe('vonage-provisioning-schema.json');
  const downloaded = readFileSync(await download.path(), 'utf8');
  expect(JSON.parse(downloaded)).toEqual(shown);
  await shot('schema');

  // A bad document: each error with its path, and nothing changes.
  const bad = structuredClone(shown);
  bad.users.mappings[0].mappingType = 'Sideways';
  await editor.fill(JSON.stringify(bad, null, 2));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('[data-test="schema-errors"] li')).toContainText(['users.mappings[0].mappingType: Line ']);
  await expect(page.locator('[data-test="schema-errors"]')).toContainText('unknown variant `Sideways`');
  const unknownTarget = structuredClone(shown);
  unknownTarget.users.mappings[3].target = 'favouriteColour';
  await editor.fill(JSON.stringify(unknownTarget, null, 2));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('[data-test="schema-errors"] li')).toHaveText([
    'users.mappings[3].target: The attribute list of Vonage has no favouriteColour: add it with Edit attribute list.',
    'users.mappings: The application requires name.givenName; add a mapping for it.',
  ]);

  // Upload a tested document (another instance's, say): it replaces the schema once saved.
  const tested = structuredClone(shown);
  tested.users.mappings[3].defaultValue = 'Unknown';
  const file = testInfo.outputPath('tested-schema.json');
  writeFileSync(file, JSON.stringify(tested, null, 2));
  await page.locator('#field-schema-file').setInputFiles(file);
  await expect(editor).toHaveValue(/"defaultValue": "Unknown"/);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('The schema has been saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Schema (JSON)')).toHaveValue(/"defaultValue": "Unknown"/);
  expect(browserConsole.problems()).toEqual([]);
});

test('a custom application without Tenant URL, and a stale save, are refused with clear messages', async ({ browser }) => {
  const page = await signedIn(browser, 'admin@contoso.com');
  await page.goto('/applications/new');
  await hydrated(page);
  await page.getByLabel('Name of the new Create your own application application').fill('Contoso HR');
  await page.getByRole('button', { name: 'Create Create your own application' }).click();
  await expect(page.getByRole('heading', { name: 'Contoso HR', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning', exact: true }).click();
  // A lazy route: the address changes once the page's part of the WASM is in.
  await expect(page).toHaveURL(/\/provisioning$/);
  await hydrated(page);
  const provisioning = page.url();

  await page.getByLabel('Provisioning Mode').selectOption('Automatic');
  await page.getByLabel('Secret Token').fill('a-token');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#field-scim_base_url-error')).toHaveText(
    "Enter the Tenant URL (the application's SCIM base URL).",
  );

  // A second administrator opens the same blade; the first saves; the second's save is refused.
  createAccount('second.admin@contoso.com', 'Application Administrator');
  const second = await signedIn(browser, 'second.admin@contoso.com');
  await second.goto(provisioning);
  await hydrated(second);
  await page.getByLabel('Tenant URL').fill('https://hr.contoso.com/scim/v2');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your changes have been saved.')).toBeVisible();
  // The blade opened before the first save: Manual mode, as stored then.
  await second.getByLabel('Provisioning Mode').selectOption('Automatic');
  await second.getByLabel('Notification Email', { exact: true }).fill('second@contoso.com');
  await second.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(second.getByRole('alert').filter({ hasText: 'changed by someone else' })).toHaveText(
    'This provisioning configuration was changed by someone else while you were editing. Reload to see the changes.',
  );
  await second.reload();
  await expect(second.getByLabel('Tenant URL')).toHaveValue('https://hr.contoso.com/scim/v2');
  await expect(second.getByLabel('Notification Email', { exact: true })).toHaveValue('');
});
