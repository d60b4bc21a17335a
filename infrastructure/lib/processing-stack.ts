import { Stack, StackProps } from 'aws-cdk-lib';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './config.js';
import { ServiceFunction } from './constructs/service-function.js';
import { StatefulStack } from './stateful-stack.js';
import { Topology } from './topology.js';

export interface ProcessingStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly topology: Topology;
  readonly stateful: StatefulStack;
}

/** The consumers: rental-return, notifier, queue-processor and the outbox relay, with their
 * event-source mappings (partial batch responses, batch sizes, maximum concurrency). */
export class ProcessingStack extends Stack {
  readonly functions = new Map<string, ServiceFunction>();

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config, topology, stateful: s } = props;
    const fn = (binary: string, description: string, environment: Record<string, string>) => {
      const f = new ServiceFunction(this, binary, { binary, description, topology, config, environment });
      this.functions.set(binary, f);
      return f;
    };

    const rentalReturn = fn(
      'rental-return',
      'Processes return scans from the rental-returns queue or a direct invocation',
      s.envFor(topology, { tables: ['users', 'assets', 'rentals', 'returns', 'outbox', 'rejections'] }),
    );
    rentalReturn.allowTable(s.table('users'), ['GetItem']);
    rentalReturn.allowTable(s.table('assets'), ['GetItem']);
    rentalReturn.allowTable(s.table('rentals'), ['Query'], 'by_user');
    rentalReturn.allowTable(s.table('rentals'), ['UpdateItem']);
    rentalReturn.allowTable(s.table('returns'), ['GetItem', 'PutItem']);
    rentalReturn.allowTable(s.table('outbox'), ['PutItem']);
    rentalReturn.allowTable(s.table('rejections'), ['PutItem']);

    const notifier = fn('notifier', 'Sends user notifications for domain events', {
      ...s.envFor(topology, { tables: ['processed', 'rejections'] }),
      NOTIFY_URL: config.notifyUrl,
    });
    notifier.allowTable(s.table('processed'), ['GetItem', 'PutItem']);
    notifier.allowTable(s.table('rejections'), ['PutItem']);

    const queueProcessor = fn(
      'queue-processor',
      'Projections (user stats, reward points) and work items (formulas, tasks)',
      {
        ...s.envFor(topology, { tables: ['user-stats', 'processed', 'formulas', 'tasks', 'outbox', 'rejections'] }),
        // A task that fails on this receive is marked failed before its message is dead-lettered.
        MAX_RECEIVE_COUNT: String(topology.max_receive_count),
      },
    );
    queueProcessor.allowTable(s.table('user-stats'), ['GetItem', 'UpdateItem']);
    queueProcessor.allowTable(s.table('formulas'), ['UpdateItem']);
    // Reads the task and the sequence counter; moves both in one transaction.
    queueProcessor.allowTable(s.table('tasks'), ['GetItem', 'UpdateItem']);
    queueProcessor.allowTable(s.table('processed'), ['PutItem']);
    queueProcessor.allowTable(s.table('rejections'), ['PutItem']);

    const relay = fn('outbox-relay', 'Publishes outbox rows from the outbox stream', {
      ...s.envFor(topology, { tables: ['rejections'], topics: ['domain-events'], queues: ['work'] }),
    });
    relay.allowTable(s.table('rejections'), ['PutItem']);
    s.topic('domain-events').grantPublish(relay.fn);
    s.queue('work').queue.grantSendMessages(relay.fn);

    for (const source of topology.event_sources) {
      const target = this.functions.get(source.function);
      if (!target) throw new Error(`topology.json maps to unknown function ${source.function}`);
      if ('queue' in source) {
        target.fn.addEventSource(
          new SqsEventSource(s.queue(source.queue).queue, {
            batchSize: source.batch_size,
            reportBatchItemFailures: true,
            maxConcurrency: source.max_concurrency,
          }),
        );
      } else {
        target.fn.addEventSource(
          new DynamoEventSource(s.table(source.table), {
            startingPosition: StartingPosition.TRIM_HORIZON,
            batchSize: source.batch_size,
            reportBatchItemFailures: true,
            retryAttempts: 10,
            parallelizationFactor: 1,
            onFailure: new SqsDlq(s.relayFailures),
          }),
        );
      }
    }
  }
}
