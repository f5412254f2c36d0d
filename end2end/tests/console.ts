// Page objects for the console's blades, and the checks every journey shares.
import { execFileSync } from 'node:child_process';
import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple';

export const BLADES = [
  { title: 'Home', path: '/' },
  { title: 'Users', path: '/users' },
  { title: 'Groups', path: '/groups' },
  { title: 'Enterprise applications', path: '/applications' },
  { title: 'Provisioning logs', path: '/provisioning-logs' },
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

/** Waits until the WASM has hydrated the server-rendered page (the entry point marks <body>). */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

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
