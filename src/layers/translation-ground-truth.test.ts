// Ground truth, 4-level paging: a PVH-booted lab guest (lab-notes §10, "Pitfalls seen").
import { startLabVm } from '../lab/index.js';
import {
  GROUND_TRUTH_WORKLOAD,
  translationGroundTruthSuite,
} from './_translation-ground-truth-suite.js';

translationGroundTruthSuite('4-level paging (PVH boot)', {
  start: () => startLabVm({ workload: GROUND_TRUTH_WORKLOAD, gdb: true }),
  expectLevels: 4,
});
