#!/usr/bin/env node
// Firebreak's command line. Runs the TypeScript sources directly (Node 24 strips types).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`firebreak needs Node.js 24 or later (this is ${process.version}). Run it through npm (npx firebreak, npm run …), which uses the Node 24 installed in node_modules.\n`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
