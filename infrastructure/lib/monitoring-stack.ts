import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm, ComparisonOperator, Dashboard, GraphWidget, HorizontalAnnotation, IMetric, IWidget, Metric, SearchExpression,
  SingleValueWidget, TextWidget, TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvironmentConfig, removalPolicy } from './config.js';
import { ServiceFunction } from './constructs/service-function.js';
import { EVERY_FUNCTION, MetricCatalogue, MetricUnit, emitters, loadMetrics, metricSpec } from './metrics.js';
import { StatefulStack } from './stateful-stack.js';
import { MetricAlarm } from './topology.js';

export interface MonitoringStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly stateful: StatefulStack;
  readonly api: RestApi;
  readonly functions: Map<string, ServiceFunction>;
  /** The functions' own metrics; topology.json's unless given. */
  readonly metrics?: MetricCatalogue;
}

/** What a graph draws of a metric, by its unit: counts summed, durations at p50 and p99. */
const GRAPH_STATISTICS: Record<MetricUnit, string[]> = { Count: ['Sum'], Milliseconds: ['p50', 'p99'] };
const PERIOD = Duration.minutes(5);
/** topology.json's comparisons of an alarm's threshold. */
const COMPARISONS: Record<MetricAlarm['comparison'], ComparisonOperator> = {
  '>=': ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  '>': ComparisonOperator.GREATER_THAN_THRESHOLD,
};

/** Alarms on every dead-letter queue, function errors and throttles, API 5xx and latency,
 * failing and late notifications, all sent to one alarm topic (encrypted with its own key,
 * which CloudWatch may use); a dashboard of the same and of every metric topology.json declares. */
export class MonitoringStack extends Stack {
  readonly alarmTopic: Topic;
  readonly alarmTopicKey: Key;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, stateful, api, functions } = props;
    const catalogue = props.metrics ?? loadMetrics();
    // CloudWatch publishes alarms only to a topic whose key it may use: the AWS-managed
    // alias/aws/sns key's policy cannot grant it, so the topic has a key of its own. Both grants
    // hold for this account's alarms in this region only.
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': this.account },
      ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*` },
    };
    this.alarmTopicKey = new Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic (${config.name}); CloudWatch alarms may use it to publish`,
      enableKeyRotation: true,
      removalPolicy: removalPolicy(config),
    });
    this.alarmTopicKey.addToResourcePolicy(new PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [cloudWatch],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromOurAlarms,
    }));
    this.alarmTopic = new Topic(this, 'Alarms', { masterKey: this.alarmTopicKey, enforceSSL: true });
    this.alarmTopic.addToResourcePolicy(new PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [cloudWatch],
      actions: ['sns:Publish'],
      resources: [this.alarmTopic.topicArn],
      conditions: fromOurAlarms,
    }));
    if (config.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    const action = new SnsAction(this.alarmTopic);
    const alarm = (
      id: string,
      metric: IMetric,
      threshold: number,
      description: string,
      periods = 1,
      comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };

    const deadLetters: [string, IQueue][] = [...stateful.queues].map(([name, q]) => [`${name}-dlq`, q.dlq]);
    deadLetters.push(['outbox-relay-failures', stateful.relayFailures]);
    for (const [name, queue] of deadLetters) {
      alarm(
        `DeadLetters-${name}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        1,
        `Messages in ${name}: processing gave up on them; inspect and redrive.`,
      );
    }
    for (const [name, f] of functions) {
      alarm(`Errors-${name}`, f.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 1, `${name} reported errors.`);
      alarm(`Throttles-${name}`, f.fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }), 1, `${name} was throttled.`);
    }
    alarm('Api5xx', api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }), 1, 'The API answered 5xx.');
    alarm(
      'ApiLatencyP99',
      api.metricLatency({ period: Duration.minutes(5), statistic: 'p99' }),
      config.apiLatencyAlarmP99.toMilliseconds(),
      `API p99 latency at or above ${config.apiLatencyAlarmP99.toMilliseconds()} ms for 15 minutes.`,
      3,
    );
    // The alarms topology.json declares on the functions' own metrics (the notification service
    // failing, fitness nudges sent late, …), each flow's beside the metric it reads. Rejected
    // records are reviewed, not alarmed on (docs/operations.md).
    const annotations: Record<string, HorizontalAnnotation[]> = {};
    for (const m of catalogue.metrics) {
      for (const a of m.alarms ?? []) {
        alarm(
          a.name,
          catalogueMetric(catalogue, functions, m.name, a.statistic, a.labels),
          a.threshold,
          a.description,
          a.periods,
          COMPARISONS[a.comparison],
        );
        const at = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' ');
        (annotations[m.name] ??= []).push({ value: a.threshold, label: `${a.name} (${[at, a.statistic].filter((p) => p).join(' ')})` });
      }
    }

    const fns = [...functions.values()];
    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({ title: 'API requests and 5xx', left: [api.metricCount(), api.metricServerError(), api.metricClientError()], width: 12 }),
          new GraphWidget({ title: 'API latency p99', left: [api.metricLatency({ statistic: 'p99' })], width: 12 }),
        ],
        [
          new GraphWidget({ title: 'Function errors', left: fns.map((f) => f.fn.metricErrors()), width: 12 }),
          new GraphWidget({ title: 'Function duration p99', left: fns.map((f) => f.fn.metricDuration({ statistic: 'p99' })), width: 12 }),
        ],
        [
          new SingleValueWidget({
            title: 'Dead letters',
            metrics: deadLetters.map(([, q]) => q.metricApproximateNumberOfMessagesVisible()),
            width: 24,
          }),
        ],
        catalogueWidgets(catalogue, functions, annotations),
      ],
    });
  }
}

/** The dashboard section of the catalogue's metrics: a title, then one graph per metric with a
 * line per emitting function (every function for `*`) and statistic; a metric with labels is a
 * SEARCH of its function's series, one line per label value. `annotations` by metric name. */
export function catalogueWidgets(
  catalogue: MetricCatalogue,
  functions: Map<string, ServiceFunction>,
  annotations: Record<string, HorizontalAnnotation[]> = {},
): IWidget[] {
  const { namespace, function_dimension: dimension } = catalogue;
  const header = new TextWidget({
    markdown: `## Business and health metrics\n\nEmbedded metric format, namespace \`${namespace}\`, from the functions' logs: the metrics \`infrastructure/topology.json\` declares (docs/operations.md says what each counts).`,
    width: 24,
    height: 2,
  });
  const graphs = catalogue.metrics.map((m) => {
    const every = m.function === EVERY_FUNCTION;
    const emitting = new Set(emitters(m, [...functions.keys()]));
    const stats = GRAPH_STATISTICS[m.unit];
    const left = [...functions].filter(([name]) => emitting.has(name)).flatMap(([name, f]) =>
      stats.map((statistic): IMetric => {
        const prefix = [every ? name : '', stats.length > 1 ? statistic : ''].filter((p) => p !== '');
        if (m.labels.length === 0) {
          return new Metric({
            namespace,
            metricName: m.name,
            dimensionsMap: { [dimension]: f.fn.functionName },
            statistic,
            period: PERIOD,
            label: prefix.length > 0 ? prefix.join(' ') : m.name,
          });
        }
        const schema = [namespace, dimension, ...m.labels].join(',');
        return new SearchExpression({
          expression: `SEARCH('{${schema}} MetricName="${m.name}" ${dimension}="${f.fn.functionName}"', '${statistic}', ${PERIOD.toSeconds()})`,
          label: [...prefix, m.labels.map((l) => `\${PROP('Dim.${l}')}`).join('/')].join(' '),
          period: PERIOD,
        });
      }),
    );
    return new GraphWidget({
      title: `${m.name} ${stats.join('/')} (${every ? 'each function' : m.function})`,
      left,
      leftAnnotations: annotations[m.name],
      width: 8,
    });
  });
  return [header, ...graphs];
}

/** Metric `name` of the catalogue as its function records it, with `labels` (exactly the
 * metric's labels) as further dimensions; for a metric of one function. */
export function catalogueMetric(
  catalogue: MetricCatalogue,
  functions: Map<string, ServiceFunction>,
  name: string,
  statistic: string,
  labels: Record<string, string> = {},
): Metric {
  const m = metricSpec(catalogue, name);
  if (m.function === EVERY_FUNCTION) throw new Error(`topology.json: ${name} is emitted by every function; name one`);
  const [emitter] = emitters(m, [...functions.keys()]);
  const f = functions.get(emitter);
  if (!f) throw new Error(`no function ${emitter}`);
  const given = Object.keys(labels).sort().join(',');
  if (given !== [...m.labels].sort().join(',')) {
    throw new Error(`topology.json: ${name} has labels [${m.labels.join(', ')}], not [${given}]`);
  }
  return new Metric({
    namespace: catalogue.namespace,
    metricName: name,
    dimensionsMap: { [catalogue.function_dimension]: f.fn.functionName, ...labels },
    statistic,
    period: PERIOD,
  });
}
