import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVERY_FUNCTION, MetricCatalogue, loadMetrics } from '../lib/metrics.js';
import { catalogueWidgets } from '../lib/monitoring-stack.js';
import { loadTopology } from '../lib/topology.js';
import { lambda, referent, synthesize } from './helpers.js';

const topology = loadTopology();
const catalogue = loadMetrics();
const s = synthesize('dev');
const t = s.templates.monitoring;
const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
const functionNames = topology.functions.map((f) => f.name);

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

  it('draws every metric topology.json declares on the dashboard, in its own section', () => {
    const body = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    for (const m of catalogue.metrics) assert.ok(body.includes(m.name), `${m.name} on the dashboard`);

    const widgets = dashboard();
    assert.ok(
      widgets.some((w) => w.type === 'text' && String(w.properties.markdown).startsWith('## Business and health metrics')),
      'a section title',
    );
    const lines = widgets.flatMap((w) => (w.type === 'metric' ? (w.properties.metrics as unknown[][]) : []));
    const stats = { Count: ['Sum'], Milliseconds: ['p50', 'p99'] };
    for (const m of catalogue.metrics) {
      const emitters = m.function === EVERY_FUNCTION ? functionNames : [m.function];
      for (const f of emitters) {
        for (const stat of stats[m.unit]) {
          const drawn = m.labels.length === 0
            ? lines.some((l) => l[0] === catalogue.namespace && l[1] === m.name && l[2] === 'FunctionName' && l[3] === `fn:${f}`
              && (l[4] as { stat?: string })?.stat === stat)
            : lines.some((l) => (l[0] as { expression?: string })?.expression ===
              `SEARCH('{Rentals,FunctionName,${m.labels.join(',')}} MetricName="${m.name}" FunctionName="fn:${f}"', '${stat}', 300)`);
          assert.ok(drawn, `${m.name} ${stat} of ${f}`);
        }
      }
    }
  });

  it('draws a metric added to the catalogue without code, and refuses one of an unknown function', () => {
    const functions = new Map([['api-handler', s.stacks.api.handler], ...s.stacks.processing.functions]);
    const extended = (m: MetricCatalogue['metrics'][number]): MetricCatalogue => ({ ...catalogue, metrics: [...catalogue.metrics, m] });
    const drawn = JSON.stringify(
      catalogueWidgets(extended({ name: 'ParcelsWeighed', unit: 'Milliseconds', labels: ['scale'], function: 'notifier' }), functions)
        .flatMap((w) => w.toJson()),
    );
    assert.ok(drawn.includes(`SEARCH('{Rentals,FunctionName,scale} MetricName=\\"ParcelsWeighed\\"`), drawn);
    assert.ok(drawn.includes("'p99', 300)"));
    assert.throws(
      () => catalogueWidgets(extended({ name: 'Stray', unit: 'Count', labels: [], function: 'mailer' }), functions),
      /Stray is emitted by mailer, which is not a function/,
    );
  });

  it('builds each alarm topology.json declares on a metric, and no other on the catalogue', () => {
    const declared = catalogue.metrics.flatMap((m) => (m.alarms ?? []).map((a) => ({ m, a })));
    assert.ok(declared.length >= 2, 'the notifier\'s failures and the late fitness nudges');
    const ours = alarms.filter((a) => a.Properties.Namespace === catalogue.namespace);
    assert.equal(ours.length, declared.length);
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    const dimensions = (a: (typeof alarms)[number]) =>
      Object.fromEntries((a.Properties.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, functionOf(d.Value)]));
    for (const { m, a } of declared) {
      const built = Object.entries(t.findResources('AWS::CloudWatch::Alarm'))
        .filter(([id]) => id.startsWith(a.name.replace(/[^A-Za-z0-9]/g, '')))
        .map(([, r]) => r);
      assert.equal(built.length, 1, `alarm ${a.name}`);
      const [alarm] = built;
      assert.equal(alarm.Properties.MetricName, m.name);
      assert.deepEqual(dimensions(alarm), { FunctionName: `fn:${m.function}`, ...a.labels });
      if (a.statistic.startsWith('p')) assert.equal(alarm.Properties.ExtendedStatistic, a.statistic);
      else assert.equal(alarm.Properties.Statistic, a.statistic);
      assert.equal(alarm.Properties.Period, 300);
      assert.equal(alarm.Properties.EvaluationPeriods, a.periods);
      assert.equal(alarm.Properties.Threshold, a.threshold);
      assert.equal(alarm.Properties.ComparisonOperator, a.comparison === '>' ? 'GreaterThanThreshold' : 'GreaterThanOrEqualToThreshold');
      assert.equal(alarm.Properties.AlarmDescription, a.description);
      assert.equal(alarm.Properties.TreatMissingData, 'notBreaching');
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: topicId }]);
    }
  });

  it('refuses an alarm with an unknown comparison or no periods, naming it', () => {
    const withAlarm = (alarm: object) => {
      const t2 = structuredClone(topology);
      const notifier = t2.functions.find((f) => f.name === 'notifier');
      assert.ok(notifier?.metrics);
      notifier.metrics[0] = { ...notifier.metrics[0], alarms: [{ name: 'Odd', statistic: 'Sum', labels: {}, threshold: 1, comparison: '>=', periods: 1, description: 'd', ...alarm }] as never };
      return () => loadMetrics(t2);
    };
    assert.doesNotThrow(withAlarm({}));
    assert.throws(withAlarm({ comparison: '<' }), /alarm Odd on .* compares with "<"/);
    assert.throws(withAlarm({ periods: 0 }), /alarm Odd on .* needs periods of 1 or more/);
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

/** `fn:<function>` for a reference to function `<function>`'s name (the export of its stack);
 * anything else as it is. */
function functionOf(value: unknown): unknown {
  const exported = (value as { 'Fn::ImportValue'?: string })?.['Fn::ImportValue'];
  if (typeof exported !== 'string') return value;
  const f = functionNames.find((name) => exported.includes(`:ExportsOutputRef${lambda(s, name).id}`));
  return f ? `fn:${f}` : value;
}

/** The dashboard's widgets, each function name as `fn:<function>` and the region as `<region>`. */
function dashboard(): { type: string; properties: Record<string, unknown> }[] {
  const body = Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody;
  const parts = body['Fn::Join'][1] as unknown[];
  const text = parts
    .map((p) => (typeof p === 'string' ? p : (p as { Ref?: string }).Ref === 'AWS::Region' ? '<region>' : String(functionOf(p))))
    .join('');
  return JSON.parse(text).widgets;
}

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
