import { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ITopic } from 'aws-cdk-lib/aws-sns';
import { IQueue } from 'aws-cdk-lib/aws-sqs';
import { EnvironmentConfig } from './config.js';
import { ResolvedUses, Topology, loadTopology } from './topology.js';

/** Where the tables, queues and topics a function's `uses` names are found (the stateful stack). */
export interface UsableResources {
  table(name: string): ITable;
  queue(name: string): { readonly queue: IQueue };
  topic(name: string): ITopic;
}

/** The values of the `config` variables topology.json may ask for: the notification service's
 * URL, the origins allowed to read the API's answers and the flows' settings (topology.json's `deployed` value, or the environment's override).
 * The local stack supplies the same names from its own services and the settings' `local`
 * values, so a name missing here is a function this app cannot run. An override of a setting
 * topology.json does not declare throws, naming it. */
export function configVariables(config: EnvironmentConfig, topology: Topology = loadTopology()): Record<string, string> {
  const declared = topology.settings ?? {};
  const values: Record<string, string> = Object.fromEntries(Object.entries(declared).map(([name, s]) => [name, s.deployed]));
  for (const [name, value] of Object.entries(config.settings ?? {})) {
    if (!(name in declared)) {
      throw new Error(`config ${config.name}: settings.${name} is not a setting of topology.json (declared: ${Object.keys(declared).join(', ') || 'none'})`);
    }
    values[name] = value;
  }
  return { ...values, NOTIFY_URL: config.notifyUrl, CORS_ALLOW_ORIGINS: config.corsAllowOrigins.join(',') };
}

/** The environment `uses` implies: each table's (an index's table's), queue's and topic's `env`
 * naming it, and each `config` variable with its value from `supplied`. */
export function usesEnvironment(
  name: string,
  uses: ResolvedUses,
  resources: UsableResources,
  supplied: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  const source = new Map<string, string>();
  // Two resources behind one variable would leave the function talking to whichever came last.
  const set = (variable: string, what: string, value: string) => {
    const previous = source.get(variable);
    if (previous !== undefined && previous !== what) {
      throw new Error(`topology.json: function ${name} gets ${variable} from both ${previous} and ${what}`);
    }
    source.set(variable, what);
    env[variable] = value;
  };
  for (const { table } of uses.tables) set(table.env, `table ${table.name}`, resources.table(table.name).tableName);
  for (const q of uses.send) set(q.env, `queue ${q.name}`, resources.queue(q.name).queue.queueUrl);
  for (const t of uses.publish) set(t.env, `topic ${t.name}`, resources.topic(t.name).topicArn);
  for (const variable of uses.config) {
    if (!Object.hasOwn(supplied, variable)) {
      throw new Error(
        `topology.json: function ${name} needs config ${variable}, which this app does not supply (it supplies: ${Object.keys(supplied).join(', ')})`,
      );
    }
    set(variable, 'config', supplied[variable]);
  }
  return env;
}

/** Exactly the listed DynamoDB actions on exactly each table or index, and sending to or
 * publishing on each queue and topic of `uses`. */
export function grantUses(fn: IFunction, uses: ResolvedUses, resources: UsableResources): void {
  for (const { table, index, actions } of uses.tables) {
    const arn = resources.table(table.name).tableArn;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [index === undefined ? arn : `${arn}/index/${index}`],
      }),
    );
  }
  for (const q of uses.send) resources.queue(q.name).queue.grantSendMessages(fn);
  for (const t of uses.publish) resources.topic(t.name).grantPublish(fn);
}
