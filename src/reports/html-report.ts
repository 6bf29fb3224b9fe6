import type { ReportModel } from './report-model.js';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// C0 controls except tab (9) and newline (10), and DEL; built from code points (no-control-regex).
const CONTROLS = new RegExp(
  `[${String.fromCharCode(0)}-${String.fromCharCode(8)}${String.fromCharCode(11)}-${String.fromCharCode(31)}${String.fromCharCode(127)}]`,
  'g',
);

/**
 * Escapes text for HTML element content and quoted attributes. Every string from the evidence
 * passes through here: process names, arguments, paths and the VM's name come from tenant memory
 * and are hostile (a process may well be called `<script>`). C0 controls other than tab and newline
 * are shown as U+FFFD so that no byte of guest memory reaches the document raw.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c).replace(CONTROLS, '\ufffd');
}

const e = escapeHtml;

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  const head = headers.map((h) => `<th>${e(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const STYLE = `
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; margin: 2em; color: #111; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; border-bottom: 1px solid #999; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: #eee; } code, .hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; word-break: break-all; }
.critical { color: #fff; background: #a00; } .high { background: #f4b183; }
.medium { background: #ffe699; } .low { background: #ddebf7; }
.tree { white-space: pre; font-family: "DejaVu Sans Mono", monospace; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 1em; } dt { font-weight: bold; }
`;

/**
 * The human-readable report: summary, findings, process tree, modules, custody timeline and
 * hashes. One self-contained file (inline style, no script, no external resource), so that it
 * renders the same offline, in a browser and through headless Chromium to PDF.
 */
export function renderHtml(model: ReportModel): string {
  const item = model.item;
  const summary = [
    ['Evidence item', item.id],
    ['Case', item.caseId],
    ['Subject', item.subject],
    ['Origin', item.origin],
    ['Acquired', item.createdAt],
    ['Image SHA-256', model.image.sha256],
    ['Image size', `${model.image.size} bytes`],
    ['Kernel', model.analysis?.kernel ?? 'not analysed'],
    ['Processes', String(model.processes.length)],
    ['Findings', String(model.findings.length)],
    [
      'Report generated',
      `${model.generatedAt} by ${model.generator.name} ${model.generator.version}`,
    ],
  ]
    .map(([k, v]) => `<dt>${e(k ?? '')}</dt><dd>${e(v ?? '')}</dd>`)
    .join('\n');
  const findings = table(
    ['Severity', 'Kind', 'PID', 'Process', 'Reason'],
    model.findings.map((f) => [
      `<span class="${e(f.severity)}">${e(f.severity)}</span>`,
      e(f.kind),
      String(f.pid),
      e(f.comm),
      e(f.reason),
    ]),
  );
  const tree = model.processes
    .map(
      (p) =>
        `${'  '.repeat(Math.min(p.depth, 64))}${e(p.comm)} [${p.pid}]${p.args === '' ? '' : ` ${e(p.args)}`}${p.inTaskList ? '' : ' (HIDDEN)'}`,
    )
    .join('\n');
  const processes = table(
    ['PID', 'PPID', 'UID', 'State', 'Started (s after boot)', 'Created (UTC)', 'Name', 'Arguments'],
    model.processes.map((p) => [
      String(p.pid),
      String(p.ppid),
      p.uid === null ? '' : String(p.uid),
      e(p.state),
      p.startTime.toFixed(3),
      p.createTime === null ? '' : e(p.createTime),
      e(p.comm),
      `<code>${e(p.args)}</code>`,
    ]),
  );
  const modules = table(
    ['Name', 'Size', 'Base'],
    model.modules.map((m) => [e(m.name), String(m.size), `<code>${e(m.base)}</code>`]),
  );
  const custody = table(
    ['#', 'Time', 'Action', 'Actor', 'Host', 'Reason', 'Event SHA-256'],
    model.custody.map((c) => [
      String(c.seq),
      e(c.at),
      e(c.action),
      e(c.actor.name),
      e(c.host),
      e(c.reason),
      `<span class="hash">${e(c.hash)}</span>`,
    ]),
  );
  const hashes = table(
    ['Blob', 'Encoding', 'Stored SHA-256', 'Content SHA-256', 'Content size'],
    model.blobs.map((b) => [
      e(b.role),
      e(b.encoding),
      `<span class="hash">${e(b.sha256)}</span>`,
      `<span class="hash">${e(b.contentSha256)}</span>`,
      String(b.contentSize),
    ]),
  );
  const plugins = table(
    ['Plugin', 'Version', 'Status', 'Rows', 'Result SHA-256'],
    (model.analysis?.plugins ?? []).map((p) => [
      e(p.plugin),
      e(p.version),
      e(p.status),
      String(p.rows),
      `<span class="hash">${e(p.sha256)}</span>`,
    ]),
  );
  const tools = table(
    ['Tool', 'Version', 'Role'],
    model.tools.map((t) => [e(t.name), e(t.version), e(t.role)]),
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Memory forensics report ${e(item.id)}</title>
<style>${STYLE}</style></head>
<body>
<h1>Memory forensics report</h1>
<h2>Summary</h2>
<dl>
${summary}
</dl>
<h2>Findings</h2>
${findings}
<h2>Process tree</h2>
<div class="tree">${tree}</div>
<h2>Processes</h2>
${processes}
<h2>Kernel modules</h2>
${modules}
<h2>Custody timeline</h2>
${custody}
<h2>Hashes</h2>
${hashes}
<h2>Analysis</h2>
${plugins}
<h2>Tools</h2>
${tools}
</body></html>
`;
}
