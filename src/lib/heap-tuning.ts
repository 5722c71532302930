import { setFlagsFromString } from 'node:v8';

/**
 * The heap of a process that runs playbooks: with the young generation capped
 * (`--max-semi-space-size=16` on the CLI's first line: V8 reads it only at
 * start), the old generation grows by 20 % at each collection instead of V8's
 * default factor, so that a long run's memory stays near what is live
 * (docs/BENCHMARKS.md, "Fan-out at scale"). Set once the process has started:
 * from the start it costs every command about 20 ms of collections while its
 * modules load.
 */
export function tuneHeap(): void {
  setFlagsFromString('--heap-growing-percent=20');
}
