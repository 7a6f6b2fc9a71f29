/**
 * The flags of the commands that connect to a hub as a client (pub, sub, request, stream, dlq):
 * the hub's URL and the app's credentials, which `resolveCredentials` reads.
 */
import { CONFIG_FILE_NAME } from '../node/config/config-file.js';
import { defineOptions } from './options.js';
import { DEFAULT_DATA_DIR } from '../node/defaults.js';
import { DEFAULT_URL } from './defaults.js';

export const URL_OPTION = defineOptions({
  url: { type: 'string', placeholder: '<ws://...>', description: 'the hub', default: DEFAULT_URL },
});

/** The credential flags, in the order they are looked at; `defaultApp` is the app used when none is named. */
export function credentialOptions(defaultApp: string) {
  return defineOptions({
    secret: { type: 'string', placeholder: '<base64>', description: "the app's secret (or CROSSBUS_SECRET)" },
    name: {
      type: 'string',
      placeholder: '<app>',
      description: 'the app to authenticate as',
      default: `${JSON.stringify(defaultApp)}, or CROSSBUS_NAME`,
    },
    config: {
      type: 'string',
      placeholder: '<file>',
      description: "without a secret: the app's newest valid key from this hub config file",
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
