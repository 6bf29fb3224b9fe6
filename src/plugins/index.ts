/**
 * Public surface of `plugins`: OS plugins that declare their requirements and yield typed rows.
 */
export {
  checkRequirements,
  type LinuxPlugin,
  type PluginColumn,
  type PluginContext,
} from './plugin.js';
export * as linux from './linux/index.js';
export {
  lsmodPlugin,
  lsofPlugin,
  mapsPlugin,
  sockstatPlugin,
  psxviewPlugin,
  psauxPlugin,
  pslistPlugin,
  pstreePlugin,
  walkList,
  type PsauxRow,
  type PslistOptions,
  type PslistRow,
  type PstreeRow,
  type LsmodRow,
  type LsofRow,
  type MapsRow,
  type SockstatRow,
  type PsxviewRow,
} from './linux/index.js';
