/**
 * `crossbus alerts`: a running hub's alerts, rules and silences, and silences added or removed,
 * through the requests the hub answers itself (`$SYS.REQ.ALERTS…`, which need request grants:
 * an admin's '>').
 */
import { ALERTS_LIST_TOPIC, ALERTS_SILENCE_ADD_TOPIC, ALERTS_SILENCE_REMOVE_TOPIC } from '../../core/alerts/alert-requests.js';
import type { AlertsSnapshot } from '../../core/alerts/alert-service.js';
import type { Silence } from '../../core/alerts/silences.js';
import { isCrossbusError } from '../../core/errors/index.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../client/defaults.js';
import { connectClient } from '../client-connection.js';
import { ENVIRONMENT_HELP, URL_OPTION, credentialOptions } from '../client-flags.js';
import { CliError, HELP_OPTION, UsageError, defineOptions, intOption, optionsHelp, parseOptions } from '../options.js';
import { out, printHelp } from './client-command.js';
import { STREAM_CLI_APP } from './streams.js';
import { formatMs, table } from './streams-format.js';

const ALERTS_OPTIONS = defineOptions({
  match: {
    type: 'string',
    multiple: true,
    placeholder: '<label=value>',
    description: 'silence add: a label the silenced alerts have (repeatable; alertname=<rule> is the usual one)',
  },
  duration: {
    type: 'string',
    placeholder: '<ms>',
    description: 'silence add: how long the silence lasts',
    default: '3600000 (an hour)',
  },
  comment: { type: 'string', placeholder: '<text>', description: 'silence add: why' },
  json: { type: 'boolean', description: 'print what the hub answered as JSON' },
  timeout: { type: 'string', placeholder: '<ms>', description: 'how long to wait for the hub', default: DEFAULT_REQUEST_TIMEOUT_MS },
  ...URL_OPTION,
  ...HELP_OPTION,
});
const CREDENTIALS = credentialOptions(STREAM_CLI_APP);
const DEFAULT_SILENCE_MS = 3_600_000;

export const ALERTS_HELP = `Usage: crossbus alerts [ls] [--json]
       crossbus alerts silence add --match alertname=<rule> [--match label=value ...] [--duration ms] [--comment text]
       crossbus alerts silence rm <id>

Shows a running hub's alerts (pending and firing), its rules and its silences, or adds or
removes a silence: a silenced alert is still evaluated and listed, but not notified (log, bus
topic $SYS.ALERTS.<rule>, webhook). Silence changes are recorded in the hub's audit log. The hub
answers on ${ALERTS_LIST_TOPIC} and ${ALERTS_SILENCE_ADD_TOPIC.replace('.ADD', '.*')}: the app
needs a request grant on each (an admin's '>').

${optionsHelp([
  { title: 'Options:', options: ALERTS_OPTIONS },
  { title: `Credentials (first found wins; the default app is ${JSON.stringify(STREAM_CLI_APP)}):`, options: CREDENTIALS },
])}

${ENVIRONMENT_HELP}`;

function matchers(pairs: readonly string[] | undefined): Record<string, string> {
  const m: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--match takes label=value, got ${JSON.stringify(p)}`);
    m[p.slice(0, eq)] = p.slice(eq + 1);
  }
  if (Object.keys(m).length === 0) throw new UsageError('silence add needs at least one --match label=value');
  return m;
}

export async function alertsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...ALERTS_OPTIONS, ...CREDENTIALS }, argv);
  if (values.help) return printHelp(ALERTS_HELP);
  const [verb = 'ls', sub, id, ...rest] = positionals;
  const timeoutMs = intOption('timeout', values.timeout, 1, 3_600_000) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let topic: string;
  let data: unknown;
  if (verb === 'ls' && sub === undefined) {
    topic = ALERTS_LIST_TOPIC;
  } else if (verb === 'silence' && sub === 'add' && id === undefined) {
    topic = ALERTS_SILENCE_ADD_TOPIC;
    data = {
      matchers: matchers(values.match),
      durationMs: intOption('duration', values.duration, 1, 30 * 86_400_000) ?? DEFAULT_SILENCE_MS,
      ...(values.comment === undefined ? {} : { comment: values.comment }),
    };
  } else if (verb === 'silence' && (sub === 'rm' || sub === 'remove') && id !== undefined && rest.length === 0) {
    topic = ALERTS_SILENCE_REMOVE_TOPIC;
    data = { id };
  } else {
    throw new UsageError(`alerts takes ls, silence add or silence rm <id>, got ${JSON.stringify(positionals.join(' '))}`);
  }
  const bus = await connectClient(values, STREAM_CLI_APP);
  let answer: unknown;
  try {
    answer = await bus.request(topic, data, { timeoutMs });
  } catch (err) {
    if (isCrossbusError(err) && err.code === 'CB_ERR_FORBIDDEN')
      throw new CliError(`${err.message}: alerts needs an app with a request grant on ${topic}, such as "admin" (--name) (${err.code})`);
    if (isCrossbusError(err) && err.code === 'CB_ERR_NO_RESPONDERS')
      throw new CliError(`the hub answers no ${topic}: its alerts are off (config alerts.enabled) (${err.code})`);
    throw err;
  } finally {
    await bus.close();
  }
  if (values.json) out(`${JSON.stringify(answer, null, 2)}\n`);
  else if (topic === ALERTS_LIST_TOPIC) out(formatAlerts(answer as AlertsSnapshot));
  else {
    const s = answer as Silence;
    out(
      topic === ALERTS_SILENCE_ADD_TOPIC ? `silence ${s.id} until ${new Date(s.expiresAt).toISOString()}\n` : `silence ${s.id} removed\n`,
    );
  }
  return 0;
}

export function formatAlerts(s: AlertsSnapshot): string {
  const labels = (l: Readonly<Record<string, string>>): string =>
    Object.entries(l)
      .filter(([k]) => k !== 'alertname' && k !== 'severity')
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  let text =
    s.alerts.length === 0
      ? 'No alerts.\n'
      : `Alerts (${s.alerts.length}):\n${table(
          ['NAME', 'STATE', 'SEVERITY', 'VALUE', 'SINCE', 'LABELS', 'SILENCED'],
          s.alerts.map((a) => [
            a.name,
            a.state,
            a.severity,
            String(Number(a.value.toPrecision(4))),
            formatMs(Math.max(0, s.time - a.activeAt)),
            labels(a.labels),
            a.silencedBy ?? '',
          ]),
          [false, false, false, true, true, false, false],
        )}`;
  text += `Rules (${s.rules.length}):\n${table(
    ['NAME', 'METRIC', 'FN', 'CONDITION', 'SEVERITY'],
    s.rules.map((r) => [r.name, r.metric, r.fn, `${r.op} ${r.threshold}`, r.severity]),
  )}`;
  if (s.silences.length > 0) {
    text += `Silences (${s.silences.length}):\n${table(
      ['ID', 'MATCHERS', 'EXPIRES', 'BY', 'COMMENT'],
      s.silences.map((x) => [
        x.id,
        labels(x.matchers) || JSON.stringify(x.matchers),
        new Date(x.expiresAt).toISOString(),
        x.createdBy,
        x.comment,
      ]),
    )}`;
  }
  return text;
}
