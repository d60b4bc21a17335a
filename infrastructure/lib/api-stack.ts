import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import {
  AccessLogFormat, ApiKeySourceType, AuthorizationType, CognitoUserPoolsAuthorizer, EndpointType, JsonSchemaType, JsonSchemaVersion,
  LambdaIntegration, LogGroupLogDestination, MethodLoggingLevel, Period, ResponseType, RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './config.js';
import { ServiceFunction } from './constructs/service-function.js';
import { StatefulStack } from './stateful-stack.js';
import { Topology } from './topology.js';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly topology: Topology;
  readonly stateful: StatefulStack;
}

/** Error bodies API Gateway itself produces, in the API's error shape. */
const GATEWAY_ERRORS: [ResponseType, string, string][] = [
  [ResponseType.BAD_REQUEST_BODY, '400', 'validation_failed'],
  [ResponseType.BAD_REQUEST_PARAMETERS, '400', 'validation_failed'],
  [ResponseType.REQUEST_TOO_LARGE, '413', 'payload_too_large'],
  [ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'unsupported_media_type'],
  [ResponseType.THROTTLED, '429', 'throttled'],
  [ResponseType.QUOTA_EXCEEDED, '429', 'quota_exceeded'],
  [ResponseType.MISSING_AUTHENTICATION_TOKEN, '403', 'missing_authentication'],
  [ResponseType.ACCESS_DENIED, '403', 'access_denied'],
  [ResponseType.INVALID_API_KEY, '403', 'invalid_api_key'],
  // A slow integration is a timeout the client may retry, as the local gateway answers it too.
  [ResponseType.INTEGRATION_TIMEOUT, '504', 'integration_timeout'],
  [ResponseType.DEFAULT_5XX, '502', 'bad_gateway'],
];

/** The REST API: api-handler behind every route; return bins post with an API key bound to a
 * usage plan, everything else is IAM-signed; request validation, throttling, CORS, access logs.
 * What api-handler may touch is its `uses` in topology.json. */
export class ApiStack extends Stack {
  readonly api: RestApi;
  readonly handler: ServiceFunction;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, topology, stateful } = props;

    this.handler = new ServiceFunction(this, 'api-handler', {
      binary: 'api-handler',
      description: 'HTTP API: one router for every route',
      topology,
      config,
      resources: stateful,
      // Routes do not include the stage name.
      environment: { AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true' },
    });
    const h = this.handler;

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: config.logRetention });
    this.api = new RestApi(this, 'Api', {
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
    for (const [type, statusCode, code] of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Error-${code}-${statusCode}-${type.responseType}`, {
        type,
        statusCode,
        templates: {
          'application/json': `{"error": {"code": "${code}", "message": $context.error.messageString, "details": ["$context.error.validationErrorString"]}}`,
        },
      });
    }

    const validateBody = this.api.addRequestValidator('ValidateBody', { validateRequestBody: true, validateRequestParameters: true });
    const validateParams = this.api.addRequestValidator('ValidateParameters', { validateRequestParameters: true });
    const returnEvent = this.api.addModel('ReturnEvent', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'ReturnEvent',
        type: JsonSchemaType.OBJECT,
        required: ['timestamp', 'location_id', 'user_qr_data', 'asset_qr_data'],
        properties: {
          timestamp: { type: JsonSchemaType.STRING, minLength: 1 },
          location_id: { type: JsonSchemaType.STRING, minLength: 1, maxLength: 128 },
          user_qr_data: { type: JsonSchemaType.STRING, minLength: 1, maxLength: 1024 },
          asset_qr_data: { type: JsonSchemaType.STRING, minLength: 1, maxLength: 1024 },
        },
      },
    });
    // Shape only (required fields, types): limits and business rules are the router's, so that
    // their error codes are the same behind the gateway and locally.
    const formula = this.api.addModel('Formula', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'Formula',
        type: JsonSchemaType.OBJECT,
        required: ['name', 'materials'],
        properties: {
          name: { type: JsonSchemaType.STRING },
          materials: {
            type: JsonSchemaType.ARRAY,
            items: {
              type: JsonSchemaType.OBJECT,
              required: ['name', 'concentration'],
              properties: {
                name: { type: JsonSchemaType.STRING },
                concentration: { type: [JsonSchemaType.NUMBER, JsonSchemaType.STRING] },
              },
            },
          },
        },
      },
    });
    const task = this.api.addModel('Task', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'Task',
        type: JsonSchemaType.OBJECT,
        required: ['title', 'description', 'priority'],
        properties: {
          title: { type: JsonSchemaType.STRING },
          description: { type: JsonSchemaType.STRING },
          priority: { type: JsonSchemaType.STRING },
          due_date: { type: [JsonSchemaType.STRING, JsonSchemaType.NULL] },
        },
      },
    });

    const order = this.api.addModel('Order', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'Order',
        type: JsonSchemaType.OBJECT,
        required: ['customer_id', 'items'],
        properties: {
          customer_id: { type: JsonSchemaType.STRING },
          items: {
            type: JsonSchemaType.ARRAY,
            items: {
              type: JsonSchemaType.OBJECT,
              required: ['sku', 'quantity'],
              properties: {
                sku: { type: JsonSchemaType.STRING },
                quantity: { type: JsonSchemaType.INTEGER },
              },
            },
          },
        },
      },
    });
    const statusUpdate = this.api.addModel('StatusUpdate', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'StatusUpdate',
        type: JsonSchemaType.OBJECT,
        required: ['status'],
        properties: { status: { type: JsonSchemaType.STRING } },
      },
    });
    const stockSetting = this.api.addModel('StockSetting', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'StockSetting',
        type: JsonSchemaType.OBJECT,
        required: ['available', 'low_stock_threshold'],
        properties: {
          available: { type: JsonSchemaType.INTEGER },
          low_stock_threshold: { type: JsonSchemaType.INTEGER },
        },
      },
    });

    const appEvent = this.api.addModel('AppEvent', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'AppEvent',
        type: JsonSchemaType.OBJECT,
        required: ['user_id', 'type'],
        properties: {
          user_id: { type: JsonSchemaType.STRING },
          type: { type: JsonSchemaType.STRING },
        },
      },
    });
    const appEventBatch = this.api.addModel('AppEventBatch', {
      contentType: 'application/json',
      schema: {
        schema: JsonSchemaVersion.DRAFT4,
        title: 'AppEventBatch',
        type: JsonSchemaType.OBJECT,
        required: ['events'],
        properties: { events: { type: JsonSchemaType.ARRAY, items: { type: JsonSchemaType.OBJECT } } },
      },
    });

    const lambda = new LambdaIntegration(h.fn);
    const iam = { authorizationType: AuthorizationType.IAM };
    const withPath = (name: string) => ({ ...iam, requestValidator: validateParams, requestParameters: { [`method.request.path.${name}`]: true } });

    const returns = this.api.root.addResource('rentals').addResource('returns');
    returns.addMethod('POST', lambda, {
      authorizationType: AuthorizationType.NONE,
      apiKeyRequired: true,
      requestValidator: validateBody,
      requestModels: { 'application/json': returnEvent },
    });
    returns.addResource('{return_id}').addMethod('GET', lambda, withPath('return_id'));
    const user = this.api.root.addResource('users').addResource('{user_id}');
    user.addResource('rentals').addMethod('GET', lambda, withPath('user_id'));
    user.addResource('stats').addMethod('GET', lambda, withPath('user_id'));
    const withBody = (model: typeof task) => ({ ...iam, requestValidator: validateBody, requestModels: { 'application/json': model } });
    const formulas = this.api.root.addResource('formulas');
    formulas.addMethod('POST', lambda, withBody(formula));
    formulas.addResource('{formula_id}').addMethod('GET', lambda, withPath('formula_id'));
    const tasks = this.api.root.addResource('tasks');
    tasks.addMethod('POST', lambda, withBody(task));
    tasks.addResource('{task_id}').addMethod('GET', lambda, withPath('task_id'));
    // Orders and inventory: IAM-authorized like the other service routes (the ordering front
    // end calls them with its own role).
    const withPathAndBody = (name: string, model: typeof task) => ({ ...withBody(model), requestParameters: { [`method.request.path.${name}`]: true } });
    const orders = this.api.root.addResource('orders');
    orders.addMethod('POST', lambda, withBody(order));
    const oneOrder = orders.addResource('{order_id}');
    oneOrder.addMethod('GET', lambda, withPath('order_id'));
    oneOrder.addResource('status').addMethod('PATCH', lambda, withPathAndBody('order_id', statusUpdate));
    const stock = this.api.root.addResource('inventory').addResource('{sku}');
    stock.addMethod('GET', lambda, withPath('sku'));
    stock.addMethod('PUT', lambda, withPathAndBody('sku', stockSetting));
    this.api.root.addResource('analytics').addResource('orders').addMethod('GET', lambda, iam);
    // The fitness app: a mobile client holds no AWS credentials of its own, so its users sign
    // in to the app's Cognito user pool and send their token; the gateway checks it.
    const appUsers = new CognitoUserPoolsAuthorizer(this, 'AppUsers', { cognitoUserPools: [stateful.appUsers] });
    const app = { authorizationType: AuthorizationType.COGNITO, authorizer: appUsers };
    const v1 = this.api.root.addResource('v1');
    v1.addResource('event').addMethod('POST', lambda, { ...app, requestValidator: validateBody, requestModels: { 'application/json': appEvent } });
    v1.addResource('events').addMethod('POST', lambda, { ...app, requestValidator: validateBody, requestModels: { 'application/json': appEventBatch } });
    v1.addResource('users').addResource('{user_id}').addResource('activity')
      .addMethod('GET', lambda, { ...app, requestValidator: validateParams, requestParameters: { 'method.request.path.user_id': true } });
    // What unknown types arrive is for the team, not the app: IAM like the other service routes.
    v1.addResource('event-types').addMethod('GET', lambda, iam);
    // Everything else reaches the router, which answers 404/405 in the API's error shape.
    this.api.root.addProxy({ anyMethod: true, defaultIntegration: lambda, defaultMethodOptions: iam });

    const plan = this.api.addUsagePlan('ReturnBins', {
      description: 'Return bins: one API key each',
      throttle: config.apiThrottle,
      quota: { limit: config.returnBinQuotaPerDay, period: Period.DAY },
    });
    plan.addApiStage({ stage: this.api.deploymentStage });
    const key = this.api.addApiKey('ReturnBinKey', { description: 'Key for the return bins' });
    plan.addApiKey(key);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (stage included)' });
    new CfnOutput(this, 'ReturnBinApiKeyId', {
      value: key.keyId,
      description: 'aws apigateway get-api-key --include-value --api-key <id> prints the key',
    });
  }
}
