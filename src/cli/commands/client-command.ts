/**
 * What the client commands (pub, sub, request, reply) share: the help layout, the --header and
 * --json flags, and writing to stdout.
 */
import { ENVIRONMENT_HELP, URL_OPTION, credentialOptions } from '../client-flags.js';
import { HELP_OPTION, UsageError, defineOptions, optionsHelp, type OptionSpecs } from '../options.js';
import { DEFAULT_CLIENT_APP } from '../defaults.js';

export const CREDENTIAL_OPTIONS = credentialOptions(DEFAULT_CLIENT_APP);

export const HEADER_OPTION = defineOptions({
  header: {
    type: 'string',
    multiple: true,
    placeholder: '<k=v>',
    description: 'a message header; repeat for more',
  },
});

export const JSON_OPTION = defineOptions({
  json: { type: 'boolean', description: 'print JSON (payloads as "data" or, when binary, "data_b64")' },
});

/** Every client command's flags end with these. */
export const COMMON_OPTIONS = defineOptions({ ...URL_OPTION, ...HELP_OPTION });

/** The help's option sections: the command's own, the credentials, the environment. */
export function clientSections(options: OptionSpecs): string {
  return `${optionsHelp([
    { title: 'Options:', options },
    { title: 'Credentials (first found wins):', options: CREDENTIAL_OPTIONS },
  ])}\n\n${ENVIRONMENT_HELP}`;
}

/** `--header k=v` values as a headers object; a UsageError for one without "=". */
export function parseHeaders(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header takes key=value, got ${JSON.stringify(v)}`);
    headers[v.slice(0, eq).trim()] = v.slice(eq + 1);
  }
  return headers;
}

export function out(text: string): void {
  process.stdout.write(text);
}

export function printHelp(text: string): number {
  out(`${text}\n`);
  return 0;
}
