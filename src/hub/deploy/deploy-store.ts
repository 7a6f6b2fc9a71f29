/**
 * What the deployment manager keeps on disk, under `<data>/deployments/`: `state.json` (each
 * app's active and previous version, the deployment in progress with its phase, the history),
 * replaced atomically at every step so a hub restart finds the last step taken; `deploy.key`
 * (0600), the key that signs each staged version; `apps/<app>/<revision>/`, the staged files.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeploymentRecord, RevisionRecord } from '../../core/apps/deploy-topics.js';
import { createError } from '../../core/errors/index.js';
import { PRIVATE_DIR_MODE, readIfExists, replaceFileAtomically } from '../../node/atomic-file.js';

/** One app's deployment state. */
export interface AppDeployState {
  active: RevisionRecord | undefined;
  previous: RevisionRecord | undefined;
  deployment: DeploymentRecord | undefined;
  /** Finished deployments, newest first (bounded). */
  history: DeploymentRecord[];
}

interface StateFile {
  readonly version: 1;
  readonly apps: Record<string, AppDeployState>;
}

export class DeployStore {
  readonly dir: string;
  readonly #stateFile: string;
  #key: Buffer | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'deployments');
    this.#stateFile = join(this.dir, 'state.json');
  }

  /** Where a version's files are staged. */
  revisionDir(app: string, revision: string): string {
    return join(this.dir, 'apps', app, revision);
  }

  async open(): Promise<Map<string, AppDeployState>> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const keyFile = join(this.dir, 'deploy.key');
    const key = await readIfExists(keyFile);
    if (key === undefined) {
      this.#key = randomBytes(32);
      await replaceFileAtomically(keyFile, this.#key.toString('base64'));
    } else this.#key = Buffer.from(key.trim(), 'base64');
    const text = await readIfExists(this.#stateFile);
    const apps = new Map<string, AppDeployState>();
    if (text === undefined) return apps;
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
    } catch (err) {
      throw createError('CB_ERR_STREAM_CORRUPT', `${this.#stateFile} is not JSON: the deployment state cannot be read`, { cause: err });
    }
    for (const [app, state] of Object.entries(parsed.apps ?? {})) apps.set(app, { ...state, history: state.history ?? [] });
    return apps;
  }

  /** Saves every app's state; writes are queued, each replaces the file whole. */
  save(apps: ReadonlyMap<string, AppDeployState>): Promise<void> {
    const doc: StateFile = { version: 1, apps: Object.fromEntries(apps) };
    const text = JSON.stringify(doc);
    this.#writing = this.#writing.catch(() => {}).then(() => replaceFileAtomically(this.#stateFile, text));
    return this.#writing;
  }

  /** The signature of a staged version: HMAC-SHA256 of its app, version and checksum under the hub's key. */
  sign(app: string, version: string, checksum: string): string {
    return createHmac('sha256', this.#requireKey()).update(`${app}\n${version}\n${checksum}`).digest('hex');
  }

  verify(r: RevisionRecord): boolean {
    const expected = Buffer.from(this.sign(r.app, r.version, r.checksum), 'hex');
    const given = Buffer.from(r.signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #requireKey(): Buffer {
    if (this.#key === undefined) throw createError('CB_ERR_INTERNAL', 'the deployment store is not open');
    return this.#key;
  }
}
