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
