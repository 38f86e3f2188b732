// The manual clock and reset through amqplib: a 60 s TTL dead-letters in no real time, and
// reset() leaves nothing of the previous test behind.
'use strict';

const { test, before, beforeEach, after } = require('node:test');
const assert = require('node:assert/strict');
const amqp = require('amqplib');
const { startBurrow } = require('..');

// Connects, and closes the connection when test t ends, passed or failed.
async function connect(t) {
  const conn = await amqp.connect(broker.url);
  t.after(() => conn.close().catch(() => {}));
  return conn;
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

test('a 60 s message TTL dead-letters with x-death after advance(61000)', async (t) => {
  const started = process.hrtime.bigint();
  const conn = await connect(t);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange('orders.dlx', 'fanout');
  await ch.assertQueue('orders.dlq');
  await ch.bindQueue('orders.dlq', 'orders.dlx', '');
  await ch.assertQueue('orders', {
    arguments: { 'x-message-ttl': 60000, 'x-dead-letter-exchange': 'orders.dlx' },
  });
  // Confirmed, so the message is in its queue and its 60 s have started before the clock moves.
  ch.sendToQueue('orders', Buffer.from('order-1'));
  await ch.waitForConfirms();
  const before = await broker.now();

  assert.equal(await broker.advance(61000), before + 61000);

  assert.equal((await ch.checkQueue('orders')).messageCount, 0);
  const msg = await ch.get('orders.dlq', { noAck: true });
  assert.ok(msg, 'the expired message reached the dead-letter queue');
  assert.equal(msg.content.toString(), 'order-1');
  const [death] = msg.properties.headers['x-death'];
  assert.equal(death.count, 1);
  assert.equal(death.reason, 'expired');
  assert.equal(death.queue, 'orders');
  assert.equal(death.exchange, '');
  assert.deepEqual(death['routing-keys'], ['orders']);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.diagnostic(`60 s TTL dead-lettered in ${ms.toFixed(1)} ms of real time`);
});

test('reset() between tests: the previous test\'s queue is gone (404)', async (t) => {
  const conn = await connect(t);
  const ch = await conn.createChannel();
  const closed = new Promise((resolve) => ch.once('close', resolve));
  ch.on('error', () => {}); // the 404 below closes the channel; checkQueue reports it
  await assert.rejects(ch.checkQueue('orders'), (err) => err.code === 404);
  await closed;
});

test('reset() closes open connections with 320', async (t) => {
  const conn = await connect(t);
  const closed = new Promise((resolve) => conn.once('close', resolve));
  await broker.reset();
  const err = await closed;
  assert.equal(err.code, 320);
});
