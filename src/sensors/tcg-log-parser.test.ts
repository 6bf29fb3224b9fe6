import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { VmsightError } from '../core/index.js';
import { OTHER_LINES, SWITCH_TO_DUMP, SYSCALL_DUMP } from './_tcg-log-fixture.js';
import { TcgLogParser, parseTcgLog } from './tcg-log-parser.js';
import type { TcgLogRecord } from './tcg-log-record.js';

const LOG = `${SWITCH_TO_DUMP}${OTHER_LINES}${SYSCALL_DUMP}`;

function parseAll(text: string): { records: TcgLogRecord[]; parser: TcgLogParser } {
  const parser = new TcgLogParser();
  const records: TcgLogRecord[] = [];
  for (const line of text.split('\n')) records.push(...parser.push(line));
  records.push(...parser.end());
  return { records, parser };
}

function byteAtATime(text: string): Readable {
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  return Readable.from(chunks, { objectMode: true });
}

describe('TcgLogParser', () => {
  it('reads the registers of a syscall-entry dump', () => {
    const { records } = parseAll(SYSCALL_DUMP);
    assert.deepEqual(records, [
      {
        kind: 'exec',
        vcpu: 0,
        pc: 0xffffffff81c00080n,
        registers: {
          rax: 0xe7n,
          rdi: 0n,
          rsi: 0xe7n,
          rdx: 0x3cn,
          r10: 0x7ffe4ac17d28n,
          r8: 0xffffffffffffffe0n,
          r9: 0n,
          cr3: 0x6418000n,
        },
      },
    ]);
  });

  it('interleaves dumps and trace events in log order and skips TB-linking lines', () => {
    const { records, parser } = parseAll(LOG);
    assert.deepEqual(
      records.map((record) => (record.kind === 'exec' ? record.pc.toString(16) : record.name)),
      [
        'ffffffff81031080',
        'memory_region_ops_write',
        'memory_region_ops_write',
        'ffffffff81c00080',
      ],
    );
    const trace = records[1];
    assert.equal(trace?.kind, 'trace');
    if (trace?.kind === 'trace') {
      assert.equal(trace.pid, 8694);
      assert.equal(trace.time, 1795317714519617000n);
      assert.match(trace.args, /^cpu 0 mr 0x55752405b4a0 addr 0xfee000b0/);
    }
    assert.equal(parser.stats.records, 4);
    assert.equal(parser.stats.malformed, 0);
    assert.equal(parser.stats.ignoredLines, 2 + 4); // Linking TBs ×2, blank lines
  });

  it('gives the same records when the log arrives one byte at a time', async () => {
    const expected = parseAll(LOG).records;
    const got: TcgLogRecord[] = [];
    for await (const record of parseTcgLog(byteAtATime(LOG))) got.push(record);
    assert.deepEqual(got, expected);
  });

  it('gives the same records for every way of cutting the log into chunks, CRLF included', () => {
    const expected = parseAll(LOG).records;
    const bytes = Buffer.from(LOG.replaceAll('\n', '\r\n'));
    for (const size of [1, 7, 64, 333, 4096]) {
      const parser = new TcgLogParser();
      const got: TcgLogRecord[] = [];
      for (let at = 0; at < bytes.length; at += size) {
        got.push(...parser.pushChunk(bytes.subarray(at, at + size)));
      }
      got.push(...parser.end());
      assert.deepEqual(got, expected, `chunks of ${size} bytes`);
      assert.equal(parser.stats.malformed, 0);
    }
  });

  it('refuses a line longer than the limit, naming the log and the line', () => {
    const parser = new TcgLogParser({ maxLineBytes: 100, source: 'test log' });
    parser.pushChunk(Buffer.from('virtio_queue_notify vdev 0x1 n 0\n'));
    assert.throws(
      () => parser.pushChunk(Buffer.alloc(101, 0x41)),
      (error: unknown) =>
        error instanceof VmsightError &&
        error.code === 'LIMIT_EXCEEDED' &&
        /test log line 2/.test(error.message),
    );
  });

  it('counts a dump cut short by the next Trace line as malformed and keeps going', () => {
    const cut = SYSCALL_DUMP.split('\n').slice(0, 4).join('\n');
    const { records, parser } = parseAll(`${cut}\n${SYSCALL_DUMP}`);
    assert.equal(records.length, 1);
    assert.equal(parser.stats.malformed, 1);
  });

  it('emits a dump that has every needed register even when the input ends before EFER', () => {
    const withoutEfer = SYSCALL_DUMP.replace(/EFER=.*\n/, '');
    const { records, parser } = parseAll(withoutEfer);
    assert.equal(records.length, 1);
    assert.equal(parser.stats.malformed, 0);
  });

  it('rejects malformed Trace lines, bad register values and NUL holes without throwing', () => {
    const badValue = SYSCALL_DUMP.replace('RAX=00000000000000e7', 'RAX=0000zz00000000e7');
    const nul = '\u0000'.repeat(40);
    const { records, parser } = parseAll(
      `Trace x: garbage\n${badValue}\n${nul}\n${SYSCALL_DUMP}\nTrace 0: 0x1 [0/1/2/3]\nRAX=`,
    );
    assert.equal(records.length, 1);
    assert.equal(parser.stats.malformed, 3);
  });

  it('drops a dump that QEMU retracts with "Stopped execution of TB chain" and keeps the rerun', () => {
    const stopped = 'Stopped execution of TB chain before 0x7fe15e0377c0 [ffffffff81c00080] ';
    const otherPc = 'Stopped execution of TB chain before 0x7fe15e0377c0 [ffffffff81031080] ';
    const { records, parser } = parseAll(
      `${SYSCALL_DUMP}${stopped}\n${SYSCALL_DUMP}${otherPc}\n${OTHER_LINES}`,
    );
    assert.deepEqual(
      records.map((record) => record.kind),
      ['exec', 'trace', 'trace'],
    );
    assert.equal(parser.stats.retracted, 1);
    assert.equal(parser.stats.records, 3);
  });

  it('parses trace events without the timestamp prefix', () => {
    const { records } = parseAll('virtio_queue_notify vdev 0x1 n 0 vq 0x2');
    assert.deepEqual(records, [
      {
        kind: 'trace',
        pid: null,
        time: null,
        name: 'virtio_queue_notify',
        args: 'vdev 0x1 n 0 vq 0x2',
      },
    ]);
  });
});
