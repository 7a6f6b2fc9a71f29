/**
 * The flags of the commands that connect to a hub as a client (pub, sub, request, reply, stream,
 * consumer, dlq, stats): the hub's URL and the app's credentials, which `resolveCredentials`
 * reads, and the environment variables that stand in for them.
 */
import { CONFIG_FILE_NAME } from '../node/config/config-file.js';
import { defineOptions, helpRows } from './options.js';
import { DEFAULT_DATA_DIR } from '../node/defaults.js';
import { DEFAULT_URL } from './defaults.js';

/** Stands in for --url. */
export const ENV_URL = 'CROSSBUS_URL';
/** Stands in for --name. */
export const ENV_NAME = 'CROSSBUS_NAME';
/** Stands in for --secret-file. */
export const ENV_SECRET_FILE = 'CROSSBUS_SECRET_FILE';

export const URL_OPTION = defineOptions({
  url: { type: 'string', placeholder: '<ws://...>', description: `the hub (or ${ENV_URL})`, default: DEFAULT_URL },
});

/** The credential flags, in the order they are looked at; `defaultApp` is the app used when none is named. */
export function credentialOptions(defaultApp: string) {
  return defineOptions({
    'secret-file': {
      type: 'string',
      placeholder: '<path>',
      description: `a file holding the app's secret (base64), or ${ENV_SECRET_FILE}; never the secret itself on the command line`,
    },
    name: {
      type: 'string',
      placeholder: '<app>',
      description: 'the app to authenticate as',
      default: `${JSON.stringify(defaultApp)}, or ${ENV_NAME}`,
    },
    config: {
      type: 'string',
      placeholder: '<file>',
      description: "without a secret file: the app's newest valid key from this hub config file",
      default: `<data>/${CONFIG_FILE_NAME} when it exists`,
    },
    data: {
      type: 'string',
      placeholder: '<dir>',
      description: 'the hub state directory holding that config file',
      default: DEFAULT_DATA_DIR,
    },
    insecure: { type: 'boolean', description: 'no credentials (only a hub started with --insecure accepts that)' },
  });
}

/** The environment section of a client command's help. */
export const ENVIRONMENT_HELP = `Environment:
${helpRows([
  [ENV_URL, 'the hub, when --url is not given'],
  [ENV_NAME, 'the app, when --name is not given'],
  [ENV_SECRET_FILE, "a file holding the app's secret, when --secret-file is not given"],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'send spans over OTLP/HTTP (with OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME)'],
])}`;

/** The URL a client command connects to: --url, else CROSSBUS_URL, else the default. */
export function hubUrl(flags: { url?: string | undefined }): string {
  return flags.url ?? nonEmpty(process.env[ENV_URL]) ?? DEFAULT_URL;
}

export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
