// Starts the real `scimitar` binary for the whole run: a free port picked by the server itself
// (--listen 127.0.0.1:0), a fresh data directory, and the first-run setup token read from its
// log. Returns the teardown that stops it (SIGTERM, graceful) and removes the data.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const repo = resolve(import.meta.dirname, '..', '..');

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = process.env.SCIMITAR_BIN ?? join(repo, 'target', 'debug', 'scimitar');
  const siteRoot = process.env.SCIMITAR_SITE_ROOT ?? join(repo, 'target', 'site');
  const dataDir = mkdtempSync(join(tmpdir(), 'scimitar-e2e-'));
  const server = spawn(bin, ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--site-root', siteRoot, '--allow-private-targets'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  });
  const exited = new Promise<number | null>((done) => server.on('exit', (code) => done(code)));

  let setupToken = '';
  const url = await new Promise<string>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error('scimitar did not start within 60 s')), 60_000);
    server.on('exit', (code) => fail(new Error(`scimitar exited with ${code} before listening`)));
    createInterface({ input: server.stderr! }).on('line', (line) => {
      if (process.env.SCIMITAR_LOG) console.error(line);
      setupToken = /setup_token=(\w+)/.exec(line)?.[1] ?? setupToken;
      const listening = /listening on (http:\/\/[\d.:]+)/.exec(line);
      if (listening) {
        clearTimeout(timer);
        ready(listening[1]);
      }
    });
  });

  process.env.SCIMITAR_URL = url;
  process.env.SCIMITAR_SETUP_TOKEN = setupToken;
  process.env.SCIMITAR_BIN = bin;
  process.env.SCIMITAR_DATA_DIR = dataDir;

  return async () => {
    server.kill('SIGTERM');
    const code = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`scimitar stopped with exit code ${code}`);
  };
}
