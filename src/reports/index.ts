/**
 * Public surface of `reports`: the report model joined from an evidence item, its custody log and
 * its analysis, and its renderings: CASE/UCO JSON-LD, self-contained HTML and PDF (headless
 * Chromium). Recording (hash, signature, custody) is the evidence locker's; `app` composes.
 */
export {
  buildReportModel,
  type ReportInputs,
  type ReportModel,
  type ReportModule,
  type ReportPluginRun,
  type ReportProcess,
  type ReportTool,
} from './report-model.js';
export { CASE_CONTEXT, CASE_VERSION, UCO_VERSION, renderCase } from './case-uco.js';
export { escapeHtml, renderHtml } from './html-report.js';
export { renderPdf, type PdfOptions } from './pdf-render.js';
