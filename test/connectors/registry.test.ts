import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONNECTORS, EXECUTORS, ExecutorKinds, SystemIds, connectorList } from '../../src/connectors/registry.ts';
import { executorSchema, providerSchema, tenantSchema } from '../../src/config/config-schema.ts';
import { parseConfig } from '../../src/config/index.ts';
import { probeSystems } from '../../src/app/app-systems.ts';
import { freePort } from '../../src/lib/free-port.ts';

test('the registry is exhaustive: one definition per system id, under its own id, and the stacks are made of exactly its schemas', () => {
  assert.deepEqual(Object.keys(CONNECTORS), [...SystemIds]);
  for (const id of SystemIds) assert.equal(CONNECTORS[id].id, id);
  const keysOf = (scope: 'provider' | 'tenant') => connectorList.filter((d) => d.scopes.includes(scope)).map((d) => d.configKey);
  assert.deepEqual(Object.keys(providerSchema.shape), keysOf('provider'));
  assert.deepEqual(Object.keys(tenantSchema.shape), [...keysOf('tenant'), 'test', 'contacts']);
  for (const d of connectorList) {
    for (const [scope, shape] of [['provider', providerSchema.shape], ['tenant', tenantSchema.shape]] as const) {
      const field = (shape as Record<string, { unwrap?: () => unknown } | undefined>)[d.configKey];
      if (d.scopes.includes(scope)) assert.equal(field?.unwrap?.(), d.schema, `${scope}.${d.configKey} is the ${d.id} definition's schema`);
      else assert.equal(field, undefined, `${d.id} is not configurable in the ${scope} stack`);
    }
  }
  assert.deepEqual(Object.keys(EXECUTORS), [...ExecutorKinds]);
  assert.deepEqual(executorSchema.options.map((o) => o.shape.kind.value), [...ExecutorKinds], 'executors: one branch per kind, no lab kind');
});

test('check probes what the registry says: one probe per configured system and executor, one per credential it needs', async () => {
  const closed = await freePort();
  const url = `https://127.0.0.1:${closed}`;
  const loaded = parseConfig(`version: 1
executors:
  gw: { kind: ssh, host: 127.0.0.1, port: ${closed}, user: fb, privateKey: env:FB_REG_SSH, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMFZbRSLq3D3tQ5lQ0cW6W2rT6b1mQ3bW3v8r0l5y5pA" }
  bridge: { kind: compose, projectDir: /srv/x, service: api, via: gw }
provider:
  stepCa: { url: ${url}, provisioner: p, provisionerPassword: env:FB_REG_CA }
  keycloak: { url: ${url}, adminUser: admin, adminPassword: env:FB_REG_KC }
  timescaledb: { host: 127.0.0.1, port: ${closed}, database: d, adminUser: a, adminPassword: env:FB_REG_DB }
  vault: { url: ${url}, token: env:FB_REG_VAULT }
  dns: { kind: powerdns, url: ${url}, apiKey: env:FB_REG_DNS, zone: example.net }
  smtp: { host: 127.0.0.1, port: ${closed}, from: fb@example.net }
tenants:
  acme:
    stepCa: { url: ${url}, provisioner: p, provisionerPassword: env:FB_REG_CA, offline: true }
    subCa: { certFile: /nonexistent/ca.crt, keyFile: /nonexistent/ca.key, restart: { kind: command, argv: ["true"] } }
    wireguard: { interface: wg0, executor: gw }
    thingsboard: { url: ${url}, username: u, password: env:FB_REG_TB }
    hawkbit: { url: ${url}, username: u, password: env:FB_REG_HB }
`, '/etc/firebreak/firebreak.yaml');
  process.env['FB_REG_TB'] = 'x';
  const rows = await probeSystems(loaded, undefined, 2000).finally(() => { delete process.env['FB_REG_TB']; });
  const seen = rows.map((r) => `${r.scope} / ${r.system}`).sort();
  assert.deepEqual(seen, [
    'executor gw / ssh', 'executor gw / ssh credential',
    'provider / dns', 'provider / dns credential', 'provider / keycloak', 'provider / keycloak credential',
    'provider / smtp', 'provider / step-ca', 'provider / step-ca credential', 'provider / timescaledb', 'provider / timescaledb credential',
    'provider / vault', 'provider / vault credential',
    'tenant acme / hawkbit', 'tenant acme / hawkbit credential', 'tenant acme / step-ca', 'tenant acme / sub-ca files',
    'tenant acme / thingsboard', 'tenant acme / thingsboard credential',
  ].sort(), 'no probe of its own for wireguard (its executor is probed) or compose; the offline CA is listed, its credential is not needed');
  const row = (s: string) => rows.find((r) => `${r.scope} / ${r.system}` === s);
  assert.equal(row('tenant acme / step-ca')?.ok, true);
  assert.match(row('tenant acme / step-ca')?.detail ?? '', /offline: not probed/);
  assert.equal(row('tenant acme / thingsboard credential')?.ok, true);
  assert.match(row('tenant acme / hawkbit credential')?.detail ?? '', /tenants\.acme\.hawkbit\.password: environment variable FB_REG_HB is not set/);
  assert.equal(row('provider / step-ca')?.ok, false, 'nothing listens there');
  assert.equal(row('provider / smtp')?.endpoint, `127.0.0.1:${closed}`);
  assert.match(row('tenant acme / sub-ca files')?.detail ?? '', /nonexistent/);
});
