import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, type ConfigProblem } from '../../src/config/index.ts';
import { MAX_ALIAS_COUNT } from '../../src/config/config-yaml.ts';
import { FirebreakError, ErrorCodes } from '../../src/lib/errors.ts';

function refusal(fn: () => unknown): { message: string; problems: ConfigProblem[] } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FirebreakError, String(err));
    assert.equal(err.code, 'CONFIG_INVALID');
    return { message: err.message, problems: err.details?.['problems'] as ConfigProblem[] };
  }
  assert.fail('expected CONFIG_INVALID');
}

const tb = (url: string) => `version: 1\ntenants:\n  acme:\n    thingsboard:\n      url: ${url}\n      username: u\n      password: env:TB\n`;

// Item 13: a key that is there with the wrong type is not "required".
const wrongTypes: { name: string; text: string; path: string; message: string; line: number }[] = [
  { name: 'a number where a URL string is expected', text: tb('42'), path: 'tenants.acme.thingsboard.url', message: 'expected a string, got a number', line: 5 },
  { name: 'a list where the tenants mapping is expected', text: 'version: 1\ntenants: [a, b]\n', path: 'tenants', message: 'expected a mapping (key: value), got a list', line: 2 },
  { name: 'a word where a number is expected', text: 'version: 1\nengine:\n  concurrency: lots\n', path: 'engine.concurrency', message: 'expected a number, got a string', line: 3 },
  { name: 'a fraction where an integer is expected', text: 'version: 1\nengine:\n  concurrency: 1.5\n', path: 'engine.concurrency', message: 'expected an integer, got a fractional number', line: 3 },
  { name: 'a boolean where a list is expected', text: 'version: 1\ntenants:\n  acme:\n    contacts:\n      emails: true\n', path: 'tenants.acme.contacts.emails', message: 'expected a list, got a boolean', line: 5 },
  { name: 'a mapping where a string is expected', text: 'version: 1\ntenants:\n  acme:\n    wireguard:\n      interface: {name: wg0}\n', path: 'tenants.acme.wireguard.interface', message: 'expected a string, got a mapping', line: 5 },
  { name: 'null where a boolean is expected', text: 'version: 1\napprovals:\n  twoPersonRule: null\n', path: 'approvals.twoPersonRule', message: 'expected a boolean (true or false), got null (an empty value)', line: 3 },
  { name: 'an empty value where a string is expected', text: tb(''), path: 'tenants.acme.thingsboard.url', message: 'expected a string, got null (an empty value)', line: 5 },
  { name: 'a list where a boolean is expected', text: 'version: 1\napprovals:\n  twoPersonRule: [yes]\n', path: 'approvals.twoPersonRule', message: 'expected a boolean (true or false), got a list', line: 3 },
  { name: 'a string where an executor mapping is expected', text: 'version: 1\nexecutors:\n  gw: ssh\n', path: 'executors.gw', message: 'expected a mapping (key: value), got a string', line: 3 },
  { name: 'a number where a credential (reference or {value}) is expected', text: 'version: 1\ntenants:\n  acme:\n    hawkbit:\n      url: https://hb\n      username: u\n      password: 42\n', path: 'tenants.acme.hawkbit.password', message: 'expected a string or a mapping (key: value), got a number', line: 7 },
];
for (const c of wrongTypes) {
  test(`a wrong type is reported as such, with its line: ${c.name}`, () => {
    const { problems, message } = refusal(() => parseConfig(c.text, 'x.yaml'));
    assert.deepEqual(problems, [{ path: c.path, message: c.message, line: c.line }]);
    assert.match(message, new RegExp(`line ${c.line}: ${c.path.replace(/\./g, '\\.')}: expected `));
    assert.doesNotMatch(message, /is required/);
  });
}

test('"is required" is kept for keys that are really absent, beside wrong types in the same file', () => {
  const { problems } = refusal(() => parseConfig('version: 1\ntenants:\n  acme:\n    hawkbit:\n      url: https://hb\n      username: 7\n    thingsboard:\n      url: https://tb\n      password: env:TB\nexecutors:\n  gw: {host: h}\n', 'x.yaml'));
  assert.deepEqual(problems.map((p) => `${p.path}: ${p.message}`).sort(), [
    'executors.gw.kind: is required',
    'tenants.acme.hawkbit.password: is required',
    'tenants.acme.hawkbit.username: expected a string, got a number',
    'tenants.acme.thingsboard.username: is required',
  ]);
});

test('the value found is never echoed: only its type', () => {
  const { message } = refusal(() => parseConfig('version: 1\nengine:\n  concurrency: hunter2-canary\n', 'x.yaml'));
  assert.doesNotMatch(message, /hunter2-canary/);
});

// Item 14: a YAML alias bomb is a configuration problem with its file and line, refused before expansion.
function aliasBomb(levels: number, width: number): string {
  const rows = ['version: 1', `l0: &l0 [${Array.from({ length: width }, () => '"lol"').join(', ')}]`];
  for (let i = 1; i < levels; i++) rows.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]`);
  return `${rows.join('\n')}\n`;
}

test('a billion-laughs alias bomb is CONFIG_INVALID (exit 3) naming the file and the alias\'s line, and is not expanded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-bomb-'));
  try {
    const file = join(dir, 'firebreak.yaml');
    writeFileSync(file, aliasBomb(10, 10)); // 10^10 strings if it were expanded
    const before = process.memoryUsage().heapUsed;
    const { message, problems } = refusal(() => loadConfig(file));
    // Expanding even a millionth of it would take far more than this.
    assert.ok(process.memoryUsage().heapUsed - before < 200 * 1024 * 1024, 'refused without expanding the aliases');
    assert.equal(ErrorCodes.CONFIG_INVALID.exit, 3);
    assert.ok(message.startsWith(`${file} is invalid`), message);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, '(yaml)');
    assert.match(problems[0]?.message ?? '', /^alias \*l\d+ takes the document beyond 100 aliased nodes .*alias bomb/);
    // The yaml library counts an anchor's uses × the aliased nodes inside it: on line 4 the ninth *l1 makes (9 + 1) × 11 > 100.
    assert.equal(problems[0]?.line, 4);
    assert.match(message, /line 4: \(yaml\): alias \*l1 /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one anchor aliased more than the limit allows is refused at the alias that crosses it', () => {
  const uses = Array.from({ length: MAX_ALIAS_COUNT + 5 }, () => '*a').join(', ');
  const { problems } = refusal(() => parseConfig(`version: 1\nx: &a v\nengine:\n  rateLimits: {}\ny: [${uses}]\n`, 'x.yaml'));
  assert.equal(problems[0]?.line, 5);
  assert.match(problems[0]?.message ?? '', /^alias \*a /);
});

test('a few ordinary aliases still work', () => {
  const c = parseConfig('version: 1\nengine:\n  concurrency: &n 4\n  rateLimits: {step-ca: *n, thingsboard: *n}\n', 'x.yaml');
  assert.deepEqual(c.config.engine.rateLimits, { 'step-ca': 4, thingsboard: 4 });
});

test('a YAML syntax error names the file and the line', () => {
  const { message, problems } = refusal(() => parseConfig('version: 1\ntenants:\n  acme: [\n', '/etc/fb/firebreak.yaml'));
  assert.ok(message.startsWith('/etc/fb/firebreak.yaml is invalid'));
  assert.equal(problems[0]?.path, '(yaml)');
  assert.equal(typeof problems[0]?.line, 'number');
});

// Item 10: lab: true is honoured only in the file the lab generated for itself.
const LAB_BODY = 'tenants:\n  acme:\n    hawkbit: {url: "http://127.0.0.1:1", username: u, password: {value: inline-secret-canary}}\n';

function inDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'fb-labcfg-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a hand-written lab: true is refused, naming lab and saying why, without echoing the inline secret', () => { inDir((dir) => {
  const file = join(dir, 'firebreak.yaml');
  writeFileSync(file, `version: 1\nlab: true\n${LAB_BODY}`);
  const { message, problems } = refusal(() => loadConfig(file));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.path, 'lab');
  assert.equal(problems[0]?.line, 2);
  assert.match(problems[0]?.message ?? '', /only for the configurations `firebreak drill` generates/);
  assert.match(problems[0]?.message ?? '', /inline secrets, plain http/);
  assert.doesNotMatch(message, /inline-secret-canary/);
}); });

test('lab: true with the drill\'s marker (this file\'s own absolute path) allows inline secrets and http', () => { inDir((dir) => {
  const file = join(dir, 'firebreak.yaml');
  writeFileSync(file, `version: 1\nlab: true\nlabConfigFile: ${file}\n${LAB_BODY}`);
  const c = loadConfig(file);
  assert.equal(c.config.lab, true);
  assert.deepEqual(c.warnings, []);
  // Reached through a symbolic link, it is still the same file.
  const link = join(dir, 'link.yaml');
  symlinkSync(file, link);
  assert.equal(loadConfig(link).config.lab, true);
}); });

test('a drill\'s configuration copied elsewhere (a template for a real deployment) is refused, naming both places', () => { inDir((dir) => {
  const file = join(dir, 'firebreak.yaml');
  writeFileSync(file, `version: 1\nlab: true\nlabConfigFile: ${file}\n${LAB_BODY}`);
  const copy = join(dir, 'prod.yaml');
  copyFileSync(file, copy);
  const { problems } = refusal(() => loadConfig(copy));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.path, 'labConfigFile');
  assert.equal(problems[0]?.line, 3);
  assert.ok(problems[0]?.message.includes(file) && problems[0].message.includes(copy), problems[0]?.message);
}); });

test('a relative labConfigFile is refused (it would match any file of that name)', () => {
  const { problems } = refusal(() => parseConfig(`version: 1\nlab: true\nlabConfigFile: firebreak.yaml\n${LAB_BODY}`, 'firebreak.yaml'));
  assert.deepEqual(problems.map((p) => p.path), ['labConfigFile']);
  assert.match(problems[0]?.message ?? '', /must be the absolute path of this file/);
});

test('labConfigFile without lab: true changes nothing and is a warning', () => {
  const c = parseConfig('version: 1\nlabConfigFile: /x/firebreak.yaml\n', '/x/firebreak.yaml');
  assert.deepEqual(c.warnings.map((w) => `${w.path}: ${w.message}`).filter((w) => w.startsWith('labConfigFile')), ['labConfigFile: has no effect without lab: true']);
  assert.throws(() => parseConfig(`version: 1\nlabConfigFile: /x/firebreak.yaml\n${LAB_BODY}`, '/x/firebreak.yaml'), /inline secrets are only allowed in a lab configuration/);
});

test('the drill\'s header comment alone does not make a lab configuration: without the marker, lab: true is refused', () => { inDir((dir) => {
  const file = join(dir, 'firebreak.yaml');
  writeFileSync(file, `# Generated by firebreak drill: a lab configuration (lab: true allows inline secrets and http).\nversion: 1\nlab: true\n${LAB_BODY}`);
  assert.deepEqual(refusal(() => loadConfig(file)).problems.map((p) => p.path), ['lab']);
}); });
