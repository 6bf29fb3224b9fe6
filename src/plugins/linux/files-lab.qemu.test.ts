import { filesGroundTruthSuite } from './internal-test/files-ground-truth-suite.js';

filesGroundTruthSuite('maps, lsof and sockstat on a KASLR guest, against its own /proc', {
  kaslr: true,
});
