import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTopology } from '../lib/topology.js';
import { synthesize } from './helpers.js';

const topology = loadTopology();
const { templates } = synthesize('dev');
const t = templates.processing;

function functionId(name: string): string {
  const found = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([, r]) =>
    String(r.Metadata?.['aws:cdk:path'] ?? '').endsWith(`/${name}/Function/Resource`),
  );
  assert.equal(found.length, 1, name);
  return found[0][0];
}

describe('processing stack', () => {
  it('runs every consumer as an arm64 provided.al2023 function sized from topology.json', () => {
    for (const f of topology.functions.filter((f) => f.name !== 'api-handler')) {
      const fn = t.findResources('AWS::Lambda::Function')[functionId(f.name)];
      assert.equal(fn.Properties.Runtime, 'provided.al2023');
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Handler, 'bootstrap');
      assert.equal(fn.Properties.Timeout, f.timeout_seconds);
      assert.equal(fn.Properties.MemorySize, f.memory_mb);
      assert.equal(fn.Properties.LoggingConfig.LogFormat, 'JSON');
    }
  });

  it('maps every queue with ReportBatchItemFailures, batch size and maximum concurrency', () => {
    for (const source of topology.event_sources) {
      const mapping = {
        FunctionName: { Ref: functionId(source.function) },
        BatchSize: source.batch_size,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      };
      if ('queue' in source) {
        t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          ...mapping,
          ScalingConfig: { MaximumConcurrency: source.max_concurrency },
        });
      } else {
        const esm = Object.values(t.findResources('AWS::Lambda::EventSourceMapping', { Properties: mapping }));
        assert.equal(esm.length, 1);
        assert.equal(esm[0].Properties.StartingPosition, 'TRIM_HORIZON');
        assert.ok(esm[0].Properties.DestinationConfig.OnFailure.Destination, 'stream failures go to a queue');
      }
    }
    assert.equal(Object.keys(t.findResources('AWS::Lambda::EventSourceMapping')).length, topology.event_sources.length);
  });

  it('names every resource a function uses in its environment', () => {
    const fns = t.findResources('AWS::Lambda::Function');
    const env = (name: string) => Object.keys(fns[functionId(name)].Properties.Environment.Variables).sort();
    assert.deepEqual(env('notifier'), ['NOTIFY_URL', 'PROCESSED_TABLE', 'REJECTIONS_TABLE', 'RUST_LOG']);
    assert.deepEqual(env('outbox-relay'), ['DOMAIN_EVENTS_TOPIC_ARN', 'REJECTIONS_TABLE', 'RUST_LOG', 'WORK_QUEUE_URL']);
    assert.deepEqual(env('queue-processor'), [
      'FORMULAS_TABLE', 'MAX_RECEIVE_COUNT', 'OUTBOX_TABLE', 'PROCESSED_TABLE', 'REJECTIONS_TABLE', 'RUST_LOG', 'STATS_TABLE', 'TASKS_TABLE',
    ]);
    const variables = fns[functionId('queue-processor')].Properties.Environment.Variables;
    assert.equal(variables.MAX_RECEIVE_COUNT, String(topology.max_receive_count));
    assert.deepEqual(env('rental-return'), [
      'ASSETS_TABLE', 'OUTBOX_TABLE', 'REJECTIONS_TABLE', 'RENTALS_TABLE', 'RETURNS_TABLE', 'RUST_LOG', 'USERS_TABLE',
    ]);
  });

  it('grants each function exactly the DynamoDB actions it needs', () => {
    const actions = (name: string) => {
      const role = t.findResources('AWS::Lambda::Function')[functionId(name)].Properties.Role['Fn::GetAtt'][0];
      const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
        p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role),
      );
      return policies
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .flatMap((s: { Action: string | string[] }) => [s.Action].flat())
        .filter((a: string) => a.startsWith('dynamodb:') && !a.includes('Stream') && a !== 'dynamodb:DescribeStream')
        .sort();
    };
    assert.deepEqual(actions('notifier'), ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:PutItem']);
    assert.deepEqual(actions('queue-processor'), [
      'dynamodb:GetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
    ]);
  });
});
