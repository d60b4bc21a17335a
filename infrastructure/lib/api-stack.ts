import { CfnOutput, Fn, Stack, StackProps } from 'aws-cdk-lib';
import {
  AccessLogFormat, ApiKeySourceType, AuthorizationType, CognitoUserPoolsAuthorizer, EndpointType,
  LambdaIntegration, LogGroupLogDestination, MethodLoggingLevel, MethodOptions, Period, ResponseType, RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { AccountRootPrincipal, AnyPrincipal, Effect, IRole, PolicyDocument, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './config.js';
import { Authorization, Route } from './routes.js';
import { ServiceFunction } from './constructs/service-function.js';
import { ApiWebAcl } from './constructs/web-acl.js';
import { StatefulStack } from './stateful-stack.js';
import { Topology } from './topology.js';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly topology: Topology;
  readonly stateful: StatefulStack;
  /** The API's routes (`loadRoutes()`: those docs/openapi.json declares). */
  readonly routes: Route[];
  /** The caller roles of the IAM routes (`loadCallerRoles()`: name → who they are). */
  readonly callerRoles: Readonly<Record<string, string>>;
}


/** The function behind every route; each other function of topology.json is a consumer (ProcessingStack). */
export const API_FUNCTION = 'api-handler';
/** API Gateway's own answers (no route, authentication, throttling, size, timeouts), in the API's
 * error shape: a fixed code per response type, the gateway's message and no field details. The
 * codes are the router's where the situation is the same (404, 413, 415) and the local gateway's
 * where it answers the same (429, 502, 504). A response without a status keeps API Gateway's:
 * DEFAULT_4XX covers every 4xx type not listed. Bodies are never validated here (the router is
 * the one validator), so BAD_REQUEST_BODY and BAD_REQUEST_PARAMETERS do not occur. */
const GATEWAY_ERRORS: { type: ResponseType; status?: string; code: string }[] = [
  { type: ResponseType.DEFAULT_4XX, code: 'bad_request' },
  { type: ResponseType.DEFAULT_5XX, status: '502', code: 'bad_gateway' },
  // A Cognito route without a token the user pool accepts.
  { type: ResponseType.UNAUTHORIZED, status: '401', code: 'unauthorized' },
  { type: ResponseType.ACCESS_DENIED, status: '403', code: 'forbidden' },
  { type: ResponseType.EXPIRED_TOKEN, status: '403', code: 'expired_token' },
  { type: ResponseType.INVALID_SIGNATURE, status: '403', code: 'invalid_signature' },
  { type: ResponseType.INVALID_API_KEY, status: '403', code: 'invalid_api_key' },
  // An unsigned request to an IAM route, and a method the gateway does not route (API Gateway
  // gives both this type): a missing credential is a 403, as the local gateway answers it.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '403', code: 'missing_authentication' },
  { type: ResponseType.RESOURCE_NOT_FOUND, status: '404', code: 'route_not_found' },
  { type: ResponseType.THROTTLED, status: '429', code: 'throttled' },
  { type: ResponseType.QUOTA_EXCEEDED, status: '429', code: 'quota_exceeded' },
  { type: ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'payload_too_large' },
  { type: ResponseType.UNSUPPORTED_MEDIA_TYPE, status: '415', code: 'unsupported_media_type' },
  // A slow integration is a timeout the client may retry, as the local gateway answers it too.
  { type: ResponseType.INTEGRATION_TIMEOUT, status: '504', code: 'integration_timeout' },
];

/** A gateway response's construct id is its type. A response whose logical id changes is created
 * anew, and deleting the old one afterwards resets the type to API Gateway's default: the types
 * already deployed keep the ids they were first deployed with. */
const DEPLOYED_IDS: Partial<Record<string, string>> = {
  REQUEST_TOO_LARGE: 'Error-payload_too_large-413-REQUEST_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'Error-unsupported_media_type-415-UNSUPPORTED_MEDIA_TYPE',
  THROTTLED: 'Error-throttled-429-THROTTLED',
  QUOTA_EXCEEDED: 'Error-quota_exceeded-429-QUOTA_EXCEEDED',
  MISSING_AUTHENTICATION_TOKEN: 'Error-missing_authentication-403-MISSING_AUTHENTICATION_TOKEN',
  ACCESS_DENIED: 'Error-access_denied-403-ACCESS_DENIED',
  INVALID_API_KEY: 'Error-invalid_api_key-403-INVALID_API_KEY',
  INTEGRATION_TIMEOUT: 'Error-integration_timeout-504-INTEGRATION_TIMEOUT',
  DEFAULT_5XX: 'Error-bad_gateway-502-DEFAULT_5XX',
};

/** The body of a gateway response of `code`: `$context.error.messageString` is the message as a
 * JSON string, quotes included. */
function gatewayErrorTemplate(code: string): string {
  return `{"error": {"code": "${code}", "message": $context.error.messageString, "details": []}}`;
}

/** The REST API: api-handler behind every route docs/openapi.json declares, each authorized by
 * its security scheme (IAM, a return bin's API key bound to a usage plan, the app's user pool); the gateway's own errors in the API's shape,
 * throttling, CORS, access logs.
 * What api-handler may touch is its `uses` in topology.json. */
export class ApiStack extends Stack {
  readonly api: RestApi;
  readonly handler: ServiceFunction;
  readonly routes: Route[];
  /** The IAM role of each caller role, by name. */
  readonly callerRoles: ReadonlyMap<string, IRole>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, topology, stateful } = props;
    this.routes = props.routes;

    this.handler = new ServiceFunction(this, API_FUNCTION, {
      binary: API_FUNCTION,
      topology,
      config,
      resources: stateful,
      // Routes do not include the stage name.
      environment: { AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true' },
    });
    const h = this.handler;

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: config.logRetention });
    // Who may invoke the IAM routes: a role per caller role of docs/openapi.json (x-caller-roles),
    // assumable in this account; the resource policy lets each role invoke exactly the routes whose
    // x-roles name it, and denies every other signed principal.
    const policy = new PolicyDocument();
    this.callerRoles = new Map(
      Object.entries(props.callerRoles).map(([name, description]) => [
        name,
        new Role(this, `Caller-${name}`, { assumedBy: new AccountRootPrincipal(), description: `API caller role ${name}: ${description}` }),
      ]),
    );
    this.api = new RestApi(this, 'Api', {
      policy,
      description: `Rental returns API (${config.name})`,
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      apiKeySourceType: ApiKeySourceType.HEADER,
      // Every method is IAM-authorized unless it says otherwise.
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: config.name,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: config.apiThrottle.rateLimit,
        throttlingBurstLimit: config.apiThrottle.burstLimit,
      },
      defaultCorsPreflightOptions: {
        allowOrigins: config.corsAllowOrigins,
        allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'Authorization', 'X-Api-Key', 'X-Amz-Date', 'X-Amz-Security-Token', 'Idempotency-Key'],
      },
    });
    // A gateway response's headers are fixed: they name the environment's first allowed origin,
    // whose pages may then read the refusal (another origin's may not, as the function answers).
    const cors = { 'Access-Control-Allow-Origin': `'${config.corsAllowOrigins[0]}'`, Vary: "'Origin'" };
    for (const { type, status, code } of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(DEPLOYED_IDS[type.responseType] ?? `Error-${type.responseType}`, {
        type,
        statusCode: status,
        responseHeaders: cors,
        templates: { 'application/json': gatewayErrorTemplate(code) },
      });
    }

    // No request models or validators: every body, well-formed or not, reaches the router, which
    // answers each problem in the API's error shape with a detail per field (docs/openapi.json).
    // Path parameters need no check: a `{param}` resource never matches an empty segment.
    const lambda = new LambdaIntegration(h.alias);
    // The fitness app: a mobile client holds no AWS credentials of its own, so its users sign
    // in to the app's Cognito user pool and send their token; the gateway checks it.
    // An authorizer must be attached to a method, so it exists only when a route uses it.
    let appUsers: CognitoUserPoolsAuthorizer | undefined;
    const options: Record<Authorization, () => MethodOptions> = {
      iam: () => ({ authorizationType: AuthorizationType.IAM }),
      returnBinKey: () => ({ authorizationType: AuthorizationType.NONE, apiKeyRequired: true }),
      appUsers: () => {
        appUsers ??= new CognitoUserPoolsAuthorizer(this, 'AppUsers', { cognitoUserPools: [stateful.appUsers] });
        return { authorizationType: AuthorizationType.COGNITO, authorizer: appUsers };
      },
    };
    // Every route docs/openapi.json declares, with its security scheme.
    for (const route of props.routes) {
      this.api.root.resourceForPath(route.path).addMethod(route.method, lambda, options[route.authorization]());
    }
    // Everything else reaches the router, which answers 404/405 in the API's error shape.
    this.api.root.addProxy({ anyMethod: true, defaultIntegration: lambda, defaultMethodOptions: options.iam() });
    for (const statement of resourcePolicy(props.routes, this.callerRoles)) policy.addStatements(statement);

    const plan = this.api.addUsagePlan('ReturnBins', {
      description: 'Return bins: one API key each',
      throttle: config.apiThrottle,
      quota: { limit: config.returnBinQuotaPerDay, period: Period.DAY },
    });
    plan.addApiStage({ stage: this.api.deploymentStage });
    new ApiWebAcl(this, 'WebAcl', {
      stageArn: this.api.deploymentStage.stageArn,
      ratePerIpPer5Minutes: config.webAclRatePerIpPer5Minutes,
      metricPrefix: config.stackPrefix,
    });
    // A key per bin: one bin's key opens the route for that bin only, and the function records
    // which bin sent each return (the key's id, from the request context).
    const keys = returnBinKeys(config).map((bin) => {
      const key = this.api.addApiKey(`ReturnBinKey-${bin}`, {
        apiKeyName: `${config.stackPrefix}-${bin}`,
        description: `Key of return bin ${bin}`,
      });
      plan.addApiKey(key);
      return { bin, key };
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (stage included)' });
    new CfnOutput(this, 'ReturnBinApiKeyId', {
      value: keys[0].key.keyId,
      description: `The key of return bin ${keys[0].bin}: aws apigateway get-api-key --include-value --api-key <id> prints it`,
    });
    new CfnOutput(this, 'ReturnBinApiKeyIds', {
      value: Fn.join(',', keys.map(({ bin, key }) => Fn.join('=', [bin, key.keyId]))),
      description: 'Every return bin and the id of its API key (bin=id, comma-separated)',
    });
    new CfnOutput(this, 'CallerRoleArns', {
      value: Fn.join(',', [...this.callerRoles].map(([name, role]) => Fn.join('=', [name, role.roleArn]))),
      description: 'The IAM role of each caller role (name=arn, comma-separated); the smoke run assumes operations',
    });
  }
}

/** The environment's return bins, checked: at least one, each named once, in letters, digits and
 * dashes (the name is part of its key's construct id and name). */
export function returnBinKeys(config: EnvironmentConfig): string[] {
  const bins = [...config.returnBins];
  if (bins.length === 0) throw new Error(`config ${config.name}: returnBins names no bin`);
  for (const bin of bins) {
    if (!/^[A-Za-z0-9-]+$/.test(bin)) throw new Error(`config ${config.name}: return bin "${bin}" must be letters, digits and dashes`);
  }
  if (new Set(bins).size !== bins.length) throw new Error(`config ${config.name}: a return bin is named twice`);
  return bins;
}

/** The API's resource policy: anyone may reach the API (API keys, Cognito tokens and IAM
 * signatures are checked per method), but a signed principal that is none of the caller roles is
 * denied everywhere, and on each IAM route every role its x-roles do not name is denied. */
export function resourcePolicy(routes: readonly Route[], roles: ReadonlyMap<string, IRole>): PolicyStatement[] {
  const invoke = ['execute-api:Invoke'];
  const arn = (route: Route) => `execute-api:/*/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
  const signedAndNot = (names: readonly string[]) => ({
    Null: { 'aws:PrincipalArn': 'false' },
    ArnNotEquals: {
      'aws:PrincipalArn': names.map((n) => {
        const role = roles.get(n);
        if (!role) throw new Error(`docs/openapi.json: x-roles names ${n}, which x-caller-roles does not declare`);
        return role.roleArn;
      }),
    },
  });
  const statements = [
    new PolicyStatement({ sid: 'AnyoneReachesTheMethods', principals: [new AnyPrincipal()], actions: invoke, resources: ['execute-api:/*'] }),
    new PolicyStatement({
      sid: 'OnlyCallerRolesSign',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: invoke,
      resources: ['execute-api:/*'],
      conditions: signedAndNot([...roles.keys()]),
    }),
  ];
  for (const route of routes.filter((r) => r.authorization === 'iam')) {
    statements.push(
      new PolicyStatement({
        sid: `Roles${route.method}${route.path.replace(/[^A-Za-z0-9]/g, '')}`,
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: invoke,
        resources: [arn(route)],
        conditions: signedAndNot(route.roles),
      }),
    );
  }
  return statements;
}
