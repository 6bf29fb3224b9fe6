import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import {
  DetectorKind,
  evaluateAdfaLd,
  type AdfaLdEvaluation,
  type ModelEvaluation,
} from '../../app/index.js';
import { parseDetectorKinds } from '../option-parsers.js';
import { printJson, printTable, type Column } from '../output.js';
import { ProgressBar } from '../progress.js';
import { renderRocSvg } from '../roc-svg.js';

interface EvalOptions {
  dataset: string;
  model: DetectorKind[];
  json?: boolean;
  plot?: string;
}

function parseDataset(value: string): string {
  if (value !== 'adfa-ld') throw new InvalidArgumentError(`expected "adfa-ld", got "${value}"`);
  return value;
}

const percent = (rate: number | undefined): string =>
  rate === undefined ? '-' : `${(rate * 100).toFixed(1)}%`;

const COLUMNS: readonly Column<ModelEvaluation>[] = [
  { header: 'MODEL', value: (row) => row.kind },
  { header: 'AUC', value: (row) => row.auc.toFixed(4), align: 'right' },
  { header: 'DR@1%', value: (row) => percent(row.drAtFar['0.01']), align: 'right' },
  { header: 'DR@5%', value: (row) => percent(row.drAtFar['0.05']), align: 'right' },
  { header: 'DR@10%', value: (row) => percent(row.drAtFar['0.1']), align: 'right' },
  { header: 'TRAIN s', value: (row) => row.trainSeconds.toFixed(2), align: 'right' },
  {
    header: 'SCORE calls/s',
    value: (row) => Math.round(row.scoreEventsPerSecond).toLocaleString('en'),
    align: 'right',
  },
];

/** `vmsight eval --dataset adfa-ld PATH`: the standard ADFA-LD protocol. */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate detectors on a labelled dataset under its standard protocol')
    .requiredOption('--dataset <name>', 'dataset kind: adfa-ld', parseDataset)
    .argument('<path>', 'dataset folder (e.g. ../shared/datasets/adfa-ld)')
    .option('--model <kinds>', 'comma-separated detector kinds, or "all"', parseDetectorKinds, [
      DetectorKind.ensemble,
    ])
    .option('--json', 'print one JSON object')
    .option('--plot <file>', 'write the ROC curves as SVG')
    .action(async (path: string, options: EvalOptions) => {
      const progress = new ProgressBar({ enabled: options.json !== true });
      const result = await evaluateAdfaLd(path, {
        kinds: options.model,
        onProgress: (report) => progress.update(report),
      });
      progress.finish();
      if (options.plot !== undefined) {
        await writeFile(
          options.plot,
          renderRocSvg(
            result.models.map((model) => ({
              label: model.kind,
              auc: model.auc,
              points: model.roc,
            })),
            `ADFA-LD ROC (${result.traces.validation} normal, ${result.traces.attack} attack traces)`,
          ),
        );
      }
      if (options.json === true) printJson(toJson(result));
      else printReport(result, options.plot);
    });
}

/**
 * The `--json` document: the first model's figures at the top level (the contract:
 * `auc`, `dr_at_far`, `per_attack`, `train_seconds`, `score_events_per_second`), every model under
 * `models`. ROC points are left out; `--plot` draws them.
 */
function toJson(result: AdfaLdEvaluation): Record<string, unknown> {
  const models = result.models.map((model) => ({
    model: model.kind,
    auc: model.auc,
    dr_at_far: model.drAtFar,
    per_attack: model.perAttack,
    train_seconds: model.trainSeconds,
    score_seconds: model.scoreSeconds,
    score_events_per_second: model.scoreEventsPerSecond,
    parameters: model.parameters,
  }));
  return {
    dataset: result.dataset,
    path: result.path,
    protocol: result.protocol,
    traces: result.traces,
    ...models[0],
    models,
  };
}

function printReport(result: AdfaLdEvaluation, plot: string | undefined): void {
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  out(
    `ADFA-LD at ${result.path}: trained on ${result.traces.training} traces; scored ${result.traces.validation} normal and ${result.traces.attack} attack traces`,
  );
  out();
  printTable(result.models, COLUMNS);
  for (const model of result.models) {
    out();
    out(`${model.kind}: detection per attack type at 1% / 5% / 10% false alarms`);
    for (const [family, detection] of Object.entries(model.perAttack)) {
      const rates = ['0.01', '0.05', '0.1'].map((key) => percent(detection.detectionRate[key]));
      out(
        `  ${family.padEnd(18)} ${String(detection.traces).padStart(4)} traces  ${rates.join(' / ')}`,
      );
    }
    out(`${model.kind}: how each parameter was chosen`);
    for (const parameter of model.parameters) {
      out(`  ${parameter.name} = ${parameter.value}  (${parameter.chosenBy})`);
    }
  }
  out();
  out(result.protocol);
  if (plot !== undefined) out(`ROC curves written to ${plot}`);
}
