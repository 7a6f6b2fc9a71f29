/**
 * The hub's own settings kept in its settings bucket (key `hub.overlay`): the `limits` and `roles`
 * of the config document, laid over the config file's. A change made with `crossbus config set
 * --hub` reaches a running hub without a restart, checked exactly as a file reload is (the merged
 * document goes through `parseHubConfig`), and a file reload keeps the overlay on top. Apps and
 * their keys stay in the file: an overlay naming them is refused, so no secret is ever in the
 * bucket. Isomorphic.
 */
import { isPlainObject } from '../settings/settings-schema.js';
import { ConfigError } from '../errors/index.js';
import { parseHubConfig } from './parse.js';
import type { HubConfig } from './schema.js';
import { serializeHubConfig } from './serialize.js';

/** The sections an overlay may set. */
export const HUB_OVERLAY_SECTIONS = ['limits', 'roles'] as const;

export type HubOverlay = Partial<Record<(typeof HUB_OVERLAY_SECTIONS)[number], Record<string, unknown>>>;

/** CB_ERR_CONFIG_INVALID unless `overlay` is an object of allowed sections, each an object. */
export function checkOverlay(overlay: unknown): HubOverlay {
  if (!isPlainObject(overlay)) throw invalid('(overlay)', 'must be an object');
  for (const [key, value] of Object.entries(overlay)) {
    if (!(HUB_OVERLAY_SECTIONS as readonly string[]).includes(key)) {
      throw invalid(
        key,
        `cannot be set in the settings bucket (only ${HUB_OVERLAY_SECTIONS.join(' and ')}; apps and their keys stay in the config file)`,
      );
    }
    if (!isPlainObject(value)) throw invalid(key, 'must be an object');
  }
  return overlay as HubOverlay;
}

/**
 * `file` with `overlay` laid over it: `limits` merged key by key (objects deeply, the rest
 * replaced), `roles` role by role (an overlay's role replaces the file's of that name whole).
 * Checked by `parseHubConfig`: CB_ERR_CONFIG_INVALID with the path, and nothing applied.
 */
export function overlayHubConfig(file: HubConfig, overlay: unknown): HubConfig {
  const o = checkOverlay(overlay);
  const doc = serializeHubConfig(file) as unknown as Record<string, unknown>;
  if (o.limits !== undefined) doc.limits = deepMerge(doc.limits, o.limits);
  if (o.roles !== undefined) doc.roles = { ...(doc.roles as Record<string, unknown>), ...o.roles };
  return parseHubConfig(doc, 'the settings bucket (hub.overlay) over the config file');
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) if (k !== '__proto__') out[k] = deepMerge(base[k], v);
  return out;
}

function invalid(path: string, message: string): ConfigError {
  return new ConfigError('CB_ERR_CONFIG_INVALID', `hub settings: ${path} ${message}`, { details: { path } });
}
