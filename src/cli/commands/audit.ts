/**
 * `crossbus audit verify|tail`: checks or shows the hub's audit log. Kept apart from main.ts so it
 * can be tested with an injected io; main.ts only routes to it. Exit codes: 0 ok, 1 the log is
 * broken, 2 usage error or no log to read.
 */
import { stat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { linesFromEnd } from '../../node/audit/audit-log.js';
import { verifyAuditLog } from '../../node/audit/verify.js';
import { HELP_OPTION, defineOptions, helpRows, optionsHelp, parseOptions } from '../options.js';

/** The hub's state directory when --data is not given (none was defined elsewhere yet). */
import { AUDIT_FILE_NAME } from '../../node/paths.js';
import { DEFAULT_DATA_DIR } from '../../node/defaults.js';
import { DEFAULT_TAIL_ENTRIES } from '../defaults.js';

export { AUDIT_FILE_NAME, DEFAULT_DATA_DIR };

export interface AuditIo {
  /** Receives whole lines, each ending in '\n' (same convention as process.stdout.write). */
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const OPTIONS = defineOptions({
  data: {
    type: 'string',
    placeholder: '<dir>',
    description: `hub state directory; the log is <dir>/${AUDIT_FILE_NAME}`,
    default: DEFAULT_DATA_DIR,
  },
  file: { type: 'string', placeholder: '<path>', description: 'the audit log itself (overrides --data)' },
  n: { type: 'string', short: 'n', placeholder: '<count>', description: 'entries to print with tail', default: DEFAULT_TAIL_ENTRIES },
  ...HELP_OPTION,
});

export const AUDIT_HELP = `Usage:
${helpRows([
  ['crossbus audit verify [--data <dir>] [--file <path>]', 'check the hash chain of the audit log'],
  [`crossbus audit tail [-n ${DEFAULT_TAIL_ENTRIES}] [--data <dir>] [--file <path>]`, 'print the last entries'],
])}

${optionsHelp([{ title: 'Options:', options: OPTIONS }])}`;

export async function auditCommand(args: string[], io: AuditIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help' || sub === 'help') return usage(io, 0);
  if (sub !== 'verify' && sub !== 'tail') {
    io.stderr(sub === undefined ? 'crossbus audit: missing subcommand\n' : `crossbus audit: unknown subcommand ${JSON.stringify(sub)}\n`);
    return usage(io, 2);
  }
  let values: { data?: string; file?: string; help?: boolean; n?: string };
  try {
    ({ values } = parseOptions(OPTIONS, rest, false));
    if (sub === 'verify' && values.n !== undefined) throw new Error('-n applies to tail only');
  } catch (err) {
    io.stderr(`crossbus audit: ${(err as Error).message}\n`);
    return usage(io, 2);
  }
  if (values.help) return usage(io, 0);
  const file = values.file ?? join(values.data ?? DEFAULT_DATA_DIR, AUDIT_FILE_NAME);

  // Checked up front so "no log" (2) is told apart from "a broken log" (1).
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    size = st.size;
  } catch (err) {
    io.stderr(`crossbus audit: no audit log at ${file} (${(err as { code?: string }).code ?? (err as Error).message})\n`);
    return 2;
  }
  return sub === 'verify' ? verify(file, io) : tail(file, size, values.n, io);
}

async function verify(file: string, io: AuditIo): Promise<number> {
  const r = await verifyAuditLog(file);
  if (r.ok) {
    io.stdout(`audit log intact: ${r.entries} entries, last hash ${r.lastHash}\n`);
    return 0;
  }
  io.stderr(`audit log BROKEN at line ${r.brokenAt}${r.seq !== undefined ? ` (seq ${r.seq})` : ''}: ${r.reason}\n`);
  return 1;
}

async function tail(file: string, size: number, nFlag: string | undefined, io: AuditIo): Promise<number> {
  const n = nFlag === undefined ? DEFAULT_TAIL_ENTRIES : Number(nFlag);
  if (!Number.isInteger(n) || n < 1) {
    io.stderr(`crossbus audit: -n must be a positive integer, got ${JSON.stringify(nFlag)}\n`);
    return 2;
  }
  const handle = await open(file, 'r');
  const lines: string[] = [];
  try {
    // Reads backwards from the end: the log can be large, the tail is small.
    for await (const line of linesFromEnd(handle, size)) {
      if (line.length === 0) continue;
      lines.push(line.toString('utf8'));
      if (lines.length >= n) break;
    }
  } finally {
    await handle.close();
  }
  for (const line of lines.reverse()) io.stdout(`${line}\n`);
  return 0;
}

function usage(io: AuditIo, code: number): number {
  (code === 0 ? io.stdout : io.stderr)(`${AUDIT_HELP}\n`);
  return code;
}
