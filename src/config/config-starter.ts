/** The commented starter file `firebreak init` writes. A test loads it: it must always validate. */
export function starterConfig(): string {
  return `# firebreak.yaml: the platform Firebreak responds on.
# Reference: docs/configuration.md (JSON Schema: docs/firebreak.schema.json).
# Credentials are references, never values:
#   env:NAME              an environment variable
#   file:/absolute/path   a file (mode 0600), trailing newline ignored
#   vault:mount/path#key  a key of a KV secret in the provider's Vault
version: 1

# Journal database, keys and evidence. Relative paths are relative to this file.
stateDir: .firebreak

approvals:
  # When true, the approver must be someone other than the person who started
  # the run, and --yes is refused.
  twoPersonRule: false
  # Nothing changes before the plan is approved, except the steps named here as
  # automatic containment (reversible ones: a rejection undoes them), e.g.
  # automatic:
  #   device-compromise: [remove-wireguard-peer, persist-wireguard, remove-from-peers-json]

engine:
  concurrency: 8          # default fan-out concurrency (devices, tenants)
  rateLimits:             # requests per second per target system
    step-ca: 50
    thingsboard: 20

# Where commands for a host run. "local" always exists.
executors:
  acme-gateway:
    kind: ssh
    host: wg.acme.example.net
    user: firebreak
    privateKey: file:/etc/firebreak/ssh/id_ed25519
    # Pinned: the connection is refused if the server presents another key.
    hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMFZbRSLq3D3tQ5lQ0cW6W2rT6b1mQ3bW3v8r0l5y5pA
  acme-bridge:
    kind: compose           # docker compose exec in the tenant stack
    projectDir: /srv/tenant-stack
    service: tenant-iot-bridge-api
    via: acme-gateway

provider:
  stepCa:
    url: https://ca.provider.example.net:9000
    rootCertFile: /etc/firebreak/pki/root_ca.crt
    provisioner: firebreak
    provisionerPassword: env:PROVIDER_CA_PROVISIONER_PASSWORD
  timescaledb:
    host: tsdb.provider.example.net
    database: metrics
    adminUser: postgres
    adminPassword: env:PROVIDER_TSDB_ADMIN_PASSWORD
    roles:
      telegraf:
        envFile: /srv/provider-stack/.env
        variable: TSDB_TELEGRAF_PASSWORD
        applicationName: telegraf
        restart: { kind: compose, projectDir: /srv/provider-stack, service: telegraf }

tenants:
  acme:
    stepCa:                 # the tenant Sub-CA that issues device certificates
      url: https://ca.acme.example.net:9000
      rootCertFile: /etc/firebreak/pki/root_ca.crt
      provisioner: firebreak
      provisionerPassword: env:ACME_CA_PROVISIONER_PASSWORD
    wireguard:
      interface: wg0
      executor: acme-gateway
      peersJson: { path: /data/cdm_peers.json, executor: acme-bridge }
      persist: wg-quick-save
    thingsboard:
      url: https://tb.acme.example.net
      username: tenant@acme.example.net
      password: env:ACME_TB_PASSWORD
    hawkbit:
      url: https://hawkbit.acme.example.net
      username: firebreak
      password: env:ACME_HAWKBIT_PASSWORD
    contacts:
      emails: [security@acme.example.net]

# Per playbook, per phase RTO targets (override the playbook's defaults).
rto:
  device-compromise:
    containment: 5m
`;
}
