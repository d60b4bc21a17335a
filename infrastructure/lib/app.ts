import { App, Environment } from 'aws-cdk-lib';
import { ApiStack } from './api-stack.js';
import { EnvironmentConfig } from './config.js';
import { MonitoringStack } from './monitoring-stack.js';
import { applyNagSuppressions } from './nag-suppressions.js';
import { ProcessingStack } from './processing-stack.js';
import { Route, loadCallerRoles, loadRoutes } from './routes.js';
import { StatefulStack } from './stateful-stack.js';
import { Topology } from './topology.js';

export interface SystemStacks {
  stateful: StatefulStack;
  api: ApiStack;
  processing: ProcessingStack;
  monitoring: MonitoringStack;
}

/** The whole system as four stacks: stateful data and queues apart from the stateless API and
 * processing, with monitoring on top. Account and region come from the deploying credentials. */
export function buildSystem(app: App, config: EnvironmentConfig, topology: Topology, routes: Route[] = loadRoutes()): SystemStacks {
  const env: Environment = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const p = config.stackPrefix;
  const tags = { project: 'rentals', environment: config.name };
  const stateful = new StatefulStack(app, `${p}-stateful`, { env, config, topology, tags, terminationProtection: config.protectData });
  const api = new ApiStack(app, `${p}-api`, { env, config, topology, routes, callerRoles: loadCallerRoles(), stateful, tags });
  const processing = new ProcessingStack(app, `${p}-processing`, { env, config, topology, stateful, tags });
  const functions = new Map([['api-handler', api.handler], ...processing.functions]);
  const monitoring = new MonitoringStack(app, `${p}-monitoring`, { env, config, stateful, api: api.api, functions, tags });
  const stacks = { stateful, api, processing, monitoring };
  applyNagSuppressions(stacks);
  return stacks;
}
