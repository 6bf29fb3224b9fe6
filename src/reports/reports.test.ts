import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isVmsightError } from '../core/index.js';
import { renderCase, renderHtml, renderPdf, CASE_VERSION } from './index.js';
import { CASE_TERMS, checkCaseDocument, type Json } from './internal.js';
import { HOSTILE_COMM, sampleReportModel } from './internal-test/sample-report.js';

const CASE_NS = 'https://ontology.caseontology.org/case/investigation/';
const UCO = 'https://ontology.unifiedcyberontology.org/uco/';

void describe('report model', () => {
  void it('orders processes as a tree and marks the one psxview found hidden', () => {
    const model = sampleReportModel();
    assert.deepEqual(
      model.processes.map((p) => [p.pid, p.depth, p.inTaskList]),
      [
        [1, 0, true],
        [80, 1, true],
        [81, 2, true],
        [82, 3, false],
        [2, 0, true],
      ],
    );
    assert.equal(model.findings.length, 2);
    assert.deepEqual(
      model.tools.map((t) => t.role),
      ['acquisition', 'analysis', 'reporting'],
    );
  });
});

void describe(`CASE ${CASE_VERSION} / UCO JSON-LD`, () => {
  const document = renderCase(sampleReportModel());

  void it('uses only classes, properties and datatypes of the CASE/UCO release, with @id and @type on every node', () => {
    assert.equal(CASE_TERMS.caseVersion, CASE_VERSION);
    const check = checkCaseDocument(JSON.parse(JSON.stringify(document)) as Json);
    assert.deepEqual(check.problems, []);
    for (const term of [
      `${CASE_NS}Investigation`,
      `${CASE_NS}InvestigativeAction`,
      `${CASE_NS}ProvenanceRecord`,
      `${UCO}observable/Process`,
      `${UCO}observable/ProcessFacet`,
      `${UCO}observable/File`,
      `${UCO}types/Hash`,
      `${UCO}tool/Tool`,
      `${UCO}core/Annotation`,
      `${UCO}identity/Identity`,
    ]) {
      assert.ok(check.classes.has(term), term);
    }
    for (const term of ['pid', 'arguments', 'parent', 'isHidden', 'observableCreatedTime']) {
      assert.ok(check.properties.has(`${UCO}observable/${term}`), term);
    }
  });

  void it('names the acquisition, compression, transfer, analysis and report as actions', () => {
    const graph = document['@graph'] as Record<string, unknown>[];
    const actions = graph
      .filter((n) => n['@type'] === 'case-investigation:InvestigativeAction')
      .map((n) => n['uco-core:name']);
    for (const name of ['acquired', 'compressed', 'transferred', 'analysed', 'reported']) {
      assert.ok(actions.includes(name), name);
    }
    const annotations = graph.filter((n) => n['@type'] === 'uco-core:Annotation');
    assert.equal(annotations.length, 2);
    const shell = graph.find((n) => n['@id'] === 'kb:process-ev-20261122T050000Z-abc123-81');
    const facet = (shell?.['uco-core:hasFacet'] as Record<string, unknown>[])[0];
    assert.deepEqual(facet?.['uco-observable:parent'], {
      '@id': 'kb:process-ev-20261122T050000Z-abc123-80',
    });
    assert.deepEqual(facet?.['uco-observable:arguments'], ['sh', '-c', 'id']);
  });

  void it('gives a process its creation time as an xsd:dateTime only when it is known and well formed', () => {
    const graph = document['@graph'] as Record<string, unknown>[];
    const created = (pid: number): unknown =>
      (
        graph.find((n) => n['@id'] === `kb:process-ev-20261122T050000Z-abc123-${pid}`)?.[
          'uco-core:hasFacet'
        ] as Record<string, unknown>[]
      )[0]?.['uco-observable:observableCreatedTime'];
    assert.deepEqual(created(81), {
      '@type': 'xsd:dateTime',
      '@value': '2026-11-22T04:00:08.100Z',
    });
    assert.deepEqual(created(1), { '@type': 'xsd:dateTime', '@value': '2026-11-22T04:00:00.100Z' });
    // kthreadd has no creation time (boot time unknown); pid 82's is not an instant.
    assert.equal(created(2), undefined);
    assert.equal(created(82), undefined);
    const html = renderHtml(sampleReportModel());
    assert.ok(html.includes('<th>Created (UTC)</th>'));
    assert.ok(html.includes('2026-11-22T04:00:08.100Z'));
    assert.ok(!html.includes('yesterday'));
  });

  void it('the checker catches an unknown term, an undeclared prefix and a node without @type', () => {
    const graph = [
      { '@id': 'kb:x', '@type': 'uco-observable:Process', 'uco-observable:processName': 'x' },
      { '@id': 'kb:y', '@type': 'uco-core:Annotation', 'foo:bar': 1 },
      { '@id': 'kb:z', 'uco-core:name': 'no type' },
    ];
    const check = checkCaseDocument({
      '@context': document['@context'] ?? null,
      '@graph': graph,
    } as never);
    assert.equal(check.problems.length, 3, check.problems.join('\n'));
  });
});

void describe('HTML and PDF', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmsight-report-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('escapes hostile process names, arguments and reasons', () => {
    const html = renderHtml(sampleReportModel());
    assert.ok(!html.includes('<script'), 'a raw <script> reached the HTML');
    assert.ok(!html.includes('<b>') && !html.includes('<i>'));
    assert.ok(html.includes('&lt;script&gt;'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#39;'));
    for (const section of ['Summary', 'Findings', 'Process tree', 'Custody timeline', 'Hashes']) {
      assert.ok(html.includes(`<h2>${section}</h2>`), section);
    }
    assert.ok(html.includes('a'.repeat(64)), 'the image hash is shown');
  });

  void it(
    'prints to PDF with headless Chromium; pdftotext finds the process names',
    { timeout: 180_000 },
    async () => {
      const output = join(dir, 'report.pdf');
      await renderPdf(renderHtml(sampleReportModel()), output);
      const text = execFileSync('pdftotext', ['-layout', output, '-'], { encoding: 'utf8' });
      for (const name of ['init', 'kthreadd', 'nginx', HOSTILE_COMM]) {
        assert.ok(text.includes(name), `${name} is in the PDF`);
      }
    },
  );

  void it('says which package is missing when there is no Chromium', async () => {
    await assert.rejects(
      renderPdf('<p>x</p>', join(dir, 'none.pdf'), { chromium: '/nonexistent/chromium' }),
      (error: unknown) =>
        isVmsightError(error, 'DEPENDENCY_MISSING') && /apt-get install/.test(error.message),
    );
  });
});
