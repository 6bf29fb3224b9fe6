// Ground truth, 5-level paging: a bzImage boot with `-cpu max` turns CR4.LA57 on (lab-notes §6).
import { startLabVm } from '../lab/index.js';
import {
  GROUND_TRUTH_WORKLOAD,
  translationGroundTruthSuite,
} from './_translation-ground-truth-suite.js';

translationGroundTruthSuite('5-level paging (bzImage, -cpu max)', {
  start: () => startLabVm({ workload: GROUND_TRUTH_WORKLOAD, la57: true, gdb: true }),
  expectLevels: 5,
});
