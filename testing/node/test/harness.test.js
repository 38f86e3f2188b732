// The helper itself: how it starts, stops and fails, whatever the broker's features.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const amqp = require('amqplib');
const { startBurrow } = require('..');

let shared; // for the tests that need a running broker but not their own
before(async () => {
  shared = await startBurrow();
});
after(async () => {
  await shared?.stop();
});

test('startBurrow() gives an AMQP and an HTTP URL on ephemeral ports; stop() exits 0',
     async () => {
  const broker = await startBurrow();
  assert.match(broker.url, /^amqp:\/\/127\.0\.0\.1:\d+$/);
  assert.match(broker.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const { body } = await broker.api('GET', '/api/burrow/clock');
  assert.equal(body.mode, 'manual');
  assert.equal(await broker.stop(), 0);
  assert.equal(await broker.stop(), 0, 'a second stop() is harmless');
});

test('stop() closes open connections with 320 first, as RabbitMQ\'s shutdown does', async () => {
  const broker = await startBurrow();
  const conn = await amqp.connect(broker.url);
  const errors = [];
  conn.on('error', (err) => errors.push(err)); // a dropped socket would come here
  const closed = new Promise((resolve) => conn.once('close', resolve));
  await broker.stop();
  assert.equal((await closed).code, 320);
  assert.deepEqual(errors, []);
});

test('{clock: \'system\'} runs on real time for suites that sleep through TTLs', async () => {
  const broker = await startBurrow({ clock: 'system', logLevel: 'error' });
  try {
    assert.equal((await broker.api('GET', '/api/burrow/clock')).body.mode, 'system');
    await assert.rejects(broker.advance(1000), (err) => err.status === 400);
  } finally {
    await broker.stop();
  }
});

test('a missing binary fails with a message naming BURROWD', async () => {
  await assert.rejects(startBurrow({ burrowd: '/nonexistent/burrowd' }), /ENOENT.*BURROWD/);
});

test('a bad argument fails with burrowd\'s stderr in the message', async () => {
  await assert.rejects(startBurrow({ extraArgs: ['--no-such-flag'] }),
                       /exited .* before it was ready[\s\S]*stderr/);
});

test('advance() refuses a negative or fractional duration', async () => {
  await assert.rejects(shared.advance(-1), TypeError);
  await assert.rejects(shared.advance(1.5), TypeError);
});

test('published() without --record rejects with 400 and says why', async () => {
  await assert.rejects(shared.published(), (err) => err.status === 400 &&
                                                   /start burrowd with --record/.test(err.message));
});
