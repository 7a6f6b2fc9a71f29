/**
 * The hub's heartbeat schedule, on an injected clock: connections opened together are pinged
 * spread over the half heartbeat, no tick pings more than its bound, every silent peer is still
 * pinged after heartbeatMs and dropped after twice it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatWheel, type HeartbeatPeer } from '../../src/core/broker/heartbeat-wheel.js';
import { Broker } from '../../src/core/broker/broker.js';
import { Kind } from '../../src/core/protocol/envelope.js';
import { type StallableTransport, openSession, tick } from '../helpers/recording-transport.js';

interface Peer extends HeartbeatPeer {
  seq: number;
  state: string;
  lastHeardAt: number;
}

function scenario(count: number, options: { heartbeatMs: number; tickMs: number; bound: number; seqStep?: number; answer?: boolean }) {
  let now = 0;
  const pingsPerTick: number[] = [];
  const pingedAt = new Map<number, number[]>();
  const lost: number[] = [];
  let pings = 0;
  const wheel = new HeartbeatWheel<Peer>(
    options.heartbeatMs,
    options.tickMs,
    options.bound,
    {
      ping: (s) => {
        pings++;
        pingedAt.set(s.seq, [...(pingedAt.get(s.seq) ?? []), now]);
        if (options.answer === true) s.lastHeardAt = now; // its PONG comes back at once
      },
      lost: (s) => {
        lost.push(s.seq);
        s.state = 'closed';
        wheel.delete(s);
      },
    },
    () => now,
  );
  // All opened in the same instant, as after a burst of connects.
  const peers: Peer[] = [];
  for (let i = 1; i <= count; i++) {
    const p = { seq: i * (options.seqStep ?? 1), state: 'open', lastHeardAt: 0 };
    peers.push(p);
    wheel.add(p);
  }
  const run = (ms: number, timerMs = wheel.tickMs): void => {
    const end = now + ms;
    while (now + timerMs <= end) {
      now += timerMs;
      pings = 0;
      wheel.tick();
      pingsPerTick.push(pings);
    }
  };
  return { wheel, peers, run, pingsPerTick, pingedAt, lost, clock: () => now };
}

describe('heartbeat wheel', () => {
  test('10,000 connections opened together are pinged spread over the half heartbeat, none forgotten', () => {
    const { wheel, run, pingsPerTick, pingedAt, lost } = scenario(10_000, { heartbeatMs: 20_000, tickMs: 100, bound: 256 });
    assert.equal(wheel.slots, 100);
    assert.equal(wheel.tickMs, 100);
    run(20_000);
    assert.equal(pingedAt.size, 0, 'nobody is pinged before heartbeatMs of silence');
    run(10_000);
    // Everyone silent for more than heartbeatMs was pinged within the next half heartbeat, once.
    assert.equal(pingedAt.size, 10_000);
    assert.ok([...pingedAt.values()].every((at) => at.length === 1));
    assert.ok(Math.max(...pingsPerTick) <= 100, `at most ${10_000 / 100} pings in a tick, saw ${Math.max(...pingsPerTick)}`);
    assert.deepEqual(lost, []);
  });

  test('a timer that fires late (a busy hub) still checks every peer each half heartbeat: none dropped unpinged', () => {
    const { run, pingsPerTick, pingedAt, lost } = scenario(10_000, { heartbeatMs: 20_000, tickMs: 100, bound: 256, answer: true });
    run(60_000, 700); // every timer 7 ticks late
    assert.deepEqual(lost, [], 'no answering peer is dropped');
    assert.equal(pingedAt.size, 10_000);
    assert.ok(
      [...pingedAt.values()].every((at) => (at[0] as number) > 20_000 && (at[0] as number) <= 31_000),
      'first pinged between heartbeatMs and 1.5 heartbeatMs of silence (plus the lag)',
    );
    assert.ok(Math.max(...pingsPerTick) <= 7 * 256, 'the bound holds per tick of time');
  });

  test('no tick pings more than its bound; the rest go out on the next ticks', () => {
    // Every peer in one slot (numbers all multiples of the slot count): the worst case for the wheel.
    const { run, pingsPerTick, pingedAt } = scenario(1_000, { heartbeatMs: 2_000, tickMs: 100, bound: 64, seqStep: 10, answer: true });
    run(2_000 + 1_800);
    assert.ok(Math.max(...pingsPerTick) <= 64, `bound held, saw ${Math.max(...pingsPerTick)}`);
    assert.equal(Math.max(...pingsPerTick), 64, 'the bound is reached');
    assert.equal(pingedAt.size, 1_000, 'every peer pinged, the last ones on later ticks');
    assert.ok(
      [...pingedAt.values()].every((at) => at.length === 1),
      'a peer waiting for its ping is not queued twice',
    );
  });

  test('a peer that answers is not pinged again until it is silent again; one that never answers is dropped after twice heartbeatMs', () => {
    const { peers, run, pingedAt, lost, clock } = scenario(2, { heartbeatMs: 1_000, tickMs: 50, bound: 10 });
    const [talker, mute] = peers as [Peer, Peer];
    for (let t = 0; t < 3_000; t += 100) {
      run(100);
      talker.lastHeardAt = clock();
    }
    assert.equal(pingedAt.get(talker.seq), undefined);
    assert.ok((pingedAt.get(mute.seq)?.length ?? 0) >= 1, 'the silent peer is pinged');
    assert.ok((pingedAt.get(mute.seq) ?? []).every((at) => at > 1_000 && at <= 2_000));
    assert.deepEqual(lost, [mute.seq]);
  });

  test('the broker pings connections opened together on different ticks', async (ctx) => {
    ctx.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
    try {
      // heartbeatMs 2000: the wheel checks one of 10 slots every 100 ms.
      const broker = new Broker({ heartbeatMs: 2_000 });
      const peers: StallableTransport[] = [];
      for (let i = 0; i < 50; i++) peers.push(await openSession(broker));
      const pinged = (): number => peers.filter((t) => t.received.some((e) => e.kind === Kind.PING)).length;
      ctx.mock.timers.tick(2_000);
      await tick();
      const perTick: number[] = [];
      let before = pinged();
      for (let i = 0; i < 10; i++) {
        ctx.mock.timers.tick(100);
        await tick();
        perTick.push(pinged() - before);
        before = pinged();
      }
      assert.equal(pinged(), 50, 'all pinged within a half heartbeat');
      assert.ok(Math.max(...perTick) <= 5, `spread: ${perTick.join(' ')}`);
      await broker.close(10);
    } finally {
      ctx.mock.timers.reset();
    }
  });
});
