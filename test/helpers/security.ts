/**
 * Security fixtures for tests: a config document with fresh secrets, and in-process brokers and
 * buses that use it. Every secret is random per call, so no test depends on a fixed key.
 */
import { randomBytes } from 'node:crypto';
import { parseHubConfig, type HubConfig } from '../../src/core/config/schema.js';
import { HubSecurity } from '../../src/core/security/hub-security.js';
import type { AuditEvent, AuditSink } from '../../src/core/security/audit.js';
import { createNodeCryptoProvider } from '../../src/node/crypto/node-provider.js';

export const secret = (): string => randomBytes(32).toString('base64');

/** A config where app `test` may do anything, `orders` follows the example role, `limited` is rate limited. */
type AppDoc = { secret: string; roles: string[] };
export type TestConfigDocument = Record<string, unknown> & {
  apps: { test: AppDoc; orders: AppDoc; billing: AppDoc } & Record<string, AppDoc>;
};

export function testConfigDocument(overrides: Record<string, unknown> = {}): TestConfigDocument {
  return {
    apps: {
      test: { secret: secret(), roles: ['all'] },
      orders: { secret: secret(), roles: ['orders-service'] },
      billing: { secret: secret(), roles: ['billing'] },
    },
    roles: {
      all: { publish: ['>'], subscribe: ['>'], request: ['>'] },
      'orders-service': {
        publish: ['orders.>'],
        subscribe: ['orders.>', 'apps.{app}.>'],
        request: ['billing.*'],
        deny: { publish: ['orders.admin.>'] },
      },
      billing: { publish: ['billing.>'], subscribe: ['billing.>', 'orders.>'], request: [] },
    },
    origins: [],
    ...overrides,
  } as never;
}

export class RecordingAudit implements AuditSink {
  readonly events: AuditEvent[] = [];
  record(event: AuditEvent): void {
    this.events.push(event);
  }
  find(action: string, outcome?: string): AuditEvent[] {
    return this.events.filter((e) => e.action === action && (outcome === undefined || e.outcome === outcome));
  }
}

export function hubSecurity(
  doc: unknown = testConfigDocument(),
  audit: AuditSink = new RecordingAudit(),
): { security: HubSecurity; config: HubConfig } {
  const config = parseHubConfig(doc);
  return { security: new HubSecurity({ crypto: createNodeCryptoProvider(), config, audit }), config };
}
