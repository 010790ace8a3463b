/**
 * The real platform for the browser test: a private Mosquitto (the project's
 * mosquitto.conf), a fresh SQLite database, gunicorn serving the built dashboard
 * and the API, the ingest and the alert worker, all on free ports, plus simulator
 * runs. Every process gets its own process group so that stopping it also stops
 * what it started (mosquitto under devtools.broker, gunicorn's workers).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const REPO_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BACKEND_DIR = join(REPO_DIR, 'backend');
const PYTHON = process.env.VENV_PYTHON ?? join(REPO_DIR, '.venv', 'bin', 'python');

/** A TCP port nobody listens on right now, chosen by the kernel. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function portOpen(port) {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => socket.end(() => done(true)));
    socket.once('error', () => done(false));
  });
}

/** Polls `check` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 20_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}

/** One child process with its output in a log file. */
class Child {
  constructor(name, args, { cwd, env, logFile }) {
    this.name = name;
    this.logFile = logFile;
    const log = openSync(logFile, 'a');
    this.process = spawn(args[0], args.slice(1), { cwd, env, stdio: ['ignore', log, log], detached: true });
    this.exited = new Promise((done) => this.process.once('exit', (code, signal) => done(code ?? signal)));
    this.process.once('exit', (code, signal) => {
      this.exitCode = code ?? signal;
    });
  }

  get running() {
    return this.exitCode === undefined;
  }

  output() {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  signal(sig) {
    if (!this.running) return;
    try {
      process.kill(-this.process.pid, sig);
    } catch {
      // The group is already gone.
    }
  }

  /** SIGTERM, then SIGKILL for whatever is still running after `graceMs`. */
  async stop(graceMs = 10_000) {
    if (!this.running) return this.exitCode;
    this.signal('SIGTERM');
    const timer = sleep(graceMs, 'timeout', { ref: false });
    if ((await Promise.race([this.exited, timer])) === 'timeout') {
      this.signal('SIGKILL');
      await this.exited;
    }
    return this.exitCode;
  }
}

/** The whole platform; `start()` returns once the API reports the ingest and the worker alive. */
export class Stack {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'telemetry-e2e-'));
    this.children = [];
    this.simulatorRuns = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.webPort}`;
  }

  spawn(name, args, { cwd = BACKEND_DIR, env = {} } = {}) {
    const child = new Child(name, args, {
      cwd,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...this.env, ...env },
      logFile: join(this.dir, `${name}.log`),
    });
    this.children.push(child);
    return child;
  }

  async run(name, args, options) {
    const child = this.spawn(name, args, options);
    const code = await child.exited;
    if (code !== 0) throw new Error(`${name} exited with ${code}:\n${child.output().slice(-3000)}`);
  }

  async start() {
    if (!existsSync(PYTHON)) throw new Error(`no Python at ${PYTHON}: run \`make venv\` (or set VENV_PYTHON)`);
    if (!existsSync(join(REPO_DIR, 'frontend', 'dist', 'index.html'))) {
      throw new Error('the dashboard is not built: run `make frontend-build`');
    }
    this.brokerPort = await freePort();
    this.webPort = await freePort();
    this.env = {
      DATABASE_URL: `sqlite:///${join(this.dir, 'db.sqlite3')}`,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(this.brokerPort),
      MQTT_CLIENT_ID: `e2e-ingest-${randomBytes(4).toString('hex')}`,
      MQTT_USERNAME: '',
      MQTT_PASSWORD: '',
      DJANGO_DEBUG: 'false',
      DJANGO_ALLOWED_HOSTS: '127.0.0.1,localhost',
      API_READ_AUTH: 'false',
      HIGH_TEMP_THRESHOLD: '30',
      OFFLINE_AFTER_SECONDS: '10',
      LOG_LEVEL: 'INFO',
    };

    const broker = this.spawn('broker', [
      PYTHON, '-m', 'devtools.broker', '--port', String(this.brokerPort), '--bind', '127.0.0.1',
      '--data-dir', join(this.dir, 'broker'),
    ]);
    const migrated = this.run('migrate', [PYTHON, 'manage.py', 'migrate', '--noinput', '-v0']);
    await waitFor('the broker to listen', async () => {
      if (!broker.running) throw new Error(broker.output());
      return portOpen(this.brokerPort);
    });
    await migrated;

    // gunicorn with the production config and DEBUG off: WhiteNoise serves the build's .br/.gz files.
    this.spawn('web', [PYTHON, '-m', 'gunicorn', '-c', 'config/gunicorn.conf.py', 'config.wsgi'], {
      env: { GUNICORN_BIND: `127.0.0.1:${this.webPort}`, GUNICORN_WORKERS: '3', GUNICORN_GRACEFUL_TIMEOUT: '5' },
    });
    this.spawn('ingest', [PYTHON, 'manage.py', 'ingest']);
    this.spawn('worker', [PYTHON, 'manage.py', 'process_tasks', '--duration=0', '--sleep=1']);
    await waitFor('the ingest and the worker to report in /api/health/', async () => {
      this.assertRunning();
      const response = await fetch(`${this.url}/api/health/`);
      const health = await response.json();
      return health.mqtt === 'connected' && health.worker === 'running';
    }, { timeoutMs: 30_000, intervalMs: 250 });
    await this.warmUp();
    return this;
  }

  /**
   * Django loads its URLs and views on a worker's first request: a few rounds of
   * parallel requests reach every gunicorn worker, so the browser measures a
   * running server rather than a cold start.
   */
  async warmUp() {
    const paths = ['/', '/api/devices/', '/api/stats/fleet/?window=5m', '/api/config/', '/api/health/', '/api/alerts/'];
    for (let round = 0; round < 3; round += 1) {
      await Promise.all([...paths, ...paths].map(async (path) => (await fetch(`${this.url}${path}`)).arrayBuffer()));
    }
  }

  /** Runs `manage.py ARGS` against the platform's database; fails with its log unless it exits 0. */
  manage(name, args, { env } = {}) {
    return this.run(name, [PYTHON, 'manage.py', ...args], { env });
  }

  /** A staff user (a superuser) who signs in at /admin/ with `password`. */
  createStaff(username, password) {
    return this.manage(`createsuperuser-${username}`, [
      'createsuperuser', '--noinput', '--username', username, '--email', `${username}@example.com`,
    ], { env: { DJANGO_SUPERUSER_PASSWORD: password } });
  }

  /** Fails with the log of any platform process that has died. */
  assertRunning() {
    for (const child of this.children) {
      if (['broker', 'web', 'ingest', 'worker'].includes(child.name) && !child.running) {
        throw new Error(`${child.name} exited with ${child.exitCode}:\n${child.output().slice(-3000)}`);
      }
    }
  }

  /** Starts simulator/simulator.py against the private broker with `args`. */
  simulator(args) {
    this.simulatorRuns += 1;
    return this.spawn(`simulator-${this.simulatorRuns}`, [
      PYTHON, join(REPO_DIR, 'simulator', 'simulator.py'), '--host', '127.0.0.1', '--port', String(this.brokerPort),
      ...args,
    ], { cwd: REPO_DIR });
  }

  /** The API's JSON at `path` (e.g. '/api/alerts/?alert_type=HIGH_TEMP'). */
  async api(path) {
    const response = await fetch(`${this.url}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return response.json();
  }

  /** The last lines of every log, for a failure report. */
  logs(lines = 30) {
    return this.children
      .map((child) => `--- ${child.name} (${child.running ? 'running' : `exited ${child.exitCode}`})\n` +
        child.output().split('\n').slice(-lines).join('\n'))
      .join('\n');
  }

  /** Stops every process (simulators first, the broker last); removes the files unless `keep`. */
  async stop({ keep = false } = {}) {
    const last = this.children.filter((child) => child.name === 'broker');
    const first = this.children.filter((child) => child.name !== 'broker');
    await Promise.all(first.map((child) => child.stop()));
    await Promise.all(last.map((child) => child.stop()));
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last resort when the test process is exiting: SIGKILL whatever still runs. */
  killAll() {
    for (const child of this.children) child.signal('SIGKILL');
  }
}
