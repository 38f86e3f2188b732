// Fault injection seen through amqplib: forced closes and a reconnect loop, refused
// connections, nacked publishes, delayed confirms and dropped acks.
'use strict';

const { test, before, beforeEach, after } = require('node:test');
const assert = require('node:assert/strict');
const { EventEmitter, once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const amqp = require('amqplib');
const { startBurrow } = require('..');

const RETRY_MS = 50;

// What an application does: hold one named connection and, when it is lost, dial again
// every RETRY_MS until it is back. Emits 'connected' (conn) and 'lost' (err).
class ReconnectingClient extends EventEmitter {
  constructor(url, name) {
    super();
    this.url = url;
    this.name = name;
    this.attempts = 0;
    this.conn = null;
    this.stopped = false;
  }

  async dial() {
    while (!this.stopped) {
      this.attempts++;
      try {
        this.conn = await amqp.connect(this.url,
                                       { clientProperties: { connection_name: this.name } });
      } catch {
        await sleep(RETRY_MS);
        continue;
      }
      if (this.stopped) return this.conn.close();
      this.conn.on('error', () => {}); // a 'close' with the reason always follows
      this.conn.once('close', (err) => {
        this.emit('lost', err);
        if (!this.stopped) this.dial();
      });
      this.emit('connected', this.conn);
      return this.conn;
    }
  }

  async close() {
    this.stopped = true;
    if (this.conn) await this.conn.close().catch(() => {});
  }
}

// Publishes on a confirm channel; resolves 'ack' or 'nack'.
function publishConfirmed(ch, queue, body) {
  return new Promise((resolve) => {
    ch.sendToQueue(queue, Buffer.from(body), {}, (err) => resolve(err ? 'nack' : 'ack'));
  });
}

// Connects, and closes the connection when test t ends, passed or failed.
async function connect(t, name) {
  const options = name ? { clientProperties: { connection_name: name } } : {};
  const conn = await amqp.connect(broker.url, options);
  conn.on('error', () => {}); // a 'close' with the reason follows; tests look at that
  t.after(() => conn.close().catch(() => {}));
  return conn;
}

// Starts a ReconnectingClient that stops when test t ends, passed or failed.
async function reconnectingClient(t, name) {
  const client = new ReconnectingClient(broker.url, name);
  t.after(() => client.close());
  await client.dial();
  return client;
}

let broker;
before(async () => {
  broker = await startBurrow();
});
beforeEach(async () => {
  await broker.reset();
});
after(async () => {
  await broker?.stop();
});

test('close_connections: the client sees 320, reconnects and carries on', async (t) => {
  const client = await reconnectingClient(t, 'orders-service');
  const bystander = await connect(t, 'audit');
  const lost = once(client, 'lost');
  const back = once(client, 'connected');

  assert.equal(await broker.closeConnections('orders-service'), 1);

  const [err] = await lost;
  assert.equal(err.code, 320);
  assert.match(err.message, /CONNECTION_FORCED - Closed via fault injection/);
  const [conn] = await back;
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('orders');
  assert.equal(await publishConfirmed(ch, 'orders', 'after-reconnect'), 'ack');
  const msg = await ch.get('orders', { noAck: true });
  assert.equal(msg.content.toString(), 'after-reconnect');
  // Only the named connection was closed.
  await (await bystander.createChannel()).checkQueue('orders');
});

test('close_connections without a client closes every connection', async (t) => {
  const a = await connect(t);
  const b = await connect(t);
  const closed = Promise.all([once(a, 'close'), once(b, 'close')]);
  assert.equal(await broker.closeConnections(), 2);
  for (const [err] of await closed) assert.equal(err.code, 320);
});

test('refuse_connections: connecting fails until the window has passed', async (t) => {
  assert.equal(await broker.fault({ fault: 'refuse_connections', ms: 300 }), null);
  await assert.rejects(connect(t));
  const client = await reconnectingClient(t, 'late-starter');
  t.diagnostic(`connected after ${client.attempts} attempt(s)`);
});

test('nack_publishes: the next publish is nacked and not routed, the one after is acked',
     async (t) => {
  const conn = await connect(t);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('payments');
  await broker.fault({ fault: 'nack_publishes', count: 1 });

  const outcomes = await Promise.all([publishConfirmed(ch, 'payments', 'p1'),
                                      publishConfirmed(ch, 'payments', 'p2')]);

  assert.deepEqual(outcomes, ['nack', 'ack']);
  assert.equal((await ch.checkQueue('payments')).messageCount, 1);
  assert.equal((await ch.get('payments', { noAck: true })).content.toString(), 'p2');
});

test('delay_confirms: a confirm waits the given real time, until cleared', async (t) => {
  const conn = await connect(t);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('slow');
  await broker.fault({ fault: 'delay_confirms', ms: 200 });

  let started = performance.now();
  assert.equal(await publishConfirmed(ch, 'slow', 's1'), 'ack');
  const delayed = performance.now() - started;
  await broker.clearFaults();
  started = performance.now();
  assert.equal(await publishConfirmed(ch, 'slow', 's2'), 'ack');
  const cleared = performance.now() - started;

  t.diagnostic(`confirm took ${delayed.toFixed(1)} ms delayed, ${cleared.toFixed(1)} ms cleared`);
  assert.ok(delayed >= 195, `a 200 ms delay_confirms confirmed after ${delayed} ms`);
});

test('drop_acks: an acked delivery comes back redelivered, as if the consumer crashed',
     async (t) => {
  const conn = await connect(t);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('jobs');
  assert.equal(await publishConfirmed(ch, 'jobs', 'job-1'), 'ack');
  await broker.fault({ fault: 'drop_acks', count: 1 });

  const deliveries = [];
  const twice = new Promise((resolve) => {
    ch.consume('jobs', (msg) => {
      deliveries.push(msg);
      ch.ack(msg);
      if (deliveries.length === 2) resolve();
    });
  });
  await twice;

  assert.deepEqual(deliveries.map((m) => [m.content.toString(), m.fields.redelivered]),
                   [['job-1', false], ['job-1', true]]);
  // The second ack counted: nothing is left (a get after the ack on one channel is ordered).
  await ch.cancel(deliveries[0].fields.consumerTag);
  assert.equal(await ch.get('jobs'), false);
});

test('clearFaults() and reset() disarm faults', async (t) => {
  const publishOnce = async () => {
    const conn = await connect(t);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('q');
    return publishConfirmed(ch, 'q', 'm');
  };
  await broker.fault({ fault: 'nack_publishes', count: 5 });
  await broker.clearFaults();
  assert.equal(await publishOnce(), 'ack');
  await broker.fault({ fault: 'nack_publishes', count: 5 });
  await broker.reset();
  assert.equal(await publishOnce(), 'ack');
});
