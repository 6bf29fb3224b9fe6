/** Helpers for the parameter audit trail every model carries. */
import type { ParameterChoice } from './detector.js';

/** `parameters` with `choice` replacing any earlier record of the same name. */
export function replaceChoice(
  parameters: readonly ParameterChoice[],
  choice: ParameterChoice,
): readonly ParameterChoice[] {
  return [...parameters.filter((existing) => existing.name !== choice.name), choice];
}
