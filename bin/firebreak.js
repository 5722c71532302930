#!/usr/bin/env -S node --max-semi-space-size=16
// Firebreak's command line. Runs the TypeScript sources directly (Node 24 strips types).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`firebreak needs Node.js 24 or later (this is ${process.version}). Run it through npm (npx firebreak, npm run …), which uses the Node 24 installed in node_modules.\n`);
  process.exit(1);
}
// Node keeps the compiled (type-stripped) sources in its compile cache, so that every call after the
// first starts without compiling them again (bench/cli). The cache is the user's own, not one in a
// shared /tmp where another account could plant compiled code; $NODE_COMPILE_CACHE picks another,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off, and a cache that cannot be written is simply not used.
const [{ enableCompileCache }, { homedir }, { join }] = await Promise.all([import('node:module'), import('node:os'), import('node:path')]);
enableCompileCache(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'firebreak', 'node-compile-cache'));
// A reader that stopped reading (`firebreak runs | head -1`) ends the command quietly, as for any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => { if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw err; });
}
// The heap of a long run stays near what is live (src/lib/heap-tuning.ts).
const [{ main }, { tuneHeap }] = await Promise.all([import('../src/cli/main.ts'), import('../src/lib/heap-tuning.ts')]);
tuneHeap();
process.exitCode = await main(process.argv.slice(2));
