// Appends N audit entries from a separate process (test of cross-process appends).
import { AuditLog } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

const [dbPath, keyFile, tag, n, anchorFile] = process.argv.slice(2);
if (dbPath === undefined || keyFile === undefined || tag === undefined || n === undefined) throw new Error('usage: append-child.ts db key tag n [anchor]');
const log = new AuditLog({ db: openDatabase(dbPath), signer: loadSigner(keyFile), checkpointEvery: 50, ...(anchorFile === undefined ? {} : { anchorFile }) });
for (let i = 0; i < Number(n); i++) log.append({ kind: 'test', actor: tag, data: { i } });
