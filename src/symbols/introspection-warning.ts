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
    | 'bad-string'
    /** A symbol or type the reading needs is not in the symbol table. */
    | 'missing-symbol'
    /** A value read is outside what the kernel can produce (e.g. a boot time in 1900). */
    | 'implausible-value';
  readonly message: string;
  /** The guest virtual address involved, when there is one. */
  readonly address?: bigint;
}
