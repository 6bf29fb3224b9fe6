import { LineSplitter } from './line-splitter.js';
import {
  isStoppedLine,
  isTraceLine,
  parseEventLine,
  parseTraceLine,
  stoppedPc,
} from './tcg-log-lines.js';
import type { TcgExecRecord, TcgLogRecord } from './tcg-log-record.js';
import { RegisterDump, isDumpLine, isLastDumpLine } from './tcg-register-dump.js';

/** Counters of a {@link TcgLogParser}. */
export interface TcgLogParserStats {
  /** Register dumps and trace lines turned into records. */
  readonly records: number;
  /** Register dumps that ended before every needed register was seen, or had a bad value. */
  readonly malformed: number;
  /** Lines that are neither part of a dump nor a trace event (`Linking TBs …`, blank lines). */
  readonly ignoredLines: number;
  /** Dumps of blocks QEMU stopped before running (logged again when they do run). */
  readonly retracted: number;
}

export interface TcgLogParserOptions {
  /** Longest line {@link TcgLogParser.pushChunk} accepts. Default 4 KiB: dump lines are < 100 bytes. */
  readonly maxLineBytes?: number;
  /** Named in errors ("QEMU log line 12"). */
  readonly source?: string;
}

const DEFAULT_MAX_LINE_BYTES = 4096;
const CARRIAGE_RETURN = 0x0d;

/**
 * Turns QEMU's debug log into {@link TcgLogRecord}s incrementally, so it can follow a FIFO
 * without ever holding more than one register dump. {@link pushChunk} works on the raw bytes (the
 * log runs at ~140 MB/s with `cpu,exec`, lab-notes §4b): register values are decoded from fixed
 * columns and no string is made for dump lines, which is most of what it costs to keep up with
 * the guest. Anything not recognised is counted and skipped: QEMU writes the log but its content
 * (register values, device names) is guest-controlled, so nothing in it is trusted.
 *
 * The state kept between lines: the dump being read (after a `Trace` line, until `EFER=` or a
 * line that is not part of it), and the last complete dump, held back one line in case QEMU
 * retracts it with a `Stopped execution` line (tcg-log-lines.ts).
 *
 * @example
 * ```ts
 * import { TcgLogParser } from './tcg-log-parser.js';
 * const parser = new TcgLogParser();
 * const records = [...parser.pushChunk(Buffer.from('virtio_queue_notify vdev 0x1 n 0\n')), ...parser.end()];
 * ```
 */
export class TcgLogParser {
  readonly #lines: LineSplitter;
  #pending: RegisterDump | undefined;
  /** A complete dump kept until the next line shows it was not retracted by a `Stopped` line. */
  #held: TcgExecRecord | undefined;
  #retracted = 0;
  #records = 0;
  #malformed = 0;
  #ignored = 0;

  constructor(options: TcgLogParserOptions = {}) {
    this.#lines = new LineSplitter(
      options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      options.source ?? 'QEMU log',
    );
  }

  get stats(): TcgLogParserStats {
    return {
      records: this.#records,
      malformed: this.#malformed,
      ignoredLines: this.#ignored,
      retracted: this.#retracted,
    };
  }

  /** Records completed by one line of text (none, one, or two when a dump was cut short). */
  push(line: string): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    const bytes = Buffer.from(line);
    this.#line(bytes, 0, bytes.length, out);
    return out;
  }

  /**
   * Records completed by a chunk of the raw log, split at LF (a trailing CR is dropped); a line
   * that continues into the next chunk is kept until it ends. A line longer than `maxLineBytes`
   * throws `LIMIT_EXCEEDED` naming it, so a hostile log cannot make the parser buffer without bound.
   */
  pushChunk(chunk: Uint8Array): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    this.#lines.push(chunk, (bytes, start, end) => this.#line(bytes, start, end, out));
    return out;
  }

  /** Flushes an unterminated last line, the held dump and one the input ended in the middle of. */
  end(): TcgLogRecord[] {
    const out: TcgLogRecord[] = [];
    this.#lines.end((bytes, start, end) => this.#line(bytes, start, end, out));
    if (this.#pending !== undefined) this.#finish(out);
    this.#release(out);
    return out;
  }

  #line(bytes: Buffer, start: number, lineEnd: number, out: TcgLogRecord[]): void {
    const end = lineEnd > start && bytes[lineEnd - 1] === CARRIAGE_RETURN ? lineEnd - 1 : lineEnd;
    const pending = this.#pending;
    if (pending !== undefined && isDumpLine(bytes, start, end)) {
      pending.collect(bytes, start, end);
      if (isLastDumpLine(bytes, start, end)) this.#finish(out);
      return;
    }
    if (pending !== undefined) this.#finish(out);
    if (isStoppedLine(bytes, start, end)) {
      const pc = stoppedPc(bytes, start, end);
      if (pc !== undefined && this.#held?.pc === pc) {
        this.#held = undefined;
        this.#retracted += 1;
      } else {
        this.#ignored += 1;
      }
      return;
    }
    if (isTraceLine(bytes, start, end)) {
      this.#release(out);
      const trace = parseTraceLine(bytes, start, end);
      if (trace === undefined) {
        this.#malformed += 1;
        return;
      }
      this.#pending = new RegisterDump(trace.vcpu, trace.pc);
      return;
    }
    const event = parseEventLine(bytes, start, end);
    if (event === undefined) {
      this.#ignored += 1;
      return;
    }
    this.#release(out);
    this.#records += 1;
    out.push(event);
  }

  #finish(out: TcgLogRecord[]): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) return;
    const record = pending.record();
    if (record === undefined) {
      this.#malformed += 1;
      return;
    }
    this.#release(out);
    this.#held = record;
  }

  #release(out: TcgLogRecord[]): void {
    if (this.#held === undefined) return;
    this.#records += 1;
    out.push(this.#held);
    this.#held = undefined;
  }
}

/**
 * {@link TcgLogParser} over a byte stream (a FIFO, a file).
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { parseTcgLog } from './tcg-log-parser.js';
 * for await (const record of parseTcgLog(createReadStream('qemu.log'))) console.log(record.kind);
 * ```
 */
export async function* parseTcgLog(
  chunks: AsyncIterable<Uint8Array>,
  parser: TcgLogParser = new TcgLogParser(),
): AsyncGenerator<TcgLogRecord> {
  for await (const chunk of chunks) yield* parser.pushChunk(chunk);
  yield* parser.end();
}
