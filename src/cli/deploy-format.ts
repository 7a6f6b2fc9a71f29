/**
 * Pure parts of `crossbus deploy`: a deployment as the terminal shows it (its summary, the status
 * line, the final outcome), the lines that are new in each record the hub publishes while it runs
 * (`DeployLines`), and the status and history tables. No I/O, so they are unit-tested with
 * fixture records. Every string from the hub passes `printable`.
 */
import type {
  AnalysisRecord,
  AppDeployStatus,
  DeployEventRecord,
  DeployOutcome,
  DeploymentRecord,
  RevisionRecord,
} from '../core/apps/deploy-topics.js';
import { formatMs, isoTime, printable, table } from './commands/streams-format.js';

/** An outcome said as a person would. */
export function outcomeText(outcome: DeployOutcome): string {
  return outcome === 'rolled-back' ? 'rolled back' : outcome;
}

/** 0.4 s, 12 s, 1m 05s: the time since the deployment started. */
export function formatElapsed(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 10_000) return `${(t / 1000).toFixed(1)}s`;
  const s = Math.floor(t / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** 0%, 0.40%, 12.5%: an error rate. */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return '?';
  const pct = rate * 100;
  return pct === 0 ? '0%' : pct < 10 ? `${pct.toFixed(2)}%` : `${pct.toFixed(1)}%`;
}

/** `analysis pass: error rate 0.40% (1 of 250), p99 <= 25 ms`, and the hub's reason when it gives one. */
export function analysisText(a: AnalysisRecord): string {
  // p99Ms is a bucket's upper bound; null when nothing was answered (or above the last bound: JSON has no Infinity).
  const p99 = a.p99Ms === null || !Number.isFinite(a.p99Ms) ? 'p99 -' : `p99 <= ${a.p99Ms} ms`;
  const reason = a.reason === '' ? '' : ` (${printable(a.reason)})`;
  return `analysis ${a.verdict}: error rate ${formatRate(a.errorRate)} (${a.errors} of ${a.requests}), ${p99}${reason}`;
}

/** `demo 1.0.0 -> 1.1.0` (or `demo 1.1.0` for a first deployment). */
export function deploymentTitle(r: DeploymentRecord): string {
  return printable(r.from === undefined ? `${r.app} ${r.to}` : `${r.app} ${r.from} -> ${r.to}`);
}

/** Where a deployment is: `verify, weight 50%, step 2, waiting for promote`. */
export function deploymentState(r: DeploymentRecord): string {
  const parts: string[] = [r.outcome === undefined ? r.phase : outcomeText(r.outcome), `weight ${r.weight}%`];
  if (r.step !== undefined) parts.push(`step ${r.step + 1}`);
  if (r.waiting) parts.push(`waiting for 'crossbus deploy promote ${printable(r.app)}'`);
  return parts.join(', ');
}

/** A record in one line: `demo 1.0.0 -> 1.1.0 (canary, production): verify, weight 50%, step 2`. */
export function deploymentSummary(r: DeploymentRecord): string {
  return `${deploymentTitle(r)} (${r.strategy}, ${printable(r.environment)}): ${deploymentState(r)}`;
}

/** The terminal's single status line while a deployment runs. */
export function statusLine(r: DeploymentRecord, now: number): string {
  return `${deploymentTitle(r)} · ${r.strategy} · ${deploymentState(r)} · ${formatElapsed(now - r.startedAt)}`;
}

/** The last line: `demo 1.1.0 succeeded in 42s` or `demo 1.0.0 -> 1.1.0 rolled back after 20s: <reason>`. */
export function outcomeLine(r: DeploymentRecord): string {
  const took = formatElapsed((r.endedAt ?? r.updatedAt) - r.startedAt);
  if (r.outcome === undefined) return `${deploymentTitle(r)} is still in progress (${r.phase}) after ${took}`;
  const reason = r.reason === undefined || r.reason === '' ? '' : `: ${printable(r.reason)}`;
  return r.outcome === 'succeeded'
    ? `${deploymentTitle(r)} succeeded in ${took}`
    : `${deploymentTitle(r)} ${outcomeText(r.outcome)} after ${took}${reason}`;
}

const PHASE_WIDTH = 'validate'.length;

function line(r: DeploymentRecord, at: number, phase: string, text: string): string {
  return `+${formatElapsed(at - r.startedAt).padEnd(6)} ${phase.padEnd(PHASE_WIDTH)} ${String(r.weight).padStart(3)}%  ${text}`;
}

const eventKey = (e: DeployEventRecord): string => `${e.at}\0${e.phase}\0${e.message}`;

/**
 * What is new in each record of one deployment, as lines: its events not shown yet, a change of
 * the new version's weight, an analysis not shown yet. Records older than one already seen
 * (a poll's answer arriving after an event) give nothing.
 */
export class DeployLines {
  readonly #seen = new Set<string>();
  #updatedAt = -Infinity;
  #weight: number | undefined;
  #analysisAt: number | undefined;

  constructor(readonly id: string) {}

  next(r: DeploymentRecord): string[] {
    if (r.id !== this.id || r.updatedAt < this.#updatedAt) return [];
    this.#updatedAt = r.updatedAt;
    const out: string[] = [];
    for (const e of r.events) {
      const key = eventKey(e);
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      out.push(line(r, e.at, e.phase, printable(e.message)));
    }
    if (this.#weight !== undefined && r.weight !== this.#weight)
      out.push(line(r, r.updatedAt, r.phase, `weight ${this.#weight}% -> ${r.weight}%`));
    this.#weight = r.weight;
    if (r.analysis !== undefined && r.analysis.at !== this.#analysisAt) {
      this.#analysisAt = r.analysis.at;
      out.push(line(r, r.analysis.at, r.phase, analysisText(r.analysis)));
    }
    return out;
  }
}

// ------------------------------------------------------------------------------ status, history

const version = (rev: RevisionRecord | undefined): string => (rev === undefined ? '-' : rev.version);

function inProgress(d: DeploymentRecord | undefined): string {
  if (d === undefined || d.outcome !== undefined) return '-';
  const step = d.step === undefined ? '' : ` step ${d.step + 1}`;
  return `${d.strategy} -> ${d.to}: ${d.phase} ${d.weight}%${step}${d.waiting ? ' (waiting)' : ''}`;
}

function instanceCounts(s: AppDeployStatus): string {
  if (s.instances.length === 0) return '0';
  const byState = new Map<string, number>();
  for (const i of s.instances) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
  return `${s.instances.length} (${[...byState].map(([state, n]) => `${n} ${state}`).join(', ')})`;
}

/** `crossbus deploy status`: a row per app; with one app, its deployment, last analysis and instances too. */
export function formatStatus(apps: readonly AppDeployStatus[], detailed: boolean): string {
  if (apps.length === 0) return 'No apps deployed.\n';
  let text = table(
    ['APP', 'ACTIVE', 'PREVIOUS', 'DEPLOYMENT', 'INSTANCES'],
    apps.map((s) => [s.app, version(s.active), version(s.previous), inProgress(s.deployment), instanceCounts(s)]),
  );
  if (!detailed) return text;
  for (const s of apps) {
    const d = s.deployment;
    if (d !== undefined) {
      text += `\nDeployment ${printable(d.id)}: ${deploymentSummary(d)}\n`;
      text += `  started ${isoTime(d.startedAt)} by ${printable(d.startedBy)}, ${formatElapsed(d.updatedAt - d.startedAt)} ago at its last step\n`;
      if (d.analysis !== undefined) text += `  ${analysisText(d.analysis)}\n`;
      const last = d.events[d.events.length - 1];
      if (last !== undefined) text += `  last: ${last.phase}: ${printable(last.message)}\n`;
    }
    if (s.active !== undefined)
      text += `\nActive revision ${printable(s.active.id)}, staged ${isoTime(s.active.stagedAt)} by ${printable(s.active.stagedBy)}\n`;
    if (s.instances.length > 0)
      text += `\nInstances of ${printable(s.app)} (${s.instances.length}):\n${table(
        ['REVISION', 'INSTANCE', 'STATE', 'PID', 'WEIGHT'],
        s.instances.map((i) => [i.revision, i.instanceId, i.state, i.pid === null ? '-' : String(i.pid), String(i.weight)]),
        [false, false, false, true, true],
      )}`;
  }
  return text;
}

/** `crossbus deploy history <app>`: newest first, as the hub answers. */
export function formatHistory(history: readonly DeploymentRecord[]): string {
  if (history.length === 0) return 'No deployments yet.\n';
  return table(
    ['STARTED', 'ID', 'STRATEGY', 'ENV', 'FROM', 'TO', 'RESULT', 'TOOK', 'BY', 'REASON'],
    history.map((r) => [
      isoTime(r.startedAt),
      r.id,
      r.strategy,
      r.environment,
      r.from ?? '-',
      r.to,
      r.outcome === undefined ? `${r.phase} (running)` : outcomeText(r.outcome),
      r.endedAt === undefined ? '-' : formatMs(r.endedAt - r.startedAt),
      r.startedBy,
      r.reason ?? '',
    ]),
  );
}
