/**
 * Following a deployment from the terminal: the records the hub publishes on `$SYS.DEPLOY.<app>`
 * (the watch opens before the deployment starts, so its first steps are not missed), printed as
 * lines as they come, until the record has an outcome. A STATUS (then HISTORY) request every
 * `pollMs` reads the record too, so a lost message or a quiet hub does not leave the command
 * waiting for ever. On a terminal a single status line stays under the lines, redrawn in place
 * (\r and spaces: no escape codes).
 */
import {
  DEPLOY_EVENTS_PREFIX,
  DEPLOY_HISTORY,
  DEPLOY_STATUS,
  type AppDeployStatus,
  type DeploymentRecord,
} from '../core/apps/deploy-topics.js';
import type { CrossbusError } from '../core/errors/index.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../client/defaults.js';
import { DEFAULT_DEPLOY_POLL_MS } from './defaults.js';
import { DeployLines, statusLine } from './deploy-format.js';
import { CliError } from './options.js';

/** What following needs of a client connection (a Bus has it). */
export interface DeployClient {
  request<T = unknown>(topic: string, data?: unknown, options?: { timeoutMs?: number }): Promise<T>;
  subscribe(topic: string, handler: (message: { data: unknown }) => void): { ready: Promise<void>; unsubscribe(): void };
  on(name: 'closed', listener: (event: { error: CrossbusError | undefined }) => void): () => void;
}

/** Where the lines go: process.stdout, or anything with `write` (and `isTTY`, `columns` on a terminal). */
export interface FollowOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface FollowOptions {
  out: FollowOutput;
  /** How often the record is also read with a request. @default DEFAULT_DEPLOY_POLL_MS (5000) */
  pollMs?: number;
  /** Each of those requests' time limit. @default DEFAULT_REQUEST_TIMEOUT_MS (5000) */
  requestTimeoutMs?: number;
  /** For tests. @default Date.now */
  now?: () => number;
}

/** The status line under the lines on a terminal; nothing elsewhere. */
class StatusLine {
  #drawn = 0;
  constructor(readonly out: FollowOutput) {}

  /** Writes `lines` above the status line, then the status line (on a terminal). */
  show(lines: readonly string[], status: string | undefined): void {
    const tty = this.out.isTTY === true;
    let text = tty ? this.#erase() : '';
    for (const l of lines) text += `${l}\n`;
    if (tty && status !== undefined) {
      // A line wider than the terminal wraps, and \r would then go back to its last row only.
      const width = Math.max(20, (this.out.columns ?? 80) - 1);
      const s = status.length > width ? `${status.slice(0, width - 1)}…` : status;
      text += s;
      this.#drawn = s.length;
    }
    if (text !== '') this.out.write(text);
  }

  clear(): void {
    if (this.out.isTTY === true && this.#drawn > 0) this.out.write(this.#erase());
  }

  #erase(): string {
    const text = this.#drawn > 0 ? `\r${' '.repeat(this.#drawn)}\r` : '';
    this.#drawn = 0;
    return text;
  }
}

/**
 * A watch on one app's deployments. Open it before DEPLOY_START, then `follow` the record START
 * answers: resolves with the record once it has an outcome; rejects when the connection closes or
 * `interrupt` is called (the deployment goes on in the hub either way).
 */
export class DeployWatch {
  readonly #client: DeployClient;
  readonly #app: string;
  readonly #sub: { ready: Promise<void>; unsubscribe(): void };
  /**
   * The newest record that came before `follow` knew which deployment is its own. One is enough:
   * a record holds every step so far, and the hub runs one deployment of an app at a time, so
   * nothing of an earlier one comes after the first record of the next.
   */
  #early: DeploymentRecord | undefined;
  #onRecord: ((r: DeploymentRecord) => void) | undefined;
  #stop: ((err: Error) => void) | undefined;

  private constructor(client: DeployClient, app: string) {
    this.#client = client;
    this.#app = app;
    this.#sub = client.subscribe(`${DEPLOY_EVENTS_PREFIX}${app}`, (m) => this.#received(m.data));
  }

  static async open(client: DeployClient, app: string): Promise<DeployWatch> {
    const watch = new DeployWatch(client, app);
    try {
      await watch.#sub.ready;
    } catch (err) {
      watch.close();
      throw err;
    }
    return watch;
  }

  #received(data: unknown): void {
    const r = data as DeploymentRecord | null;
    if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || !Array.isArray(r.events)) return;
    if (this.#onRecord !== undefined) this.#onRecord(r);
    else this.#early = r;
  }

  /** Stops following: `follow` rejects with `reason`. */
  interrupt(reason: Error): void {
    this.#stop?.(reason);
  }

  close(): void {
    this.#onRecord = undefined;
    this.#sub.unsubscribe();
  }

  follow(first: DeploymentRecord, options: FollowOptions): Promise<DeploymentRecord> {
    const now = options.now ?? Date.now;
    const lines = new DeployLines(first.id);
    const view = new StatusLine(options.out);
    let latest = first;
    // The hub's clock may not be this machine's: the status line's time counts on from the record's last step.
    let receivedAt = now();
    const status = (): string => statusLine(latest, latest.updatedAt + (now() - receivedAt));
    return new Promise<DeploymentRecord>((resolve, reject) => {
      let ended = false;
      const timers: Array<ReturnType<typeof setInterval>> = [];
      const end = (): void => {
        ended = true;
        for (const t of timers) clearInterval(t);
        offClosed();
        this.#onRecord = undefined;
        this.#stop = undefined;
        view.clear();
      };
      const apply = (r: DeploymentRecord): void => {
        if (ended || r.id !== first.id || r.updatedAt < latest.updatedAt) return;
        latest = r;
        receivedAt = now();
        const fresh = lines.next(r);
        if (r.outcome !== undefined) {
          view.show(fresh, undefined);
          end();
          resolve(r);
        } else view.show(fresh, status());
      };
      this.#stop = (err) => {
        if (ended) return;
        end();
        reject(err);
      };
      const offClosed = this.#client.on('closed', ({ error }) =>
        this.#stop?.(
          new CliError(
            `the connection to the hub closed${error === undefined ? '' : ` (${error.code})`} while following deployment ${first.id}; ` +
              `it goes on in the hub: see 'crossbus deploy status ${this.#app}'`,
          ),
        ),
      );
      this.#onRecord = apply;
      apply(first);
      if (this.#early !== undefined) apply(this.#early);
      this.#early = undefined;
      if (ended) return;
      const pollMs = options.pollMs ?? DEFAULT_DEPLOY_POLL_MS;
      const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      let polling = false;
      timers.push(
        setInterval(() => {
          if (polling || ended) return;
          polling = true;
          this.#read(first.id, timeoutMs)
            .then((r) => r !== undefined && apply(r))
            // A poll that fails (a busy hub) is only a missed chance: the records keep coming, and the next poll tries again.
            .catch(() => {})
            .finally(() => (polling = false));
        }, pollMs),
      );
      // The elapsed time on the status line moves on between records.
      if (options.out.isTTY === true) timers.push(setInterval(() => !ended && view.show([], status()), 1_000));
    });
  }

  /** The record of deployment `id` as the hub holds it now: in progress (STATUS), else finished (HISTORY). */
  async #read(id: string, timeoutMs: number): Promise<DeploymentRecord | undefined> {
    const { apps } = await this.#client.request<{ apps: AppDeployStatus[] }>(DEPLOY_STATUS, { app: this.#app }, { timeoutMs });
    const current = apps.find((a) => a.app === this.#app)?.deployment;
    if (current?.id === id) return current;
    const { history } = await this.#client.request<{ history: DeploymentRecord[] }>(DEPLOY_HISTORY, { app: this.#app }, { timeoutMs });
    return history.find((r) => r.id === id);
  }
}
