// Quanyu's browser suite. Starts `quanyu demo` on a free port with a fresh data directory, launches
// Debian's chromium headless through playwright-core, and runs every journey in journeys/*.mjs in
// its own browser context. Each journey saves PNG screenshots under artifacts/; a failing journey
// also saves the page it failed on. Exit status 1 if any journey failed.
//
// Environment: QUANYU_BIN (default ../target/debug/quanyu), CHROMIUM (default /usr/bin/chromium),
// QUANYU_E2E_MEMBERS (demo members, default 300), QUANYU_E2E_ONLY (a substring of journey files).

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

const bin = resolve(here, process.env.QUANYU_BIN || '../target/debug/quanyu');
const members = process.env.QUANYU_E2E_MEMBERS || '300';
const only = process.env.QUANYU_E2E_ONLY || '';

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

const port = await freePort();
const baseURL = `http://127.0.0.1:${port}`;
const data = mkdtempSync(join(tmpdir(), 'quanyu-e2e-'));
const logPath = join(artifacts, 'server.log');
const log = createWriteStream(logPath);
console.log(`e2e: ${bin} demo on ${baseURL} (${members} members)`);
const server = spawn(bin, ['demo', '--port', String(port), '--data', data, '--members', members], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', NO_COLOR: '1' },
});
server.stdout.pipe(log);
server.stderr.pipe(log);
let exited = null;
server.on('exit', (code) => { exited = code; });

function stop() {
  if (exited === null) server.kill('SIGTERM');
  rmSync(data, { recursive: true, force: true });
}
process.on('SIGINT', () => { stop(); process.exit(130); });

const started = Date.now();
for (;;) {
  if (exited !== null) {
    console.error(`e2e: the demo server exited with ${exited}; its log:\n${readFileSync(logPath, 'utf8').slice(-4000)}`);
    process.exit(1);
  }
  try {
    const res = await fetch(`${baseURL}/healthz`);
    if (res.ok) break;
  } catch { /* not up yet */ }
  if (Date.now() - started > 600_000) { console.error('e2e: the demo did not come up in 10 minutes'); stop(); process.exit(1); }
  await new Promise((r) => setTimeout(r, 500));
}
console.log(`e2e: demo up in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});

/** What every journey gets. */
const kit = {
  browser,
  baseURL,
  /** Saves `page` as artifacts/<name>.png. */
  shot: async (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true }),
  /** The server's log so far (the demo's SMS provider writes one-time codes there). */
  serverLog: () => readFileSync(logPath, 'utf8'),
  /** A fresh context with the given viewport (default 1280×800) speaking zh-CN. */
  context: (options = {}) => browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', baseURL, ...options }),
};

const files = readdirSync(join(here, 'journeys')).filter((f) => f.endsWith('.mjs') && f.includes(only)).sort();
let failed = 0;
for (const file of files) {
  const journey = await import(pathToFileURL(join(here, 'journeys', file)));
  const name = journey.name || file;
  const t0 = Date.now();
  const pages = [];
  const tracked = { ...kit, context: async (options) => { const c = await kit.context(options); c.on('page', (p) => pages.push(p)); return c; } };
  try {
    await journey.default(tracked);
    console.log(`  ok    ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed += 1;
    console.log(`  FAIL  ${name}: ${err.stack || err}`);
    for (const [i, page] of pages.entries()) {
      if (!page.isClosed()) {
        await page.screenshot({ path: join(artifacts, `FAILED-${file.replace('.mjs', '')}-${i}.png`), fullPage: true }).catch(() => {});
        console.log(`        at ${page.url()}`);
      }
    }
  }
  for (const page of pages) await page.context().close().catch(() => {});
}

await browser.close();
stop();
console.log(`e2e: ${files.length - failed} of ${files.length} journeys passed; screenshots in e2e/artifacts/`);
process.exit(failed ? 1 : 0);
