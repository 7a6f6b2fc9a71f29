/**
 * Hostile and broken input against a real hub process: every bad connection gets a precise
 * ERROR frame (where the protocol allows one) and is closed, while well-behaved clients on the
 * same hub carry on undisturbed. Needs `npm run build` first.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bus } from '../../src/node/index.js';
import { encodeFrame, readFrames } from '../../src/core/protocol/codec.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import { OFF_FLAGS, OFF_KIND, OFF_VERSION } from '../../src/core/protocol/layout.js';
import { CrossbusError } from '../../src/core/errors/index.js';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.js';
import { openBus, closeBus } from '../helpers/buses.js';
import { RawClient, helloFrame, type CloseEvent, type ErrorPayload } from '../helpers/raw-ws.js';
import { until } from '../helpers/wait.js';
import { DEFAULT_FRAME_LIMITS, DEFAULT_MAX_FRAME_BYTES } from '../../src/core/defaults.js';

const T = { timeout: 20_000 };
const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_TOO_BIG = 1009;

let hub: HubProcess;
let alice: Bus;
let bob: Bus;
/** Background traffic between two good clients for the whole file. */
let sent = 0;
let received = 0;
let outOfOrder = 0;
let chatter: Promise<void> | undefined;
let stopChatter = false;

before(async () => {
  hub = await startHubProcess(['--insecure']);
  alice = await openBus(hub.url, { name: 'alice', reconnect: false });
  bob = await openBus(hub.url, { name: 'bob', reconnect: false });
  await bob.subscribe<number>('chat.alice', (m) => {
    if (m.data !== received) outOfOrder++;
    received++;
  }).ready;
  chatter = (async () => {
    while (!stopChatter) {
      await alice.publish('chat.alice', sent++);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
});

after(async () => {
  stopChatter = true;
  await chatter?.catch(() => {});
  await closeBus(alice);
  await closeBus(bob);
  await hub?.stop();
});

function publishFrame(topic = 'bad.t', data: unknown = { x: 1 }): Uint8Array {
  return encodeFrame(
    envelope(Kind.PUBLISH, { topic, payloadType: PayloadType.JSON, payload: new TextEncoder().encode(JSON.stringify(data)) }),
  );
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** xorshift32: deterministic "random" bytes. */
function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The code our own codec gives for a chunk (what the hub must answer with). */
function localCode(chunk: Uint8Array): string | undefined {
  try {
    readFrames(chunk, DEFAULT_FRAME_LIMITS, () => {});
    return undefined;
  } catch (e) {
    return e instanceof CrossbusError ? e.code : 'not a CrossbusError';
  }
}

interface Outcome {
  error: ErrorPayload | undefined;
  errors: ErrorPayload[];
  close: CloseEvent;
}

/**
 * Opens a raw connection (optionally completing the handshake first), sends `data` as one
 * WebSocket message, and waits for the hub to close it. Returns the ERROR it got and the close.
 */
async function sendBad(data: Uint8Array | string, options: { hello?: boolean; text?: boolean } = {}): Promise<Outcome> {
  const raw = options.hello ? await RawClient.handshake(hub.url, 'bad-actor') : await RawClient.connect(hub.url);
  try {
    // The hub may close while a big message is still being written: that is fine.
    await raw.send(data, { text: options.text ?? false }).catch(() => {});
    const close = await raw.waitForClose(5_000);
    const errors = raw.errors();
    assert.deepEqual(raw.decodeErrors, [], 'whatever the hub sent back is well formed');
    return { error: errors[0], errors, close };
  } finally {
    raw.terminate();
  }
}

function assertRejected(o: Outcome, code: string, closeCode: number): void {
  assert.ok(o.error, `an ERROR frame with ${code} (got close ${JSON.stringify(o.close)})`);
  assert.equal(o.error.code, code, `code (message: ${o.error.message})`);
  assert.equal(typeof o.error.message, 'string');
  assert.equal(o.error.retryable, false);
  assert.equal(o.errors.length, 1, 'exactly one ERROR');
  assert.equal(o.close.code, closeCode, `close code (reason ${o.close.reason})`);
  assert.equal(o.close.reason, code, 'the close reason names the code');
}

describe('bad input to a hub process', () => {
  test("(a) garbage: text 'hello world' -> CB_ERR_FRAME_TOO_LARGE (its first 4 bytes read as a huge length), closed", T, async () => {
    // 'hell' = 0x68656c6c = 1,751,477,356 bytes declared.
    assert.equal(localCode(new TextEncoder().encode('hello world')), 'CB_ERR_FRAME_TOO_LARGE');
    assertRejected(await sendBad('hello world', { text: true }), 'CB_ERR_FRAME_TOO_LARGE', CLOSE_TOO_BIG);
  });

  test('(a) garbage: the same bytes as a binary message', T, async () => {
    assertRejected(await sendBad(new TextEncoder().encode('hello world')), 'CB_ERR_FRAME_TOO_LARGE', CLOSE_TOO_BIG);
  });

  test("(a) garbage: pseudo-random binary is answered with the codec's own verdict", T, async () => {
    const framing = new Set([
      'CB_ERR_FRAME_TOO_LARGE',
      'CB_ERR_FRAME_TRUNCATED',
      'CB_ERR_FRAME_MALFORMED',
      'CB_ERR_UNSUPPORTED_VERSION',
      'CB_ERR_UNKNOWN_KIND',
    ]);
    for (const seed of [1, 42, 0xdeadbeef]) {
      const bytes = pseudoRandomBytes(64, seed);
      const expected = localCode(bytes);
      assert.ok(expected !== undefined && framing.has(expected), `seed ${seed}: ${expected}`);
      const o = await sendBad(bytes);
      assertRejected(o, expected, expected === 'CB_ERR_FRAME_TOO_LARGE' ? CLOSE_TOO_BIG : CLOSE_PROTOCOL_ERROR);
    }
    // Random bytes behind a plausible length prefix: decoded as a frame, refused as one.
    const body = pseudoRandomBytes(60, 7);
    const framed = concat(u32(body.length), body);
    const expected = localCode(framed)!;
    assert.ok(framing.has(expected), expected);
    assertRejected(await sendBad(framed), expected, CLOSE_PROTOCOL_ERROR);
  });

  test('(a) garbage: body shorter than the fixed header -> CB_ERR_FRAME_MALFORMED; 2 bytes -> CB_ERR_FRAME_TRUNCATED', T, async () => {
    assertRejected(await sendBad(new Uint8Array([0, 0, 0, 5, 1, 2, 3, 4, 5])), 'CB_ERR_FRAME_MALFORMED', CLOSE_PROTOCOL_ERROR);
    assertRejected(await sendBad(new Uint8Array([0, 0])), 'CB_ERR_FRAME_TRUNCATED', CLOSE_PROTOCOL_ERROR);
  });

  test('(b) truncated frame: length prefix says 100, 10 bytes follow -> CB_ERR_FRAME_TRUNCATED', T, async () => {
    const bytes = concat(u32(100), pseudoRandomBytes(10, 3));
    assertRejected(await sendBad(bytes), 'CB_ERR_FRAME_TRUNCATED', CLOSE_PROTOCOL_ERROR);
    // Same after the handshake.
    const valid = publishFrame();
    assertRejected(await sendBad(valid.subarray(0, valid.length - 3), { hello: true }), 'CB_ERR_FRAME_TRUNCATED', CLOSE_PROTOCOL_ERROR);
  });

  test('(c) oversize frame: maxFrameBytes+1 body bytes, all sent -> CB_ERR_FRAME_TOO_LARGE, close 1009', T, async () => {
    const size = DEFAULT_MAX_FRAME_BYTES + 1;
    const bytes = new Uint8Array(4 + size);
    new DataView(bytes.buffer).setUint32(0, size);
    bytes.set(publishFrame().subarray(4, 4 + 37), 4); // a plausible fixed header
    const o = await sendBad(bytes, { hello: true });
    assertRejected(o, 'CB_ERR_FRAME_TOO_LARGE', CLOSE_TOO_BIG);
    assert.equal(o.error!.details?.limit, DEFAULT_MAX_FRAME_BYTES);
    assert.equal(o.error!.details?.size, size);
  });

  test('(d) version byte 9 -> CB_ERR_UNSUPPORTED_VERSION', T, async () => {
    const bytes = publishFrame();
    bytes[OFF_VERSION] = 9;
    assertRejected(await sendBad(bytes, { hello: true }), 'CB_ERR_UNSUPPORTED_VERSION', CLOSE_PROTOCOL_ERROR);
    // Also as the very first frame.
    const hello = helloFrame('v9');
    hello[OFF_VERSION] = 9;
    assertRejected(await sendBad(hello), 'CB_ERR_UNSUPPORTED_VERSION', CLOSE_PROTOCOL_ERROR);
  });

  test('(d) a HELLO offering only protocol version 9 -> CB_ERR_UNSUPPORTED_VERSION', T, async () => {
    assertRejected(await sendBad(helloFrame('future', [9])), 'CB_ERR_UNSUPPORTED_VERSION', CLOSE_PROTOCOL_ERROR);
  });

  test('(e) unknown kind 200 -> CB_ERR_UNKNOWN_KIND', T, async () => {
    const bytes = publishFrame();
    bytes[OFF_KIND] = 200;
    assertRejected(await sendBad(bytes, { hello: true }), 'CB_ERR_UNKNOWN_KIND', CLOSE_PROTOCOL_ERROR);
  });

  test('(e) a kind a client may not send (MESSAGE) -> CB_ERR_PROTOCOL; reserved flag bits -> CB_ERR_FRAME_MALFORMED', T, async () => {
    const msg = publishFrame();
    msg[OFF_KIND] = Kind.MESSAGE;
    assertRejected(await sendBad(msg, { hello: true }), 'CB_ERR_PROTOCOL', CLOSE_PROTOCOL_ERROR);
    const flags = publishFrame();
    flags[OFF_FLAGS] = flags[OFF_FLAGS]! | 0x80;
    assertRejected(await sendBad(flags, { hello: true }), 'CB_ERR_FRAME_MALFORMED', CLOSE_PROTOCOL_ERROR);
    // A security block belongs to SEALED records only; the hub neither reads nor forwards one elsewhere.
    const secured = publishFrame();
    secured[OFF_FLAGS] = secured[OFF_FLAGS]! | 0x08;
    assertRejected(await sendBad(secured, { hello: true }), 'CB_ERR_FRAME_MALFORMED', CLOSE_PROTOCOL_ERROR);
  });

  test('(f) a valid PUBLISH before HELLO -> CB_ERR_HANDSHAKE_REQUIRED, and it is not routed', T, async () => {
    let leaked = 0;
    const s = bob.subscribe('prehello.t', () => void leaked++);
    await s.ready;
    try {
      assertRejected(await sendBad(publishFrame('prehello.t')), 'CB_ERR_HANDSHAKE_REQUIRED', CLOSE_PROTOCOL_ERROR);
      await alice.publish('prehello.t', 'marker');
      await until(() => leaked >= 1, 5_000, 'the marker');
      assert.equal(leaked, 1, 'only the marker arrived');
    } finally {
      s.unsubscribe();
    }
  });

  test('(f) a HELLO whose payload is not JSON -> CB_ERR_HANDSHAKE_FAILED', T, async () => {
    const bad = encodeFrame(envelope(Kind.HELLO, { payloadType: PayloadType.JSON, payload: new TextEncoder().encode('{not json') }));
    assertRejected(await sendBad(bad), 'CB_ERR_HANDSHAKE_FAILED', CLOSE_PROTOCOL_ERROR);
  });

  test('frames before a bad one in the same message are still processed', T, async () => {
    let got: unknown[] = [];
    const s = bob.subscribe('before.bad', (m) => void got.push(m.data));
    await s.ready;
    try {
      const bytes = concat(publishFrame('before.bad', 'first'), publishFrame('before.bad', 'second'), concat(u32(100), new Uint8Array(10)));
      assertRejected(await sendBad(bytes, { hello: true }), 'CB_ERR_FRAME_TRUNCATED', CLOSE_PROTOCOL_ERROR);
      await until(() => got.length === 2, 5_000, 'the two good frames');
      assert.deepEqual(got, ['first', 'second']);
    } finally {
      s.unsubscribe();
      got = [];
    }
  });

  test('(g) a WebSocket message far over maxPayload (3 MiB) -> closed with 1009', T, async () => {
    const o = await sendBad(new Uint8Array(3 * 1024 * 1024), { hello: true });
    assert.equal(o.close.code, CLOSE_TOO_BIG);
    // ws refuses the message itself before the hub sees it: no ERROR frame is possible.
    assert.deepEqual(o.errors, []);
  });

  test('after all that, the hub is alive and still serves everybody else', T, async () => {
    assert.equal(hub.alive(), true, 'the hub process is still running');
    // The background chatter never stopped.
    const before = received;
    await until(() => received > before + 5, 5_000, 'more background chatter');
    assert.equal(outOfOrder, 0, 'background messages arrived in order');
    assert.equal(alice.state, 'connected');
    assert.equal(bob.state, 'connected');
    // A fresh client pair round trip.
    const c1 = await openBus(hub.url, { name: 'late-1', reconnect: false });
    const c2 = await openBus(hub.url, { name: 'late-2', reconnect: false });
    try {
      const got: unknown[] = [];
      await c2.subscribe('final.check', (m) => void got.push(m.data)).ready;
      await c1.publish('final.check', { still: 'working' });
      await until(() => got.length === 1, 5_000, 'the final round trip');
      assert.deepEqual(got, [{ still: 'working' }]);
      await c2.serve('final.rpc', () => 'pong').ready;
      assert.equal(await c1.request('final.rpc', null, { timeoutMs: 2000 }), 'pong');
    } finally {
      await closeBus(c1);
      await closeBus(c2);
    }
    // The hub logged the protocol errors rather than dying on them.
    assert.match(hub.stderr(), /protocol error/);
    stopChatter = true;
    await chatter;
    await until(() => received === sent, 5_000, `all ${sent} background messages (have ${received})`);
  });
});
