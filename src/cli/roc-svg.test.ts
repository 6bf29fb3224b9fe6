import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderRocSvg } from './roc-svg.js';

test('renders each curve as a path through its points with its AUC in the legend', () => {
  const svg = renderRocSvg(
    [
      {
        label: 'ensemble',
        auc: 0.875,
        points: [
          { falseAlarmRate: 0, detectionRate: 0 },
          { falseAlarmRate: 0.5, detectionRate: 1 },
          { falseAlarmRate: 1, detectionRate: 1 },
        ],
      },
    ],
    'ADFA-LD <validation>',
  );
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  // (0,0) is the bottom-left corner of the plot area; (0.5,1) is half-way across the top edge.
  assert.match(svg, /d="M56\.00,424\.00 L240\.00,56\.00 L424\.00,56\.00"/);
  assert.match(svg, /ensemble \(AUC 0\.875\)/);
  assert.match(svg, /ADFA-LD &#60;validation&#62;/);
  assert.doesNotMatch(svg, /<script/);
});
