import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diagramDocument } from '../lib/diagram.js';
import { WORKSPACE_DIR } from '../lib/topology.js';
import { synthesize } from './helpers.js';

describe('architecture diagram', () => {
  const { templates } = synthesize('dev');
  const json = Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, t.toJSON()]));
  const doc = diagramDocument(json);

  it('shows the event flow of the synthesized topology', () => {
    for (const edge of [
      'SQS_rental_returns -->|ESM| Lambda_rental_return',
      'DynamoDB_outbox -->|ESM| Lambda_outbox_relay',
      'SNS_domain_events -->|filter| SQS_notifications',
      'SQS_notifications -.->|DLQ| SQS_notifications_dlq',
      'ApiGateway_REST_API --> Lambda_api_handler',
      'Lambda_outbox_relay --> SNS_domain_events',
    ]) {
      assert.ok(doc.includes(edge), edge);
    }
  });

  it('is committed as generated in docs/architecture.md (make diagram)', () => {
    assert.equal(readFileSync(join(WORKSPACE_DIR, 'docs', 'architecture.md'), 'utf8'), doc);
  });
});
