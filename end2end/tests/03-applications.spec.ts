// Steps 3 to 5 of the seed tutorial in the console: add Vonage from the gallery, configure its
// provisioning against real peers (Authorize at a real oidc-provider, Test Connection through the
// JWT-checking proxy to a real scim2-server), check the mappings, assign users, turn it on; and
// the ways an administrator gets it wrong.
import { type Browser, expect, test } from '@playwright/test';
import { SignInPage, createAccount, hydrated, watchConsole } from './console';
import * as peers from './peers';

const AUDIENCE = 'urn:scimitar:e2e-scim';
let issuer = '';
let tenantUrl = '';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const scim = await peers.scimServer();
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
  tenantUrl = `${await peers.jwtProxy(scim, issuer, AUDIENCE)}/v2`;
});

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

test('Vonage from the gallery, authorized, tested, mapped, assigned and turned on', async ({ page }) => {
  const browserConsole = watchConsole(page);
  await loopbackOnly(page);
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');

  // Enterprise applications > New application > Vonage > Create.
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Enterprise applications' }).click();
  await page.getByRole('link', { name: 'New application' }).click();
  await hydrated(page);
  await page.getByLabel('Search the gallery').fill('von');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.locator('.gallery-entry')).toHaveCount(1);
  await page.getByRole('button', { name: 'Create Vonage' }).click();
  await expect(page.getByRole('heading', { name: 'Vonage', level: 1 })).toBeVisible();

  // Provisioning > Automatic > Advanced pointed at the test provider and proxy > Authorize.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning' }).click();
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

  // Notification Email, Scope, Save.
  await page.getByLabel('Notification Email', { exact: true }).fill('provisioning-alerts@contoso.com');
  await page.getByLabel('Send an email notification when a failure occurs').check();
  await page.getByLabel('Scope', { exact: true }).selectOption({ label: 'Sync only assigned users and groups' });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your changes have been saved.')).toBeVisible();

  // Mappings: the seed's five attributes, userName matching.
  await page.getByRole('link', { name: 'Provision users to Vonage' }).click();
  await hydrated(page);
  const rows = page.locator('.data-table.mappings tbody tr');
  await expect(rows).toHaveCount(5);
  const targets = await rows.locator('td:nth-child(3) input').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value));
  expect(targets).toEqual(['userName', 'active', 'emails[type eq "work"].value', 'name.givenName', 'name.familyName']);
  await expect(rows.nth(0).getByText('Matching')).toBeVisible();
  await expect(rows.filter({ hasText: 'Matching' })).toHaveCount(1);

  // An invalid expression says where it is wrong, as it is typed.
  const expression = page.getByLabel('Expression for active');
  await expression.fill('Switch([IsSoftDeleted], , "False", "True" "True", "False")');
  await expect(rows.nth(1).locator('.expression-error')).toHaveText(
    'line 1, column 43: expected "," or ")" in the arguments of Switch, found \'"\'',
  );
  await expression.fill('Switch([IsSoftDeleted], , "False", "True", "True", "False")');
  await expect(rows.nth(1).locator('.expression-error')).toHaveCount(0);
  await page.getByLabel('Preview for user').fill('grace.hopper@contoso.com');
  await rows.nth(1).getByRole('button', { name: 'Preview' }).click();
  await expect(rows.nth(1).locator('.preview')).toHaveText('"True"');

  // Users and groups: one user with User, one with Default Access, and the warning.
  await page.goto(page.url().replace(/\/provisioning\/users$/, '/users'));
  await hydrated(page);
  await expect(page.getByRole('note')).toContainText('assigned with Default Access are not provisioned');
  await page.getByLabel('User or group').fill('grace.hopper@contoso.com');
  await page.getByLabel('Select a role').selectOption({ label: 'User' });
  await page.getByRole('button', { name: 'Assign' }).click();
  await expect(page.getByRole('heading', { name: 'Assigned (1)' })).toBeVisible();
  await page.getByLabel('User or group').fill('admin@contoso.com');
  await page.getByLabel('Select a role').selectOption({ label: 'Default Access' });
  await page.getByRole('button', { name: 'Assign' }).click();
  await expect(page.getByRole('heading', { name: 'Assigned (2)' })).toBeVisible();
  const assigned = page.locator('.data-table tbody');
  await expect(assigned.locator('tr', { hasText: 'Grace Hopper' })).toContainText('User');
  await expect(assigned.locator('tr', { hasText: 'Ada Admin' })).toContainText('Default Access');

  // Provisioning Status On > Save; after a reload everything is still there.
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning' }).click();
  await hydrated(page);
  await page.getByLabel('On', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your changes have been saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Provisioning Mode')).toHaveValue('Automatic');
  await expect(page.getByLabel('On', { exact: true })).toBeChecked();
  await expect(page.getByLabel('Notification Email', { exact: true })).toHaveValue('provisioning-alerts@contoso.com');
  await expect(page.getByLabel('Send an email notification when a failure occurs')).toBeChecked();
  await expect(page.getByText('Authorized by admin@contoso.com on')).toBeVisible();
  await expect(page.getByLabel('Tenant URL')).toHaveValue(tenantUrl);

  // Only the provider's pages (another origin) may have complained about blocked fonts.
  expect(browserConsole.problems().filter((p) => !p.includes(issuer))).toEqual([]);
});

test('a custom application without Tenant URL, and a stale save, are refused with clear messages', async ({ browser }) => {
  const page = await signedIn(browser, 'admin@contoso.com');
  await page.goto('/applications/new');
  await hydrated(page);
  await page.getByLabel('Name of the new Create your own application application').fill('Contoso HR');
  await page.getByRole('button', { name: 'Create Create your own application' }).click();
  await expect(page.getByRole('heading', { name: 'Contoso HR', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning' }).click();
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
  await second.getByLabel('Notification Email', { exact: true }).fill('second@contoso.com');
  await second.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(second.getByRole('alert').filter({ hasText: 'changed by someone else' })).toHaveText(
    'This provisioning configuration was changed by someone else while you were editing. Reload to see the changes.',
  );
  await second.reload();
  await expect(second.getByLabel('Tenant URL')).toHaveValue('https://hr.contoso.com/scim/v2');
  await expect(second.getByLabel('Notification Email', { exact: true })).toHaveValue('');
});
