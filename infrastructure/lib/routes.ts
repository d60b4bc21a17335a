import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_DIR } from './topology.js';

/** How API Gateway authenticates a route's caller: IAM (SigV4), a return bin's API key, or an
 * ID token of the fitness app's user pool. */
export type Authorization = 'iam' | 'returnBinKey' | 'appUsers';

const AUTHORIZATIONS: readonly Authorization[] = ['iam', 'returnBinKey', 'appUsers'];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

/** One operation of the API as docs/openapi.json declares it: the one declaration of the API's
 * routes, which this app, the router's tests and the local gateway all read. */
export interface Route {
  /** Upper case, as API Gateway spells it. */
  readonly method: string;
  /** The path template, `{param}` segments included. */
  readonly path: string;
  readonly operationId: string;
  /** The flow the route belongs to (the operation's one tag). */
  readonly flow: string;
  readonly authorization: Authorization;
  /** The caller roles that may invoke an `iam` route (its `x-roles`); none for the others. */
  readonly roles: readonly string[];
}

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-roles'?: string[];
}

/** The IAM caller roles the document declares (`x-caller-roles`: name → who they are). */
export function loadCallerRoles(doc: unknown = openApi()): Record<string, string> {
  return (doc as { 'x-caller-roles'?: Record<string, string> })['x-caller-roles'] ?? {};
}

function openApi(): unknown {
  return JSON.parse(readFileSync(join(WORKSPACE_DIR, 'docs', 'openapi.json'), 'utf8'));
}

/** The routes of `doc` (docs/openapi.json when omitted), each checked to name one flow and one
 * security scheme the API knows, so an operation declared without them fails synthesis with a
 * message that says what to add. */
export function loadRoutes(doc: unknown = openApi()): Route[] {
  const paths = (doc as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  const declared = Object.keys(loadCallerRoles(doc));
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = operations[method];
      if (!op) continue;
      const where = `docs/openapi.json: ${method.toUpperCase()} ${path}`;
      if (!op.operationId) throw new Error(`${where} has no operationId`);
      if (op.tags?.length !== 1) throw new Error(`${where} needs exactly one tag, its flow (tags: ["<flow>"])`);
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      if (schemes.length !== 1 || !AUTHORIZATIONS.includes(schemes[0] as Authorization)) {
        throw new Error(`${where} needs exactly one security scheme of ${AUTHORIZATIONS.join(', ')} (security: [{"iam": []}])`);
      }
      const authorization = schemes[0] as Authorization;
      const roles = op['x-roles'] ?? [];
      if (authorization === 'iam') {
        const unknown = roles.filter((r) => !declared.includes(r));
        if (roles.length === 0 || unknown.length > 0) {
          throw new Error(`${where} needs x-roles naming the caller roles of x-caller-roles (${declared.join(', ')}) that may invoke it${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
        }
      } else if (roles.length > 0) {
        throw new Error(`${where}: x-roles are for iam operations; a ${authorization} route's caller is its credential`);
      }
      routes.push({ method: method.toUpperCase(), path, operationId: op.operationId, flow: op.tags[0], authorization, roles });
    }
  }
  return routes;
}
