// First load of the console in Chromium, for scripts/bench-console: for each route, what a cold
// load fetches (WASM, JS, CSS, the page) by its brotli size on disk, and the time to interactive
// of sign-in and Home under DevTools network throttling ("Fast 4G" as the issue names it:
// 9 Mbit/s down, 1.5 Mbit/s up, 170 ms latency), median of RUNS (5) cold loads.
//
//   node end2end/bench/first-load.mjs <console URL> <site root> <user> <password> [app id]
//
// Time to interactive is from the start of navigation to the moment the WASM marks <body> as
// hydrated (data-hydrated, set once hydration has finished), read in the page itself.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

const [url, siteRoot, user, password, app] = process.argv.slice(2);
const RUNS = Number(process.env.RUNS ?? 5);
const FAST_4G = { offline: false, latency: 170, downloadThroughput: (9e6 / 8), uploadThroughput: (1.5e6 / 8) };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

/** The brotli size of a file the site serves, from its precompressed copy (raw size if none). */
function brotliSize(path) {
  const file = join(siteRoot, path);
  if (existsSync(`${file}.br`)) return statSync(`${file}.br`).size;
  return existsSync(file) ? statSync(file).size : 0;
}

/** A fresh context signed in (or not), with the cache off and the network throttled. */
async function freshPage(signedIn, throttled) {
  const context = await browser.newContext();
  if (signedIn) {
    const page = await context.newPage();
    await page.goto(`${url}/signin`);
    await page.waitForSelector('body[data-hydrated=true]');
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/`);
    await page.close();
  }
  const page = await context.newPage();
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttled) await cdp.send('Network.emulateNetworkConditions', FAST_4G);
  return { context, page };
}

/** What a cold load of `route` fetches, by kind, in brotli bytes as served from the site. */
async function transfer(route, signedIn) {
  const { context, page } = await freshPage(signedIn, false);
  const fetched = [];
  page.on('response', (response) => fetched.push(new URL(response.url()).pathname));
  await page.goto(`${url}${route}`);
  await page.waitForSelector('body[data-hydrated=true]');
  const kinds = { wasm: 0, js: 0, css: 0 };
  for (const path of fetched) {
    const kind = path.endsWith('.wasm') ? 'wasm' : path.endsWith('.js') ? 'js' : path.endsWith('.css') ? 'css' : null;
    if (kind) kinds[kind] += brotliSize(path);
  }
  await context.close();
  return kinds;
}

async function timeToInteractive(route, signedIn) {
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const { context, page } = await freshPage(signedIn, true);
    await page.goto(`${url}${route}`);
    await page.waitForSelector('body[data-hydrated=true]', { timeout: 120_000 });
    times.push(await page.evaluate(() => window.__hydratedAt));
    await context.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const routes = [
  ['/signin', false],
  ['/', true],
  ['/users', true],
  ['/applications', true],
  ['/provisioning-logs', true],
  ...(app ? [[`/applications/${app}/provisioning`, true], [`/applications/${app}/provisioning/users`, true]] : []),
];
console.log('route                                         wasm (br)   js (br)    css (br)');
for (const [route, signedIn] of routes) {
  const t = await transfer(route, signedIn);
  console.log(`${route.padEnd(45)} ${kb(t.wasm).padStart(10)} ${kb(t.js).padStart(9)} ${kb(t.css).padStart(10)}`);
}
for (const [route, signedIn] of [['/signin', false], ['/', true]]) {
  const median = await timeToInteractive(route, signedIn);
  console.log(`time to interactive ${route.padEnd(8)} (Fast 4G, median of ${RUNS}): ${median.toFixed(0)} ms`);
}
await browser.close();
