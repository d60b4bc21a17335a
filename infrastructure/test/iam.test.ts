import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { synthesize } from './helpers.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

describe('least privilege', () => {
  const { templates } = synthesize('prod');
  const statements: [string, Statement][] = Object.entries(templates).flatMap(([stack, t]) =>
    Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).map((s): [string, Statement] => [stack, s]),
    ),
  );

  it('puts no data-plane action on "*"', () => {
    // ListStreams is account-level by design; X-Ray actions have no resource.
    const allowedOnStar = /^(xray:|dynamodb:ListStreams$)/;
    for (const [stack, s] of statements) {
      const resources = [s.Resource].flat();
      if (!resources.includes('*')) continue;
      for (const action of [s.Action].flat()) {
        assert.match(action, allowedOnStar, `${stack}: ${action} on "*"`);
      }
    }
  });

  it('grants no wildcard actions', () => {
    for (const [stack, s] of statements) {
      for (const action of [s.Action].flat()) {
        assert.ok(!action.endsWith(':*') && action !== '*', `${stack}: ${action}`);
      }
    }
  });
});
