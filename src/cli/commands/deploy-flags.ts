/**
 * The flags and help of `crossbus deploy`, declared once: each subcommand takes the ones it names
 * (parseSubcommand refuses the others), and the help is built from the same declarations.
 */
import { DEFAULT_ENVIRONMENT, DEFAULT_STRATEGY } from '../../core/apps/deploy-defaults.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../client/defaults.js';
import { ENVIRONMENT_HELP, URL_OPTION, credentialOptions } from '../client-flags.js';
import { DEFAULT_DEPLOY_HISTORY_LIMIT, DEFAULT_DEPLOY_START_TIMEOUT_MS } from '../defaults.js';
import { DEPLOY_ENVIRONMENTS, DEPLOY_STRATEGIES } from '../deploy-config-flags.js';
import { HELP_OPTION, defineOptions, optionsHelp, pickOptions } from '../options.js';
import { STREAM_CLI_APP, type Subcommand } from './streams.js';

const DEPLOY_OPTIONS = defineOptions({
  strategy: {
    type: 'string',
    placeholder: '<name>',
    description: `start, rollback: ${DEPLOY_STRATEGIES.join(', ')}`,
    default: `the config file's, else ${DEFAULT_STRATEGY}; rollback: the last successful deployment's`,
  },
  env: {
    type: 'string',
    placeholder: '<name>',
    description: `start, rollback: the target environment, ${DEPLOY_ENVIRONMENTS.join(', ')} (its policy is the hub's)`,
    default: `the config file's, else ${DEFAULT_ENVIRONMENT}; rollback: the last successful deployment's`,
  },
  config: {
    type: 'string',
    placeholder: '<file>',
    description: 'start, rollback: a DeploymentConfig file (.json, .yaml or .yml); a flag may repeat a value of it, not contradict it',
  },
  detach: {
    type: 'boolean',
    description: 'start, abort, rollback: return once the hub has taken it, without following the deployment to its end',
  },
  limit: { type: 'string', placeholder: '<n>', description: 'history: the newest n deployments', default: DEFAULT_DEPLOY_HISTORY_LIMIT },
  json: { type: 'boolean', description: 'print JSON (start, promote, abort, rollback: the record; status, history: the answer)' },
  timeout: {
    type: 'string',
    placeholder: '<ms>',
    description: "how long to wait for the hub's answer",
    default: `${DEFAULT_REQUEST_TIMEOUT_MS}; start: ${DEFAULT_DEPLOY_START_TIMEOUT_MS}`,
  },
});

/** The credentials as every client command takes them, but --config: here it names the deployment's config. */
const { config: _hubConfig, data, insecure, ...credentials } = credentialOptions(STREAM_CLI_APP);
const CREDENTIALS = defineOptions({
  ...credentials,
  data: { ...data, description: "without a secret file: the app's newest valid key from the hub config file in this directory" },
  insecure,
});
const CONNECTION = defineOptions({ ...URL_OPTION, ...CREDENTIALS, ...HELP_OPTION });

export const DEPLOY_HELP = `Usage:
  crossbus deploy start <manifest> [--strategy blue-green|rolling|canary] [--env production] [--config deploy.json] [--detach]
                                          ship a new version of an app and follow it to its end
  crossbus deploy status [app] [--json]   apps: active and previous versions, the deployment in progress, instances
  crossbus deploy promote <app>           switch a blue-green preview, or end a canary's manual pause
  crossbus deploy abort <app>             stop the deployment in progress and roll it back
  crossbus deploy rollback <app> [--strategy ...] [--config ...]
                                          the previous version back (a deployment in progress: abort it)
  crossbus deploy history <app> [--limit ${DEFAULT_DEPLOY_HISTORY_LIMIT}] [--json]

start validates <manifest> (crossbus.app.json, .yaml or .yml, or a folder holding one), packs its
folder (node_modules and hidden files left out) with a SHA-256 checksum, and sends it with its
DeploymentConfig to the hub, which stages, validates, promotes and verifies the new version by
the strategy, rolling back on a failure. Each step is printed as it happens (elapsed time, phase,
the new version's share of the requests, analysis verdicts) until the deployment ends: exit 0
when it succeeded, 1 when it rolled back, was aborted or failed. abort and rollback follow theirs
the same way: exit 0 once the version from before serves again. Interrupting stops the following,
not the deployment. The hub answers on $SYS.REQ.DEPLOY.* and publishes each step on
$SYS.DEPLOY.<app>: the app needs request and subscribe grants on them (an admin's '>').

${optionsHelp([
  { title: 'Options:', options: { ...DEPLOY_OPTIONS, help: HELP_OPTION.help } },
  { title: `Connection (as for pub/sub/request, but the default app is ${JSON.stringify(STREAM_CLI_APP)}):`, options: URL_OPTION },
  { title: 'Credentials (first found wins):', options: CREDENTIALS },
])}

${ENVIRONMENT_HELP}`;

const flags = (names: ReadonlyArray<keyof typeof DEPLOY_OPTIONS>) => ({ ...pickOptions(DEPLOY_OPTIONS, names), ...CONNECTION });
const APP = { args: 1, argsUsage: '<app>' };
export const DEPLOY_SUBS: Record<string, Subcommand> = {
  start: { args: 1, argsUsage: '<manifest>', options: flags(['strategy', 'env', 'config', 'detach', 'json', 'timeout']) },
  status: { args: 0, optionalArgs: 1, argsUsage: '[app]', options: flags(['json', 'timeout']) },
  promote: { ...APP, options: flags(['json', 'timeout']) },
  abort: { ...APP, options: flags(['detach', 'json', 'timeout']) },
  rollback: { ...APP, options: flags(['strategy', 'env', 'config', 'detach', 'json', 'timeout']) },
  history: { ...APP, options: flags(['limit', 'json', 'timeout']) },
};
