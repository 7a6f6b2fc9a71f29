/**
 * `crossbus deploy start|status|promote|abort|rollback|history`: ships an app's new version to
 * the hub's deployment manager and follows it, through the requests the hub answers
 * (`$SYS.REQ.DEPLOY.*`, which need request grants: an admin's '>') and the records it publishes
 * on `$SYS.DEPLOY.<app>`. start prepares (validates the manifest, packs its folder with a
 * checksum), sends the package with its DeploymentConfig, then prints each step until the
 * deployment ends. Exit codes: 0 ok (start: the deployment succeeded), 1 the hub refused, or the
 * deployment rolled back, was aborted or failed, 2 usage error.
 */
import {
  DEPLOY_ABORT,
  DEPLOY_EVENTS_PREFIX,
  DEPLOY_HISTORY,
  DEPLOY_PROMOTE,
  DEPLOY_ROLLBACK,
  DEPLOY_START,
  DEPLOY_STATUS,
  type AppDeployStatus,
  type DeploymentRecord,
} from '../../core/apps/deploy-topics.js';
import { isCrossbusError } from '../../core/errors/index.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../client/defaults.js';
import { packApp } from '../../node/apps/app-package.js';
import { loadAppManifest } from '../../node/apps/manifest-file.js';
import type { ClientFlags } from '../client-connection.js';
import { DEFAULT_DEPLOY_HISTORY_LIMIT, DEFAULT_DEPLOY_START_TIMEOUT_MS } from '../defaults.js';
import { loadDeployConfig } from '../deploy-config-flags.js';
import { DeployWatch, type DeployClient, type FollowOutput } from '../deploy-follow.js';
import { deploymentSummary, formatHistory, formatStatus, outcomeLine } from '../deploy-format.js';
import { CliError, intOption } from '../options.js';
import { DEPLOY_HELP, DEPLOY_SUBS } from './deploy-flags.js';
import { parseSubcommand, withClient, type StreamIo } from './streams.js';
import { formatBytes } from './streams-format.js';

export { DEPLOY_HELP };

/** What the deploy command needs of a connection: the real Bus from connect(), or a test's. */
export interface DeployConnection extends DeployClient {
  close(): Promise<void>;
}
export type OpenDeployClient = (flags: ClientFlags) => Promise<DeployConnection>;

export interface DeployIo extends StreamIo {
  /** Where a followed deployment's lines go (stdout), with `isTTY` for the status line. @default stdout, as a non-terminal */
  terminal?: FollowOutput;
  /** Registers what an interrupt (SIGINT) does while a deployment is followed; returns its removal. @default none */
  onInterrupt?: (handler: () => void) => () => void;
  /** While following, the record is also read this often (ms). @default DEFAULT_DEPLOY_POLL_MS */
  pollMs?: number;
}

type Values = Record<string, string | boolean | undefined>;

/** A refusal the person can act on, in the CLI's words; other errors as they are. */
function explained(err: unknown, topic: string, action: 'request' | 'subscribe' = 'request'): unknown {
  if (!isCrossbusError(err)) return err;
  // A grant's refusal (the client's check or the hub's gate name the action); the manager's own refusals say enough.
  if (err.code === 'CB_ERR_FORBIDDEN' && (err.details as { action?: unknown } | undefined)?.action !== undefined)
    return new CliError(`${err.message}: deploy needs an app with a ${action} grant on ${topic}, such as "admin" (--name) (${err.code})`);
  if (err.code === 'CB_ERR_NO_RESPONDERS')
    return new CliError(`the hub answers no ${topic}: it runs no deployment manager (a hub of a version before deployments) (${err.code})`);
  return err;
}

async function ask<T>(client: DeployClient, topic: string, data: unknown, timeoutMs: number): Promise<T> {
  try {
    return await client.request<T>(topic, data, { timeoutMs });
  } catch (err) {
    throw explained(err, topic);
  }
}

/** How a command that changes a deployment runs it: its request, then (unless --detach) the record followed to its end. */
interface Change {
  readonly app: string;
  readonly topic: string;
  readonly data: unknown;
  readonly timeoutMs: number;
  readonly detach: boolean;
  readonly json: boolean;
  /** The first line, once the hub took it. */
  readonly said: (r: DeploymentRecord) => string;
  /** Whether the final record is what was asked for (exit 0). */
  readonly done: (r: DeploymentRecord) => boolean;
}

/** Sends a change and follows the deployment it answers with: the watch opens first, so no step is missed. */
async function change(client: DeployClient, c: Change, io: DeployIo, progress: FollowOutput): Promise<number> {
  const watch = c.detach
    ? undefined
    : await DeployWatch.open(client, c.app).catch((err: unknown) => {
        throw explained(err, `${DEPLOY_EVENTS_PREFIX}${c.app}`, 'subscribe');
      });
  try {
    const { deployment } = await ask<{ deployment: DeploymentRecord }>(client, c.topic, c.data, c.timeoutMs);
    progress.write(`${c.said(deployment)}\n`);
    if (watch === undefined) {
      if (c.json) io.stdout(`${JSON.stringify(deployment, null, 2)}\n`);
      else if (deployment.outcome === undefined) progress.write(`follow it with 'crossbus deploy status ${c.app}'\n`);
      return 0;
    }
    const offInterrupt = io.onInterrupt?.(() =>
      watch.interrupt(
        new CliError(
          `stopped following deployment ${deployment.id}; it goes on in the hub ('crossbus deploy status ${c.app}', 'crossbus deploy abort ${c.app}')`,
        ),
      ),
    );
    let final: DeploymentRecord;
    try {
      final = await watch.follow(deployment, { out: progress, ...(io.pollMs === undefined ? {} : { pollMs: io.pollMs }) });
    } finally {
      offInterrupt?.();
    }
    progress.write(`${outcomeLine(final)}\n`);
    if (c.json) io.stdout(`${JSON.stringify(final, null, 2)}\n`);
    return c.done(final) ? 0 : 1;
  } finally {
    watch?.close();
  }
}

export async function deployCommand(args: string[], io: DeployIo, open: OpenDeployClient): Promise<number> {
  const parsed = parseSubcommand('deploy', args, DEPLOY_SUBS, DEPLOY_HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { sub, positionals } = parsed;
  const values = parsed.values as Values;
  const json = values.json === true;
  const detach = values.detach === true;
  const timeout = (fallback: number) => intOption('timeout', values.timeout as string | undefined, 1, 86_400_000) ?? fallback;
  const connection = { ...(values as ClientFlags), config: undefined };
  const [arg] = positionals as [string];
  // With --json, stdout holds the JSON alone: the steps go to stderr.
  const progress: FollowOutput = json ? { write: (s: string) => io.stderr(s) } : (io.terminal ?? { write: (s: string) => io.stdout(s) });

  if (sub === 'start') {
    // Everything that can be wrong on this side is found before connecting: the manifest, the config, the package.
    const timeoutMs = timeout(DEFAULT_DEPLOY_START_TIMEOUT_MS);
    const loaded = await loadAppManifest(arg);
    const { input } = await loadDeployConfig(values.config as string | undefined, {
      strategy: values.strategy as string | undefined,
      env: values.env as string | undefined,
    });
    const pkg = await packApp(loaded.dir);
    const app = loaded.manifest.name;
    const bytes = pkg.files.reduce((n, f) => n + Math.floor((f.data.length * 3) / 4), 0);
    progress.write(
      `prepared ${app} ${loaded.manifest.version}: ${pkg.files.length} file${pkg.files.length === 1 ? '' : 's'}, ${formatBytes(bytes)}, sha256 ${pkg.checksum.slice(0, 12)}\n`,
    );
    return withClient('deploy', connection, open, io, (client) =>
      change(
        client,
        {
          app,
          topic: DEPLOY_START,
          data: { package: pkg, config: input },
          timeoutMs,
          detach,
          json,
          said: (r) => `deployment ${r.id} started: ${deploymentSummary(r)}`,
          done: (r) => r.outcome === 'succeeded',
        },
        io,
        progress,
      ),
    );
  }

  const timeoutMs = timeout(DEFAULT_REQUEST_TIMEOUT_MS);
  // rollback's own rollout: as start's config, when any of it is given (else the hub repeats the last successful one's).
  const rollout =
    values.config === undefined && values.strategy === undefined && values.env === undefined
      ? undefined
      : (
          await loadDeployConfig(values.config as string | undefined, {
            strategy: values.strategy as string | undefined,
            env: values.env as string | undefined,
          })
        ).input;
  const limit = intOption('limit', values.limit as string | undefined, 1, 100_000) ?? DEFAULT_DEPLOY_HISTORY_LIMIT;
  return withClient('deploy', connection, open, io, async (client) => {
    if (sub === 'status') {
      const answer = await ask<{ apps: AppDeployStatus[] }>(client, DEPLOY_STATUS, arg === undefined ? {} : { app: arg }, timeoutMs);
      io.stdout(json ? `${JSON.stringify(answer, null, 2)}\n` : formatStatus(answer.apps, arg !== undefined));
      return 0;
    }
    if (sub === 'history') {
      const answer = await ask<{ history: DeploymentRecord[] }>(client, DEPLOY_HISTORY, { app: arg }, timeoutMs);
      const history = answer.history.slice(0, limit);
      io.stdout(json ? `${JSON.stringify({ history }, null, 2)}\n` : formatHistory(history));
      return 0;
    }
    if (sub === 'promote') {
      const { deployment } = await ask<{ deployment: DeploymentRecord }>(client, DEPLOY_PROMOTE, { app: arg }, timeoutMs);
      io.stdout(
        json ? `${JSON.stringify(deployment, null, 2)}\n` : `promoted: deployment ${deployment.id}: ${deploymentSummary(deployment)}\n`,
      );
      return 0;
    }
    // Abort, and rollback while a deployment runs (the hub aborts it), end well when the old version serves again.
    const running =
      sub === 'abort'
        ? true
        : (await ask<{ apps: AppDeployStatus[] }>(client, DEPLOY_STATUS, { app: arg }, timeoutMs)).apps[0]?.deployment !== undefined;
    return change(
      client,
      {
        app: arg,
        topic: sub === 'abort' ? DEPLOY_ABORT : DEPLOY_ROLLBACK,
        data: rollout === undefined || sub === 'abort' ? { app: arg } : { app: arg, config: rollout },
        timeoutMs,
        detach,
        json,
        said: (r) =>
          running
            ? `aborting deployment ${r.id}: ${deploymentSummary(r)}`
            : `rolling back: deployment ${r.id} started: ${deploymentSummary(r)}`,
        done: (r) => (running ? r.outcome !== 'succeeded' : r.outcome === 'succeeded'),
      },
      io,
      progress,
    );
  });
}
