// The administrator's first journey: first-run setup, sign-in, every blade, sign-out; and the
// 403 page a Reports Reader meets at Settings. No console error or hydration warning anywhere.
import { expect } from '@playwright/test';
import { BLADES, PASSWORD, Portal, SignInPage, createAccount, hydrated, watchConsole, test } from './console';

test.describe.configure({ mode: 'serial' });

test('first-run setup, sign in, open every blade, sign out', async ({ page }) => {
  // The two refusals this journey provokes: a wrong setup token, a wrong password.
  const browserConsole = watchConsole(page, ['422 /api/setup', '401 /api/sign_in']);
  const portal = new Portal(page);

  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole('heading', { name: 'Set up Scimitar' })).toBeVisible();
  await hydrated(page);

  // A wrong token is named beside its field, and nothing is created.
  await page.getByLabel('Setup token').fill('not-the-token');
  await page.getByLabel('User name').fill('admin@contoso.com');
  await page.getByLabel('Display name').fill('Ada Admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('#field-setup_token-error')).toHaveText(
    "This is not the setup token. Copy it from the server's log.",
  );

  await page.getByLabel('Setup token').fill(process.env.SCIMITAR_SETUP_TOKEN!);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByText('Welcome, Ada Admin.')).toBeVisible();
  await expect(page.getByRole('banner')).toContainText('Global Administrator');

  // Sign out, then back in through the sign-in form.
  await portal.signOut();
  await new SignInPage(page).signIn('admin@contoso.com', 'not the password');
  await expect(page.getByRole('alert').filter({ hasText: 'incorrect' })).toHaveText(
    'The user name or password is incorrect.',
  );
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page.getByText('Welcome, Ada Admin.')).toBeVisible();

  // Every blade, by the navigation (client-side) ...
  for (const blade of BLADES) {
    await portal.open(blade.title);
    await expect(page).toHaveURL(new RegExp(`${blade.path}$`));
    await expect(portal.breadcrumbs()).toContainText(blade.title);
    await expect(page).toHaveTitle(`${blade.title} - Scimitar`);
  }
  // ... and loaded directly (server-rendered, then hydrated).
  for (const blade of BLADES) {
    const response = await page.goto(blade.path);
    expect(response?.status()).toBe(200);
    await hydrated(page);
    await expect(portal.bladeTitle()).toHaveText(blade.title);
    if (blade.path === '/users') {
      await expect(page.locator('.data-table tbody')).toContainText('admin@contoso.com');
    } else if (blade.path === '/audit-logs') {
      await expect(page.locator('.data-table tbody')).toContainText('Add user');
    } else if (blade.path === '/sign-in-logs') {
      // The wrong password above, then this sign-in.
      const rows = page.locator('.data-table tbody tr');
      await expect(rows.first()).toContainText('Success');
      await expect(rows.filter({ hasText: 'The password is incorrect' })).toContainText('admin@contoso.com');
    } else if (blade.path !== '/') {
      await expect(page.locator('.empty-state h2')).toBeVisible();
    }
  }

  // Asset names carry a hash of their content, so browsers may keep them for a year.
  const stylesheet = await page.locator('link#leptos').getAttribute('href');
  expect(stylesheet).toMatch(/^\/pkg\/scimitar\.[\w-]+\.css$/);
  const asset = await page.request.get(stylesheet!);
  expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');

  await portal.signOut();
  await page.goto('/users');
  await expect(page).toHaveURL(/\/signin\?next=\/users$/);
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(portal.bladeTitle()).toHaveText('Users');
  await portal.signOut();

  expect(browserConsole.problems()).toEqual([]);
});

test('a Reports Reader gets the 403 page for Settings', async ({ page }) => {
  const browserConsole = watchConsole(page, ['403 /settings']);
  const portal = new Portal(page);
  createAccount('reader@contoso.com', 'Reports Reader');

  await page.goto('/signin');
  await new SignInPage(page).signIn('reader@contoso.com');
  await expect(page.getByText('Welcome, reader.')).toBeVisible();
  await expect(portal.navigation().getByRole('link')).toHaveText([
    'Home',
    'Users',
    'Groups',
    'Provisioning logs',
    'Sign-in logs',
    'Audit logs',
  ]);

  const response = await page.goto('/settings');
  expect(response?.status()).toBe(403);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: "You don't have access to this page" })).toBeVisible();
  await expect(page.locator('.forbidden')).toContainText('Your role, Reports Reader, does not allow opening Settings');

  expect(browserConsole.problems()).toEqual([]);
});
