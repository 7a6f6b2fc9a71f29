/**
 * The pipeline's stage step: a received package checked (paths, limits, checksum), written to a
 * folder of its own under `<data>/deployments/incoming/`, its manifest read and checked (a node
 * app the hub's config knows); then, once the manager has reserved the app, moved to its
 * version's folder and signed with the hub's key.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppPackage, RevisionRecord } from '../../core/apps/deploy-topics.js';
import type { AppManifest } from '../../core/apps/manifest.js';
import { createError } from '../../core/errors/index.js';
import { checkPackage, writePackage, type PackageLimits } from '../../node/apps/app-package.js';
import { loadAppManifest } from '../../node/apps/manifest-file.js';
import { PACKAGE_ROOT } from '../../node/version.js';
import type { DeployStore } from './deploy-store.js';

const MANIFEST_FILES = new Set(['crossbus.app.json', 'crossbus.app.yaml', 'crossbus.app.yml']);

/** A package written and checked, not yet a version: `commit` makes it one, `discard` removes it. */
export interface StagedPackage {
  readonly manifest: AppManifest;
  commit(stagedBy: string, at: number): Promise<RevisionRecord>;
  discard(): Promise<void>;
}

export async function stagePackage(
  store: DeployStore,
  pkg: AppPackage,
  limits: PackageLimits | undefined,
  knownApp: ((app: string) => boolean) | undefined,
): Promise<StagedPackage> {
  const files = checkPackage(pkg, limits);
  if (!files.some((f) => MANIFEST_FILES.has(f.path)))
    throw createError('CB_ERR_PAYLOAD_INVALID', 'the package holds no crossbus.app.json or .yaml');
  const staging = join(store.dir, 'incoming', randomUUID());
  const discard = (): Promise<void> => rm(staging, { recursive: true, force: true });
  try {
    await writePackage(staging, files, PACKAGE_ROOT);
    const { manifest } = await loadAppManifest(staging);
    if (manifest.kind !== 'node')
      throw createError(
        'CB_ERR_INVALID_OPTION',
        `app ${manifest.name} is a static app: the hub serves it with staticApps, it is not deployed as a service`,
      );
    if (knownApp !== undefined && !knownApp(manifest.name))
      throw createError(
        'CB_ERR_FORBIDDEN',
        `app ${JSON.stringify(manifest.name)} is not in the hub's config: its instances could not authenticate`,
      );
    return {
      manifest,
      discard,
      async commit(stagedBy, at) {
        const id = `${manifest.version}-${pkg.checksum.slice(0, 12)}`;
        const dir = store.revisionDir(manifest.name, id);
        // The same version and files staged again replace the earlier copy (it is not running).
        await rm(dir, { recursive: true, force: true });
        await mkdir(dirname(dir), { recursive: true });
        await rename(staging, dir);
        return {
          id,
          app: manifest.name,
          version: manifest.version,
          checksum: pkg.checksum,
          signature: store.sign(manifest.name, manifest.version, pkg.checksum),
          instances: manifest.instances,
          stagedAt: at,
          stagedBy,
        };
      },
    };
  } catch (err) {
    await discard();
    throw err;
  }
}
