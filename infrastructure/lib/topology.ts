import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `topology.json`: the resources both this app and the local stack build. */
export interface Topology {
  max_receive_count: number;
  functions: { name: string; timeout_seconds: number; memory_mb: number }[];
  tables: {
    name: string;
    env: string;
    partition_key: string;
    sort_key?: string;
    indexes?: { name: string; partition_key: string; sort_key?: string }[];
    stream?: boolean;
    ttl_attribute?: string;
  }[];
  queues: { name: string; env: string; consumer: string }[];
  topics: { name: string; env: string }[];
  subscriptions: { topic: string; queue: string; event_types: string[] }[];
  event_sources: (
    | { queue: string; function: string; batch_size: number; max_concurrency?: number }
    | { table: string; function: string; batch_size: number }
  )[];
}

export const INFRASTRUCTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKSPACE_DIR = join(INFRASTRUCTURE_DIR, '..');

/** Visibility timeout = this × the consuming function's timeout. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export function loadTopology(): Topology {
  return JSON.parse(readFileSync(join(INFRASTRUCTURE_DIR, 'topology.json'), 'utf8')) as Topology;
}

export function functionSpec(t: Topology, name: string) {
  const f = t.functions.find((x) => x.name === name);
  if (!f) throw new Error(`topology.json has no function ${name}`);
  return f;
}

export function queueVisibilitySeconds(t: Topology, queue: string): number {
  const q = t.queues.find((x) => x.name === queue);
  if (!q) throw new Error(`topology.json has no queue ${queue}`);
  return VISIBILITY_TO_TIMEOUT_RATIO * functionSpec(t, q.consumer).timeout_seconds;
}
