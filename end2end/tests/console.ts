// Page objects for the console's blades, and the checks every journey shares.
import { execFileSync } from 'node:child_process';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple';

export const BLADES = [
  { title: 'Home', path: '/' },
  { title: 'Users', path: '/users' },
  { title: 'Groups', path: '/groups' },
  { title: 'Enterprise applications', path: '/applications' },
  { title: 'Provisioning logs', path: '/provisioning-logs' },
  { title: 'Sign-in logs', path: '/sign-in-logs' },
  { title: 'Audit logs', path: '/audit-logs' },
  { title: 'Settings', path: '/settings' },
] as const;

/**
 * Collects every console error and warning, uncaught exception and hydration complaint.
 *
 * Chromium also logs "Failed to load resource" for every response with an error status, including
 * the ones a journey provokes on purpose (a wrong password answers 401). Those are the browser
 * describing a response, not a fault of the page; a journey lists the ones it expects, as
 * `STATUS PATH`, and any other is a problem.
 */
export function watchConsole(page: Page, expectedResponses: string[] = []) {
  const problems: string[] = [];
  const unmatched = [...expectedResponses];
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const status = /Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
    if (status) {
      const seen = `${status[1]} ${new URL(message.location().url).pathname}`;
      const at = unmatched.indexOf(seen);
      if (at >= 0) {
        unmatched.splice(at, 1);
        return;
      }
    }
    problems.push(`${message.type()} on ${page.url()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught on ${page.url()}: ${error.message}`));
  return {
    /** Everything unexpected, plus any expected error response that never happened. */
    problems: () => [...problems, ...unmatched.map((r) => `expected response never seen: ${r}`)],
  };
}

/**
 * Waits until the WASM has hydrated the server-rendered page (the entry point marks <body>).
 * Longer than an assertion's wait: on a busy 2-core machine the tests' debug bundle (megabytes of
 * WASM, fetched again by every tab the sweep opens beside the journey) can take 10 s to arrive.
 */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
}

/**
 * Loads `url` afresh in a new tab of the page's browser context (same session): the server
 * renders it in the state the journey has reached, the WASM hydrates it, and axe-core reads it.
 * Answers every problem: a console error or warning (a hydration panic is one), an uncaught
 * exception, a serious or critical accessibility violation.
 *
 * A journey's clicks navigate inside the page, which never hydrates anything; this is how every
 * page it reaches is also checked the way an administrator's reload or bookmark meets it.
 */
export async function loadsCleanly(page: Page, url = page.url()): Promise<string[]> {
  const tab = await page.context().newPage();
  const problems: string[] = [];
  tab.on('console', (message) => {
    // The page's own status (a 403 page, say) is the journey's business, not a fault.
    if (/Failed to load resource/.test(message.text())) return;
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()} on ${url}: ${message.text()}`);
  });
  tab.on('pageerror', (error) => problems.push(`uncaught on ${url}: ${error.message}`));
  try {
    await tab.goto(url);
    await hydrated(tab);
    const { violations } = await new AxeBuilder({ page: tab }).analyze();
    for (const v of violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
      problems.push(`axe ${v.impact} on ${url}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  } catch (error) {
    problems.push(`${url} did not load and hydrate: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    await tab.close();
  }
  return problems;
}

/**
 * The journeys' `test`: its `page` has every page it navigates to (in the console's origin)
 * checked by [`loadsCleanly`] as it gets there, one at a time, and the test fails at its end if
 * any had a problem. Call `sweep` to check the current page again after a change of state that
 * is not a navigation (a cycle finished, a job in quarantine).
 */
export const test = base.extend<{ sweep: () => Promise<void> }>({
  page: async ({ page }, use) => {
    const origin = new URL(process.env.SCIMITAR_URL!).origin;
    const found: string[] = [];
    const checked = new Set<string>();
    let queue = Promise.resolve();
    const check = (url: string) => {
      checked.add(url);
      queue = queue.then(async () => found.push(...(await loadsCleanly(page, url))));
    };
    page.on('framenavigated', (frame) => {
      const url = new URL(frame.url());
      // The OAuth callback is a one-time code, not a page. An address seen before is checked
      // again only when the journey says the state changed (sweep).
      if (frame === page.mainFrame() && url.origin === origin && url.pathname !== '/oauth/callback' && !checked.has(frame.url())) {
        check(frame.url());
      }
    });
    (page as Page & { sweepNow?: () => void }).sweepNow = () => check(page.url());
    await use(page);
    await queue;
    expect(found, 'pages loaded afresh in the states the journey reached').toEqual([]);
  },
  sweep: async ({ page }, use) => {
    await use(async () => (page as Page & { sweepNow?: () => void }).sweepNow?.());
  },
});

/** `scimitar admin create` against the running console's data directory. */
export function createAccount(upn: string, role: string) {
  execFileSync(
    process.env.SCIMITAR_BIN!,
    ['admin', 'create', '--upn', upn, '--role', role, '--password-stdin', '--data-dir', process.env.SCIMITAR_DATA_DIR!],
    { input: `${PASSWORD}\n`, stdio: ['pipe', 'pipe', 'pipe'] },
  );
}

/** `scimitar token create`: a token of `upn` with the given scope. */
export function createToken(upn: string, scope: 'scim' | 'api'): string {
  return execFileSync(
    process.env.SCIMITAR_BIN!,
    ['token', 'create', '--upn', upn, '--scope', scope, '--data-dir', process.env.SCIMITAR_DATA_DIR!],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
    .toString()
    .trim();
}

export class SignInPage {
  constructor(private readonly page: Page) {}

  async signIn(upn: string, password = PASSWORD) {
    await hydrated(this.page);
    await this.page.getByLabel('User name').fill(upn);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
}

export class Portal {
  constructor(private readonly page: Page) {}

  navigation() {
    return this.page.getByRole('navigation', { name: 'Portal' });
  }

  async open(title: string) {
    await this.navigation().getByRole('link', { name: title, exact: true }).click();
    await expect(this.bladeTitle()).toHaveText(title);
  }

  bladeTitle() {
    return this.page.locator('h1.blade-title');
  }

  breadcrumbs() {
    return this.page.getByRole('navigation', { name: 'Breadcrumb' });
  }

  async signOut() {
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await expect(this.page).toHaveURL(/\/signin$/);
  }
}
