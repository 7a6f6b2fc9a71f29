/**
 * `crossbus run <manifest>`: validates an app manifest and runs its node app's instances under
 * a Supervisor, connected to a hub as the app; a status line per change on stdout; a graceful
 * stop on SIGINT or SIGTERM. The app's secret comes the way every client command's does
 * (src/cli/credentials.ts), and reaches the instances over their IPC channel only.
 */
import { loadAppManifest } from '../../node/apps/manifest-file.js';
import { Supervisor } from '../../node/apps/supervisor.js';
import { DEFAULT_STOP_GRACE_MS } from '../../node/apps/defaults.js';
import { hubLabel } from '../client-connection.js';
import { ENVIRONMENT_HELP, URL_OPTION, credentialOptions, hubUrl } from '../client-flags.js';
import { resolveCredentials } from '../credentials.js';
import { cliLogger } from '../logger.js';
import { CliError, HELP_OPTION, UsageError, defineOptions, intOption, optionsHelp, parseOptions } from '../options.js';
import { out, printHelp } from './client-command.js';

const RUN_OPTIONS = defineOptions({
  'stop-grace': {
    type: 'string',
    placeholder: '<ms>',
    description: 'how long a stopping instance may drain before SIGKILL',
    default: DEFAULT_STOP_GRACE_MS,
  },
  ...URL_OPTION,
  ...HELP_OPTION,
});
const CREDENTIALS = credentialOptions("<the manifest's name>");

export const RUN_HELP = `Usage: crossbus run <manifest> [--url ...] [--name <app>] [--secret-file <path>]

Runs a node app: validates <manifest> (crossbus.app.json, .yaml or .yml, or a folder holding
one), then starts each of its instances as its own process, connected to the hub as the app. An
instance that exits, crashes or stops beating is restarted at once, then with exponential
backoff while it keeps failing; one that fails too often (a crash loop) is left stopped and
reported. SIGINT or SIGTERM stops every instance gracefully (SIGTERM, in-flight requests
finish, SIGKILL after --stop-grace). The app's secret reaches the instances over their IPC
channel, never a command line, the environment or a file.
Exits 1 once every instance is in a crash loop.

${optionsHelp([
  { title: 'Options:', options: RUN_OPTIONS },
  { title: "Credentials (first found wins; the default app is the manifest's name):", options: CREDENTIALS },
])}

${ENVIRONMENT_HELP}`;

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions({ ...RUN_OPTIONS, ...CREDENTIALS }, argv);
  if (values.help) return printHelp(RUN_HELP);
  const [path, extra] = positionals;
  if (path === undefined || extra !== undefined) throw new UsageError('run takes one <manifest>');
  const stopGraceMs = intOption('stop-grace', values['stop-grace'], 0, 3_600_000) ?? DEFAULT_STOP_GRACE_MS;
  const loaded = await loadAppManifest(path);
  const { manifest } = loaded;
  if (manifest.kind !== 'node')
    throw new CliError(`${loaded.file}: ${manifest.name} is a static app: the hub serves it, crossbus run runs node apps`);
  const credentials = await resolveCredentials(values, manifest.name);
  if (credentials.source.kind !== 'none' && credentials.name !== manifest.name)
    throw new CliError(`--name ${JSON.stringify(credentials.name)} is not the manifest's app ${JSON.stringify(manifest.name)}`);
  const url = hubUrl(values);
  const supervisor = new Supervisor({
    ...loaded,
    url,
    ...(credentials.secret === undefined ? {} : { secret: credentials.secret }),
    stopGraceMs,
    logger: cliLogger({ level: 'warn' }),
  });
  const line = (text: string): void => out(`${new Date().toISOString()} ${text}\n`);
  supervisor.events.on('state', ({ instanceId, state }) => {
    const pid = supervisor.instances().find((i) => i.instanceId === instanceId)?.pid;
    line(
      `${instanceId} ${state}${pid === undefined || state === 'backoff' || state === 'stopped' || state === 'crash-loop' ? '' : ` (pid ${pid})`}`,
    );
  });
  supervisor.events.on('instance-exited', ({ instanceId, pid, code, signal, reason }) =>
    line(`${instanceId} exited (pid ${pid}, ${signal === null ? `code ${code}` : signal}${reason === undefined ? '' : `, ${reason}`})`),
  );
  supervisor.events.on('instance-restarted', ({ instanceId, pid, previousPid, restarts }) =>
    line(`${instanceId} restarted (pid ${previousPid} -> ${pid}, restart ${restarts})`),
  );
  supervisor.events.on('unhealthy', ({ instanceId, reason, detail }) => line(`${instanceId} unhealthy (${reason}): ${detail}`));
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  supervisor.events.on('crash-loop', ({ instanceId, restarts, windowMs }) => {
    line(`${instanceId} crash loop: ${restarts} restarts within ${windowMs} ms; no longer restarted`);
    if (supervisor.instances().every((i) => i.state === 'crash-loop')) finish(1);
  });
  line(
    `running ${manifest.name}@${manifest.version}: ${manifest.instances} instance${manifest.instances === 1 ? '' : 's'} on ${hubLabel(url)}`,
  );
  const stop = (): void => finish(0);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  supervisor.start();
  const code = await finished;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await supervisor.stop();
  line(`stopped ${manifest.name}`);
  return code;
}
