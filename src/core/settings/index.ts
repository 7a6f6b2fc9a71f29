/**
 * Settings: configuration resolved from layers (global < environment < project < user < env <
 * flags), validated by a schema declared once with valibot, secrets sealed at rest and redacted in
 * output, changes diffed for the history. Pure and isomorphic: the KV buckets, the bus and the
 * files are wired on elsewhere.
 */
export { choice, flag, httpUrl, needsRestart, secret, section, switches, text, whole, type SettingMarks } from './fields.js';
export {
  defineSettings,
  type LeafType,
  type SettingsIssue,
  type SettingsLayer,
  type SettingsNode,
  type SettingsSchema,
} from './settings-schema.js';
export {
  ENVIRONMENT_SETTINGS,
  ENVIRONMENTS,
  EnvironmentConfigSchema,
  LOG_LEVELS,
  type EnvironmentConfig,
  type EnvironmentConfigInput,
} from './environment-schema.js';
export { checkLayer, isSealed, LAYER_NAMES, type CheckLayerOptions, type LayerName, type SealedValue } from './layers.js';
export {
  explainSetting,
  resolveSettings,
  type Explanation,
  type ExplainOptions,
  type ExplainStep,
  type LayerProblem,
  type Resolution,
  type ResolveOptions,
  type SettingSource,
  type SettingsLayers,
} from './resolve.js';
export { SETTINGS_ENV_PREFIX, settingsFromEnv, settingsFromFlags, toScreamingSnake, type SettingsFromEnvOptions } from './env-vars.js';
export { getSetting, setSetting, unsetSetting } from './paths.js';
export { SettingsKey } from './settings-key.js';
export { openSecrets, sealSecrets } from './secrets.js';
export { REDACTED, redact } from './redact.js';
export { diffSettings, restartNeeded, type SettingsChange, type SettingsVersion } from './diff.js';
