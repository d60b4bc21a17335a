import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIGS } from '../lib/config.js';
import { loadTopology } from '../lib/topology.js';
import { environmentOf, implied, referent, synthesize } from './helpers.js';

const topology = loadTopology();
const s = synthesize('dev');
const t = s.templates.processing;

/** The logical id of function `name`'s `live` alias, which every mapping calls. */
function aliasId(name: string): string {
  const found = Object.entries(t.findResources('AWS::Lambda::Alias', { Properties: { FunctionName: { Ref: functionId(name) }, Name: 'live' } }));
  assert.equal(found.length, 1, name);
  return found[0][0];
}

/** The mappings that call function `name` (through its alias). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- template JSON, read field by field
function mappingsOf(name: string): { [key: string]: any }[] {
  const alias = aliasId(name);
  return Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).filter((m) => JSON.stringify(m.Properties.FunctionName).includes(`"${alias}"`));
}

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
      assert.equal(fn.Properties.ReservedConcurrentExecutions, f.reserved_concurrency, f.name);
      assert.equal(fn.Properties.LoggingConfig.LogFormat, 'JSON');
      // The level is Lambda's setting (AWS_LAMBDA_LOG_LEVEL), which a RUST_LOG would override.
      assert.equal(fn.Properties.LoggingConfig.ApplicationLogLevel, 'INFO');
      assert.equal(fn.Properties.LoggingConfig.SystemLogLevel, 'WARN');
      assert.equal(fn.Properties.Environment.Variables.RUST_LOG, undefined, f.name);
    }
  });

  it("reserves for each consumer at least what its queues' mappings may run at once", () => {
    for (const f of topology.functions) {
      const mapped = topology.event_sources
        .filter((e) => e.function === f.name && 'queue' in e)
        .reduce((sum, e) => sum + ('max_concurrency' in e ? (e.max_concurrency ?? 0) : 0), 0);
      assert.ok(Number.isInteger(f.reserved_concurrency) && f.reserved_concurrency > 0, `${f.name} reserves concurrency`);
      assert.ok(f.reserved_concurrency >= mapped, `${f.name}: reserved ${f.reserved_concurrency} < its mappings' ${mapped}`);
    }
  });

  it('maps every queue with ReportBatchItemFailures, batch size and maximum concurrency', () => {
    for (const source of topology.event_sources) {
      const ofSource = mappingsOf(source.function).filter(
        (m) => m.Properties.BatchSize === source.batch_size && JSON.stringify(m.Properties.FunctionResponseTypes) === '["ReportBatchItemFailures"]',
      );
      if ('queue' in source) {
        const scaled = ofSource.filter((m) => m.Properties.ScalingConfig?.MaximumConcurrency === source.max_concurrency);
        assert.ok(scaled.length >= 1, `${source.function} ← ${source.queue}`);
      } else {
        const esm = ofSource.filter((m) => m.Properties.StartingPosition !== undefined);
        assert.equal(esm.length, 1);
        assert.equal(esm[0].Properties.StartingPosition, 'TRIM_HORIZON');
        assert.ok(esm[0].Properties.DestinationConfig.OnFailure.Destination, 'stream failures go to a queue');
      }
    }
    assert.equal(Object.keys(t.findResources('AWS::Lambda::EventSourceMapping')).length, topology.event_sources.length);
  });

  it('gives each consumer exactly the environment its uses in topology.json implies', () => {
    for (const f of topology.functions.filter((f) => f.name !== 'api-handler')) {
      assert.deepEqual(environmentOf(s, f.name), implied(topology, f.name).environment, f.name);
    }
  });

  it('names the relay its queues and topic and the notifier its service', () => {
    const relay = topology.functions.find((f) => f.name === 'outbox-relay')?.uses;
    assert.ok(relay?.send?.length, 'the relay sends to the work queues');
    const expected: Record<string, string> = { REJECTIONS_TABLE: 'Table-rejections.Ref', DOMAIN_EVENTS_TOPIC_ARN: 'Topic-domain-events.Ref' };
    for (const name of relay.send) {
      const queue = topology.queues.find((q) => q.name === name);
      assert.ok(queue, name);
      expected[queue.env] = `Queue-${name}.Ref`;
    }
    assert.deepEqual(environmentOf(s, 'outbox-relay'), expected);
    // The receive count comes with topology.json itself, which the functions embed.
    assert.equal(environmentOf(s, 'queue-processor').MAX_RECEIVE_COUNT, undefined);
    assert.equal(environmentOf(s, 'notifier').NOTIFY_URL, CONFIGS.dev.notifyUrl);
  });

  it("feeds each consumer from exactly its topology.json queues, each at its batch size (tasks one at a time)", () => {
    for (const f of topology.functions.filter((x) => x.name !== 'api-handler')) {
      const mappings = mappingsOf(f.name);
      const batches = Object.fromEntries(
        mappings.map((m) => [referent(s, m.Properties.EventSourceArn), m.Properties.BatchSize]).filter(([arn]) => String(arn).startsWith('Queue-')),
      );
      const declared = Object.fromEntries(
        topology.event_sources.flatMap((e) => ('queue' in e && e.function === f.name ? [[`Queue-${e.queue}.Arn`, e.batch_size]] : [])),
      );
      assert.deepEqual(batches, declared, f.name);
    }
    // Tasks run strictly in order: a batch of one.
    assert.equal(topology.event_sources.find((e) => 'queue' in e && e.queue === 'tasks')?.batch_size, 1);
  });
});
