import { Match } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIGS } from '../lib/config.js';
import { loadTopology } from '../lib/topology.js';
import { environmentOf, grantsOf, implied, synthesize } from './helpers.js';

const topology = loadTopology();
const s = synthesize('dev');
const t = s.templates.api;
const methods = Object.values(t.findResources('AWS::ApiGateway::Method'));

function method(httpMethod: string, pathPart: string) {
  const resources = t.findResources('AWS::ApiGateway::Resource');
  const id = Object.entries(resources).find(([, r]) => r.Properties.PathPart === pathPart)?.[0];
  const found = methods.filter((m) => m.Properties.HttpMethod === httpMethod && m.Properties.ResourceId?.Ref === id);
  assert.equal(found.length, 1, `${httpMethod} …/${pathPart}`);
  return found[0].Properties;
}

describe('API stack', () => {
  it('lets return bins post with an API key and validates the body', () => {
    const post = method('POST', 'returns');
    assert.equal(post.AuthorizationType, 'NONE');
    assert.equal(post.ApiKeyRequired, true);
    assert.ok(post.RequestValidatorId);
    assert.ok(post.RequestModels['application/json']);
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ required: ['timestamp', 'location_id', 'user_qr_data', 'asset_qr_data'] }),
    });
  });

  it('requires IAM on every other method except CORS preflight and the fitness app\'s', () => {
    const app = [method('POST', 'event'), method('POST', 'events'), method('GET', 'activity')];
    for (const m of methods) {
      const p = m.Properties;
      if (p.HttpMethod === 'OPTIONS' || (p.HttpMethod === 'POST' && p.ApiKeyRequired) || app.includes(p)) continue;
      assert.equal(p.AuthorizationType, 'AWS_IAM', JSON.stringify(p.ResourceId));
    }
    assert.equal(method('GET', '{return_id}').RequestParameters['method.request.path.return_id'], true);
  });

  it('routes formulas and tasks explicitly, IAM-signed, bodies checked against their models', () => {
    for (const resource of ['formulas', 'tasks']) {
      const post = method('POST', resource);
      assert.equal(post.AuthorizationType, 'AWS_IAM');
      assert.ok(post.RequestValidatorId && post.RequestModels['application/json'], resource);
    }
    assert.equal(method('GET', '{formula_id}').RequestParameters['method.request.path.formula_id'], true);
    assert.equal(method('GET', '{task_id}').RequestParameters['method.request.path.task_id'], true);
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ title: 'Task', required: ['title', 'description', 'priority'] }),
    });
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ title: 'Formula', required: ['name', 'materials'] }),
    });
  });

  it('routes orders, inventory and analytics explicitly, IAM-signed, bodies checked against their models', () => {
    const post = method('POST', 'orders');
    assert.ok(post.RequestValidatorId && post.RequestModels['application/json']);
    const patch = method('PATCH', 'status');
    assert.equal(patch.AuthorizationType, 'AWS_IAM');
    assert.equal(patch.RequestParameters['method.request.path.order_id'], true);
    assert.ok(patch.RequestModels['application/json']);
    const put = method('PUT', '{sku}');
    assert.equal(put.RequestParameters['method.request.path.sku'], true);
    assert.ok(put.RequestModels['application/json']);
    assert.equal(method('GET', '{sku}').AuthorizationType, 'AWS_IAM');
    assert.equal(method('GET', '{order_id}').RequestParameters['method.request.path.order_id'], true);
    const analytics = Object.entries(t.findResources('AWS::ApiGateway::Resource')).find(([, r]) => r.Properties.PathPart === 'analytics')?.[0];
    assert.ok(analytics, 'an analytics resource');
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ title: 'Order', required: ['customer_id', 'items'] }),
    });
  });

  it("lets the fitness app's signed-in users post events and read their activity through the user pool", () => {
    const authorizers = Object.entries(t.findResources('AWS::ApiGateway::Authorizer'));
    assert.equal(authorizers.length, 1);
    const [authorizerId, authorizer] = authorizers[0];
    assert.equal(authorizer.Properties.Type, 'COGNITO_USER_POOLS');
    for (const [verb, part] of [['POST', 'event'], ['POST', 'events'], ['GET', 'activity']]) {
      const m = method(verb, part);
      assert.equal(m.AuthorizationType, 'COGNITO_USER_POOLS', part);
      assert.deepEqual(m.AuthorizerId, { Ref: authorizerId }, part);
      assert.ok(m.RequestValidatorId, part);
    }
    assert.ok(method('POST', 'event').RequestModels['application/json']);
    assert.equal(method('GET', 'activity').RequestParameters['method.request.path.user_id'], true);
    assert.equal(method('GET', 'event-types').AuthorizationType, 'AWS_IAM');
    s.templates.stateful.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false });
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
    t.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('answers CORS preflight for the configured origins only', () => {
    const options = method('OPTIONS', 'returns');
    const headers = options.Integration.IntegrationResponses[0].ResponseParameters;
    assert.equal(headers['method.response.header.Access-Control-Allow-Origin'], `'${CONFIGS.dev.corsAllowOrigins[0]}'`);
  });

  it("keeps API Gateway's own errors in the API's error shape", () => {
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code": "validation_failed"') },
    });
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'INTEGRATION_TIMEOUT',
      StatusCode: '504',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code": "integration_timeout"') },
    });
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
