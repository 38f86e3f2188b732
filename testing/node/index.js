// burrow-testing: starts burrowd as a RabbitMQ test double for a Node test suite and drives
// its test controls (manual clock, reset, recording, fault injection) over its HTTP API.
// The contract is docs/testing.md; only node's own child_process and http are used.
'use strict';

const { spawn } = require('node:child_process');
const http = require('node:http');

const READY_LINE = /^burrowd listening on (amqp:\/\/\S+).*?(http:\/\/\S+)/;
const STDERR_KEPT = 8192; // bytes of burrowd's stderr quoted when it fails to start

// Brokers still running; killed if the test process exits without stopping them.
const running = new Set();
let exitHooksInstalled = false;

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' runs for a normal end, process.exit() and an uncaught exception; only synchronous
  // work is possible there, so the brokers get SIGKILL (in-memory: nothing to lose).
  process.on('exit', () => {
    for (const b of running) b.process.kill('SIGKILL');
  });
  // A fatal signal ends node without 'exit'. Take it only when nobody else handles it, kill
  // the brokers, then re-raise it so the process still dies the way it would have.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      for (const b of running) b.process.kill('SIGKILL');
      process.kill(process.pid, signal);
    });
  }
}

/**
 * One burrowd process. Not shared between test processes; its methods may be called
 * concurrently (each is one HTTP request), but a test usually awaits each in turn.
 */
class Burrow {
  constructor(child, url, httpUrl, stderr) {
    /** The child process. */
    this.process = child;
    /** AMQP URL of the broker, e.g. amqp://127.0.0.1:41234 (user guest/guest, vhost /). */
    this.url = url;
    /** Management API base URL, e.g. http://127.0.0.1:39871 (basic auth guest/guest). */
    this.httpUrl = httpUrl;
    this._stderr = stderr;
    this._exited = new Promise((resolve) => child.once('exit', resolve));
  }

  /**
   * Calls the management API with guest/guest. body (if given) is sent as JSON; the request
   * fails after timeoutMs (default 10000). Resolves {status, body} with body parsed from JSON (null when empty); rejects on a
   * status outside 2xx with an Error carrying .status and .body, or on a network error.
   */
  api(method, path, body, { timeoutMs = 10000 } = {}) {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const target = new URL(path, this.httpUrl);
    return new Promise((resolve, reject) => {
      const req = http.request(target, {
        method,
        auth: 'guest:guest',
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': payload.length }
          : {},
        timeout: timeoutMs,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            parsed = text;
          }
          if (res.statusCode >= 200 && res.statusCode < 300) {
            resolve({ status: res.statusCode, body: parsed });
            return;
          }
          const reason = parsed && parsed.reason ? parsed.reason : text;
          const err = new Error(`burrowd: ${method} ${path} -> ${res.statusCode} ${reason}`);
          err.status = res.statusCode;
          err.body = parsed;
          reject(err);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`burrowd: ${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Resolves the broker's clock, in ms since the epoch. */
  async now() {
    return (await this.api('GET', '/api/burrow/clock')).body.now_ms;
  }

  /**
   * Moves the manual clock forward by ms (a non-negative integer) and resolves the new
   * now_ms. Every TTL, x-expires, delayed message and consumer timeout that falls due fires,
   * in due order, before it resolves. Publish with confirms first (or make any synchronous
   * call on the channel) so the message is in its queue before the clock moves.
   */
  async advance(ms) {
    if (!Number.isInteger(ms) || ms < 0) {
      throw new TypeError(`advance(ms): ms must be a non-negative integer, got ${ms}`);
    }
    return (await this.api('POST', '/api/burrow/clock/advance', { ms })).body.now_ms;
  }

  /**
   * Returns the broker to the state of a fresh start: every connection closed (320
   * CONNECTION_FORCED), every queue, message, exchange, binding, non-default vhost and user
   * deleted, faults and recording cleared. The clock is not moved back.
   */
  async reset(options) {
    await this.api('POST', '/api/burrow/reset', undefined, options);
  }

  /**
   * Resolves what was published since the start, the last reset or clearPublished(), oldest
   * first: {vhost, exchange, routing_key, properties, payload, payload_encoding, queues,
   * published_at}, plus body, the payload as a Buffer. filter may hold vhost, exchange and
   * routing_key. Rejects with status 400 unless started with {record: true}.
   */
  async published(filter = {}) {
    const query = new URLSearchParams(filter).toString();
    const { body } = await this.api('GET', '/api/burrow/published' + (query ? '?' + query : ''));
    return body.map((m) => ({
      ...m,
      body: Buffer.from(m.payload, m.payload_encoding === 'base64' ? 'base64' : 'utf8'),
    }));
  }

  /** Forgets what was recorded so far. */
  async clearPublished() {
    await this.api('DELETE', '/api/burrow/published');
  }

  /**
   * Injects one fault, e.g. {fault: 'nack_publishes', count: 1}; see docs/testing.md for
   * close_connections, refuse_connections, nack_publishes, delay_confirms and drop_acks.
   * Resolves the response body (null for 204). Rejects with status 400 on an unknown fault.
   */
  async fault(spec) {
    return (await this.api('POST', '/api/burrow/faults', spec)).body;
  }

  /** Resolves the faults currently armed. */
  async faults() {
    return (await this.api('GET', '/api/burrow/faults')).body;
  }

  /** Clears every armed fault. */
  async clearFaults() {
    await this.api('DELETE', '/api/burrow/faults');
  }

  /**
   * Closes every AMQP connection with 320 CONNECTION_FORCED, or only those whose name or
   * client-provided connection_name equals client. Resolves how many were closed.
   */
  async closeConnections(client) {
    const spec = { fault: 'close_connections' };
    if (client !== undefined) spec.client = client;
    return (await this.fault(spec)).closed;
  }

  /**
   * Stops the broker: SIGTERM, upon which burrowd closes every connection with 320
   * CONNECTION_FORCED (as RabbitMQ does when it shuts down), then SIGKILL if it has not exited
   * within 5 s. Resolves its exit code (null if killed by a signal). Safe to call twice.
   */
  async stop() {
    running.delete(this);
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
      await this._exited;
      clearTimeout(timer);
    }
    return this.process.exitCode;
  }

  /** burrowd's stderr so far (its last STDERR_KEPT bytes), for a failing test's message. */
  stderr() {
    return this._stderr.text;
  }
}

/**
 * Starts burrowd with --in-memory --port 0 --http-port 0 --clock manual --log-level warn and
 * resolves a Burrow once it prints its ready line.
 *
 * options.record     also pass --record, so published() works. Default: false.
 * options.clock      'manual', or 'system' for a suite that waits for TTLs in real time
 *                    (advance() then fails with 400). Default: 'manual'.
 * options.logLevel   burrowd's --log-level; its stderr is kept for stderr(). Default: 'warn'.
 * options.extraArgs  more burrowd arguments, appended last; none of the flags above, which
 *                    burrowd refuses twice. Default: [].
 * options.burrowd    path of the binary. Default: $BURROWD, else `burrowd` on PATH.
 * options.timeoutMs  how long to wait for the ready line. Default: 10000.
 *
 * Rejects if the binary cannot be started, exits early or prints no ready line in time; the
 * error quotes its stderr. The broker is killed when the test process exits, even without
 * stop(), and does not keep node's event loop alive.
 */
function startBurrow(options = {}) {
  const {
    record = false,
    clock = 'manual',
    logLevel = 'warn',
    extraArgs = [],
    burrowd = process.env.BURROWD || 'burrowd',
    timeoutMs = 10000,
  } = options;
  const args = ['--in-memory', '--port', '0', '--http-port', '0', '--clock', clock,
                '--log-level', logLevel];
  if (record) args.push('--record');
  args.push(...extraArgs);

  installExitHooks();
  const child = spawn(burrowd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = { text: '' };
  child.stderr.on('data', (chunk) => {
    stderr.text = (stderr.text + chunk).slice(-STDERR_KEPT);
  });

  return new Promise((resolve, reject) => {
    let stdout = '';
    const fail = (why) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      const hint = why.includes('ENOENT') ? ' (set BURROWD to the burrowd binary)' : '';
      reject(new Error(`burrowd (${burrowd} ${args.join(' ')}): ${why}${hint}` +
                       (stderr.text ? `\n--- stderr ---\n${stderr.text}` : '')));
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited (${signal || code}) before it was ready`));
    child.stdout.on('data', function onData(chunk) {
      stdout += chunk;
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n')) return;
      const m = READY_LINE.exec(line);
      if (!m) return fail(`unexpected first line: ${line}`);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      child.stdout.removeListener('data', onData);
      child.stdout.resume(); // keep draining whatever else it prints
      // The broker must not keep the test process alive; the exit hook kills it.
      child.unref();
      child.stdout.unref();
      child.stderr.unref();
      const broker = new Burrow(child, m[1], m[2], stderr);
      running.add(broker);
      resolve(broker);
    });
  });
}

module.exports = { startBurrow, Burrow };
