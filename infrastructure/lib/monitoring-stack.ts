import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm, ComparisonOperator, Dashboard, GraphWidget, IMetric, SingleValueWidget, TreatMissingData,
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
import { StatefulStack } from './stateful-stack.js';

export interface MonitoringStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly stateful: StatefulStack;
  readonly api: RestApi;
  readonly functions: Map<string, ServiceFunction>;
}

/** Alarms on every dead-letter queue, function errors and throttles, API 5xx and latency, all
 * sent to one alarm topic (encrypted with its own key, which CloudWatch may use); a dashboard of
 * the same. */
export class MonitoringStack extends Stack {
  readonly alarmTopic: Topic;
  readonly alarmTopicKey: Key;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, stateful, api, functions } = props;
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
    const alarm = (id: string, metric: IMetric, threshold: number, description: string, periods = 1) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
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
      ],
    });
  }
}
