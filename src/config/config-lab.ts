import { realpathSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigProblem } from './config-problems.ts';

/**
 * Executors the lab provides itself (src/lab/lab-executors.ts builds them
 * from the lab's directory when a lab configuration is opened): a lab
 * configuration may name them without defining them under `executors`; any
 * other configuration may not. They are not an executor kind of the schema, so
 * nothing in a production file can ask for the lab's stand-ins.
 */
export const LAB_EXECUTORS = ['lab-wireguard'] as const;
export type LabExecutorName = (typeof LAB_EXECUTORS)[number];

/**
 * `lab: true` lifts the rules that keep secrets and traffic safe (inline
 * secrets, plain http, the lab's WireGuard stand-in). It is honoured only in a
 * file the lab generated for itself: one whose `labConfigFile` is that file's
 * own absolute path, as `firebreak drill` (src/lab/lab.ts) writes it in the
 * lab's directory. A hand-written `lab: true`, or a drill's file copied as a
 * template into a real deployment, is refused. This guards against
 * carelessness (a copied or half-remembered setting), not malice: whoever
 * edits the file can write the marker too.
 */
export function labProblem(c: { lab: boolean; labConfigFile?: string | undefined }, configPath: string): ConfigProblem | undefined {
  if (!c.lab) return undefined;
  const here = resolve(configPath);
  if (c.labConfigFile === undefined) {
    return {
      path: 'lab',
      message: 'is only for the configurations `firebreak drill` generates for its own lab (lab: true allows inline secrets, plain http and the lab\'s WireGuard stand-in), and this file is not one: '
        + 'remove it and use env:NAME, file:/path or vault:mount/path#key references and https URLs (insecure: true on an endpoint allows http, with a warning)',
    };
  }
  if (!isAbsolute(c.labConfigFile)) return { path: 'labConfigFile', message: 'must be the absolute path of this file, as `firebreak drill` writes it' };
  if (!samePath(c.labConfigFile, here)) {
    return {
      path: 'labConfigFile',
      message: `this lab configuration was generated as ${c.labConfigFile}; a copy at ${here} is not a lab configuration (inline secrets and plain http stay refused): `
        + 'remove lab and labConfigFile and use credential references and https URLs, or run `firebreak drill` for a new lab',
    };
  }
  return undefined;
}

function samePath(a: string, b: string): boolean {
  if (resolve(a) === b) return true;
  try {
    // The same file reached through a symbolic link (/tmp → /private/tmp, a linked home).
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
