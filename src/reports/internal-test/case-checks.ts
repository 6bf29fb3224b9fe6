/**
 * Test support: checks a CASE/UCO JSON-LD document against the CASE 1.4.0 / UCO 1.4.0 term lists
 * (case-uco-1.4.0-terms.json, the owl:Class, property and rdfs:Datatype subjects of the releases'
 * Turtle files) and against JSON-LD's structural rules this output promises.
 */
import { readFileSync } from 'node:fs';

interface TermLists {
  readonly caseVersion: string;
  readonly ucoVersion: string;
  readonly classes: readonly string[];
  readonly properties: readonly string[];
  readonly datatypes: readonly string[];
}

export const CASE_TERMS = JSON.parse(
  readFileSync(new URL('./case-uco-1.4.0-terms.json', import.meta.url), 'utf8'),
) as TermLists;

const XSD = 'http://www.w3.org/2001/XMLSchema#';
const KEYWORDS = new Set(['@id', '@type', '@value', '@context', '@graph', '@list']);

export interface CaseCheck {
  /** Problems found; empty when the document passes. */
  readonly problems: string[];
  readonly nodes: number;
  /** Expanded IRIs of every class, property and datatype used. */
  readonly classes: Set<string>;
  readonly properties: Set<string>;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Checks every term, every prefix, and @id/@type on every node of a JSON-LD document. */
export function checkCaseDocument(document: Json): CaseCheck {
  const problems: string[] = [];
  const classes = new Set<string>();
  const properties = new Set<string>();
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return { problems: ['the document is not an object'], nodes: 0, classes, properties };
  }
  const context = document['@context'];
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    return { problems: ['no @context object'], nodes: 0, classes, properties };
  }
  const prefixes = new Map<string, string>();
  for (const [prefix, iri] of Object.entries(context)) {
    if (typeof iri === 'string') prefixes.set(prefix, iri);
  }
  const expand = (compact: string, where: string): string | undefined => {
    const colon = compact.indexOf(':');
    const prefix = colon < 0 ? '' : compact.slice(0, colon);
    const base = prefixes.get(prefix);
    if (base === undefined) {
      problems.push(`${where}: prefix "${prefix}" of "${compact}" is not in @context`);
      return undefined;
    }
    return base + compact.slice(colon + 1);
  };
  const classSet = new Set(CASE_TERMS.classes);
  const propertySet = new Set(CASE_TERMS.properties);
  const datatypeSet = new Set(CASE_TERMS.datatypes);
  let nodes = 0;
  const visit = (value: Json, where: string): void => {
    if (Array.isArray(value)) {
      value.forEach((entry, i) => visit(entry, `${where}[${i}]`));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if ('@value' in value) {
      const type = value['@type'];
      if (typeof type === 'string') {
        const iri = expand(type, where);
        if (iri !== undefined && !iri.startsWith(XSD) && !datatypeSet.has(iri)) {
          problems.push(`${where}: datatype ${type} is not in CASE/UCO ${CASE_TERMS.ucoVersion}`);
        }
      }
      return;
    }
    nodes += 1;
    const id = value['@id'];
    const type = value['@type'];
    if (typeof id !== 'string' || id === '') problems.push(`${where}: a node without @id`);
    else expand(id, where);
    const isReference = Object.keys(value).length === 1 && typeof id === 'string';
    if (!isReference) {
      if (typeof type !== 'string')
        problems.push(`${where}: node ${JSON.stringify(id ?? null)} has no @type`);
      else {
        const iri = expand(type, where);
        if (iri !== undefined) {
          classes.add(iri);
          if (!classSet.has(iri)) problems.push(`${where}: class ${type} is not in CASE/UCO`);
        }
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (KEYWORDS.has(key)) continue;
      if (key.startsWith('@')) {
        problems.push(`${where}: unexpected keyword ${key}`);
        continue;
      }
      const iri = expand(key, where);
      if (iri !== undefined) {
        properties.add(iri);
        if (!propertySet.has(iri)) problems.push(`${where}: property ${key} is not in CASE/UCO`);
      }
      visit(child, `${where}.${key}`);
    }
  };
  const graph = document['@graph'];
  if (!Array.isArray(graph)) problems.push('no @graph array');
  else visit(graph, '@graph');
  // Every reference must name a node of the graph (no dangling @id).
  const defined = new Set<string>();
  const referenced: string[] = [];
  const collect = (value: Json): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === 'object') {
      const id = value['@id'];
      if (typeof id === 'string') {
        if (Object.keys(value).length === 1) referenced.push(id);
        else defined.add(id);
      }
      for (const [key, child] of Object.entries(value)) if (key !== '@context') collect(child);
    }
  };
  collect(graph ?? null);
  for (const id of referenced)
    if (!defined.has(id)) problems.push(`reference to undefined node ${id}`);
  return { problems, nodes, classes, properties };
}
