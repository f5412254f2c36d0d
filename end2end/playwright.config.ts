import { defineConfig } from '@playwright/test';

// The harness (harness/global-setup.ts) starts the real server on a free loopback port with a
// fresh SQLite file and publishes its address in SCIMITAR_URL before any test runs.
export default defineConfig({
  testDir: './tests',
  // Files run in name order: 01 does the first-run setup the later ones sign in with.
  globalSetup: './harness/global-setup.ts',
  // The journeys share one console (first-run setup happens once), so they run in order.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: process.env.SCIMITAR_URL,
    browserName: 'chromium',
    trace: 'retain-on-failure',
    launchOptions: {
      // Playwright cannot download browsers here: Debian's Chromium it is.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
