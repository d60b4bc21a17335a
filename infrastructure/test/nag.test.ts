import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENVIRONMENTS } from '../lib/config.js';
import { synthesize } from './helpers.js';

describe('cdk-nag AwsSolutions', () => {
  for (const env of ENVIRONMENTS) {
    it(`reports nothing unacknowledged for ${env}`, () => {
      const { app } = synthesize(env);
      const report = new AwsSolutionsChecks(app).validateScope(app);
      const findings = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      assert.deepEqual(findings, []);
    });
  }

  it('gives every acknowledgment a reason', () => {
    const { app } = synthesize('dev');
    let acknowledged = 0;
    for (const c of app.node.findAll()) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, value] of Object.entries(entry.data as Record<string, unknown>)) {
          acknowledged += 1;
          // The stage has a web ACL: the WAF finding must be met, not acknowledged.
          assert.ok(!id.includes('APIG3'), `${id} acknowledged on ${c.node.path}`);
          const reason = typeof value === 'string' ? value : (value as { reason?: string })?.reason;
          assert.ok(reason && reason.length > 20, `${id} on ${c.node.path} has no real reason`);
        }
      }
    }
    assert.ok(acknowledged > 0);
  });
});
