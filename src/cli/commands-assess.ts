import type { Command } from 'commander';
import { action } from './cli-context.ts';
import type { AssessCliOptions } from './assess-actions.ts';

const collect = (v: string, all: string[] = []): string[] => [...all, v];

/** `firebreak assess …`: the breach's figures from the audit logs. */
export function registerAssessCommands(program: Command): void {
  const assess = program.command('assess').description('Assess a breach from audit logs: what was probed, what was read, which tenants are affected');

  assess.command('vault-audit')
    .description('Read Vault file audit logs (plain or .gz, several at once, a file still being written) and report the suspicious events, the secrets read and the affected tenants in a time window; a request and its response count once')
    .option('--log <file>', 'an audit log (repeat for several, oldest first; default assess.vaultAudit.logs)', collect)
    .option('--since <when>', 'start of the window: an RFC 3339 time or a duration back from now (30m, 24h, 7d); default 24h')
    .option('--until <when>', 'end of the window (exclusive), as --since; default now')
    .option('--all', 'no window: every entry of the logs')
    .option('--allow <cidr>', 'a network requests may come from (repeat); a request from elsewhere is suspicious (default assess.vaultAudit.allowedNetworks)', collect)
    .option('--tenant-path <pattern>', 'where a tenant\'s secrets are, e.g. api_keys/{tenant}/* (repeat; default assess.vaultAudit.tenantPaths)', collect)
    .option('--test-tenant <id>', 'a tenant never counted as affected (repeat; adds to the configured ones)', collect)
    .option('--widespread-above <n>', 'more affected tenants than this: widespread (default 10)')
    .option('--kv-mount <mount>', 'a KV mount, e.g. secret/ (repeat; default: from the entries and the paths)', collect)
    .option('--find-token', 'also list every line that used a leaked token: typed hidden at the terminal (or --find-fd), hashed as the audit device hashes it')
    .option('--find-value', 'also list every line that carried a leaked value (a password, a secret_id): typed hidden, or --find-fd')
    .option('--find-fd <n>', 'read the token or value to find from this file descriptor (one line) instead of the terminal')
    .option('--audit-device <path>', 'the audit device whose HMAC to compute, through provider.vault (sys/audit-hash/<path>)', 'file')
    .option('--salt-fd <n>', 'compute the HMAC here with the audit device\'s salt read from this file descriptor, instead of asking Vault')
    .option('--incident <id>', 'store the assessment as evidence of this open incident (a file with its SHA-256, in the timeline and the report; needs firebreak.yaml)')
    .addHelpText('after', `
A request entry and its response entry (the same request.id) are one operation, counted once: the
response, which carries the outcome. Lines that are not JSON, not UTF-8 or cut off are counted and
listed with their line numbers; the assessment goes on. Reads only the logs: nothing is changed.
The firebreak.yaml is optional here; when present, assess.vaultAudit and the tenants' test flags apply.
What each figure means, and how each Vault version writes it: docs/assess.md.

Examples:
  firebreak assess vault-audit --log /var/log/vault/audit.log --log /var/log/vault/audit.log.1.gz
  firebreak assess vault-audit --log audit.log --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z
  firebreak assess vault-audit --log audit.log --since 7d --allow 10.0.0.0/8 --json
  firebreak assess vault-audit --log audit.log --all --find-token          # the token is typed, never an argument
  firebreak assess vault-audit --log audit.log --since 48h --incident inc-2026-12-03-0001`)
    .action(action(async (c, o: AssessCliOptions) => (await import('./assess-actions.ts')).assessVaultAuditCommand(c, o)));
}
