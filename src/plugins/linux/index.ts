export { walkList, type ListWalkOptions } from './list-walker.js';
export { pslistPlugin, walkTasks, type PslistOptions, type PslistRow } from './pslist.js';
export { psauxPlugin, type PsauxOptions, type PsauxRow } from './psaux.js';
export { pstreePlugin, type PstreeRow } from './pstree.js';
export { readTask, stateLetter, taskLayout, type TaskInfo, type TaskLayout } from './task-reader.js';
