import { Match } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTopology } from '../lib/topology.js';
import { referent, synthesize } from './helpers.js';

const topology = loadTopology();
const s = synthesize('dev');
const t = s.templates.monitoring;
const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));

describe('monitoring stack', () => {
  it('alarms on every dead-letter queue', () => {
    const dlqAlarms = alarms.filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible');
    assert.equal(dlqAlarms.length, topology.queues.length + 1, 'each DLQ and the relay failure queue');
    for (const a of dlqAlarms) {
      assert.equal(a.Properties.Threshold, 1);
      assert.equal(a.Properties.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    }
    const watched = dlqAlarms.map((a) => referent(s, a.Properties.Dimensions[0].Value)).sort();
    const expected = [...topology.queues.map((q) => `Queue-${q.name}-dlq.QueueName`), 'RelayFailures.QueueName'].sort();
    assert.deepEqual(watched, expected);
  });

  it('alarms on errors and throttles of every function, and on API 5xx and latency', () => {
    const count = (metric: string) => alarms.filter((a) => a.Properties.MetricName === metric).length;
    assert.equal(count('Errors'), topology.functions.length);
    assert.equal(count('Throttles'), topology.functions.length);
    assert.equal(count('5XXError'), 1);
    assert.equal(alarms.filter((a) => a.Properties.MetricName === 'Latency' && a.Properties.ExtendedStatistic === 'p99').length, 1);
  });

  it('sends every alarm to the encrypted alarm topic and draws a dashboard', () => {
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    for (const a of alarms) assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
