import { Stack, StackProps } from 'aws-cdk-lib';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { API_FUNCTION } from './api-stack.js';
import { EnvironmentConfig } from './config.js';
import { ServiceFunction } from './constructs/service-function.js';
import { guardDeployments } from './deploy-guards.js';
import { StatefulStack } from './stateful-stack.js';
import { Topology } from './topology.js';

export interface ProcessingStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly topology: Topology;
  readonly stateful: StatefulStack;
}

/** The consumers: every function of topology.json but the API's, with their event-source
 * mappings (partial batch responses, batch sizes, maximum concurrency) on each one's `live`
 * alias, and the alarms that roll back a deploy of each. */
export class ProcessingStack extends Stack {
  readonly functions = new Map<string, ServiceFunction>();

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config, topology, stateful: s } = props;
    for (const { name: binary } of topology.functions.filter((f) => f.name !== API_FUNCTION)) {
      this.functions.set(binary, new ServiceFunction(this, binary, { binary, topology, config, resources: s }));
    }

    for (const source of topology.event_sources) {
      const target = this.functions.get(source.function);
      if (!target) throw new Error(`topology.json maps to unknown function ${source.function}`);
      if ('queue' in source) {
        target.alias.addEventSource(
          new SqsEventSource(s.queue(source.queue).queue, {
            batchSize: source.batch_size,
            reportBatchItemFailures: true,
            maxConcurrency: source.max_concurrency,
          }),
        );
      } else {
        target.alias.addEventSource(
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
    guardDeployments(this.functions, topology, s);
  }
}
