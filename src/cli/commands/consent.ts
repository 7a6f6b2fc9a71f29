/**
 * `crossbus consent list|grant|deny|revoke`: lets a person answer the hub's consent requests.
 * `list` reads consent.json (the hub's persisted state); the others queue a command in the inbox
 * and nudge the running hub with SIGUSR2, so the hub stays the only writer of consent.json.
 * Exit codes: 0 ok, 1 unknown or unusable id, 2 usage error or unreadable state.
 */
import { userInfo } from 'node:os';
import type { ConsentState } from '../../core/security/consent-state.js';
import { appendConsentCommand } from '../../node/consent/consent-inbox.js';
import { consentFilePath, readConsentFile } from '../../node/consent/consent-store.js';
import { HUB_PID_FILE_NAME } from '../../node/paths.js';
import { HELP_OPTION, defineOptions, helpRows, optionsHelp, parseOptions } from '../options.js';
import { signalHub } from './signal-hub.js';
import { DEFAULT_DATA_DIR } from '../../node/defaults.js';

/** File the running hub writes: `{ "pid": number, "url": string }`. */
export { HUB_PID_FILE_NAME };

export interface ConsentIo {
  /** Receives whole lines, each ending in '\n' (same convention as process.stdout.write). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** For tests: the clock used for "expires in". @default Date.now */
  now?: () => number;
  /** For tests: how the hub is signalled. @default process.kill */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

const OPTIONS = defineOptions({
  data: { type: 'string', placeholder: '<dir>', description: 'hub state directory', default: DEFAULT_DATA_DIR },
  json: { type: 'boolean', description: 'print the state as JSON (list only)' },
  by: { type: 'string', placeholder: '<name>', description: 'who decides, for the audit log', default: 'your user name' },
  ...HELP_OPTION,
});

export const CONSENT_HELP = `Usage:
${helpRows([
  ['crossbus consent list [--data <dir>] [--json]', 'show pending requests and decisions'],
  ['crossbus consent grant <id> [--data <dir>] [--by <name>]', 'allow a pending request'],
  ['crossbus consent deny <id> [--data <dir>] [--by <name>]', 'refuse a pending request'],
  ['crossbus consent revoke <id> [--data <dir>] [--by <name>]', 'forget a decision: the app is asked again'],
])}

${optionsHelp([{ title: 'Options:', options: OPTIONS }])}`;

type Sub = 'list' | 'grant' | 'deny' | 'revoke';
const SUBS: readonly string[] = ['list', 'grant', 'deny', 'revoke'];

export async function consentCommand(args: string[], io: ConsentIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help' || sub === 'help') return usage(io, 0);
  if (sub === undefined || !SUBS.includes(sub)) {
    io.stderr(
      sub === undefined ? 'crossbus consent: missing subcommand\n' : `crossbus consent: unknown subcommand ${JSON.stringify(sub)}\n`,
    );
    return usage(io, 2);
  }
  let values: { data?: string; json?: boolean; by?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseOptions(OPTIONS, rest));
    if (sub === 'list' && positionals.length > 0) throw new Error(`list takes no arguments, got ${JSON.stringify(positionals[0])}`);
    if (sub !== 'list' && !values.help && positionals.length !== 1) throw new Error(`${sub} needs exactly one request id`);
    if (sub !== 'list' && values.json) throw new Error('--json applies to list only');
    if (sub === 'list' && values.by !== undefined) throw new Error(`--by applies to grant, deny and revoke only`);
  } catch (err) {
    io.stderr(`crossbus consent: ${(err as Error).message}\n`);
    return usage(io, 2);
  }
  if (values.help) return usage(io, 0);
  const dataDir = values.data ?? DEFAULT_DATA_DIR;
  let state: ConsentState;
  try {
    state = await readConsentFile(consentFilePath(dataDir));
  } catch (err) {
    io.stderr(`crossbus consent: cannot read consent state: ${(err as Error).message}\n`);
    return 2;
  }
  const now = (io.now ?? Date.now)();
  if (sub === 'list') return list(state, now, values.json === true, io);
  return decide(sub as Exclude<Sub, 'list'>, positionals[0] as string, values.by ?? whoAmI(), dataDir, state, now, io);
}

async function decide(
  sub: 'grant' | 'deny' | 'revoke',
  id: string,
  by: string | undefined,
  dataDir: string,
  state: ConsentState,
  now: number,
  io: ConsentIo,
): Promise<number> {
  // Checked here so a typo is reported at once instead of silently doing nothing in the hub.
  const pending = state.pending.find((r) => r.id === id);
  const decided = state.decisions.find((d) => d.id === id);
  const refuse = (why: string): number => {
    io.stderr(`crossbus consent: ${why}\n`);
    return 1;
  };
  if (sub === 'revoke') {
    if (decided === undefined) {
      return refuse(
        pending !== undefined
          ? `request ${id} is still pending; use 'crossbus consent deny ${id}'`
          : `no decision with id ${JSON.stringify(id)} (see 'crossbus consent list')`,
      );
    }
  } else if (pending === undefined) {
    return refuse(
      decided !== undefined
        ? `request ${id} was already answered (${decided.decision}); use 'crossbus consent revoke ${id}' to undo it`
        : `no pending request with id ${JSON.stringify(id)} (see 'crossbus consent list')`,
    );
  } else if (pending.expiresAt <= now) {
    return refuse(`request ${id} expired ${duration(now - pending.expiresAt)} ago; the app must ask again`);
  }

  await appendConsentCommand(dataDir, by === undefined ? { op: sub, id } : { op: sub, id, by });
  const what = sub === 'revoke' ? `revoke of ${id}` : `${sub} of ${id}`;
  const hub = await signalHub(dataDir, 'SIGUSR2', io.kill);
  io.stdout(
    hub === undefined
      ? `${what} queued: no hub is running on ${dataDir}; it applies when the hub next starts\n`
      : `${what} sent to the hub (pid ${hub})\n`,
  );
  return 0;
}

function whoAmI(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME;
  }
}

function list(state: ConsentState, now: number, json: boolean, io: ConsentIo): number {
  if (json) {
    io.stdout(`${JSON.stringify(state, null, 2)}\n`);
    return 0;
  }
  if (state.pending.length === 0) io.stdout('No pending consent requests.\n');
  else {
    io.stdout(`Pending consent requests (${state.pending.length}):\n`);
    table(
      io,
      ['ID', 'APP', 'ACTION', 'TARGET', 'PATTERN', 'EXPIRES IN'],
      state.pending.map((r) => [r.id, r.app, r.action, r.target, r.pattern, r.expiresAt <= now ? 'expired' : duration(r.expiresAt - now)]),
    );
  }
  if (state.decisions.length === 0) io.stdout('No decisions.\n');
  else {
    io.stdout(`Decisions (${state.decisions.length}):\n`);
    table(
      io,
      ['ID', 'APP', 'ACTION', 'PATTERN', 'DECISION', 'DECIDED AT', 'BY'],
      state.decisions.map((d) => [d.id, d.app, d.action, d.pattern, d.decision, new Date(d.decidedAt).toISOString(), d.by ?? '-']),
    );
  }
  return 0;
}

/** consent.json is ours, but its strings end up on a terminal: no escape sequences get through. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const printable = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

function table(io: ConsentIo, head: string[], rows: string[][]): void {
  const cells = [head, ...rows.map((r) => r.map(printable))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) io.stdout(`  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`);
}

/** 42s, 3m 12s, 2h 5m: precise enough to decide whether to hurry. */
function duration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function usage(io: ConsentIo, code: number): number {
  (code === 0 ? io.stdout : io.stderr)(`${CONSENT_HELP}\n`);
  return code;
}
