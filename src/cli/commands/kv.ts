/**
 * `crossbus kv ls|info|add|rm|get|put|create|update|del|purge|keys|history|watch`: key-value
 * buckets through a client connection, as `bus.kv` gives them. Values are typed as `crossbus pub`
 * takes data (JSON when it parses, else text). Exit codes: 0 ok, 1 the hub refused or the key has
 * no value, 2 usage error.
 */
import type { KvApi, KvBucketOptions, KvEntry } from '../../client/kv/index.js';
import { defineOptions, pickOptions, type OptionValues } from '../options.js';
import { parseData, payloadJson, payloadText } from '../payload-json.js';
import { parseDuration, parseSize } from './stream-config-flags.js';
import { CONNECTION_OPTIONS, optionSections, parseSubcommand, withClient, type StreamIo, type Subcommand } from './streams.js';
import type { ClientFlags } from '../client-connection.js';
import { StreamUsageError, formatBytes, formatMs, isoTime, parseSeqFlag, printable, table } from './streams-format.js';

/** What the kv command needs from a connection: the real Bus from connect(), or a test's. */
export interface KvClient {
  kv: KvApi;
  close(): Promise<void>;
}

export type OpenKvClient = (flags: ClientFlags) => Promise<KvClient>;

const KV_OPTIONS = defineOptions({
  json: { type: 'boolean', description: 'print JSON' },
  yes: { type: 'boolean', description: 'confirm rm (required)' },
  history: { type: 'string', description: 'add: values kept per key, 1 to 64', default: '1' },
  ttl: { type: 'string', description: 'add: a value expires this long after it was written (30s, 10m, 1h)', default: 'never' },
  'max-bytes': { type: 'string', description: 'add: most bytes of values kept (1048576, 512KiB, 1GiB)', default: 'unlimited' },
  durability: { type: 'string', description: "add: 'fsync' or 'interval'", default: 'fsync' },
  revision: { type: 'string', description: 'update (required), del, purge: only when this is the newest revision' },
  pattern: { type: 'string', description: 'keys, watch: keys matching this pattern (* one token, > the rest)', default: '>' },
  'include-history': { type: 'boolean', description: 'watch: start with every revision kept, not the newest of each key' },
  'updates-only': { type: 'boolean', description: 'watch: start with nothing, only new writes' },
  count: { type: 'string', description: 'watch: stop after this many entries', default: 'until interrupted' },
});

export const KV_HELP = `Usage:
  crossbus kv ls [--json]                          the buckets
  crossbus kv info <bucket> [--json]               a bucket's settings and size
  crossbus kv add <bucket> [--history 1] [--ttl 10m] [--max-bytes 1GiB]
                                                   create a bucket (idempotent for the same settings)
  crossbus kv rm <bucket> --yes                    delete a bucket and every value in it
  crossbus kv get <bucket> <key> [--json]          the value of a key (exit 1 when it has none)
  crossbus kv put <bucket> <key> <value>           set a key; prints the revision
  crossbus kv create <bucket> <key> <value>        set a key only when it has no value
  crossbus kv update <bucket> <key> <value> --revision N
                                                   set a key only when N is its newest revision
  crossbus kv del <bucket> <key> [--revision N]    delete a key (its history stays)
  crossbus kv purge <bucket> <key> [--revision N]  delete a key and its history
  crossbus kv keys <bucket> [--pattern 'a.*'] [--json]
  crossbus kv history <bucket> <key> [--json]      every revision kept, oldest first
  crossbus kv watch <bucket> [--pattern p] [--include-history|--updates-only] [--count N]
                                                   print entries as they are written (JSON lines)

A value is JSON when it parses as JSON, else text: 5 is a number, '"5"' a string, hello a string.

${optionSections(KV_OPTIONS)}`;

const B = '<bucket>';
const BK = '<bucket> <key>';
const BKV = '<bucket> <key> <value>';
const conn = CONNECTION_OPTIONS;
const only = (...names: Array<keyof typeof KV_OPTIONS>) => ({ ...pickOptions(KV_OPTIONS, names), ...conn });
const KV_SUBS: Record<string, Subcommand> = {
  ls: { args: 0, options: only('json') },
  info: { args: 1, argsUsage: B, options: only('json') },
  add: { args: 1, argsUsage: B, options: only('json', 'history', 'ttl', 'max-bytes', 'durability') },
  rm: { args: 1, argsUsage: B, options: only('yes') },
  get: { args: 2, argsUsage: BK, options: only('json') },
  put: { args: 3, argsUsage: BKV, options: only() },
  create: { args: 3, argsUsage: BKV, options: only() },
  update: { args: 3, argsUsage: BKV, options: only('revision') },
  del: { args: 2, argsUsage: BK, options: only('revision') },
  purge: { args: 2, argsUsage: BK, options: only('revision') },
  keys: { args: 1, argsUsage: B, options: only('json', 'pattern') },
  history: { args: 2, argsUsage: BK, options: only('json') },
  watch: { args: 1, argsUsage: B, options: only('pattern', 'include-history', 'updates-only', 'count') },
};

type Values = OptionValues<typeof KV_OPTIONS> & OptionValues<typeof CONNECTION_OPTIONS>;

export async function kvCommand(args: string[], io: StreamIo, open: OpenKvClient): Promise<number> {
  const p = parseSubcommand('kv', args, KV_SUBS, KV_HELP, io);
  if (typeof p === 'number') return p;
  const v = p.values as Values;
  const [bucket, key, value] = p.positionals as [string, string, string];
  return withClient('kv', v, open, io, async ({ kv }) => {
    const revision = parseSeqFlag('revision', v.revision, 0);
    switch (p.sub) {
      case 'ls': {
        const list = await kv.list();
        if (v.json) io.stdout(`${JSON.stringify(list)}\n`);
        else {
          const rows = list.map((b) => [
            b.bucket,
            String(b.history),
            b.ttlMs === undefined ? '-' : formatMs(b.ttlMs),
            String(b.values),
            formatBytes(b.bytes),
          ]);
          io.stdout(
            rows.length === 0
              ? 'no buckets\n'
              : `${table(['BUCKET', 'HISTORY', 'TTL', 'VALUES', 'BYTES'], rows, [false, true, true, true, true])}\n`,
          );
        }
        return 0;
      }
      case 'info':
      case 'add': {
        const b = p.sub === 'add' ? await kv.bucket(bucket, bucketOptions(v)) : await kv.bucket(bucket);
        const s = await b.status();
        if (v.json) io.stdout(`${JSON.stringify(s)}\n`);
        else {
          const ttl = s.ttlMs === undefined ? 'never' : formatMs(s.ttlMs);
          const max = s.maxBytes === undefined ? 'unlimited' : formatBytes(s.maxBytes);
          io.stdout(
            `bucket ${s.bucket} (stream ${s.stream})\n  history ${s.history} per key, ttl ${ttl}, max ${max}, durability ${s.durability}\n  ${s.values} revisions, ${formatBytes(s.bytes)}\n`,
          );
        }
        return 0;
      }
      case 'rm':
        if (!v.yes) throw new StreamUsageError(`kv rm deletes every value of ${bucket}: add --yes to confirm`);
        await kv.delete(bucket);
        io.stdout(`deleted bucket ${bucket}\n`);
        return 0;
      case 'get': {
        const e = await (await kv.bucket(bucket)).get(key);
        if (e === undefined) {
          io.stderr(`crossbus: ${bucket} has no value for ${printable(key)}\n`);
          return 1;
        }
        io.stdout(v.json ? `${entryJson(e)}\n` : `${payloadText(e.value)}\n`);
        return 0;
      }
      case 'put':
      case 'create':
      case 'update': {
        const b = await kv.bucket(bucket);
        const data = parseData(value);
        let rev: number;
        if (p.sub === 'put') rev = await b.put(key, data);
        else if (p.sub === 'create') rev = await b.create(key, data);
        else {
          if (revision === undefined) throw new StreamUsageError('kv update needs --revision N (the revision it replaces)');
          rev = await b.update(key, data, revision);
        }
        io.stdout(`${rev}\n`);
        return 0;
      }
      case 'del':
      case 'purge': {
        const b = await kv.bucket(bucket);
        const options = revision === undefined ? {} : { revision };
        io.stdout(`${p.sub === 'del' ? await b.delete(key, options) : await b.purge(key, options)}\n`);
        return 0;
      }
      case 'keys': {
        const keys = await (await kv.bucket(bucket)).keys(v.pattern ?? '>');
        io.stdout(v.json ? `${JSON.stringify(keys)}\n` : keys.map((k) => `${printable(k)}\n`).join(''));
        return 0;
      }
      case 'history': {
        const entries = await (await kv.bucket(bucket)).history(key);
        if (v.json) io.stdout(`${JSON.stringify(entries.map(entryObject))}\n`);
        else {
          const rows = entries.map((e) => [String(e.revision), isoTime(e.time), e.operation, printable(payloadText(e.value))]);
          io.stdout(`${table(['REVISION', 'TIME', 'OP', 'VALUE'], rows, [true])}\n`);
        }
        return 0;
      }
      case 'watch':
        return watch(kv, bucket, v, io);
      default:
        return 2;
    }
  });
}

async function watch(kv: KvApi, bucket: string, v: Values, io: StreamIo): Promise<number> {
  if (v['include-history'] && v['updates-only']) throw new StreamUsageError('--include-history and --updates-only exclude each other');
  const count = v.count === undefined ? Number.POSITIVE_INFINITY : (parseSeqFlag('count', v.count, 1) as number);
  const w = (await kv.bucket(bucket)).watch(v.pattern ?? '>', {
    includeHistory: v['include-history'] === true,
    updatesOnly: v['updates-only'] === true,
  });
  await w.ready;
  const stop = (): void => w.stop();
  process.once('SIGINT', stop);
  try {
    let n = 0;
    for await (const e of w) {
      io.stdout(`${entryJson(e)}\n`);
      await io.drain?.();
      if (++n >= count) break;
    }
  } finally {
    process.off('SIGINT', stop);
    w.stop();
  }
  return 0;
}

function bucketOptions(v: Values): KvBucketOptions {
  const history = v.history === undefined ? undefined : parseSeqFlag('history', v.history, 1);
  const durability = v.durability;
  if (durability !== undefined && durability !== 'fsync' && durability !== 'interval')
    throw new StreamUsageError(`--durability must be fsync or interval, got ${JSON.stringify(durability)}`);
  const policy: KvBucketOptions['durability'] = durability;
  return {
    ...(history !== undefined ? { history } : {}),
    ...(v.ttl !== undefined ? { ttlMs: parseDuration('ttl', v.ttl) } : {}),
    ...(v['max-bytes'] !== undefined ? { maxBytes: parseSize('max-bytes', v['max-bytes']) } : {}),
    ...(policy !== undefined ? { durability: policy } : {}),
  };
}

function entryObject(e: KvEntry): Record<string, unknown> {
  return { key: e.key, revision: e.revision, time: e.time, operation: e.operation, ...payloadJson(e.value) };
}

const entryJson = (e: KvEntry): string => JSON.stringify(entryObject(e));
