/**
 * The dashboard in Debian's Chromium against the real platform (broker, gunicorn,
 * ingest, worker, simulator), started by this file on free ports with a fresh
 * SQLite database. Saves docs/screenshots/{fleet,device,alerts}.png and prints the
 * first-load time and the bytes of one fleet poll with 100 devices.
 *
 *   make test-browser            (or: cd frontend && npm run test:e2e, after make frontend-build)
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { REPO_DIR, Stack, waitFor } from './stack.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(REPO_DIR, 'docs', 'screenshots');
const VIEWPORT = { width: 1280, height: 800 };
const FLEET = ['device-001', 'device-002', 'device-003'];
const ORANGE = [249, 115, 22]; // the temperature line, #f97316

const stack = new Stack();
let browser;
let page;
let failed = false;

/** A fresh context (empty cache) whose pages record when the first device row is drawn. */
async function newPage() {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  await context.addInitScript(() => {
    const row = () => document.querySelector('table[aria-label="Devices"] a[href^="/devices/"]');
    new MutationObserver((_, observer) => {
      if (!row()) return;
      observer.disconnect();
      // The next frame is the one that shows the row.
      requestAnimationFrame(() => {
        window.__firstRowMs = performance.now();
      });
    }).observe(document, { childList: true, subtree: true });
  });
  const created = await context.newPage();
  created.setDefaultTimeout(15_000);
  return created;
}

/** Milliseconds from navigation start to the first device row, and the bytes the load moved. */
async function firstLoad(target) {
  await target.waitForFunction(() => window.__firstRowMs !== undefined);
  return target.evaluate(() => {
    const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
    const sum = (key) => entries.reduce((total, entry) => total + entry[key], 0);
    return { ms: window.__firstRowMs, transferred: sum('transferSize'), decoded: sum('decodedBodySize') };
  });
}

/** Counts a canvas's pixels: drawn at all, and of the given colour at full strength. */
function canvasPixels(canvas, rgb) {
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  let line = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    drawn += 1;
    const near = Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1]) + Math.abs(data[i + 2] - rgb[2]) < 60;
    if (near && data[i + 3] > 200) line += 1;
  }
  return { drawn, line, total: data.length / 4 };
}

/** Runs a test body; on failure keeps a screenshot of the page next to the logs. */
function step(name, body, timeout = 45_000) {
  it(name, { timeout }, async (t) => {
    try {
      await body(t);
    } catch (error) {
      failed = true;
      await page?.screenshot({ path: join(stack.dir, `failure-${name.slice(0, 40).replace(/\W+/g, '-')}.png`) }).catch(() => {});
      throw error;
    }
  });
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;

describe('dashboard in Chromium against the real platform', () => {
  let simulator;

  before(async () => {
    process.once('exit', () => stack.killAll());
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
      process.once(signal, () => stack.stop().finally(() => process.exit(code)));
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    try {
      await stack.start();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Playwright gives the browser a new empty profile (user data dir) of its own.
        args: [
          '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync',
        ],
      });
    } catch (error) {
      failed = true;
      throw error;
    }
  }, { timeout: 60_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    if (failed) console.error(`\nLogs of the platform (kept in ${stack.dir}):\n${stack.logs()}`);
    await stack.stop({ keep: failed });
  }, { timeout: 30_000 });

  step('the fleet page shows a simulated device ONLINE with its latest reading', async (t) => {
    simulator = stack.simulator(['--devices', '3', '--interval', '0.5', '--drop-rate', '0', '--duration', '60']);
    page = await newPage();
    await page.goto(stack.url);
    const row = page.getByRole('row', { name: /device-001/ });
    await row.getByText('ONLINE').waitFor();
    await row.getByText(/^\d+\.\d °C$/).first().waitFor();
    const load = await firstLoad(page);
    t.diagnostic(`first load, 3 devices: first device row after ${load.ms.toFixed(0)} ms ` +
      `(${kb(load.transferred)} transferred, ${kb(load.decoded)} decoded)`);

    // For the screenshot: every device in, with its 5 min averages.
    await page.waitForFunction((ids) => {
      const rows = [...document.querySelectorAll('table[aria-label="Devices"] tbody tr[aria-rowindex]')];
      return ids.every((id) => rows.some((r) => r.textContent.includes(id) && r.textContent.includes('ONLINE')))
        && rows.every((r) => !r.textContent.includes('–'));
    }, FLEET);
    // The fleet totals and the status buttons' counts come from /api/stats/summary/, when the server has it.
    if (await page.getByLabel('Fleet totals').count()) await page.getByRole('button', { name: 'Online (3)' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet.png'), animations: 'disabled' });
  });

  step('the device page draws its temperature chart', async (t) => {
    await page.getByRole('link', { name: 'device-001', exact: true }).click();
    await page.waitForURL(/\/devices\/device-001$/);
    await page.getByRole('heading', { level: 1, name: 'device-001' }).waitFor();
    const chart = page.getByRole('img', { name: /Temperature chart of device-001/ });
    await chart.waitFor();
    const pixels = await waitFor('the temperature line on the canvas', async () => {
      const counted = await chart.evaluate(canvasPixels, ORANGE);
      return counted.line > 200 && counted;
    }, { timeoutMs: 10_000, intervalMs: 250 });
    t.diagnostic(`temperature canvas: ${pixels.drawn} of ${pixels.total} pixels drawn, ${pixels.line} of the line`);

    // A screenshot with a dozen seconds of readings rather than two or three.
    await waitFor('12 s of readings in the series', async () => {
      const series = await stack.api('/api/telemetry/series/?deviceId=device-001&window=5m&points=300');
      return series.points.length >= 12;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    await sleep(3_500); // one more poll, so the chart shows the newest readings
    await page.screenshot({ path: join(SCREENSHOTS, 'device.png'), animations: 'disabled' });

    // The download link serves the window's readings as CSV from the export endpoint.
    const download = page.getByRole('link', { name: 'Download CSV (last 5 minutes)' });
    const csv = await download.evaluate(async (link) => (await fetch(link.href)).text());
    const [header, ...rows] = csv.trim().split('\n');
    assert.equal(header, 'device_id,ts,temperature,humidity,battery');
    assert.ok(rows.length >= 12 && rows.every((row) => row.startsWith('device-001,')), csv.slice(0, 500));
  });

  step('a --heat run raises HIGH_TEMP alerts that the alerts page shows', async () => {
    assert.equal(await simulator.stop(), 0, 'the simulator stops cleanly on SIGTERM');
    const heat = stack.simulator(['--devices', '3', '--interval', '0.5', '--drop-rate', '0', '--heat', '--duration', '3']);
    assert.equal(await heat.exited, 0, heat.output());
    await waitFor('a HIGH_TEMP alert for every heated device', async () => {
      const alerts = await stack.api('/api/alerts/?alert_type=HIGH_TEMP');
      return FLEET.every((id) => alerts.some((alert) => alert.device_id === id));
    }, { timeoutMs: 10_000, intervalMs: 250 });

    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.waitForURL(/\/alerts$/);
    const table = page.getByRole('table', { name: 'Recent alerts' });
    for (const id of FLEET) {
      const row = table.getByRole('row').filter({ hasText: id }).filter({ hasText: 'HIGH_TEMP' }).first();
      await row.waitFor();
      await row.getByText(/above the 30\.0 °C threshold/).waitFor();
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'alerts.png'), animations: 'disabled' });

    // HIGH_TEMP is critical, named in words; the header counts the unacknowledged ones.
    const heated = table.getByRole('row').filter({ hasText: 'HIGH_TEMP' }).first();
    await heated.getByText(/Critical$/).waitFor();
    await page.getByRole('link', { name: /^\d+\+? unacknowledged critical alarms?$/ }).waitFor();
    // Nothing has cooled the devices down, so their HIGH_TEMP alerts are on the Active tab.
    await page.getByRole('tab', { name: 'Active' }).click();
    await page.waitForURL(/\/alerts\?status=active$/);
    await waitFor('the Active tab listing the ACTIVE HIGH_TEMP alerts only', async () => {
      const rows = await table.getByRole('row').filter({ hasText: 'HIGH_TEMP' }).allTextContents();
      return rows.length > 0 && rows.every((text) => text.includes('Active') && !text.includes('Cleared'));
    }, { timeoutMs: 10_000, intervalMs: 250 });
  });

  step('with 100 devices: first load and the bytes of one fleet poll (reported, not judged)', async (t) => {
    await page.context().close();
    const fleet = stack.simulator(['--devices', '100', '--interval', '1', '--drop-rate', '0', '--duration', '60',
      '--single-connection']);
    await waitFor('100 devices online', async () => {
      const devices = await stack.api('/api/devices/?status=ONLINE');
      return devices.length === 100;
    }, { timeoutMs: 20_000, intervalMs: 250 });

    page = await newPage();
    await page.goto(stack.url);
    const load = await firstLoad(page);
    t.diagnostic(`first load, 100 devices: first device row after ${load.ms.toFixed(0)} ms ` +
      `(${kb(load.transferred)} transferred, ${kb(load.decoded)} decoded)`);
    await page.getByRole('row', { name: /device-001/ }).getByText('ONLINE').waitFor();

    // Two full poll cycles after the page settled; each polled URL once is one cycle.
    await sleep(1_000);
    await page.evaluate(() => performance.clearResourceTimings());
    await sleep(6_500);
    const entries = await page.evaluate(() =>
      performance.getEntriesByType('resource').map(({ name, transferSize, encodedBodySize, decodedBodySize }) =>
        ({ name, transferSize, encodedBodySize, decodedBodySize })));
    const latest = new Map();
    for (const entry of entries) if (new URL(entry.name).pathname.startsWith('/api/')) latest.set(entry.name, entry);
    assert.ok(latest.size >= 2, `the fleet page polls the API (${entries.length} requests seen)`);

    let transferred = 0;
    let body = 0;
    let gzipped = 0;
    for (const [url, entry] of latest) {
      const path = url.replace(stack.url, '');
      const raw = Buffer.from(await (await fetch(url)).arrayBuffer());
      const gzipSize = gzipSync(raw).length;
      transferred += entry.transferSize;
      body += entry.encodedBodySize;
      gzipped += gzipSize;
      t.diagnostic(`  ${path}: ${entry.transferSize} B transferred, body ${entry.encodedBodySize} B ` +
        `(${entry.decodedBodySize} B decoded; gzip would make it ${gzipSize} B)`);
    }
    t.diagnostic(`one fleet poll, 100 devices, ${latest.size} requests: ${kb(transferred)} transferred ` +
      `(${kb(body)} of bodies as served, uncompressed; ${kb(gzipped)} if gzip-compressed)`);
    assert.equal(await fleet.stop(), 0);
  });
});
