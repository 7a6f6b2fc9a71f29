/**
 * The data of user consent: pending requests, decisions, and the commands a person sends through
 * the CLI. Kept apart from the manager so the file store and the CLI can read and validate the
 * same shapes without pulling in timers. The persisted file is edited by nobody but crossbus, yet
 * it is parsed strictly: a damaged file must fail loudly rather than grant something by accident.
 */
import { ConfigError } from '../errors/index.js';

export type ConsentAction = 'publish' | 'subscribe' | 'request';
export const CONSENT_ACTIONS: readonly ConsentAction[] = Object.freeze(['publish', 'subscribe', 'request']);

/** An operation held until a person decides. `pattern` is the `ask` grant; `target` the topic. */
export interface ConsentRequest {
  readonly id: string;
  readonly app: string;
  readonly action: ConsentAction;
  readonly pattern: string;
  readonly target: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A person's answer for (app, action, pattern). Its id is the id of the request it answered. */
export interface ConsentDecision {
  readonly id: string;
  readonly app: string;
  readonly action: ConsentAction;
  readonly pattern: string;
  readonly decision: 'granted' | 'denied';
  readonly decidedAt: number;
  /** Who decided, as the CLI reports it (an OS user name); absent when unknown. */
  readonly by?: string;
}

export interface ConsentState {
  decisions: ConsentDecision[];
  pending: ConsentRequest[];
}

/** What `crossbus consent grant|deny|revoke` asks the running hub to do. */
export interface ConsentCommand {
  readonly op: 'grant' | 'deny' | 'revoke';
  /** A pending request's id (grant, deny) or a decision's id (revoke). */
  readonly id?: string;
  /** revoke may name the decision by its key instead of its id. */
  readonly app?: string;
  readonly action?: ConsentAction;
  readonly pattern?: string;
  readonly by?: string;
}

/** Version written into the consent file, so a later format can be told apart. */
export const CONSENT_STATE_VERSION = 1;

export const emptyConsentState = (): ConsentState => ({ decisions: [], pending: [] });

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isAction = (v: unknown): v is ConsentAction => CONSENT_ACTIONS.includes(v as ConsentAction);

function requestProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'is not an object';
  for (const k of ['id', 'app', 'pattern', 'target'] as const) if (!isText(v[k])) return `has no valid ${k}`;
  if (!isAction(v.action)) return 'has no valid action';
  if (!isTime(v.createdAt) || !isTime(v.expiresAt)) return 'has no valid createdAt/expiresAt';
  return undefined;
}

function decisionProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'is not an object';
  for (const k of ['id', 'app', 'pattern'] as const) if (!isText(v[k])) return `has no valid ${k}`;
  if (!isAction(v.action)) return 'has no valid action';
  if (v.decision !== 'granted' && v.decision !== 'denied') return 'has no valid decision';
  if (!isTime(v.decidedAt)) return 'has no valid decidedAt';
  if (v.by !== undefined && typeof v.by !== 'string') return 'has an invalid by';
  return undefined;
}

/** Copies only known fields, so nothing unexpected rides along into memory or the next save. */
function copyRequest(v: Obj): ConsentRequest {
  return {
    id: v.id as string,
    app: v.app as string,
    action: v.action as ConsentAction,
    pattern: v.pattern as string,
    target: v.target as string,
    createdAt: v.createdAt as number,
    expiresAt: v.expiresAt as number,
  };
}
function copyDecision(v: Obj): ConsentDecision {
  const d = {
    id: v.id as string,
    app: v.app as string,
    action: v.action as ConsentAction,
    pattern: v.pattern as string,
    decision: v.decision as 'granted' | 'denied',
    decidedAt: v.decidedAt as number,
  };
  return typeof v.by === 'string' ? { ...d, by: v.by } : d;
}

/** Validates a loaded state (fresh copies out). Throws CB_ERR_CONFIG_INVALID naming `source`. */
export function parseConsentState(value: unknown, source = 'consent state'): ConsentState {
  const fail = (m: string): never => {
    throw new ConfigError('CB_ERR_CONFIG_INVALID', `${source}: ${m}`, { details: { source } });
  };
  if (!isObj(value)) return fail('is not an object');
  if (value.version !== undefined && value.version !== CONSENT_STATE_VERSION) fail(`unsupported version ${JSON.stringify(value.version)}`);
  const list = (key: 'decisions' | 'pending'): unknown[] => {
    const v = value[key] ?? [];
    return Array.isArray(v) ? v : fail(`${key} is not an array`);
  };
  const decisions = list('decisions').map((d, i) => {
    const p = decisionProblem(d);
    return p === undefined ? copyDecision(d as Obj) : fail(`decisions[${i}] ${p}`);
  });
  const pending = list('pending').map((r, i) => {
    const p = requestProblem(r);
    return p === undefined ? copyRequest(r as Obj) : fail(`pending[${i}] ${p}`);
  });
  return { decisions, pending };
}

/** Validates one command from the inbox: the command, or a reason it was refused. */
export function parseConsentCommand(value: unknown): ConsentCommand | string {
  if (!isObj(value)) return 'not an object';
  const { op, id, app, action, pattern, by } = value;
  if (op !== 'grant' && op !== 'deny' && op !== 'revoke') return `unknown op ${JSON.stringify(op)}`;
  if (by !== undefined && typeof by !== 'string') return 'by must be a string';
  if (id !== undefined && !isText(id)) return 'id must be a non-empty string';
  const byKey = app !== undefined || action !== undefined || pattern !== undefined;
  if (op !== 'revoke' || !byKey) {
    if (id === undefined) return `${op} needs an id`;
    if (byKey) return `${op} takes an id only`;
    return { op, id, ...(by === undefined ? {} : { by }) };
  }
  if (id !== undefined) return 'revoke takes either an id or app/action/pattern, not both';
  if (!isText(app) || !isAction(action) || !isText(pattern)) return 'revoke by key needs app, action and pattern';
  return { op, app, action, pattern, ...(by === undefined ? {} : { by }) };
}
