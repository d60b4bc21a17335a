import { Match } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIGS } from '../lib/config.js';
import { isFifo, loadTopology, queueVisibilitySeconds } from '../lib/topology.js';
import { synthesize } from './helpers.js';

const topology = loadTopology();
const { templates } = synthesize('dev');
const t = templates.stateful;

function byPath(type: string, pathSuffix: string) {
  const found = Object.entries(t.findResources(type)).filter(([, r]) =>
    String(r.Metadata?.['aws:cdk:path'] ?? '').endsWith(pathSuffix),
  );
  assert.equal(found.length, 1, `one ${type} at …${pathSuffix}`);
  return found[0];
}

describe('stateful stack', () => {
  it('pairs every queue with a dead-letter queue of its kind, maxReceiveCount and visibility from topology.json', () => {
    assert.ok(topology.queues.some((q) => !isFifo(q)), 'a standard queue among them');
    for (const q of topology.queues) {
      const [dlqId, dlq] = byPath('AWS::SQS::Queue', `/Queue-${q.name}-dlq/Resource`);
      const [, queue] = byPath('AWS::SQS::Queue', `/Queue-${q.name}/Resource`);
      const fifo = isFifo(q) ? true : undefined;
      assert.equal(dlq.Properties.FifoQueue, fifo, q.name);
      assert.equal(queue.Properties.FifoQueue, fifo, q.name);
      assert.equal(queue.Properties.VisibilityTimeout, queueVisibilitySeconds(topology, q.name));
      // The names `make dlq` and `make redrive` look queues up by, as the local stack names them.
      const suffix = isFifo(q) ? '.fifo' : '';
      assert.equal(queue.Properties.QueueName, `${CONFIGS.dev.stackPrefix}-${q.name}${suffix}`);
      assert.equal(dlq.Properties.QueueName, `${CONFIGS.dev.stackPrefix}-${q.name}-dlq${suffix}`);
      assert.deepEqual(queue.Properties.RedrivePolicy, {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: topology.max_receive_count,
      });
      assert.equal(queue.Properties.SqsManagedSseEnabled, true);
      assert.equal(dlq.Properties.SqsManagedSseEnabled, true);
    }
  });

  it('allows only TLS to every queue', () => {
    const policies = t.findResources('AWS::SQS::QueuePolicy');
    const denyInsecure = Object.values(policies).filter((p) =>
      p.Properties.PolicyDocument.Statement.some(
        (s: { Effect: string; Condition?: { Bool?: Record<string, string> } }) =>
          s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      ),
    );
    // every queue, its DLQ, and the relay failure queue
    assert.equal(denyInsecure.length, topology.queues.length * 2 + 1);
  });

  it('creates every table on demand with PITR, keys, indexes, stream and TTL from topology.json', () => {
    for (const spec of topology.tables) {
      const [, table] = byPath('AWS::DynamoDB::Table', `/Table-${spec.name}/Resource`);
      const p = table.Properties;
      assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
      const keys = [{ AttributeName: spec.partition_key, KeyType: 'HASH' }];
      if (spec.sort_key) keys.push({ AttributeName: spec.sort_key, KeyType: 'RANGE' });
      assert.deepEqual(p.KeySchema, keys);
      assert.deepEqual(
        (p.GlobalSecondaryIndexes ?? []).map((i: { IndexName: string }) => i.IndexName),
        (spec.indexes ?? []).map((i) => i.name),
      );
      assert.equal(p.StreamSpecification?.StreamViewType, spec.stream ? 'NEW_IMAGE' : undefined);
      assert.equal(p.TimeToLiveSpecification?.AttributeName, spec.ttl_attribute);
    }
  });

  it('protects data in prod only', () => {
    const prod = synthesize('prod').templates.stateful;
    prod.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    t.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    assert.ok(Object.values(prod.findResources('AWS::DynamoDB::Table')).every((r) => r.DeletionPolicy === 'Retain'));
  });

  it('fans the FIFO domain-events topic out to raw, filtered subscriptions', () => {
    t.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, KmsMasterKeyId: Match.anyValue() });
    for (const s of topology.subscriptions) {
      const [queueId] = byPath('AWS::SQS::Queue', `/Queue-${s.queue}/Resource`);
      t.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
        RawMessageDelivery: true,
        FilterPolicy: { event_type: s.event_types },
      });
    }
  });
});
