import { filesGroundTruthSuite } from './internal-test/files-ground-truth-suite.js';

filesGroundTruthSuite(
  'maps, lsof and sockstat on a guest with 5-level paging and no KASLR, against its own /proc',
  { la57: true, kaslr: false },
);
