/**
 * A problem met while reading guest memory that did not stop the work: the result is partial.
 * Guest memory is attacker-controlled, so these are expected outcomes, not exceptions.
 */
export interface IntrospectionWarning {
  /** A closed set of reasons, for callers that count or filter them. */
  readonly code:
    | 'unreadable-memory'
    | 'list-loop'
    | 'list-corrupt'
    | 'limit-reached'
    | 'bad-length'
    | 'bad-string';
  readonly message: string;
  /** The guest virtual address involved, when there is one. */
  readonly address?: bigint;
}
