/**
 * Test support of `symbols` for tests in any folder (lint lets only test and benchmark files import
 * this; the build leaves it out).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The reference Volatility 3 ISF for the lab kernel (made by dwarf2json from Debian's -dbg package;
 * provenance in `../shared/datasets/isf/README.md`), beside the repository as CI has it.
 * `VMSIGHT_REFERENCE_ISF` overrides the path.
 */
export const REFERENCE_ISF: string =
  process.env['VMSIGHT_REFERENCE_ISF'] ??
  fileURLToPath(
    new URL(
      '../../../shared/datasets/isf/debian-6.1.0-56-amd64_6.1.192-2.json.xz',
      import.meta.url,
    ),
  );

/** `false` when the reference ISF is there; otherwise the reason tests that need it are skipped. */
export const REFERENCE_ISF_MISSING: string | false = existsSync(REFERENCE_ISF)
  ? false
  : `reference ISF not found at ${REFERENCE_ISF} (set VMSIGHT_REFERENCE_ISF)`;
