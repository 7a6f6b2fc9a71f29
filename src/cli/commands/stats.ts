/**
 * `crossbus stats`: a running hub's connections, message rates, queues and streams, from the
 * snapshot the hub answers on `$SYS.REQ.STATS` (only apps with a request grant on it: admins).
 */
import { STATS_TOPIC } from '../../core/broker/system-requests.js';
import type { HubStatsSnapshot } from '../../hub/stats-snapshot.js';
import { connectClient } from '../client-connection.js';
import { CliError, UsageError, defineOptions, intOption, parseOptions } from '../options.js';
import { isCrossbusError } from '../../core/errors/index.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../client/defaults.js';
import { URL_OPTION, credentialOptions } from '../client-flags.js';
import { ENVIRONMENT_HELP } from '../client-flags.js';
import { HELP_OPTION, optionsHelp } from '../options.js';
import { STREAM_CLI_APP } from './streams.js';
import { formatBytes, formatMs, table } from './streams-format.js';
import { out, printHelp } from './client-command.js';

const STATS_OPTIONS = defineOptions({
  interval: {
    type: 'string',
    placeholder: '<ms>',
    description: 'take two snapshots this far apart and show the rates between them',
    default: 'one snapshot: averages since the hub started',
  },
  json: { type: 'boolean', description: 'print {"stats": <snapshot>, "rates": {...}, "rateWindowMs"} as JSON' },
  timeout: { type: 'string', placeholder: '<ms>', description: 'how long to wait for the hub', default: DEFAULT_REQUEST_TIMEOUT_MS },
  ...URL_OPTION,
  ...HELP_OPTION,
});
const CREDENTIALS = credentialOptions(STREAM_CLI_APP);

export const STATS_HELP = `Usage: crossbus stats [--interval ms] [--json] [--url ...]

Shows a running hub's connections (the busiest listed), message and byte counters with their
rates, queued bytes, drops, and its streams with their consumers. The hub answers on the reserved
request topic ${STATS_TOPIC}: the app needs a request grant that covers it (an admin's '>').

${optionsHelp([
  { title: 'Options:', options: STATS_OPTIONS },
  { title: `Credentials (first found wins; the default app is ${JSON.stringify(STREAM_CLI_APP)}):`, options: CREDENTIALS },
])}

${ENVIRONMENT_HELP}`;

export interface StatsRates {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export async function statsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...STATS_OPTIONS, ...CREDENTIALS }, argv);
  if (values.help) return printHelp(STATS_HELP);
  if (positionals.length > 0) throw new UsageError(`stats takes no arguments, got ${JSON.stringify(positionals[0])}`);
  const interval = intOption('interval', values.interval, 1, 3_600_000);
  const timeoutMs = intOption('timeout', values.timeout, 1, 3_600_000) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const bus = await connectClient(values, STREAM_CLI_APP);
  let first: HubStatsSnapshot;
  let last: HubStatsSnapshot;
  try {
    first = await bus.request<HubStatsSnapshot>(STATS_TOPIC, undefined, { timeoutMs });
    last = first;
    if (interval !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, interval));
      last = await bus.request<HubStatsSnapshot>(STATS_TOPIC, undefined, { timeoutMs });
    }
  } catch (err) {
    if (isCrossbusError(err) && err.code === 'CB_ERR_FORBIDDEN')
      throw new CliError(
        `${err.message}: stats needs an app with a request grant on ${STATS_TOPIC}, such as "admin" (--name) (${err.code})`,
      );
    throw err;
  } finally {
    await bus.close();
  }
  const windowMs = interval === undefined ? last.uptimeMs : last.time - first.time;
  const base = interval === undefined ? undefined : first;
  const rates = ratesBetween(base, last, windowMs);
  out(
    values.json
      ? `${JSON.stringify({ stats: last, rates, rateWindowMs: windowMs }, null, 2)}\n`
      : formatStats(last, rates, interval !== undefined, windowMs),
  );
  return 0;
}

/** Per second over `windowMs`: from `from` to `to`, or from zero (the hub's start) when `from` is undefined. */
export function ratesBetween(from: HubStatsSnapshot | undefined, to: HubStatsSnapshot, windowMs: number): StatsRates {
  const seconds = Math.max(windowMs, 1) / 1000;
  const rate = (k: keyof StatsRates): number => Math.round(((to[k] - (from?.[k] ?? 0)) / seconds) * 10) / 10;
  return { messagesIn: rate('messagesIn'), messagesOut: rate('messagesOut'), bytesIn: rate('bytesIn'), bytesOut: rate('bytesOut') };
}

export function formatStats(s: HubStatsSnapshot, r: StatsRates, measured: boolean, windowMs: number): string {
  const over = measured ? `rates over ${formatMs(windowMs)}` : 'rates: averages since start';
  let text = `Hub ${s.hubId}, up ${formatMs(s.uptimeMs)} (${over})\n`;
  text += table(
    ['', 'TOTAL', 'RATE'],
    [
      ['connections', String(s.connections), ''],
      ['subscriptions', String(s.subscriptions), ''],
      ['queued', formatBytes(s.queuedBytes), ''],
      ['messages in', String(s.messagesIn), `${r.messagesIn}/s`],
      ['messages out', String(s.messagesOut), `${r.messagesOut}/s`],
      ['bytes in', formatBytes(s.bytesIn), `${formatBytes(Math.round(r.bytesIn))}/s`],
      ['bytes out', formatBytes(s.bytesOut), `${formatBytes(Math.round(r.bytesOut))}/s`],
      ['dropped', String(s.dropped), ''],
      ['slow consumers', String(s.slowConsumers), ''],
      ['no responders', String(s.noResponders), ''],
      ['errors', String(s.errors), ''],
    ],
    [false, true, true],
  );
  if (s.connectionList.length > 0) {
    const more = s.connections > s.connectionList.length ? `, the busiest ${s.connectionList.length}` : '';
    text += `Connections (${s.connections}${more}):\n`;
    text += table(
      ['NAME', 'TRANSPORT', 'MSGS IN', 'MSGS OUT', 'SUBS', 'QUEUED'],
      s.connectionList.map((c) => [
        c.name,
        c.transport,
        String(c.messagesIn),
        String(c.messagesOut),
        String(c.subscriptions),
        formatBytes(c.queuedBytes),
      ]),
      [false, false, true, true, true, true],
    );
  }
  if (s.streams.length > 0) {
    text += `Streams (${s.streams.length}):\n`;
    text += table(
      ['NAME', 'MESSAGES', 'BYTES', 'CONSUMERS', 'PENDING', 'WAITING', 'STATUS'],
      s.streams.map((x) => [
        x.name,
        String(x.messages),
        formatBytes(x.bytes),
        String(x.consumers),
        String(x.pending),
        String(x.waiting),
        x.quarantined ? 'QUARANTINED' : 'ok',
      ]),
      [false, true, true, true, true, true, false],
    );
  }
  return text;
}
