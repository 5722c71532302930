import { dirname, join } from 'node:path';
import { FirebreakError } from '../lib/errors.ts';
import type { LabExecutorName, LoadedConfig } from '../config/index.ts';
import type { Executor } from '../connectors/executor/executor-types.ts';
import { createWireguardStandin } from './wireguard/wireguard-standin.ts';

/** Where the lab keeps its WireGuard gateway stand-in, in the lab's directory (the directory of its firebreak.yaml). */
export function labWireguardFiles(labDir: string): { readonly stateFile: string; readonly confDir: string } {
  return { stateFile: join(labDir, 'wireguard-host.json'), confDir: labDir };
}

/**
 * The executors a lab configuration names without defining them
 * (config-lab.ts `LAB_EXECUTORS`), built from the lab's directory. Any process
 * that opens the lab's firebreak.yaml (the drill, `firebreak run` in another
 * terminal next to `firebreak lab up`) derives the same ones: nothing about
 * them is written into the configuration, so the production schema has no lab
 * executor kind.
 */
export function labExecutors(loaded: LoadedConfig): Record<LabExecutorName, Executor> {
  const file = loaded.config.labConfigFile;
  // Config loading refuses lab: true without labConfigFile; this guards a LoadedConfig built some other way.
  if (!loaded.config.lab || file === undefined) throw new FirebreakError('CONFIG_INVALID', `${loaded.path} is not a lab configuration: the lab's executors exist only in one`);
  return { 'lab-wireguard': createWireguardStandin(labWireguardFiles(dirname(file))) };
}
