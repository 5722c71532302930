import type { PlaybookDescriptor } from '../playbook-descriptor.ts';

/**
 * device-compromise as it is listed, without its code (device-compromise.ts,
 * held to this outline when it is loaded).
 */
export const deviceCompromiseDescriptor: PlaybookDescriptor = {
  id: 'device-compromise',
  title: 'Compromised device',
  summary: 'Capture evidence, then revoke the device certificate, remove its WireGuard peer, ThingsBoard device and hawkBit target, verify each; optionally issue the replacement\'s certificate.',
  version: 1,
  rto: { assessment: 2 * 60_000, containment: 5 * 60_000, recovery: 30 * 60_000 },
  steps: [
    { id: 'resolve-device', title: 'Resolve the device and its certificate serial', phase: 'assessment', system: 'inventory', effect: 'read', idempotency: 'natural' },
    { id: 'capture-evidence', title: 'Capture evidence: device record, telemetry, OTA target, WireGuard peer, certificate', phase: 'assessment', system: 'evidence', effect: 'read', idempotency: 'natural', dependsOn: ['resolve-device'] },
    { id: 'revoke-certificate', title: 'Revoke the device certificate at the tenant Sub-CA (keyCompromise)', phase: 'containment', system: 'step-ca', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'] },
    { id: 'remove-wireguard-peer', title: 'Remove the WireGuard peer from the live interface', phase: 'containment', system: 'wireguard', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-evidence'] },
    { id: 'persist-wireguard', title: 'Persist the interface configuration without the peer', phase: 'containment', system: 'wireguard', effect: 'mutate', idempotency: 'natural', dependsOn: ['remove-wireguard-peer'] },
    { id: 'remove-from-peers-json', title: 'Remove the device from cdm_peers.json', phase: 'containment', system: 'iot-bridge', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-evidence'] },
    { id: 'delete-thingsboard-device', title: 'Delete the device from ThingsBoard', phase: 'containment', system: 'thingsboard', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'] },
    { id: 'delete-hawkbit-target', title: 'Delete the OTA target from hawkBit', phase: 'containment', system: 'hawkbit', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'] },
    { id: 'issue-replacement', title: 'Issue the replacement device\'s certificate', phase: 'recovery', system: 'step-ca', effect: 'mutate', idempotency: 'keyed', dependsOn: ['revoke-certificate'] },
  ],
  drill: { input: { tenant: 'acme', device: 'device-001' } },
  // Only the options' names and help: the serial's check, with the X.509 helpers, is the loaded playbook's.
  input: async () => (await import('./device-inputs.ts')).deviceCompromiseInputs(() => undefined),
  load: async () => (await import('./device-compromise.ts')).deviceCompromise,
};
