export { walkList, type ListWalkOptions } from './list-walker.js';
export { pslistPlugin, walkTasks, type PslistOptions, type PslistRow } from './pslist.js';
export { psauxPlugin, type PsauxOptions, type PsauxRow } from './psaux.js';
export { pstreePlugin, type PstreeRow } from './pstree.js';
export {
  readTask,
  stateLetter,
  taskLayout,
  type TaskInfo,
  type TaskLayout,
} from './task-reader.js';
export { lsmodPlugin, type LsmodRow } from './lsmod.js';
export { pidIdrEntries, pidTask, type PidIdrOptions } from './pid-idr.js';
export { psxviewPlugin, type PsxviewRow } from './psxview.js';
export { mapsPlugin, type MapsOptions, type MapsRow } from './maps.js';
export { lsofPlugin, type LsofOptions, type LsofRow } from './lsof.js';
export { sockstatPlugin, type SockstatOptions, type SockstatRow } from './sockstat.js';
export { walkMapleTree, mapleLayout, type MapleEntry, type MapleLayout } from './maple-tree.js';
