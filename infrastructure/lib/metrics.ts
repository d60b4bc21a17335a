import { MetricAlarm, Topology, loadTopology } from './topology.js';

/** The units the functions record in: counters and histograms (crates/platform/src/metrics.rs). */
export const METRIC_UNITS = ['Count', 'Milliseconds'] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];

/** `function` of a metric every function emits. */
export const EVERY_FUNCTION = '*';

/** One metric the functions emit as embedded metric format. */
export interface MetricSpec {
  name: string;
  unit: MetricUnit;
  /** Dimensions besides the function's, in the order the documents list them. */
  labels: string[];
  /** The topology.json function that emits it, or `*` for every function. */
  function: string;
  /** The alarms on it. */
  alarms?: MetricAlarm[];
}

/** The metrics topology.json declares (each function's `metrics`, and those every function
 * writes), for the dashboard and the alarms. */
export interface MetricCatalogue {
  namespace: string;
  /** The dimension every metric carries: the Lambda function's name. */
  function_dimension: string;
  metrics: MetricSpec[];
}

/** The catalogue of `topology` (topology.json unless given), checked: a unit the dashboard cannot
 * draw or a metric named twice throws, naming the metric. */
export function loadMetrics(topology: Topology = loadTopology()): MetricCatalogue {
  const catalogue: MetricCatalogue = {
    namespace: topology.metrics.namespace,
    function_dimension: topology.metrics.function_dimension,
    metrics: [
      ...topology.metrics.every_function.map((m) => ({ ...m, function: EVERY_FUNCTION }) as MetricSpec),
      ...topology.functions.flatMap((f) => (f.metrics ?? []).map((m) => ({ ...m, function: f.name }) as MetricSpec)),
    ],
  };
  const seen = new Set<string>();
  for (const m of catalogue.metrics) {
    if (!(METRIC_UNITS as readonly string[]).includes(m.unit)) {
      throw new Error(`topology.json: ${m.name} has unit "${m.unit}" (known: ${METRIC_UNITS.join(', ')})`);
    }
    if (seen.has(m.name)) throw new Error(`topology.json: ${m.name} is listed twice`);
    for (const a of m.alarms ?? []) {
      if (a.comparison !== '>=' && a.comparison !== '>') {
        throw new Error(`topology.json: alarm ${a.name} on ${m.name} compares with "${a.comparison}" (known: >=, >)`);
      }
      if (!(Number.isInteger(a.periods) && a.periods >= 1)) throw new Error(`topology.json: alarm ${a.name} on ${m.name} needs periods of 1 or more`);
      for (const f of a.rolls_back ?? []) {
        if (!topology.functions.some((x) => x.name === f)) throw new Error(`topology.json: alarm ${a.name} rolls back ${f}, which is not a function`);
      }
    }
    seen.add(m.name);
  }
  return catalogue;
}

/** Metric `name` of the catalogue; throws when it has none. */
export function metricSpec(c: MetricCatalogue, name: string): MetricSpec {
  const m = c.metrics.find((x) => x.name === name);
  if (!m) throw new Error(`topology.json declares no metric ${name}`);
  return m;
}

/** The functions, of `functions`, that emit `m`; throws when `m` names a function not among
 * them. */
export function emitters(m: MetricSpec, functions: string[]): string[] {
  if (m.function === EVERY_FUNCTION) return functions;
  if (!functions.includes(m.function)) {
    throw new Error(`topology.json: ${m.name} is emitted by ${m.function}, which is not a function (${functions.join(', ')})`);
  }
  return [m.function];
}
