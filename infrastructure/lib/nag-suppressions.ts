import { Validations } from 'aws-cdk-lib';
import type { SystemStacks } from './app.js';

const LAMBDA_BASIC_EXECUTION =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/** Every accepted cdk-nag finding, each with its reason, acknowledged on the narrowest scope
 * that holds it. Anything not acknowledged here fails the nag test and `cdk synth`. */
export function applyNagSuppressions({ stateful, api, processing }: SystemStacks): void {
  for (const stack of [api, processing]) {
    Validations.of(stack).acknowledge(
      { id: LAMBDA_BASIC_EXECUTION, reason: 'AWSLambdaBasicExecutionRole only lets a function write its own CloudWatch Logs.' },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        reason: "CodeDeploy's role for Lambda deployments: shifting an alias's traffic, reading the deployment's alarms; AWS keeps the policy to what it needs.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray (xray:PutTraceSegments, PutTelemetryRecords) and dynamodb:ListStreams cannot be scoped to a resource.',
      },
    );
  }
  for (const { dlq } of stateful.queues.values()) {
    Validations.of(dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This is a dead-letter queue; it has an alarm.' });
  }
  Validations.of(stateful.relayFailures).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'The outbox relay stream failure destination, a dead-letter queue itself; it has an alarm.',
  });
  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-level API Gateway CloudWatch role uses the managed policy AWS provides for it.',
    },
  );
  Validations.of(api.api).acknowledge({
    id: 'AwsSolutions-APIG2',
    reason:
      'The router validates every request (body and path parameters) and answers each problem in the API\'s error shape with a detail per field; '
      + 'gateway models would be another copy of the schemas of the router and docs/openapi.json, and their errors cannot carry those details.',
  });
  Validations.of(stateful.appUsers).acknowledge(
    { id: 'AwsSolutions-COG2', reason: 'MFA is optional (TOTP) for the fitness app\'s consumers; requiring it is a product decision.' },
    { id: 'AwsSolutions-COG8', reason: 'Threat protection (the Plus feature plan) is listed in the production TODOs.' },
  );
  const authorizations = new Map(api.routes.map((r) => [`${r.method} ${r.path}`, r.authorization]));
  for (const method of api.api.methods) {
    const authorization = authorizations.get(`${method.httpMethod} ${method.resource.path}`);
    const bin = authorization === 'returnBinKey';
    const preflight = method.httpMethod === 'OPTIONS';
    if (authorization === 'appUsers') continue;
    if (bin || preflight) {
      const reason = bin
        ? 'Return bins authenticate with API keys bound to a usage plan; they hold no IAM credentials.'
        : 'CORS preflight requests carry no credentials by design.';
      Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'AwsSolutions-COG4', reason });
    } else {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'This method uses IAM (SigV4) authorization; the API does not use Cognito user pools.',
      });
    }
  }
}
