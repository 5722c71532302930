import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The V8 flags the CLI runs with: those the first line of bin/firebreak.js (`#!/usr/bin/env -S node …`) gives node. */
export function cliNodeFlags(): string[] {
  const words = (readFileSync(fileURLToPath(new URL('../bin/firebreak.js', import.meta.url)), 'utf8').split('\n')[0] ?? '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1).filter((w) => w !== '');
}
