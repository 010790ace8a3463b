/**
 * The dashboard in Debian's Chromium against the real platform (broker, gunicorn,
 * ingest, worker, simulator), started by this file on free ports with a fresh
 * SQLite database. Saves docs/screenshots/{fleet,device,alerts,register,fleet-10000}.png and
 * prints the first-load time and the bytes of one fleet poll with 100 and with 10,000 devices.
 *
 *   make test-browser            (or: cd frontend && npm run test:e2e, after make frontend-build)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { curlRequest } from './curl-line.mjs';
import { REPO_DIR, Stack, waitFor } from './stack.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(REPO_DIR, 'docs', 'screenshots');
const VIEWPORT = { width: 1280, height: 800 };
const FLEET = ['device-001', 'device-002', 'device-003'];
const ORANGE = [249, 115, 22]; // the temperature line, #f97316
const STAFF = { username: 'operator', password: randomBytes(12).toString('hex') };
const REGISTERED = { id: 'boiler-7', name: 'Boiler room', type: 'th-2' };
const SEEDED = 10_000; // fleet-00001 .. fleet-10000, seeded in the database, not sent
/** The most one poll of the fleet page may move, whatever the fleet's size: one page of 50. */
const POLL_BYTES_MAX = 50 * 1024;

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

/**
 * One poll cycle of the page: each API URL polled in a 6.5 s window after the page settled,
 * once (the newest), with its bytes as the browser's Resource Timing entries give them.
 * Prints them; returns the entries by path and the bytes transferred in all.
 */
async function pollCycle(t, fleetSize) {
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
  const byPath = new Map();
  for (const [url, entry] of latest) {
    const path = url.replace(stack.url, '');
    const raw = Buffer.from(await (await fetch(url)).arrayBuffer());
    const gzipSize = gzipSync(raw).length;
    transferred += entry.transferSize;
    body += entry.encodedBodySize;
    gzipped += gzipSize;
    byPath.set(path, { ...entry, body: raw });
    t.diagnostic(`  ${path}: ${entry.transferSize} B transferred, body ${entry.encodedBodySize} B ` +
      `(${entry.decodedBodySize} B decoded; gzip would make it ${gzipSize} B)`);
  }
  t.diagnostic(`one fleet poll, ${fleetSize}, ${latest.size} requests: ${kb(transferred)} transferred ` +
    `(${kb(body)} of bodies as served, uncompressed; ${kb(gzipped)} if gzip-compressed)`);
  return { byPath, transferred };
}

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

  step('staff register a device, send its first reading with the key shown once, edit and decommission it', async () => {
    await stack.createStaff(STAFF.username, STAFF.password);
    await page.goto(`${stack.url}/admin/login/?next=/`);
    await page.getByLabel('Username').fill(STAFF.username);
    await page.getByLabel('Password').fill(STAFF.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${stack.url}/`);

    await page.getByRole('button', { name: 'Register a device' }).click();
    const form = page.getByRole('form', { name: 'Register a device' });
    await form.getByLabel('Device id').fill(REGISTERED.id);
    await form.getByLabel('Name').fill(REGISTERED.name);
    await form.getByLabel('Device type').fill(REGISTERED.type);
    await form.getByLabel('Location').fill('Basement');
    await form.getByLabel('Metadata (JSON object)').fill('{"floor": -1}');
    await form.getByRole('button', { name: 'Register' }).click();

    const credentials = page.getByRole('region', { name: `API key of ${REGISTERED.id}` });
    await credentials.waitFor();
    const [key, curl] = await credentials.locator('code').allTextContents();
    assert.match(key, /^\S{20,}$/, 'an API key is shown');
    assert.ok(curl.startsWith('curl ') && curl.includes(key), curl);
    await page.screenshot({ path: join(SCREENSHOTS, 'register.png'), animations: 'disabled' });

    // The curl line's request, as a user pasting it would send it.
    const { url, ...init } = curlRequest(curl);
    assert.equal(url, `${stack.url}/api/devices/${REGISTERED.id}/telemetry/`);
    const sent = await fetch(url, init);
    const receipt = await sent.json();
    assert.equal(sent.status, 202, JSON.stringify(receipt));
    assert.deepEqual(receipt, { stored: 1, duplicates: 0, rejected: 0, errors: [] });

    // Shown once: gone from the page when dismissed; the device is in the fleet with that reading.
    await credentials.getByRole('button', { name: /^Done/ }).click();
    await credentials.waitFor({ state: 'detached' });
    assert.equal(await page.getByText(key).count(), 0, 'the key is no longer on the page');
    const row = page.getByRole('row', { name: new RegExp(REGISTERED.id) });
    await row.getByText('ONLINE').waitFor();
    await row.getByText('24.5 °C').first().waitFor(); // the reading, and its 5 min average
    await row.getByText(`${REGISTERED.name} · Basement`).waitFor();

    await row.getByRole('link', { name: REGISTERED.id, exact: true }).click();
    await page.waitForURL(new RegExp(`/devices/${REGISTERED.id}$`));
    await page.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: `Edit ${REGISTERED.id}` });
    assert.equal(await edit.getByLabel('Name').inputValue(), REGISTERED.name);
    await edit.getByLabel('Name').fill('Boiler room (east)');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await page.getByText(`Boiler room (east) · ${REGISTERED.type} · Basement`).waitFor();
    assert.deepEqual(
      (({ name, device_type, location, metadata }) => ({ name, device_type, location, metadata }))(
        await stack.api(`/api/devices/${REGISTERED.id}/`)),
      { name: 'Boiler room (east)', device_type: REGISTERED.type, location: 'Basement', metadata: { floor: -1 } },
    );

    // Decommission asks first; then the page goes back to the fleet, which no longer lists the device.
    await page.getByRole('button', { name: 'Decommission' }).click();
    const confirmation = page.getByRole('group', { name: `Decommission ${REGISTERED.id}` });
    await confirmation.getByRole('button', { name: `Decommission ${REGISTERED.id}` }).click();
    await page.waitForURL(`${stack.url}/`);
    await page.getByRole('row', { name: /device-001/ }).waitFor();
    await waitFor(`${REGISTERED.id} gone from the fleet page`, async () =>
      (await page.getByRole('row', { name: new RegExp(REGISTERED.id) }).count()) === 0,
    { timeoutMs: 10_000, intervalMs: 250 });
    assert.equal((await fetch(`${stack.url}/api/devices/${REGISTERED.id}/`)).status, 404);
    assert.ok((await stack.api('/api/devices/')).every((device) => device.device_id !== REGISTERED.id));
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

    await pollCycle(t, '100 devices');
    assert.equal(await fleet.stop(), 0);
  });

  step(`with ${SEEDED.toLocaleString('en-US')} more devices: paging, search and status filter, and a poll moves one page`, async (t) => {
    if ((await fetch(`${stack.url}/api/stats/summary/`)).status === 404) {
      t.skip('this server does not page its device list yet (no /api/stats/summary/)');
      return;
    }
    await page.context().close();
    const seedStarted = Date.now();
    await stack.manage('seed', ['seed_telemetry', '--devices', String(SEEDED), '--readings', String(2 * SEEDED),
      '--step', '60', '--prefix', 'fleet']);
    t.diagnostic(`seeded ${SEEDED} devices with 2 readings each in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
    const live = stack.simulator(['--devices', '3', '--interval', '1', '--drop-rate', '0', '--duration', '120']);
    // device-001..003 live; device-004..100 (stopped above) and the seeded devices gone OFFLINE.
    const total = 100 + SEEDED;
    await waitFor('the fleet totals: 3 online, the rest offline', async () => {
      const summary = await stack.api('/api/stats/summary/');
      return summary.devices === total && summary.online === 3 && summary.offline === total - 3;
    }, { timeoutMs: 60_000, intervalMs: 500 });

    page = await newPage();
    await page.goto(stack.url);
    const load = await firstLoad(page);
    t.diagnostic(`first load, ${total} devices: first device row after ${load.ms.toFixed(0)} ms ` +
      `(${kb(load.transferred)} transferred, ${kb(load.decoded)} decoded)`);
    const table = page.getByRole('table', { name: 'Devices' });
    const pager = page.getByRole('navigation', { name: 'Pages of devices' });
    /** Waits for the page shown: its page number, how many devices it holds, its first device. */
    const shows = (pageNumber, rows, first) => waitFor(`page ${pageNumber}: ${rows} devices from ${first}`, async () =>
      (pageNumber === 1 && rows < 50 ? (await pager.count()) === 0 : await pager.getByText(`Page ${pageNumber}`).isVisible())
        && Number(await table.getAttribute('aria-rowcount')) === rows + 1
        && (await table.getByRole('link').first().textContent()) === first,
    { timeoutMs: 10_000, intervalMs: 100 });
    await shows(1, 50, 'device-001');
    await page.getByRole('button', { name: `All (${total.toLocaleString('en-US')})` }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet-10000.png'), animations: 'disabled' });

    const { byPath, transferred } = await pollCycle(t, `${total} devices`);
    assert.ok(transferred < POLL_BYTES_MAX, `one poll moved ${kb(transferred)}`);
    const devicePoll = [...byPath].find(([path]) => path.startsWith('/api/devices/'));
    assert.ok(devicePoll, 'the poll asks for the device list');
    assert.equal(JSON.parse(devicePoll[1].body).length, 50, `${devicePoll[0]} is one page`);

    // Next, next, previous, previous: the device id order, across the live and the seeded devices.
    await pager.getByRole('button', { name: 'Next' }).click();
    await shows(2, 50, 'device-051');
    await pager.getByRole('button', { name: 'Next' }).click();
    await shows(3, 50, 'fleet-00001');
    await page.getByRole('row', { name: /fleet-00001/ }).getByText('OFFLINE').waitFor();
    await pager.getByRole('button', { name: 'Previous' }).click();
    await shows(2, 50, 'device-051');
    await pager.getByRole('button', { name: 'Previous' }).click();
    await shows(1, 50, 'device-001');

    // A prefix of the id, searched by the server and kept in the URL.
    await page.getByRole('searchbox', { name: 'Search devices by id or name' }).fill('fleet-0999');
    await shows(1, 10, 'fleet-09990');
    assert.match(page.url(), /[?&]q=fleet-0999(&|$)/);
    await page.getByRole('searchbox', { name: 'Search devices by id or name' }).fill('');
    await shows(1, 50, 'device-001');

    // The status buttons: the three live devices alone, then the offline ones a page at a time.
    await page.getByRole('button', { name: 'Online (3)' }).click();
    await shows(1, 3, 'device-001');
    assert.deepEqual(await table.getByRole('row').filter({ hasText: /ONLINE|OFFLINE/ }).evaluateAll(
      (rows) => rows.map((row) => row.textContent.includes('ONLINE'))), [true, true, true]);
    await page.evaluate(() => performance.clearResourceTimings());
    await page.getByRole('button', { name: `Offline (${(total - 3).toLocaleString('en-US')})` }).click();
    await shows(1, 50, 'device-004');
    // Every device of the page shown has readings in the last 5 minutes: the averages the page
    // asked for (with its filter and cursor) must cover each of them.
    const asked = await waitFor('the offline page and its averages asked for', async () => {
      const urls = await page.evaluate(() => performance.getEntriesByType('resource').map((entry) => entry.name));
      const devices = urls.filter((url) => new URL(url).pathname === '/api/devices/' && url.includes('status=OFFLINE'));
      const stats = urls.filter((url) => new URL(url).pathname === '/api/stats/fleet/' && !url.includes('status=ONLINE'));
      return devices.length > 0 && stats.length > 0 && { devices: devices.at(-1), stats: [...new Set(stats)] };
    }, { timeoutMs: 10_000, intervalMs: 250 });
    const shown = (await (await fetch(asked.devices)).json()).map((device) => device.device_id);
    const averaged = new Set();
    for (const url of asked.stats) for (const row of await (await fetch(url)).json()) averaged.add(row.device_id);
    assert.deepEqual(shown.filter((id) => !averaged.has(id)), [],
      `devices of ${asked.devices.replace(stack.url, '')} without averages from ${asked.stats.join(', ')}`);
    await pager.getByRole('button', { name: 'Next' }).click();
    await shows(2, 50, 'device-054');
    const statuses = await table.getByRole('row').filter({ hasText: /ONLINE|OFFLINE/ }).allTextContents();
    assert.ok(statuses.length > 0 && statuses.every((text) => text.includes('OFFLINE')), statuses.join('\n'));
    assert.equal(await live.stop(), 0);
  }, 120_000);
});
