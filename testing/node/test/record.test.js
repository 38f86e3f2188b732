// Recording (burrowd --record) through amqplib: what the code under test published, where it
// went and what it carried, without a consumer in the test.
'use strict';

const { test, before, beforeEach, after } = require('node:test');
const assert = require('node:assert/strict');
const amqp = require('amqplib');
const { startBurrow } = require('..');

let broker;
let conn;
let ch;
before(async () => {
  broker = await startBurrow({ record: true });
});
beforeEach(async () => {
  await broker.reset();
  conn = await amqp.connect(broker.url);
  ch = await conn.createConfirmChannel();
  await ch.assertExchange('orders', 'topic');
  for (const q of ['billing', 'shipping', 'audit']) await ch.assertQueue(q);
  await ch.bindQueue('billing', 'orders', 'order.*');
  await ch.bindQueue('shipping', 'orders', 'order.created');
});
after(async () => {
  await conn?.close().catch(() => {});
  await broker?.stop();
});

test('published() shows exchange, routing key, body, properties and queues reached',
     async () => {
  ch.publish('orders', 'order.created', Buffer.from('{"id":7}'),
             { contentType: 'application/json', headers: { tenant: 'acme' } });
  ch.publish('orders', 'order.cancelled', Buffer.from('{"id":8}'));
  ch.publish('orders', 'invoice.sent', Buffer.from('unroutable'));
  await ch.waitForConfirms();

  const published = await broker.published();

  assert.deepEqual(published.map((m) => [m.vhost, m.exchange, m.routing_key, m.body.toString(),
                                         [...m.queues].sort()]),
                   [['/', 'orders', 'order.created', '{"id":7}', ['billing', 'shipping']],
                    ['/', 'orders', 'order.cancelled', '{"id":8}', ['billing']],
                    ['/', 'orders', 'invoice.sent', 'unroutable', []]]);
  assert.equal(published[0].properties.content_type, 'application/json');
  assert.deepEqual(published[0].properties.headers, { tenant: 'acme' });
  assert.equal(typeof published[0].published_at, 'number');
});

test('published() filters by routing key and exchange', async () => {
  ch.sendToQueue('audit', Buffer.from('direct'));
  ch.publish('orders', 'order.created', Buffer.from('o1'));
  await ch.waitForConfirms();

  const created = await broker.published({ routing_key: 'order.created' });
  assert.deepEqual(created.map((m) => m.body.toString()), ['o1']);
  const viaDefault = await broker.published({ exchange: '' });
  assert.deepEqual(viaDefault.map((m) => [m.routing_key, m.queues]), [['audit', ['audit']]]);
});

test('a binary body comes back byte for byte', async () => {
  const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
  ch.sendToQueue('audit', bytes);
  await ch.waitForConfirms();
  const [m] = await broker.published();
  assert.deepEqual(m.body, bytes);
});

test('clearPublished() and reset() forget the recording', async () => {
  ch.sendToQueue('audit', Buffer.from('one'));
  await ch.waitForConfirms();
  assert.equal((await broker.published()).length, 1);
  await broker.clearPublished();
  assert.deepEqual(await broker.published(), []);

  ch.sendToQueue('audit', Buffer.from('two'));
  await ch.waitForConfirms();
  await broker.reset();
  assert.deepEqual(await broker.published(), []);
});
