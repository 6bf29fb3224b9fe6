/**
 * Chooses the default trace score on data other than ADFA-LD, so that the choice never looks at
 * ADFA-LD's validation or attack labels (issue 2's protocol). Runs the selection pre-registered in
 * src/detectors/README.md ("Choosing the design on UNM and MIT data"): ten candidate trace scores,
 * each fitted on the even-indexed normal traces of a data set, scored on the odd-indexed normal
 * traces and on the intrusion traces; the candidate with the highest mean ROC AUC wins.
 *
 * The data are the University of New Mexico system-call sets (Forrest et al. 1996; one
 * "pid call-number" pair per line, a trace = the calls of one pid in file order), as laid out in
 * the public copy github:anandsagarthumati9848/HIDS at commit 35093f7 (folders Datasets/UNM and
 * Datasets/MIT). Nothing here downloads: point the script at a local copy, with the MIT normal
 * archive unpacked beside itself.
 *
 *   tar xzf "DIR/MIT/live lpr/normal/lpr-live-mit-new.tar.gz" -C "DIR/MIT/live lpr/normal"
 *   node --import tsx scripts/research/unm-design-selection.ts DIR
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import {
  EnsembleModel,
  MarkovModel,
  crossValidatedScores,
  rocAuc,
  train,
  type TrainedModel,
} from '../../src/detectors/index.js';

/** Liao & Vemuri 2002 score a process by its k nearest normal processes under cosine similarity. */
const NEAREST = 10;

type Trace = Uint32Array;
type Scorer = (trace: Trace) => number;

interface FittedCandidate {
  readonly score: Scorer;
  /** 5-fold held-out scores of the training traces (the ensemble's normalisation). */
  readonly heldOut: () => Float64Array;
}
type Candidate = (training: readonly Trace[]) => FittedCandidate;

interface DataSet {
  readonly name: string;
  readonly normal: readonly Trace[];
  readonly intrusion: readonly Trace[];
}

/** Splits "pid call" lines into one trace per pid, in order of first appearance. */
function tracesOf(text: string, source: string): Trace[] {
  const byPid = new Map<string, number[]>();
  text.split('\n').forEach((line, index) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') return;
    const call = Number(fields[1]);
    if (fields.length !== 2 || !Number.isInteger(call) || call < 0) {
      throw new Error(`${source}:${index + 1}: expected "pid call-number", got "${line}"`);
    }
    const pid = fields[0] ?? '';
    const calls = byPid.get(pid) ?? [];
    calls.push(call);
    byPid.set(pid, calls);
  });
  return [...byPid.values()].map((calls) => Uint32Array.from(calls));
}

function readTraces(paths: readonly string[]): Trace[] {
  return paths.flatMap((path) => tracesOf(readFileSync(path, 'utf8'), path));
}

function loadDataSets(root: string): DataSet[] {
  const mit = join(root, 'MIT', 'live lpr');
  const mitNormal = join(mit, 'normal', 'lpr-live-mit');
  const unm = join(root, 'UNM');
  const sendmail = join(unm, '1.Synthetic Sendmail');
  const loginPs = join(unm, '7.Login_and_ps');
  const lpr = join(unm, '4. Live lpr');
  return [
    {
      name: 'MIT live lpr',
      normal: readdirSync(mitNormal)
        .filter((name) => name.endsWith('.int.gz'))
        .sort()
        .flatMap((name) => {
          const path = join(mitNormal, name);
          return tracesOf(gunzipSync(readFileSync(path)).toString('utf8'), path);
        }),
      intrusion: readTraces([join(mit, 'intrusion', 'exploit-ai.int')]),
    },
    {
      name: 'UNM live lpr',
      normal: readTraces(
        ['lpr-normal-10.txt', 'lpr-normal-11.txt'].map((f) => join(lpr, 'Normal', 'real', f)),
      ),
      intrusion: readTraces([join(lpr, 'Intrusion', 'exploit-unm.int')]),
    },
    {
      name: 'UNM synthetic sendmail',
      normal: readTraces(
        ['sendmail.log', 'plus', 'queue', 'bounce', 'bounce-1', 'bounce-2'].map((f) =>
          join(sendmail, 'normal-data', `${f}.int`),
        ),
      ),
      intrusion: readTraces(
        [1, 2, 3, 4, 5]
          .map((i) => `fwd-loops-${i}`)
          .concat(['sm-10763', 'sm-10801', 'sm-10814', 'sm-280', 'sm-314'])
          .map((f) => join(sendmail, 'Intrusion-trace-data', `${f}.int`)),
      ),
    },
    {
      name: 'UNM login and ps',
      normal: readTraces(
        ['login-normal.txt', 'ps-normal.txt'].map((f) => join(loginPs, 'normal', f)),
      ),
      intrusion: readTraces(
        ['login-homegrown', 'login-recovered', 'ps-homegrown', 'ps-recovered'].map((f) =>
          join(loginPs, 'intrusion', `${f}.int`),
        ),
      ),
    },
  ];
}

/** Lets a plain scorer stand in for a model in `crossValidatedScores`, which reads only `score`. */
function asModel(score: Scorer): TrainedModel {
  return { scoreTrace: (trace: Trace) => ({ score: score(trace) }) } as unknown as TrainedModel;
}

function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  values.sort();
  const half = values.length >> 1;
  return values.length % 2 === 1
    ? (values[half] ?? 0)
    : ((values[half - 1] ?? 0) + (values[half] ?? 0)) / 2;
}

/** vmsight's Markov chain (order by CV), summarised by the mean or the median per-call surprisal. */
function markov(summary: 'mean' | 'median'): Candidate {
  const scorer = (model: MarkovModel): Scorer =>
    summary === 'mean'
      ? (trace) => model.scoreTrace(trace).score
      : (trace) => {
          const stream = model.openStream();
          return median(Float64Array.from(trace, (call) => stream.push(call).score));
        };
  return (training) => {
    const model = train('markov', training) as MarkovModel;
    const refit = (folds: readonly Trace[]): TrainedModel =>
      asModel(
        scorer(
          MarkovModel.train(folds, { order: model.order, rareProbability: model.rareProbability }),
        ),
      );
    return { score: scorer(model), heldOut: () => crossValidatedScores(training, refit) };
  };
}

/** A vmsight detector as it is; only the ensemble, which keeps its CV scores, has held-out scores here. */
function detector(kind: 'stide' | 'tstide' | 'ensemble'): Candidate {
  return (training) => {
    const model = train(kind, training);
    return {
      score: (trace) => model.scoreTrace(trace).score,
      heldOut: () => (model instanceof EnsembleModel ? model.heldOutScores : new Float64Array(0)),
    };
  };
}

/** Round 2: how many training traces of the nearest lengths standardise a score. */
const LENGTH_PEERS = 50;

/**
 * Length-standardised score (round 2): the raw score, as a z-score among the held-out scores of
 * the `LENGTH_PEERS` training traces whose log(length) is nearest the trace's.
 */
function lengthStandardised(base: Candidate): Candidate {
  return (training) => {
    const fitted = base(training);
    const heldOut = fitted.heldOut();
    const logLengths = training.map((trace) => Math.log(Math.max(1, trace.length)));
    return {
      score: (trace) => {
        const logLength = Math.log(Math.max(1, trace.length));
        const peers = logLengths
          .map((l, i) => ({ distance: Math.abs(l - logLength), i }))
          .sort((a, b) => a.distance - b.distance || a.i - b.i)
          .slice(0, LENGTH_PEERS);
        const { mean, sd } = standardisation(Float64Array.from(peers, (p) => heldOut[p.i] ?? 0));
        return (fitted.score(trace) - mean) / (sd > 1e-9 ? sd : 1);
      },
      heldOut: () => new Float64Array(0),
    };
  };
}

type Vectoriser = (training: readonly Trace[]) => (trace: Trace) => Map<number, number>;

/** The set of distinct calls, as a binary vector. */
const distinctCalls: Vectoriser = () => (trace) => new Map([...new Set(trace)].map((c) => [c, 1]));

/** TF-IDF of single calls (Liao & Vemuri 2002); a call no training trace has gets df = 1. */
const tfIdf: Vectoriser = (training) => {
  const documentFrequency = new Map<number, number>();
  for (const trace of training) {
    for (const call of new Set(trace)) {
      documentFrequency.set(call, (documentFrequency.get(call) ?? 0) + 1);
    }
  }
  return (trace) => {
    const counts = new Map<number, number>();
    for (const call of trace) counts.set(call, (counts.get(call) ?? 0) + 1);
    const weights = new Map<number, number>();
    for (const [call, count] of counts) {
      const idf = Math.log(training.length / (documentFrequency.get(call) ?? 1));
      weights.set(call, (count / trace.length) * idf);
    }
    return weights;
  };
};

function unitVector(vector: Map<number, number>): Map<number, number> {
  let squares = 0;
  for (const weight of vector.values()) squares += weight * weight;
  const norm = Math.sqrt(squares);
  return new Map(norm > 0 ? [...vector].map(([call, w]) => [call, w / norm]) : []);
}

/** Mean cosine distance to the `NEAREST` closest training traces. */
function nearestNeighbours(vectorise: Vectoriser): Candidate {
  const fit = (training: readonly Trace[]): Scorer => {
    const toVector = vectorise(training);
    const references = training.map((trace) => unitVector(toVector(trace)));
    return (trace) => {
      const query = unitVector(toVector(trace));
      const distances = Float64Array.from(references, (reference) => {
        let dot = 0;
        for (const [call, weight] of query) dot += weight * (reference.get(call) ?? 0);
        return 1 - dot;
      }).sort();
      const k = Math.min(NEAREST, distances.length);
      return distances.subarray(0, k).reduce((sum, d) => sum + d, 0) / k;
    };
  };
  return (training) => ({
    score: fit(training),
    heldOut: () => crossValidatedScores(training, (folds) => asModel(fit(folds))),
  });
}

function standardisation(scores: Float64Array): { readonly mean: number; readonly sd: number } {
  const mean = scores.reduce((sum, s) => sum + s, 0) / scores.length;
  const variance = scores.reduce((sum, s) => sum + (s - mean) ** 2, 0) / scores.length;
  return { mean, sd: variance > 0 ? Math.sqrt(variance) : 1 };
}

/** Mean of z-scores, as vmsight's ensemble combines its members. */
function zFusion(first: Candidate, second: Candidate): Candidate {
  return (training) => {
    const members = [first(training), second(training)].map((member) => ({
      member,
      ...standardisation(member.heldOut()),
    }));
    return {
      score: (trace) =>
        members.reduce((sum, { member, mean, sd }) => sum + (member.score(trace) - mean) / sd, 0) /
        members.length,
      heldOut: () => new Float64Array(0),
    };
  };
}

const markovMean = markov('mean');
const markovMedian = markov('median');
const knnDistinct = nearestNeighbours(distinctCalls);
const knnTfIdf = nearestNeighbours(tfIdf);
const CANDIDATES: ReadonlyArray<readonly [string, Candidate]> = [
  ['C1 Markov, mean surprisal', markovMean],
  ['C2 Markov, median surprisal', markovMedian],
  ['C3 STIDE', detector('stide')],
  ['C4 t-STIDE', detector('tstide')],
  ['C5 ensemble (vmsight default)', detector('ensemble')],
  ['C6 k-NN, distinct calls', knnDistinct],
  ['C7 k-NN, TF-IDF', knnTfIdf],
  ['C8 z(C1) + z(C6)', zFusion(markovMean, knnDistinct)],
  ['C9 z(C2) + z(C6)', zFusion(markovMedian, knnDistinct)],
  ['C10 z(C1) + z(C7)', zFusion(markovMean, knnTfIdf)],
  ['C11 C5, length-standardised', lengthStandardised(detector('ensemble'))],
  ['C12 C1, length-standardised', lengthStandardised(markovMean)],
];

function main(root: string | undefined): void {
  if (root === undefined) {
    throw new Error('usage: node --import tsx scripts/research/unm-design-selection.ts DIR');
  }
  const dataSets = loadDataSets(root).map((d) => ({
    ...d,
    normal: d.normal.filter((trace) => trace.length > 0),
    intrusion: d.intrusion.filter((trace) => trace.length > 0),
  }));
  const aucs = new Map<string, number[]>(CANDIDATES.map(([name]) => [name, []]));
  for (const { name, normal, intrusion } of dataSets) {
    const training = normal.filter((_, i) => i % 2 === 0);
    const testNormal = normal.filter((_, i) => i % 2 === 1);
    console.log(
      `${name}: ${training.length} training, ${testNormal.length} normal test, ${intrusion.length} intrusion traces`,
    );
    for (const [candidate, fit] of CANDIDATES) {
      const { score } = fit(training);
      const auc = rocAuc(testNormal.map(score), intrusion.map(score));
      aucs.get(candidate)?.push(auc);
      console.log(`  ${candidate.padEnd(32)} AUC ${auc.toFixed(4)}`);
    }
  }
  console.log(`\nmean AUC over the ${dataSets.length} data sets`);
  let best = { name: '', mean: -Infinity };
  for (const [candidate, values] of aucs) {
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    // Within 0.001 of the best so far counts as a tie, which the candidate listed first keeps.
    if (mean > best.mean + 0.001) best = { name: candidate, mean };
    console.log(`  ${candidate.padEnd(32)} ${mean.toFixed(4)}`);
  }
  console.log(`chosen: ${best.name}`);
}

main(process.argv[2]);
