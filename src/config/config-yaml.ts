import { LineCounter, parseDocument, visit, isAlias, isCollection, isPair, type Document, type Node } from 'yaml';
import type { ConfigProblem } from './config-problems.ts';

/**
 * Aliased nodes a document may expand to (the yaml library's own measure,
 * anchor uses × aliases nested in the anchor). A configuration has little use
 * for aliases; nested ones multiply ("billion laughs") and are refused before
 * they are expanded, so time and memory stay bounded.
 */
export const MAX_ALIAS_COUNT = 100;

export type YamlRead =
  | { readonly ok: true; readonly doc: Document; readonly lines: LineCounter; readonly raw: unknown }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/** Parses the text and converts it to plain data; every failure, including the library's own exceptions, becomes a problem with a line where one is known. */
export function readYaml(text: string): YamlRead {
  const lines = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (cause) {
    return { ok: false, problems: [{ path: '(yaml)', message: `cannot be parsed: ${firstLine(cause)}` }] };
  }
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ path: '(yaml)', message: firstLine(e), line: lines.linePos(e.pos[0]).line })) };
  }
  try {
    return { ok: true, doc, lines, raw: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (cause) {
    const bomb = aliasOverLimit(doc);
    if (bomb !== undefined) {
      const line = bomb.range === undefined || bomb.range === null ? {} : { line: lines.linePos(bomb.range[0]).line };
      return { ok: false, problems: [{ path: '(yaml)', message: `alias *${bomb.source} takes the document beyond ${MAX_ALIAS_COUNT} aliased nodes (aliases of aliases multiply, as in a "billion laughs" alias bomb): refused before expanding it; write the values out instead`, ...line }] };
    }
    return { ok: false, problems: [{ path: '(yaml)', message: `cannot be read: ${firstLine(cause)}` }] };
  }
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] ?? message;
}

interface AnchorUse { count: number; aliasCount: number }

/**
 * The alias at which the library's conversion stopped: its counting replayed
 * over the node tree, in the same order, without expanding anything. The
 * library's error says neither which alias nor where.
 */
function aliasOverLimit(doc: Document): (Node & { source: string }) | undefined {
  const uses = new Map<unknown, AnchorUse>();
  const latest = new Map<string, unknown>();
  const aliasCount = (node: unknown): number => {
    if (isAlias(node)) {
      const use = uses.get(latest.get(node.source));
      return use === undefined ? 0 : use.count * use.aliasCount;
    }
    if (isCollection(node)) return node.items.reduce<number>((max, item) => Math.max(max, aliasCount(item)), 0);
    if (isPair(node)) return Math.max(aliasCount(node.key), aliasCount(node.value));
    return 1;
  };
  let found: (Node & { source: string }) | undefined;
  const anchored = (_key: unknown, node: Node): void => {
    if (node.anchor !== undefined) {
      latest.set(node.anchor, node);
      uses.set(node, { count: 1, aliasCount: 0 });
    }
  };
  visit(doc, {
    Scalar: anchored,
    Map: anchored,
    Seq: anchored,
    Alias: (_key, alias) => {
      const target = latest.get(alias.source);
      const use = uses.get(target);
      if (use === undefined) return undefined;
      use.count += 1;
      if (use.aliasCount === 0) use.aliasCount = aliasCount(target);
      if (use.count * use.aliasCount > MAX_ALIAS_COUNT) {
        found = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}
