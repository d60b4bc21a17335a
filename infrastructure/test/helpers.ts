import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSystem, SystemStacks } from '../lib/app.js';
import { configFor, EnvironmentName } from '../lib/config.js';
import { loadRoutes, Route } from '../lib/routes.js';
import { loadTopology, Topology, WORKSPACE_DIR } from '../lib/topology.js';
import { configVariables } from '../lib/wiring.js';

export interface Synthesized {
  app: App;
  stacks: SystemStacks;
  templates: Record<keyof SystemStacks, Template>;
}

/** The whole system for `env`, synthesized without bundling: tests never build Rust. */
export function synthesize(env: EnvironmentName = 'dev', topology: Topology = loadTopology(), routes: Route[] = loadRoutes()): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true } });
  const stacks = buildSystem(app, configFor(env), topology, routes);
  return {
    app,
    stacks,
    templates: {
      stateful: Template.fromStack(stacks.stateful),
      api: Template.fromStack(stacks.api),
      processing: Template.fromStack(stacks.processing),
      monitoring: Template.fromStack(stacks.monitoring),
    },
  };
}

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

/** The template holding function `name` (the topology.json name), its logical id and resource. */
export function lambda(s: Synthesized, name: string): { template: Template; id: string; resource: Resource } {
  const found = Object.values(s.templates).flatMap((template) =>
    Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, r]) => String(r.Metadata?.['aws:cdk:path'] ?? '').endsWith(`/${name}/Function/Resource`))
      .map(([id, resource]) => ({ template, id, resource: resource as Resource })),
  );
  assert.equal(found.length, 1, `one function ${name}`);
  return found[0];
}

/** What `value`, from any stack's template, points at in the stateful stack: `Table-users.Arn`,
 * `Queue-tasks.Ref`, `Table-rentals.Arn/index/by_user`; literals as they are. Follows
 * cross-stack exports, so a test can say which resource a variable or a grant names. */
export function referent(s: Synthesized, value: unknown): string {
  const stateful = s.templates.stateful.toJSON() as {
    Resources: Record<string, Resource>;
    Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
  };
  const construct = (logicalId: string) => {
    const path = String(stateful.Resources[logicalId]?.Metadata?.['aws:cdk:path'] ?? logicalId);
    return path.split('/')[1] ?? path;
  };
  const local = (v: unknown): string | undefined => {
    const r = v as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    if (typeof r?.Ref === 'string') return `${construct(r.Ref)}.Ref`;
    if (Array.isArray(r?.['Fn::GetAtt'])) return `${construct(r['Fn::GetAtt'][0])}.${r['Fn::GetAtt'][1]}`;
    return undefined;
  };
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::ImportValue'?: string; 'Fn::Join'?: [string, unknown[]] };
  if (typeof v?.['Fn::ImportValue'] === 'string') {
    const output = Object.values(stateful.Outputs ?? {}).find((o) => o.Export?.Name === v['Fn::ImportValue']);
    return local(output?.Value) ?? JSON.stringify(value);
  }
  if (Array.isArray(v?.['Fn::Join'])) return v['Fn::Join'][1].map((p) => referent(s, p)).join(v['Fn::Join'][0]);
  return local(value) ?? JSON.stringify(value);
}

/** Function `name`'s environment, each value as its `referent`. */
export function environmentOf(s: Synthesized, name: string): Record<string, string> {
  const env = (lambda(s, name).resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, referent(s, v)]));
}

/** Every `action on resource` the policies of function `name`'s role allow, however CDK grouped
 * them into statements. */
export function grantsOf(s: Synthesized, name: string): string[] {
  const { template, resource } = lambda(s, name);
  const role = (resource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
    .flatMap((st) => {
      assert.equal(st.Effect, 'Allow');
      const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      return [st.Action].flat().flatMap((a) => resources.map((r) => `${a} on ${referent(s, r)}`));
    })
    .sort();
}

/** What function `name`'s `uses` in topology.json implies, worked out here independently of the
 * stacks: its environment (values as `referent`s), its DynamoDB grants as
 * `action on resource`, and the queues (ARNs) it may send to and topics it may publish on. */
export function implied(topology: Topology, name: string, env: EnvironmentName = 'dev') {
  const f = topology.functions.find((x) => x.name === name);
  assert.ok(f, `topology.json has ${name}`);
  const uses = f.uses ?? {};
  const spec = <T extends { name: string }>(list: T[], n: string): T => {
    const found = list.find((x) => x.name === n);
    assert.ok(found, `topology.json defines ${n}`);
    return found;
  };
  const supplied: Record<string, string> = configVariables(configFor(env), topology);
  const environment: Record<string, string> = {};
  const dynamodb: string[] = [];
  for (const [key, actions] of Object.entries(uses.tables ?? {})) {
    const [table, index] = key.split('/');
    environment[spec(topology.tables, table).env] = `Table-${table}.Ref`;
    const arn = index ? `Table-${table}.Arn/index/${index}` : `Table-${table}.Arn`;
    dynamodb.push(...actions.map((a) => `dynamodb:${a} on ${arn}`));
  }
  for (const q of uses.send ?? []) environment[spec(topology.queues, q).env] = `Queue-${q}.Ref`;
  for (const t of uses.publish ?? []) environment[spec(topology.topics, t).env] = `Topic-${t}.Ref`;
  for (const c of uses.config ?? []) environment[c] = supplied[c];
  return {
    environment,
    dynamodb: dynamodb.sort(),
    send: (uses.send ?? []).map((q) => `Queue-${q}.Arn`).sort(),
    publish: (uses.publish ?? []).map((t) => `Topic-${t}.Ref`).sort(),
  };
}

/** A schema of docs/openapi.json, in the subset of JSON Schema the document uses. */
export interface Schema {
  $ref?: string;
  type?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  description?: string;
}

/** docs/openapi.json, parsed. */
export function openApi(): { components: { schemas: Record<string, Schema> } } & Record<string, unknown> {
  return JSON.parse(readFileSync(join(WORKSPACE_DIR, 'docs', 'openapi.json'), 'utf8'));
}

const CHECKED_KEYWORDS = new Set(['$ref', 'type', 'required', 'properties', 'items', 'enum', 'description']);

/** Where `value` departs from `schema` (a schema of docs/openapi.json, `$ref`s resolved against
 * its components), one line per problem; none when it conforms. A keyword this check does not
 * know fails it, so a schema that grows one cannot pass unchecked. */
export function schemaProblems(value: unknown, schema: Schema, path = '$'): string[] {
  const unknown = Object.keys(schema).filter((k) => !CHECKED_KEYWORDS.has(k));
  if (unknown.length > 0) return [`${path}: the check does not know ${unknown.join(', ')}`];
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = openApi().components.schemas[name];
    return target ? schemaProblems(value, target, path) : [`${path}: no schema ${schema.$ref}`];
  }
  const problems: string[] = [];
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const typeOk: Record<string, boolean> = {
    object: isObject,
    array: Array.isArray(value),
    string: typeof value === 'string',
    number: typeof value === 'number',
    integer: Number.isInteger(value),
    boolean: typeof value === 'boolean',
  };
  if (schema.type !== undefined && !typeOk[schema.type]) return [`${path}: ${JSON.stringify(value)} is not of type ${schema.type}`];
  if (schema.enum && !schema.enum.some((e) => e === value)) problems.push(`${path}: ${JSON.stringify(value)} is not one of the enum`);
  if (isObject) {
    const object = value as Record<string, unknown>;
    for (const field of schema.required ?? []) if (!(field in object)) problems.push(`${path}: no ${field}`);
    for (const [field, sub] of Object.entries(schema.properties ?? {})) {
      if (field in object) problems.push(...schemaProblems(object[field], sub, `${path}.${field}`));
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => problems.push(...schemaProblems(v, schema.items as Schema, `${path}[${i}]`)));
  return problems;
}
