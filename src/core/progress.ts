/** Progress of a long step, as lower layers report it and front ends draw it. */
export interface ProgressReport {
  readonly label: string;
  readonly done: number;
  readonly total?: number;
}

/** Receives progress reports; long-running functions take one as an option and call it often. */
export type ProgressListener = (report: ProgressReport) => void;
