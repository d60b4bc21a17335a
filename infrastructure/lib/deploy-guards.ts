import { MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { IQueue } from 'aws-cdk-lib/aws-sqs';
import { ComparisonOperator } from 'aws-cdk-lib/aws-cloudwatch';
import { GUARD_PERIOD, ServiceFunction } from './constructs/service-function.js';
import { EVERY_FUNCTION, MetricCatalogue, loadMetrics } from './metrics.js';
import { catalogueMetric } from './monitoring-stack.js';
import { EventSource, Topology } from './topology.js';

/** Where a consumer's failures end up: its queue's dead-letter queue, or the stream mapping's
 * failure queue. */
export interface DeadLetterQueues {
  queue(name: string): { readonly dlq: IQueue };
  readonly relayFailures: IQueue;
}

/** The guards of `functions`' deploys beyond each one's own errors and throttles: new messages
 * in the dead-letter queue of whatever it consumes, and every alarm topology.json declares on a
 * metric, on the functions it names in `rolls_back` (the function that writes the metric when
 * it names none). Alarms on a metric of a function outside `functions` (another stack's) are
 * left to that stack. */
export function guardDeployments(
  functions: Map<string, ServiceFunction>,
  topology: Topology,
  deadLetters: DeadLetterQueues,
  catalogue: MetricCatalogue = loadMetrics(topology),
): void {
  for (const source of topology.event_sources) {
    const f = functions.get(source.function);
    if (!f) continue;
    const [name, queue] = deadLetterQueue(source, deadLetters);
    // A queue that already holds dead letters must not stop every deploy: what counts is more
    // of them while the deploy runs. SQS stops reporting an idle empty queue, so the first dead
    // letter would have nothing to differ from: missing minutes count as zero.
    const added = new MathExpression({
      expression: 'DIFF(FILL(visible, 0))',
      usingMetrics: { visible: queue.metricApproximateNumberOfMessagesVisible({ period: GUARD_PERIOD, statistic: 'Maximum' }) },
      period: GUARD_PERIOD,
      label: `new messages in ${name}`,
    });
    f.guard(`DeadLetters-${name}`, added, 1, `new messages in ${name}.`);
  }
  for (const m of catalogue.metrics) {
    if (m.function === EVERY_FUNCTION || !functions.has(m.function)) continue;
    for (const a of m.alarms ?? []) {
      for (const target of a.rolls_back ?? [m.function]) {
        const f = functions.get(target);
        if (!f) throw new Error(`topology.json: alarm ${a.name} rolls back ${target}, which is not in the stack of ${m.function}`);
        const metric = catalogueMetric(catalogue, functions, m.name, a.statistic, a.labels).with({ period: GUARD_PERIOD });
        const comparison = a.comparison === '>' ? ComparisonOperator.GREATER_THAN_THRESHOLD : ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
        f.guard(a.name, metric, a.threshold, `${a.description} (over one minute)`, comparison);
      }
    }
  }
}

function deadLetterQueue(source: EventSource, q: DeadLetterQueues): [string, IQueue] {
  return 'queue' in source ? [`${source.queue}-dlq`, q.queue(source.queue).dlq] : ['outbox-relay-failures', q.relayFailures];
}
