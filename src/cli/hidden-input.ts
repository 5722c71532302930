import { readFileSync } from 'node:fs';
import { read } from 'read';
import { FirebreakError } from '../lib/errors.ts';
import { Secret } from '../lib/secret.ts';

/**
 * A secret the operator gives by hand (a key share, a leaked token to look
 * for): from a file descriptor (`--share-fd 3 3<file`, one line), else typed
 * at the terminal without echo; never from the command line, where shell
 * history and the process list would keep it.
 */
export async function readHidden(o: { readonly prompt: string; readonly fd: string | undefined; readonly fdFlag: string; readonly what: string }): Promise<Secret> {
  let text: string;
  if (o.fd !== undefined) {
    if (!/^\d{1,4}$/.test(o.fd)) throw new FirebreakError('USAGE', `${o.fdFlag} ${JSON.stringify(o.fd)}: must be a file descriptor number (0 for standard input)`);
    try {
      text = readFileSync(Number(o.fd), 'utf8');
    } catch (err) {
      throw new FirebreakError('USAGE', `${o.fdFlag} ${o.fd}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'}): open it in the shell, e.g. \`3<file\``, { cause: err });
    }
  } else {
    if (!process.stdin.isTTY) throw new FirebreakError('USAGE', `no terminal to type ${o.what} at: give it on a file descriptor (${o.fdFlag} 0 for standard input)`);
    // Not echoed (nor replaced by stars: the length is not shown either); Ctrl-C abandons.
    text = await read({ prompt: o.prompt, silent: true, replace: '', input: process.stdin, output: process.stderr }).catch((err: unknown) => {
      throw new FirebreakError('CANCELLED', 'nothing was given (the prompt was abandoned)', { cause: err });
    });
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length !== 1) throw new FirebreakError('INVALID_INPUT', lines.length === 0 ? `no ${o.what} was given` : `${lines.length} lines were given: one ${o.what} at a time`);
  return new Secret(lines[0] ?? '');
}
