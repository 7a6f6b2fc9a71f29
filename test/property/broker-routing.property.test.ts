import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Broker } from '../../src/core/broker/broker.js';
import { Kind, PayloadType, envelope } from '../../src/core/protocol/envelope.js';
import { patternMatches } from '../../src/core/routing/pattern-match.js';
import { openSession, tick, type StallableTransport } from '../helpers/recording-transport.js';

/**
 * The broker against a model: after any sequence of subscribes, unsubscribes and publishes from
 * several connections, every publish reaches each matching plain subscription exactly once and
 * exactly one member of each matching group, and nothing else.
 */
const seed = Number(process.env.FC_SEED ?? 20261122);
const token = fc.constantFrom('a', 'b', 'c');
const topic = fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => t.join('.'));
const pattern = fc
  .array(fc.constantFrom('a', 'b', 'c', '*'), { minLength: 1, maxLength: 3 })
  .chain((t) => fc.boolean().map((gt) => (gt ? [...t.slice(0, -1), '>'] : t).join('.')));

type Op =
  | { op: 'sub'; conn: number; pattern: string; group: string | undefined }
  | { op: 'unsub'; conn: number; pick: number }
  | { op: 'pub'; conn: number; topic: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('sub' as const),
    conn: fc.nat(2),
    pattern,
    group: fc.option(fc.constantFrom('g1', 'g2'), { nil: undefined }),
  }),
  fc.record({ op: fc.constant('unsub' as const), conn: fc.nat(2), pick: fc.nat() }),
  fc.record({ op: fc.constant('pub' as const), conn: fc.nat(2), topic }),
);

test(`broker routing equals the model for any sequence of operations (seed ${seed})`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const broker = new Broker({ heartbeatMs: 0 });
      const conns: StallableTransport[] = [];
      for (let i = 0; i < 3; i++) conns.push(await openSession(broker));
      const live = new Map<string, { conn: number; sid: number; pattern: string; group: string | undefined }>();
      let nextSid = 1;
      let msgId = 0;
      for (const o of ops) {
        if (o.op === 'sub') {
          const sid = nextSid++;
          conns[o.conn]!.inject(envelope(Kind.SUBSCRIBE, { id: sid, sid, topic: o.pattern, group: o.group ?? '' }));
          live.set(`${o.conn}:${sid}`, { conn: o.conn, sid, pattern: o.pattern, group: o.group });
        } else if (o.op === 'unsub') {
          const mine = [...live.entries()].filter(([, s]) => s.conn === o.conn);
          if (mine.length === 0) continue;
          const [key, s] = mine[o.pick % mine.length]!;
          conns[o.conn]!.inject(envelope(Kind.UNSUBSCRIBE, { sid: s.sid }));
          live.delete(key);
        } else {
          const id = ++msgId;
          for (const c of conns) c.received.length = 0;
          conns[o.conn]!.inject(envelope(Kind.PUBLISH, { topic: o.topic, payloadType: PayloadType.BYTES, payload: new Uint8Array([id]) }));
          await tick();
          const got = conns.flatMap((c, ci) => c.received.filter((e) => e.kind === Kind.MESSAGE).map((e) => `${ci}:${e.sid}`));
          const matching = [...live.entries()].filter(([, s]) => patternMatches(s.pattern, o.topic));
          const plain = matching
            .filter(([, s]) => s.group === undefined)
            .map(([k]) => k)
            .sort();
          const groups = new Set(matching.filter(([, s]) => s.group !== undefined).map(([, s]) => s.group));
          const gotPlain = got.filter((k) => live.get(k)?.group === undefined).sort();
          assert.deepEqual(gotPlain, plain, `plain deliveries for ${o.topic}`);
          for (const g of groups) {
            const members = matching.filter(([, s]) => s.group === g).map(([k]) => k);
            const hits = got.filter((k) => members.includes(k));
            assert.equal(hits.length, 1, `group ${g} for ${o.topic}: ${hits.join(',')}`);
          }
          assert.equal(got.length, plain.length + groups.size, 'nothing else was delivered');
        }
      }
      await broker.close(1);
    }),
    { seed, numRuns: 150 },
  );
});
