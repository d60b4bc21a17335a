import { Match } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { returnBinKeys } from '../lib/api-stack.js';
import { CONFIGS } from '../lib/config.js';
import { loadCallerRoles, loadRoutes } from '../lib/routes.js';
import { loadTopology } from '../lib/topology.js';
import { environmentOf, grantsOf, implied, openApi, schemaProblems, synthesize } from './helpers.js';

const topology = loadTopology();
const s = synthesize('dev');
const t = s.templates.api;
const methods = Object.values(t.findResources('AWS::ApiGateway::Method'));

type GatewayResponse = { ResponseType: string; StatusCode?: string; ResponseTemplates?: Record<string, string> };
const gatewayResponses = Object.values(t.findResources('AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties as GatewayResponse);

/** A message with what JSON must escape: quotes, a backslash, a control character, non-ASCII. */
const GATEWAY_MESSAGE = 'Invalid "key" ü\\ \u0007 – ok';
/** What API Gateway puts in place of each `$context` variable: `messageString` is the message
 * as a JSON string (quotes included), `message` the raw text, `validationErrorString` a raw,
 * unquoted list; any other variable a plausible value. */
const CONTEXT: Record<string, string> = {
  'error.messageString': JSON.stringify(GATEWAY_MESSAGE),
  'error.message': GATEWAY_MESSAGE,
  'error.validationErrorString': '[instance value ("x") not found in enum (possible values: ["a","b"])]',
  'error.responseType': 'DEFAULT_4XX',
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  stage: 'dev',
};

/** Response `r`'s application/json template as API Gateway renders it, parsed. */
function rendered(r: GatewayResponse) {
  const template = r.ResponseTemplates?.['application/json'];
  assert.ok(template, `${r.ResponseType} has an application/json template`);
  const text = template.replace(
    /\$(?:\{context\.([\w.]+)\}|context\.((?:\w+\.)*\w+))/g,
    (_, braced: string | undefined, plain: string | undefined) => CONTEXT[braced ?? plain ?? ''] ?? 'b5c3e1a0-plausible',
  );
  assert.doesNotMatch(text, /[$#]/, `${r.ResponseType}: no template syntax left in ${text}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    assert.fail(`${r.ResponseType} renders as no JSON (${e}): ${text}`);
  }
}

function method(httpMethod: string, pathPart: string) {
  const resources = t.findResources('AWS::ApiGateway::Resource');
  const id = Object.entries(resources).find(([, r]) => r.Properties.PathPart === pathPart)?.[0];
  const found = methods.filter((m) => m.Properties.HttpMethod === httpMethod && m.Properties.ResourceId?.Ref === id);
  assert.equal(found.length, 1, `${httpMethod} …/${pathPart}`);
  return found[0].Properties;
}

describe('API stack', () => {
  it('declares every method of docs/openapi.json once, each with its security scheme, and nothing else', () => {
    const resources = t.findResources('AWS::ApiGateway::Resource');
    /** A resource's full path, from its parents' path parts. */
    const pathOf = (id: string | undefined): string => {
      if (id === undefined) return ''; // the root
      const r = resources[id];
      assert.ok(r, `resource ${id} of this template`);
      return `${pathOf(r.Properties.ParentId.Ref)}/${r.Properties.PathPart}`;
    };
    const authorizers = Object.keys(t.findResources('AWS::ApiGateway::Authorizer'));
    assert.equal(authorizers.length, 1);
    const expected: Record<string, object> = {
      iam: { AuthorizationType: 'AWS_IAM', ApiKeyRequired: undefined, AuthorizerId: undefined },
      returnBinKey: { AuthorizationType: 'NONE', ApiKeyRequired: true, AuthorizerId: undefined },
      appUsers: { AuthorizationType: 'COGNITO_USER_POOLS', ApiKeyRequired: undefined, AuthorizerId: { Ref: authorizers[0] } },
    };
    const synthesized = new Map(methods
      .filter((m) => m.Properties.HttpMethod !== 'OPTIONS')
      .map((m) => [`${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId?.Ref) || '/'}`, m.Properties]));
    const routes = loadRoutes();
    assert.ok(routes.length >= 17, `${routes.length} routes`);
    for (const route of routes) {
      const p = synthesized.get(`${route.method} ${route.path}`);
      assert.ok(p, `${route.method} ${route.path} is a method of the API`);
      const { AuthorizationType, ApiKeyRequired, AuthorizerId } = p;
      assert.deepEqual({ AuthorizationType, ApiKeyRequired, AuthorizerId }, expected[route.authorization], `${route.method} ${route.path}`);
      synthesized.delete(`${route.method} ${route.path}`);
    }
    // Only the catch-all is left, IAM-authorized: the router answers it 404/405.
    assert.deepEqual([...synthesized.keys()].sort(), ['ANY /', 'ANY /{proxy+}']);
    for (const p of synthesized.values()) assert.equal(p.AuthorizationType, 'AWS_IAM');
  });

  it('lets each caller role invoke exactly the IAM routes whose x-roles name it, and denies every other signed principal', () => {
    const [api] = Object.values(t.findResources('AWS::ApiGateway::RestApi'));
    type Statement = { Sid: string; Effect: string; Resource: string; Condition?: Record<string, Record<string, unknown>> };
    const statements = api.Properties.Policy.Statement as Statement[];
    const roles = Object.keys(loadCallerRoles());
    assert.deepEqual(roles.sort(), ['intake', 'kitchen', 'operations', 'ordering']);
    const roleIds = Object.keys(t.findResources('AWS::IAM::Role'));
    const idOf = (role: string) => {
      const id = roleIds.find((r) => r.startsWith(`Caller${role}`));
      assert.ok(id, `a role for ${role}`);
      return id;
    };
    // The roles a Deny statement spares: the signed principals it does not deny.
    const spared = (st: Statement) => {
      assert.deepEqual(st.Condition?.Null, { 'aws:PrincipalArn': 'false' }, st.Sid);
      const arns = st.Condition?.ArnNotEquals['aws:PrincipalArn'] as { 'Fn::GetAtt': [string, string] }[];
      return roles.filter((r) => arns.some((a) => a['Fn::GetAtt'][0] === idOf(r)));
    };
    const allowAll = statements.find((st) => st.Effect === 'Allow');
    assert.equal(allowAll?.Resource, 'execute-api:/*');
    const everywhere = statements.find((st) => st.Effect === 'Deny' && st.Resource === 'execute-api:/*');
    assert.ok(everywhere);
    assert.deepEqual(spared(everywhere), roles, 'only the caller roles may sign');
    const iamRoutes = loadRoutes().filter((r) => r.authorization === 'iam');
    assert.ok(iamRoutes.length >= 10);
    for (const route of iamRoutes) {
      const resource = `execute-api:/*/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
      const deny = statements.find((st) => st.Effect === 'Deny' && st.Resource === resource);
      assert.ok(deny, `a statement for ${route.method} ${route.path}`);
      for (const role of roles) {
        assert.equal(spared(deny).includes(role), route.roles.includes(role), `${role} on ${route.method} ${route.path}`);
      }
      assert.ok(route.roles.includes('operations'), `${route.method} ${route.path}: operations reads and runs everything`);
    }
    // No Deny names an app or bin route: their callers are not signed principals.
    for (const route of loadRoutes().filter((r) => r.authorization !== 'iam')) {
      const resource = `execute-api:/*/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
      assert.equal(statements.find((st) => st.Resource === resource), undefined, `${route.method} ${route.path}`);
    }
  });

  it('refuses an IAM route without caller roles, or with a role the document does not declare', () => {
    const doc = (roles: unknown, security: unknown = [{ iam: [] }]) => ({
      'x-caller-roles': { kitchen: 'k' },
      paths: { '/extra': { get: { operationId: 'getExtra', tags: ['extra'], security, 'x-roles': roles } } },
    });
    assert.equal(loadRoutes(doc(['kitchen']))[0].roles[0], 'kitchen');
    assert.throws(() => loadRoutes(doc(undefined)), /GET \/extra needs x-roles naming the caller roles/);
    assert.throws(() => loadRoutes(doc(['chef'])), /unknown: chef/);
    assert.throws(() => loadRoutes(doc(['kitchen'], [{ appUsers: [] }])), /x-roles are for iam operations/);
  });

  it('builds its routes from the declaration it is given, and refuses a route without a flow or scheme', () => {
    const doc = (security: unknown, tags: unknown = ['extra']) => ({ paths: { '/extra/{id}': { get: { operationId: 'getExtra', tags, security } } } });
    assert.deepEqual(loadRoutes(doc([{ returnBinKey: [] }])), [
      { method: 'GET', path: '/extra/{id}', operationId: 'getExtra', flow: 'extra', authorization: 'returnBinKey', roles: [] },
    ]);
    assert.throws(() => loadRoutes(doc(undefined)), /GET \/extra\/\{id\} needs exactly one security scheme/);
    assert.throws(() => loadRoutes(doc([{ oauth: [] }])), /needs exactly one security scheme of iam, returnBinKey, appUsers/);
    assert.throws(() => loadRoutes(doc([{ iam: [] }], [])), /needs exactly one tag, its flow/);
    const extra = synthesize('dev', topology, loadRoutes(doc([{ returnBinKey: [] }]))).templates.api;
    const parts = Object.values(extra.findResources('AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart).sort();
    assert.deepEqual(parts, ['extra', '{id}', '{proxy+}']);
  });

  it('validates no body at the gateway: every body reaches the router, the one validator', () => {
    const validators = t.findResources('AWS::ApiGateway::RequestValidator');
    for (const m of methods) {
      const p = m.Properties;
      const where = `${p.HttpMethod} ${JSON.stringify(p.ResourceId)}`;
      assert.equal(p.RequestModels, undefined, `${where} has request models`);
      if (p.RequestValidatorId === undefined) continue;
      const validator = validators[p.RequestValidatorId.Ref];
      assert.ok(validator, `${where}: a validator of this template`);
      assert.notEqual(validator.Properties.ValidateRequestBody, true, `${where} validates its body`);
    }
    t.resourceCountIs('AWS::ApiGateway::Model', 0);
  });

  it("authorizes the fitness app's signed-in users with the app's user pool", () => {
    const authorizers = Object.values(t.findResources('AWS::ApiGateway::Authorizer'));
    assert.equal(authorizers.length, 1);
    assert.equal(authorizers[0].Properties.Type, 'COGNITO_USER_POOLS');
    const clients = Object.values(s.templates.stateful.findResources('AWS::Cognito::UserPoolClient'));
    const flows = clients.map((c) => [...c.Properties.ExplicitAuthFlows].sort().join(' ')).sort();
    // The app signs in with SRP; only the test users' client takes a password.
    assert.deepEqual(flows, ['ALLOW_REFRESH_TOKEN_AUTH ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH ALLOW_USER_SRP_AUTH']);
    for (const c of clients) assert.equal(c.Properties.GenerateSecret, false);
    s.templates.stateful.hasOutput('TestUserClientId', Match.anyValue());
  });

  it('throttles, logs access and traces the stage; binds a usage plan with quota', () => {
    const { rateLimit, burstLimit } = CONFIGS.dev.apiThrottle;
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit })]),
    });
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Quota: { Limit: CONFIGS.dev.returnBinQuotaPerDay, Period: 'DAY' },
      Throttle: { RateLimit: rateLimit, BurstLimit: burstLimit },
    });
    // A key per configured bin, each in the plan, named for its bin.
    t.resourceCountIs('AWS::ApiGateway::UsagePlanKey', CONFIGS.dev.returnBins.length);
    t.resourceCountIs('AWS::ApiGateway::ApiKey', CONFIGS.dev.returnBins.length);
    for (const bin of CONFIGS.dev.returnBins) {
      t.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: `${CONFIGS.dev.stackPrefix}-${bin}` });
    }
    assert.throws(() => returnBinKeys({ ...CONFIGS.dev, returnBins: [] }), /names no bin/);
    assert.throws(() => returnBinKeys({ ...CONFIGS.dev, returnBins: ['a b'] }), /letters, digits and dashes/);
    assert.throws(() => returnBinKeys({ ...CONFIGS.dev, returnBins: ['a', 'a'] }), /named twice/);
  });

  it('guards the stage with a web ACL: a per-IP rate, bodies over 64 KiB and the common rules', () => {
    for (const env of ['dev', 'prod'] as const) {
      const template = env === 'dev' ? t : synthesize(env).templates.api;
      const acls = Object.values(template.findResources('AWS::WAFv2::WebACL'));
      assert.equal(acls.length, 1, `${env}: one web ACL`);
      const acl = acls[0].Properties as {
        Scope: string;
        DefaultAction: unknown;
        AssociationConfig: unknown;
        Rules: { Name: string; Priority: number; Action?: unknown; Statement: Record<string, Record<string, unknown>> }[];
      };
      assert.equal(acl.Scope, 'REGIONAL');
      assert.deepEqual(acl.DefaultAction, { Allow: {} });
      // The stage forwards up to 64 KiB for inspection: a larger body is oversize, and matches.
      assert.deepEqual(acl.AssociationConfig, { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_64' } } });
      const rule = (name: string) => {
        const found = acl.Rules.find((r) => r.Name === name);
        assert.ok(found, `${env}: rule ${name}`);
        return found;
      };
      const rate = rule('RatePerIp');
      assert.deepEqual(rate.Action, { Block: {} });
      assert.deepEqual(rate.Statement.RateBasedStatement, { Limit: CONFIGS[env].webAclRatePerIpPer5Minutes, AggregateKeyType: 'IP' });
      const size = rule('BodyOver64KiB');
      assert.deepEqual(size.Action, { Block: {} });
      assert.equal(size.Statement.SizeConstraintStatement.Size, 65536);
      assert.equal(size.Statement.SizeConstraintStatement.ComparisonOperator, 'GT');
      assert.deepEqual(size.Statement.SizeConstraintStatement.FieldToMatch, { Body: { OversizeHandling: 'MATCH' } });
      const common = rule('AWSManagedRulesCommonRuleSet').Statement.ManagedRuleGroupStatement;
      assert.equal(common.VendorName, 'AWS');
      // Its own 8 KB body rule would refuse bodies the API takes: counted, not blocking.
      assert.deepEqual(common.RuleActionOverrides, [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }]);
      template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        WebACLArn: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('WebAcl'), 'Arn'] }),
      });
    }
  });

  it("keeps api-handler to its reserved concurrency, so an API burst leaves the consumers theirs", () => {
    const spec = topology.functions.find((f) => f.name === 'api-handler');
    assert.ok(spec);
    const fns = Object.values(t.findResources('AWS::Lambda::Function')).filter((r) => r.Properties.Handler === 'bootstrap');
    assert.equal(fns.length, 1);
    assert.equal(fns[0].Properties.ReservedConcurrentExecutions, spec.reserved_concurrency);
  });

  it('answers CORS preflight for the configured origins only', () => {
    const options = method('OPTIONS', 'returns');
    const headers = options.Integration.IntegrationResponses[0].ResponseParameters;
    assert.equal(headers['method.response.header.Access-Control-Allow-Origin'], `'${CONFIGS.dev.corsAllowOrigins[0]}'`);
  });

  it("answers API Gateway's own errors with a fixed code per response type", () => {
    const byType = Object.fromEntries(gatewayResponses.map((r) => [r.ResponseType, r]));
    const expected: [string, string | undefined, string][] = [
      ['DEFAULT_4XX', undefined, 'bad_request'],
      ['DEFAULT_5XX', '502', 'bad_gateway'],
      ['UNAUTHORIZED', '401', 'unauthorized'],
      ['ACCESS_DENIED', '403', 'forbidden'],
      ['EXPIRED_TOKEN', '403', 'expired_token'],
      ['INVALID_SIGNATURE', '403', 'invalid_signature'],
      ['INVALID_API_KEY', '403', 'invalid_api_key'],
      ['MISSING_AUTHENTICATION_TOKEN', '403', 'missing_authentication'],
      ['THROTTLED', '429', 'throttled'],
      ['QUOTA_EXCEEDED', '429', 'quota_exceeded'],
      ['REQUEST_TOO_LARGE', '413', 'payload_too_large'],
      ['INTEGRATION_TIMEOUT', '504', 'integration_timeout'],
    ];
    for (const [type, status, code] of expected) {
      const r = byType[type];
      assert.ok(r, `a gateway response for ${type}`);
      assert.equal(r.StatusCode, status, type);
      assert.equal(rendered(r).error.code, code, type);
    }
    // Each lets the environment's page read it, and says it varies by origin.
    for (const r of gatewayResponses) {
      const headers = (r as { ResponseParameters?: Record<string, string> }).ResponseParameters ?? {};
      assert.equal(headers['gatewayresponse.header.Access-Control-Allow-Origin'], "'http://localhost:3000'", r.ResponseType);
      assert.equal(headers['gatewayresponse.header.Vary'], "'Origin'", r.ResponseType);
    }
    // Without gateway validation these cannot occur; DEFAULT_4XX would answer them.
    assert.equal(byType.BAD_REQUEST_BODY, undefined);
    assert.equal(byType.BAD_REQUEST_PARAMETERS, undefined);
  });

  it('renders every gateway response, as API Gateway fills it in, as the Error schema of docs/openapi.json', () => {
    assert.ok(gatewayResponses.length > 0);
    const errorSchema = openApi().components.schemas.Error;
    for (const r of gatewayResponses) {
      assert.deepEqual(Object.keys(r.ResponseTemplates ?? {}), ['application/json'], r.ResponseType);
      const body = rendered(r);
      assert.deepEqual(schemaProblems(body, errorSchema), [], `${r.ResponseType}: ${JSON.stringify(body)}`);
      assert.match(body.error.code, /^[a-z]+(_[a-z]+)*$/, r.ResponseType);
      assert.equal(body.error.message, GATEWAY_MESSAGE, `${r.ResponseType} passes the gateway's message on unchanged`);
      assert.deepEqual(body.error.details, [], r.ResponseType);
    }
  });

  it('checks error bodies against the schema strictly enough to catch string details', () => {
    const errorSchema = openApi().components.schemas.Error;
    const stringDetails = { error: { code: 'validation_failed', message: 'Invalid request body', details: ['[instance failed]'] } };
    assert.notDeepEqual(schemaProblems(stringDetails, errorSchema), []);
    assert.notDeepEqual(schemaProblems({ error: { code: 'x', message: 'm' } }, errorSchema), []);
    const fieldDetail = { error: { code: 'validation_failed', message: 'm', details: [{ field: 'title', code: 'empty_title', message: 'empty' }] } };
    assert.deepEqual(schemaProblems(fieldDetail, errorSchema), []);
  });

  it('gives api-handler exactly the environment its uses implies, and routes without the stage', () => {
    assert.deepEqual(environmentOf(s, 'api-handler'), {
      ...implied(topology, 'api-handler').environment,
      AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true',
    });
    assert.equal(environmentOf(s, 'api-handler').RETURNS_QUEUE_URL, 'Queue-rental-returns.Ref');
  });

  it('lets api-handler query rentals only through the by_user index', () => {
    const rentals = grantsOf(s, 'api-handler').filter((g) => g.includes('Table-rentals'));
    assert.deepEqual(rentals, ['dynamodb:Query on Table-rentals.Arn/index/by_user']);
  });
});
