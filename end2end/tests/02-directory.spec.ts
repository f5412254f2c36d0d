// The directory in the console: a user and a group made in the UI are what SCIM clients see.
import { expect } from '@playwright/test';
import { SignInPage, createToken, hydrated, watchConsole, test } from './console';

test('a user and a group created in the UI are found over SCIM', async ({ page, request }) => {
  const browserConsole = watchConsole(page, ['422 /api/users/save']);
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page.getByText('Welcome, Ada Admin.')).toBeVisible();

  // New user: a bad address is named beside its field; the fixed form creates the user.
  await page.goto('/users/new');
  await hydrated(page);
  await page.getByLabel('User principal name').fill('grace.hopper@contoso.com');
  await page.getByLabel('Display name').fill('Grace Hopper');
  await page.getByLabel('First name').fill('Grace');
  await page.getByLabel('Last name').fill('Hopper');
  await page.getByLabel('Email').fill('grace.hopper@contoso.com');
  await page.getByLabel('Department').fill('Navy');
  await page.getByLabel('Manager').fill('nobody@contoso.com');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('#field-manager-error')).toHaveText('There is no user named nobody@contoso.com.');
  await page.getByLabel('Manager').fill('admin@contoso.com');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'Grace Hopper', level: 1 })).toBeVisible();

  // The list finds her by the start of her name.
  await page.goto('/users?q=grace');
  await expect(page.locator('.data-table tbody tr')).toHaveCount(1);
  await expect(page.locator('.data-table tbody')).toContainText('grace.hopper@contoso.com');

  // New group, then Grace as its member through the picker.
  await page.goto('/groups/new');
  await hydrated(page);
  await page.getByLabel('Group name').fill('Compiler pioneers');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'Compiler pioneers', level: 1 })).toBeVisible();
  await page.getByLabel('Add a member').fill('grace.hopper@contoso.com');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Members (1)' })).toBeVisible();
  await expect(page.locator('.data-table tbody')).toContainText('Grace Hopper');

  // A SCIM client sees both, linked.
  const token = createToken('admin@contoso.com', 'scim');
  const headers = { Authorization: `Bearer ${token}` };
  const users = await request.get('/scim/v2/Users', {
    headers,
    params: { filter: 'userName eq "grace.hopper@contoso.com"' },
  });
  expect(users.status()).toBe(200);
  const grace = (await users.json()).Resources[0];
  expect(grace.name).toEqual({ givenName: 'Grace', familyName: 'Hopper' });
  expect(grace['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department).toBe('Navy');
  expect(grace.groups.map((g: { display: string }) => g.display)).toEqual(['Compiler pioneers']);
  const groups = await request.get('/scim/v2/Groups', { headers, params: { filter: 'displayName eq "Compiler pioneers"' } });
  const group = (await groups.json()).Resources[0];
  expect(group.members.map((m: { value: string }) => m.value)).toEqual([grace.id]);

  expect(browserConsole.problems()).toEqual([]);
});

test('a CSV import names the bad row and its column, and lands the good rows', async ({ page }) => {
  const browserConsole = watchConsole(page);
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page.getByText('Welcome, Ada Admin.')).toBeVisible();

  await page.goto('/users/import');
  await hydrated(page);
  const csv = [
    'userPrincipalName,displayName,givenName,surname,mail,department',
    'katherine.johnson@contoso.com,Katherine Johnson,Katherine,Johnson,katherine.johnson@contoso.com,Flight Research',
    'dorothy.vaughan@contoso.com,Dorothy Vaughan,Dorothy,Vaughan,dorothy.vaughan@,Flight Research',
    'mary.jackson@contoso.com,Mary Jackson,Mary,Jackson,mary.jackson@contoso.com,Engineering',
  ].join('\n');
  await page.locator('#field-file').setInputFiles({ name: 'pioneers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Upload and check' }).click();

  await expect(page.getByRole('heading', { name: 'Preview of pioneers.csv' })).toBeVisible();
  await hydrated(page);
  const errorRows = page.locator('table.data-table tbody tr');
  await expect(errorRows).toHaveCount(1);
  await expect(errorRows.first().locator('td')).toHaveText(['3', 'mail', 'there is nothing after the @; add the domain, as in contoso.com']);
  await page.getByRole('button', { name: 'Import 2 valid rows' }).click();
  await expect(page.getByRole('status')).toHaveText('Import complete: 2 created, 0 updated, 0 unchanged.');

  await page.goto('/users?q=katherine');
  await expect(page.locator('.data-table tbody')).toContainText('katherine.johnson@contoso.com');
  await page.goto('/users?q=dorothy');
  await expect(page.getByText('No users found')).toBeVisible();

  expect(browserConsole.problems()).toEqual([]);
});

test('a user is edited, deleted, restored and deleted permanently', async ({ page }) => {
  const browserConsole = watchConsole(page);
  await page.goto('/signin');
  await new SignInPage(page).signIn('admin@contoso.com');
  await expect(page.getByText('Welcome, Ada Admin.')).toBeVisible();

  await page.goto('/users?q=mary');
  await page.getByRole('link', { name: 'Mary Jackson' }).click();
  await expect(page.getByRole('heading', { name: 'Mary Jackson', level: 1 })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Job title').fill('Aerospace engineer');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Your changes have been saved.');
  await page.reload();
  await expect(page.getByLabel('Job title')).toHaveValue('Aerospace engineer');

  await hydrated(page);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page).toHaveURL(/\/users$/);
  await page.goto('/users?deleted=true&q=mary');
  await expect(page.locator('.data-table tbody')).toContainText('mary.jackson@contoso.com');
  await page.getByRole('link', { name: 'Mary Jackson' }).click();
  await expect(page.getByText('This user is deleted.')).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Restore' }).click();
  await expect(page).toHaveURL(/\/users$/);
  await page.goto('/users?q=mary');
  await expect(page.locator('.data-table tbody')).toContainText('mary.jackson@contoso.com');

  await page.getByRole('link', { name: 'Mary Jackson' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page).toHaveURL(/\/users$/);
  await page.goto('/users?deleted=true&q=mary');
  await page.getByRole('link', { name: 'Mary Jackson' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete permanently' }).click();
  await expect(page).toHaveURL(/\/users\?deleted=true$/);
  await page.goto('/users?deleted=true&q=mary');
  await expect(page.getByText('No users found')).toBeVisible();

  // The audit log tells the story, newest first.
  await page.goto('/audit-logs?target=mary');
  await expect(page.locator('.data-table tbody tr td:nth-child(3)')).toHaveText([
    'Delete user permanently',
    'Delete user',
    'Restore user',
    'Delete user',
    'Update user',
    'Add user',
  ]);
  expect(browserConsole.problems()).toEqual([]);
});
