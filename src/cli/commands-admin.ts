import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FirebreakError } from '../lib/errors.ts';
import { action, appAction, loggerFor, withApp } from './cli-context.ts';
import { checkExportTarget, exportToFile } from './export-file.ts';

export function registerAdminCommands(program: Command): void {
  program.command('init')
    .description('Write a commented starter firebreak.yaml (credentials as env:/file:/vault: references, never inline)')
    .argument('[file]', 'where to write it (default: the --config path)')
    .option('--force', 'overwrite an existing file', false)
    .addHelpText('after', '\nExamples:\n  firebreak init\n  firebreak init /etc/firebreak/firebreak.yaml')
    .action(action(async ({ g, out }, file: string | undefined, o: { force: boolean }) => {
      const path = file ?? g.config;
      if (existsSync(path) && !o.force) throw new FirebreakError('CONFLICT', `${path} exists; use --force to overwrite it`);
      const { starterConfig } = await import('../config/index.ts');
      writeFileSync(path, starterConfig(), { mode: 0o640 });
      if (g.json) out.data({ written: path });
      else out.line(`Wrote ${path}. Edit it, export the variables it references, then run: firebreak check`);
    }));

  program.command('check')
    .description('Validate the configuration and probe connectivity to every configured system')
    .option('--no-probe', 'validate only; do not contact any system')
    .addHelpText('after', '\nExit code 0 when the configuration is valid and every system answered, 3 when the configuration is invalid, 7 when a system is unreachable.')
    .action(action(async ({ g, out }, o: { probe: boolean }) => {
      const { loadAppConfig, probeSystems } = await import('../app/app-open.ts');
      const loaded = loadAppConfig(g.config);
      const results = o.probe ? await probeSystems(loaded, await loggerFor(g)) : [];
      if (g.json) {
        out.data({ config: loaded.path, valid: true, warnings: loaded.warnings, systems: results });
      } else {
        out.line(out.style('green', `✔ ${loaded.path} is valid`));
        for (const w of loaded.warnings) out.line(out.style('yellow', `  warning: ${w.path}: ${w.message}`));
        if (results.length > 0) {
          out.line();
          out.table(['SCOPE', 'SYSTEM', 'ENDPOINT', 'RESULT', 'TIME'], results.map((r) => [r.scope, r.system, r.endpoint, r.ok ? out.style('green', `ok ${r.detail}`) : out.style('red', `✖ ${r.detail}`), `${r.ms} ms`]));
        }
      }
      return results.some((r) => !r.ok) ? 7 : undefined;
    }));

  const audit = program.command('audit').description('Verify, export or follow the tamper-evident audit trail');
  audit.command('verify')
    .description('Recompute the hash chain and check every signed checkpoint; names the first bad entry')
    .action(appAction(async ({ g, out, app }) => {
      const v = await app.queries.auditVerify();
      if (g.json) out.data(v);
      else if (v.ok) out.line(out.style('green', `✔ audit trail intact: ${v.entries} entries, ${v.checkpoints} signed checkpoint(s)`));
      else {
        out.line(out.style('red', `✖ audit trail fails verification after ${v.entries} good entries: first bad entry #${v.firstBad.seq}: ${v.firstBad.reason}`));
        // Everything found, not only the first: "say exactly what is missing".
        for (const p of v.problems.slice(1)) out.line(out.style('red', `  also at #${p.seq}: ${p.reason}`));
      }
      if (!g.json) for (const w of v.warnings) out.line(out.style('yellow', `  warning: ${w}`));
      if (!v.ok) throw new FirebreakError('AUDIT_TAMPERED', `audit trail fails verification at entry #${v.firstBad.seq}: ${v.firstBad.reason}`);
    }));
  audit.command('export')
    .description('Write the audit trail as JSON lines that an auditor verifies without Firebreak (tools/verify-audit-export.mjs)')
    .option('-o, --out <file>', 'write to this file instead of standard output (written whole or not at all)')
    .addHelpText('after', '\nExamples:\n  firebreak audit export --out audit.jsonl\n  node tools/verify-audit-export.mjs audit.jsonl\n  firebreak audit export | gzip > audit.jsonl.gz')
    .action(action(async (c, o: { out?: string }) => {
      const file = o.out;
      // The path is checked before the store is opened: a typo fails fast and names the path.
      if (file !== undefined) checkExportTarget(file);
      await withApp(c.g, async (app) => {
        if (file === undefined) { await app.queries.auditExport(process.stdout); return; }
        const n = await exportToFile(file, (stream) => app.queries.auditExport(stream));
        if (c.g.json) c.out.data({ out: file, entries: n });
        else c.out.err(`Exported ${n} entries to ${file}; verify with: node tools/verify-audit-export.mjs ${file}`);
      }, { playbooks: false });
    }));
  audit.command('tail')
    .description('The latest audit entries')
    .option('-n, --lines <n>', 'how many', '20')
    .option('--incident <id>', 'only entries of this incident')
    .action(appAction(async ({ g, out, app }, o: { lines: string; incident?: string }) => {
      const n = Number(o.lines);
      if (!Number.isInteger(n) || n <= 0) throw new FirebreakError('USAGE', `--lines must be a positive integer (got "${o.lines}")`);
      const entries = await app.queries.auditTail({ lines: n, ...(o.incident === undefined ? {} : { incident: o.incident }) });
      if (g.json) { out.data(entries); return; }
      for (const e of entries) out.line(`${out.style('dim', `#${e.seq} ${e.ts}`)} ${e.kind.padEnd(20)} ${e.actor}${e.runId === undefined ? '' : ` ${e.runId}`}${e.stepId === undefined ? '' : ` ${e.stepId}`}`);
    }));
}
