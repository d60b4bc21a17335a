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

  it('sends every alarm to the alarm topic and draws a dashboard', () => {
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    for (const a of alarms) assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('encrypts the alarm topic with a customer-managed, rotated key that CloudWatch may use', () => {
    const topics = Object.values(t.findResources('AWS::SNS::Topic'));
    assert.equal(topics.length, 1);
    const keyRef = topics[0].Properties.KmsMasterKeyId;
    const keyId: string | undefined = keyRef?.Ref ?? keyRef?.['Fn::GetAtt']?.[0];
    const key = keyId ? t.findResources('AWS::KMS::Key')[keyId] : undefined;
    assert.ok(key, `the topic's key is a key of this stack, not an alias: ${JSON.stringify(keyRef)}`);
    assert.equal(key.Properties.EnableKeyRotation, true);
    const cloudWatch = (key.Properties.KeyPolicy.Statement as Statement[]).filter(
      (st) => st.Effect === 'Allow' && st.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    assert.equal(cloudWatch.length, 1, 'one key policy statement for CloudWatch');
    assert.deepEqual([cloudWatch[0].Action].flat().sort(), ['kms:Decrypt', 'kms:GenerateDataKey*']);
    assertOurAlarmsOnly(cloudWatch[0]);
  });

  it('lets CloudWatch alarms of this account publish to the alarm topic, over TLS only', () => {
    const policies = Object.values(t.findResources('AWS::SNS::TopicPolicy'));
    assert.equal(policies.length, 1);
    const statements = policies[0].Properties.PolicyDocument.Statement as Statement[];
    const publish = statements.filter((st) => st.Effect === 'Allow' && st.Principal?.Service === 'cloudwatch.amazonaws.com');
    assert.equal(publish.length, 1, 'one topic policy statement for CloudWatch');
    assert.deepEqual([publish[0].Action].flat(), ['sns:Publish']);
    assertOurAlarmsOnly(publish[0]);
    const tlsOnly = statements.find((st) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    assert.ok(tlsOnly, 'publishing without TLS is denied');
    assert.ok([tlsOnly.Action].flat().includes('sns:Publish'));
  });

  it('keeps the alarm topic key when prod is destroyed, not in dev or staging', () => {
    const policy = (env: 'dev' | 'staging' | 'prod') =>
      Object.values((env === 'dev' ? s : synthesize(env)).templates.monitoring.findResources('AWS::KMS::Key'))[0].DeletionPolicy;
    assert.equal(policy('prod'), 'Retain');
    assert.equal(policy('staging'), 'Delete');
    assert.equal(policy('dev'), 'Delete');
  });
});

type Statement = {
  Effect: string;
  Principal?: { Service?: string };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

/** `st` holds only for alarms of the deploying account, in its region. */
function assertOurAlarmsOnly(st: Statement) {
  assert.deepEqual(st.Condition?.StringEquals?.['aws:SourceAccount'], { Ref: 'AWS::AccountId' });
  const arn = st.Condition?.ArnLike?.['aws:SourceArn'];
  assert.deepEqual(arn, {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
  });
}
