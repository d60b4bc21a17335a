import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a function may touch; see the `$comment` of topology.json. */
export interface FunctionUses {
  /** Table name, or `table/index`, to the DynamoDB actions allowed on it (`GetItem`, …). */
  tables?: Record<string, string[]>;
  /** Queues it sends to. */
  send?: string[];
  /** Topics it publishes to. */
  publish?: string[];
  /** Environment variables the deployment supplies. */
  config?: string[];
}

/** An alarm on a declared metric: `statistic` over 5-minute periods of the series with
 * `labels`, reaching (`>=`) or passing (`>`) `threshold` in `periods` periods in a row. */
export interface MetricAlarm {
  name: string;
  statistic: string;
  labels: Record<string, string>;
  threshold: number;
  comparison: '>=' | '>';
  periods: number;
  description: string;
  /** The functions whose deploys it rolls back (evaluated over one minute); the function that
   * writes the metric when absent. */
  rolls_back?: string[];
}

/** A metric a function writes (embedded metric format), declared by the flow that writes it,
 * with the alarms that flow wants on it. */
export interface DeclaredMetric {
  name: string;
  unit: string;
  /** Dimensions besides the function's, in the order the documents list them. */
  labels: string[];
  alarms?: MetricAlarm[];
}

/** A flow setting a function's `config` names: its value in a deployment unless the
 * environment's configuration overrides it, and on the local stack. */
export interface Setting {
  deployed: string;
  local: string;
}

export interface FunctionSpec {
  name: string;
  /** Its Lambda description. */
  description: string;
  timeout_seconds: number;
  memory_mb: number;
  /** Concurrency kept for it, and its ceiling (Lambda's reserved concurrency). */
  reserved_concurrency: number;
  /** The metrics it writes besides those every function writes. */
  metrics?: DeclaredMetric[];
  uses?: FunctionUses;
}

export interface TableSpec {
  name: string;
  env: string;
  partition_key: string;
  sort_key?: string;
  indexes?: { name: string; partition_key: string; sort_key?: string }[];
  stream?: boolean;
  ttl_attribute?: string;
  /** Local stack only (`make seed` / `make reset`). */
  reference_data?: { file: string; key_field?: string };
  /** Local stack only (`make report`). */
  report?: { title: string; columns: string[]; sort: string[]; rows_with?: string };
}

export interface QueueSpec {
  name: string;
  env: string;
  consumer: string;
  /** FIFO unless false: a standard queue, for per-message delays. */
  fifo?: boolean;
}

/** Whether `q` is a FIFO queue (the default). */
export function isFifo(q: QueueSpec): boolean {
  return q.fifo !== false;
}

export interface TopicSpec {
  name: string;
  env: string;
}

/** `topology.json`: the resources both this app and the local stack build. */
/** A function's event source: a queue, or a table's stream. */
export type EventSource =
  | { queue: string; function: string; batch_size: number; max_concurrency?: number }
  | { table: string; function: string; batch_size: number };

export interface Topology {
  max_receive_count: number;
  /** The flows' settings by variable name. */
  settings?: Record<string, Setting>;
  /** The functions' metrics' namespace and dimension, and those every function writes. */
  metrics: { namespace: string; function_dimension: string; every_function: DeclaredMetric[] };
  functions: FunctionSpec[];
  tables: TableSpec[];
  queues: QueueSpec[];
  topics: TopicSpec[];
  subscriptions: { topic: string; queue: string; event_types: string[] }[];
  event_sources: EventSource[];
}

/** A function's `uses` with every name checked against what topology.json defines. */
export interface ResolvedUses {
  tables: { table: TableSpec; index?: string; actions: string[] }[];
  send: QueueSpec[];
  publish: TopicSpec[];
  config: string[];
}

export const INFRASTRUCTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKSPACE_DIR = join(INFRASTRUCTURE_DIR, '..');

/** Visibility timeout = this × the consuming function's timeout. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export function loadTopology(): Topology {
  return JSON.parse(readFileSync(join(INFRASTRUCTURE_DIR, 'topology.json'), 'utf8')) as Topology;
}

export function functionSpec(t: Topology, name: string): FunctionSpec {
  const f = t.functions.find((x) => x.name === name);
  if (!f) throw new Error(`topology.json has no function ${name}`);
  return f;
}

export function queueVisibilitySeconds(t: Topology, queue: string): number {
  const q = t.queues.find((x) => x.name === queue);
  if (!q) throw new Error(`topology.json has no queue ${queue}`);
  return VISIBILITY_TO_TIMEOUT_RATIO * functionSpec(t, q.consumer).timeout_seconds;
}

// An action is a bare DynamoDB action name: a wildcard or a service prefix here would widen the
// grant beyond what the list says.
const DYNAMODB_ACTION = /^[A-Z][A-Za-z]+$/;

/** `uses` of function `name`, every table, index, queue and topic looked up in `t`. Throws,
 * naming the function and the entry, when topology.json does not define what `uses` names. */
export function resolveUses(t: Topology, name: string): ResolvedUses {
  const uses = functionSpec(t, name).uses ?? {};
  const fail = (what: string, known: string[]): never => {
    throw new Error(
      `topology.json: function ${name} uses ${what}, which topology.json does not define (defined: ${known.join(', ') || 'none'})`,
    );
  };
  const tables = Object.entries(uses.tables ?? {}).map(([key, actions]) => {
    const [tableName, index, ...rest] = key.split('/');
    if (rest.length > 0) throw new Error(`topology.json: function ${name} uses "${key}", which is neither <table> nor <table>/<index>`);
    const table = t.tables.find((x) => x.name === tableName) ?? fail(`table "${tableName}"`, t.tables.map((x) => x.name));
    if (index !== undefined && !(table.indexes ?? []).some((i) => i.name === index)) {
      fail(`index "${key}"`, (table.indexes ?? []).map((i) => `${table.name}/${i.name}`));
    }
    if (!Array.isArray(actions) || actions.length === 0) {
      throw new Error(`topology.json: function ${name} uses table "${key}" with no actions`);
    }
    for (const action of actions) {
      if (!DYNAMODB_ACTION.test(action)) {
        throw new Error(`topology.json: function ${name} uses table "${key}" with "${action}", which is not a DynamoDB action name like GetItem`);
      }
    }
    return { table, index, actions };
  });
  const send = (uses.send ?? []).map(
    (q) => t.queues.find((x) => x.name === q) ?? fail(`queue "${q}"`, t.queues.map((x) => x.name)),
  );
  const publish = (uses.publish ?? []).map(
    (topic) => t.topics.find((x) => x.name === topic) ?? fail(`topic "${topic}"`, t.topics.map((x) => x.name)),
  );
  return { tables, send, publish, config: uses.config ?? [] };
}
