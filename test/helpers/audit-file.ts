/** Reading a hub process's audit log (`<dataDir>/audit.jsonl`) in tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HubProcess } from './hub-process.js';
import { until } from './wait.js';

export interface AuditLine {
  seq: number;
  time: string;
  actor: { app?: string; origin?: string; address?: string; connectionId?: string };
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  details?: Record<string, unknown>;
}

export function auditFileOf(h: HubProcess): string {
  return join(h.dataDir, 'audit.jsonl');
}

/** Entries of the audit log (a line being written at this instant is skipped: read again later). */
export function readAudit(h: HubProcess): AuditLine[] {
  let text: string;
  try {
    text = readFileSync(auditFileOf(h), 'utf8');
  } catch {
    return [];
  }
  const out: AuditLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as AuditLine);
    } catch {
      /* a torn last line */
    }
  }
  return out;
}

/** Waits for an entry after the first `mark` entries that matches `pred`. */
export async function expectAudit(
  h: HubProcess,
  mark: number,
  what: string,
  pred: (e: AuditLine) => boolean,
  timeoutMs = 8_000,
): Promise<AuditLine> {
  let found: AuditLine | undefined;
  await until(
    () => (found = readAudit(h).slice(mark).find(pred)) !== undefined,
    timeoutMs,
    `an audit entry: ${what} (new entries: ${JSON.stringify(
      readAudit(h)
        .slice(mark)
        .map((e) => [e.action, e.outcome, e.reason]),
    )})`,
  );
  return found as AuditLine;
}
