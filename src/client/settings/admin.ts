/**
 * The settings service's operations as a client calls them (`crossbus config`, and apps that
 * manage configuration): thin wrappers over requests on `$SYS.REQ.SETTINGS.*`, which the hub
 * answers itself. Runtime-neutral.
 */
import type { SettingsLayer } from '../../core/settings/settings-schema.js';
import {
  SETTINGS_TOPICS,
  type GetResult,
  type LayerVersion,
  type SettingsScope,
  type SettingsTarget,
  type WriteResult,
} from '../../core/settings/settings-wire.js';
import type { Bus } from '../bus.js';

export class SettingsAdmin {
  readonly #bus: Bus;

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  /** The stored layers of `target`, secrets redacted (or in clear with `reveal`, if this app may). */
  get(target: SettingsTarget, options: { reveal?: boolean; timeoutMs?: number } = {}): Promise<GetResult> {
    return this.#ask(SETTINGS_TOPICS.get, { target, reveal: options.reveal === true }, options.timeoutMs);
  }

  /** Sets `path` in one layer: a new version (CB_ERR_CONFIG_INVALID for a path or value the schema refuses). */
  set(scope: SettingsScope, path: string, value: unknown, options: { expect?: number } = {}): Promise<WriteResult> {
    return this.#ask(SETTINGS_TOPICS.set, { scope, path, value, ...options });
  }

  unset(scope: SettingsScope, path: string, options: { expect?: number } = {}): Promise<WriteResult> {
    return this.#ask(SETTINGS_TOPICS.unset, { scope, path, ...options });
  }

  /** Replaces one layer whole (a layer file): checked whole, nothing applied when any of it is wrong. */
  replace(scope: SettingsScope, layer: SettingsLayer, options: { expect?: number } = {}): Promise<WriteResult> {
    return this.#ask(SETTINGS_TOPICS.replace, { scope, layer, ...options });
  }

  /** The versions of one layer, oldest first. */
  history(scope: SettingsScope): Promise<LayerVersion[]> {
    return this.#ask(SETTINGS_TOPICS.history, { scope });
  }

  /** Makes version `version` of a layer its newest again (a new version). */
  rollback(scope: SettingsScope, version: number): Promise<WriteResult> {
    return this.#ask(SETTINGS_TOPICS.rollback, { scope, version });
  }

  /** Resolves `{ changed: true }` once one of the layers named in `versions` changes, else `false` after `timeoutMs`. */
  wait(versions: Record<string, number>, timeoutMs: number): Promise<{ changed: boolean }> {
    return this.#ask(SETTINGS_TOPICS.wait, { versions, timeoutMs }, timeoutMs + 5_000);
  }

  #ask<T>(topic: string, data: unknown, timeoutMs?: number): Promise<T> {
    return this.#bus.request<T>(topic, data, timeoutMs === undefined ? undefined : { timeoutMs });
  }
}
