/** The engine's answer for one window of I/O tokens. */
export interface EngineVerdict {
  readonly anomalous: boolean;
  /** Engine-specific score (for the Markov engine: mean surprisal in nats). */
  readonly score: number;
}

/**
 * The heavier analysis behind the guard (anomaly models). The guard only ever hands it windows no
 * rule or cache could decide. The default implementation, built in `src/app`, scores windows with
 * a Markov model over I/O tokens.
 */
export interface AnalysisEngine {
  analyse(vm: string, tokens: Uint32Array): Promise<EngineVerdict>;
}
