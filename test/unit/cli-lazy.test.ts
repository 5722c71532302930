// The commands an operator types dozens of times per incident load only what
// they use: `--help` and `playbooks` open nothing and load no connector, no
// configuration, no store; `runs`, `incidents` and `audit tail` open the
// store but load no playbook, no connector client, no lab and no HTTP stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/shared.ts';

const MAIN = pathToFileURL(join(repoRoot, 'src', 'cli', 'main.ts')).href;

/**
 * Runs main() with `args` in a fresh process that records every module URL
 * its graph resolves (module.registerHooks sees ESM imports and require()
 * alike), the CLI's output captured.
 */
function loadedBy(args: readonly string[], cwd: string): { code: number; out: string; files: string[]; packages: string[] } {
  const script = `
    import { registerHooks } from 'node:module';
    import { writeSync } from 'node:fs';
    const urls = new Set();
    registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); urls.add(r.url); return r; } });
    const { main } = await import(${JSON.stringify(MAIN)});
    let out = '';
    process.stdout.write = (chunk) => { out += String(chunk); return true; };
    const code = await main(${JSON.stringify(args)});
    writeSync(1, JSON.stringify({ code, out, urls: [...urls] }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd, env: { ...process.env, NO_COLOR: '1', FIREBREAK_USER: 'alice', FIREBREAK_CONFIG: join(cwd, 'firebreak.yaml') }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const { code, out, urls } = JSON.parse(r.stdout) as { code: number; out: string; urls: string[] };
  const root = pathToFileURL(repoRoot).href;
  const local = urls.filter((u) => u.startsWith(root)).map((u) => u.slice(root.length + 1));
  const packages = [...new Set(local.map((f) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p) => p !== undefined))].sort();
  return { code, out, files: local.filter((f) => !f.startsWith('node_modules/')), packages };
}

/** What only the playbooks' execution needs: their steps' code and their deps builders (everything in their folders but descriptors and inputs). */
const playbookCode = (f: string) => /^src\/playbooks\/[^/]+\//.test(f) && !/-(descriptor|inputs)\.ts$/.test(f);
/** Connector files that are not definitions (schemas, probes, the registry): clients, hosts, executors, helpers. */
const connectorCode = (f: string) => f.startsWith('src/connectors/') && !/^src\/connectors\/(registry|connector-[a-z]+)\.ts$/.test(f) && !/^src\/connectors\/[a-z-]+\/[a-z-]+-(connector|connectors|schema)\.ts$/.test(f);
const HEAVY = ['undici', 'ssh2', 'pg', 'pg-protocol', '@peculiar/x509', 'reflect-metadata', 'tsyringe', 'asn1js', 'jose', 'fastify', 'log-update'];

const dir = mkdtempSync(join(tmpdir(), 'fb-cli-lazy-'));
test.after(() => { rmSync(dir, { recursive: true, force: true }); });

for (const [args, shows, packages] of [
  [['--help'], 'Quick tour:', ['commander']],
  [['playbooks'], 'device-compromise  Compromised device', ['commander']],
  [['playbooks', '--json'], '"fanOut": true', ['commander']],
  [['playbooks', 'device-compromise'], 'Inputs of device-compromise:', ['commander', 'zod']],
] as const) {
  test(`firebreak ${args.join(' ')} opens nothing and loads no connector`, () => {
    const r = loadedBy(args, dir);
    assert.equal(r.code, 0);
    assert.ok(r.out.includes(shows), r.out);
    assert.ok(r.files.includes('src/cli/main.ts'), 'the module graph is recorded');
    assert.deepEqual(r.files.filter((f) => /^src\/(lab|connectors|config|store|runtime|audit)\//.test(f) || f === 'src/app/app-open.ts' || playbookCode(f)), []);
    assert.deepEqual(r.packages, packages);
  });
}

test('firebreak runs, incidents and audit tail open the store without loading a playbook, a connector client, the lab or the HTTP stack', () => {
  const init = loadedBy(['init'], dir);
  assert.equal(init.code, 0, init.out);
  for (const [args, shows] of [[['runs'], 'No runs yet'], [['incidents'], 'No incidents.'], [['audit', 'tail', '--json'], '[]']] as const) {
    const r = loadedBy(args, dir);
    assert.equal(r.code, 0, r.out);
    assert.ok(r.out.includes(shows), r.out);
    assert.ok(r.files.includes('src/app/app-open.ts') && r.files.includes('src/connectors/registry.ts'), 'the configuration and the store are opened');
    assert.deepEqual(r.files.filter((f) => f.startsWith('src/lab/') || playbookCode(f) || connectorCode(f) || f === 'src/lib/http-client.ts' || f === 'src/lib/x509.ts'), [], args.join(' '));
    assert.deepEqual(r.packages.filter((p) => HEAVY.includes(p) || p.startsWith('@peculiar/')), [], args.join(' '));
  }
});
