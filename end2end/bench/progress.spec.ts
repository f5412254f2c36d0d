// Issue 7's figure: the time from a progress change in the engine to the browser showing it.
// The engine stamps each change of a cycle's counts (changedAt); the Provisioning blade carries
// the stamp of what it shows (data-changed-at). A MutationObserver in the page notes when each new
// stamp appears; the difference is the whole path: the engine's progress writer, SQLite, the
// blade's poll, the server function, the render. Same machine, same clock.
import { expect, test } from '@playwright/test';
import { SignInPage, createAccount, createToken, hydrated } from '../tests/console';
import * as peers from '../tests/peers';

const USERS = Number(process.env.USERS ?? 300);

test.afterAll(() => peers.stop());

test('progress of an initial cycle reaches the browser', async ({ page }) => {
  const scim = await peers.scimServer();
  const slow = await peers.faultProxy(scim);
  createAccount('bench@contoso.com', 'Global Administrator');
  const token = createToken('bench@contoso.com', 'scim');
  for (let n = 0; n < USERS; n++) {
    const created = await fetch(`${process.env.SCIMITAR_URL}/scim/v2/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `person${n}@contoso.com`,
        displayName: `Person ${n}`,
        name: { givenName: 'Person', familyName: `${n}` },
        emails: [{ value: `person${n}@contoso.com`, type: 'work', primary: true }],
        active: true,
      }),
    });
    expect(created.status).toBe(201);
  }

  await page.goto('/signin');
  await new SignInPage(page).signIn('bench@contoso.com');
  await expect(page.getByRole('navigation', { name: 'Portal' })).toBeVisible();
  await page.goto('/applications/new');
  await hydrated(page);
  await page.getByLabel('Name of the new Create your own application application').fill('Progress bench');
  await page.getByRole('button', { name: 'Create Create your own application' }).click();
  await expect(page.getByRole('heading', { name: 'Progress bench', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Application' }).getByRole('link', { name: 'Provisioning', exact: true }).click();
  await hydrated(page);
  await page.getByLabel('Provisioning Mode').selectOption('Automatic');
  await page.getByLabel('Tenant URL').fill(`${slow}/v2`);
  await page.getByLabel('Secret Token').fill('any-token');
  await page.getByLabel('Scope', { exact: true }).selectOption({ label: 'Sync all users and groups' });
  // One object at a time, each request 30 ms slower: a cycle of half a minute that moves often.
  await page.getByLabel('Requests at once').fill('1');
  await page.getByLabel("Use the application's SCIM capabilities").uncheck();
  await peers.setFaults(slow, { delayMs: 30 });
  await page.getByLabel('On', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Your changes have been saved.')).toBeVisible();
  await hydrated(page);

  await page.evaluate(() => {
    const seen: Array<{ changedAt: number; shownAt: number }> = [];
    (window as any).progressSeen = seen;
    const note = () => {
      const stamp = Number(document.querySelector('[data-test="cycle-progress"]')?.getAttribute('data-changed-at'));
      if (stamp && stamp !== seen.at(-1)?.changedAt) seen.push({ changedAt: stamp, shownAt: Date.now() });
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
    note();
  });
  await expect(page.locator('[data-test="last-cycle"]')).toBeVisible({ timeout: 300_000 });
  // Everyone: the people above and the benchmark's own administrator.
  await expect(page.getByRole('region', { name: 'Provisioning overview' })).toContainText(`Created: ${USERS + 1}`);
  const seen: Array<{ changedAt: number; shownAt: number }> = await page.evaluate(() => (window as any).progressSeen);
  // The first stamp may predate the observer.
  const latencies = seen.slice(1).map((s) => s.shownAt - s.changedAt).sort((a, b) => a - b);
  expect(latencies.length).toBeGreaterThan(5);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
  console.log(
    `progress change -> browser, over ${latencies.length} changes shown during a ${USERS}-user initial cycle: ` +
      `median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${latencies.at(-1)} ms`,
  );
});
