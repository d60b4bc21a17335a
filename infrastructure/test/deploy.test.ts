import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIGS, ENVIRONMENTS, TRAFFIC_SHIFTS } from '../lib/config.js';
import { loadMetrics } from '../lib/metrics.js';
import { loadTopology } from '../lib/topology.js';
import { lambda, referent, synthesize } from './helpers.js';

const topology = loadTopology();
const catalogue = loadMetrics(topology);

interface Resource {
  Type: string;
  // Each test reads the properties of the resource types it looks for.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Properties: Record<string, any>;
  UpdatePolicy?: { CodeDeployLambdaAliasUpdate?: { DeploymentGroupName: { Ref: string } } };
}
type Resources = Record<string, Resource>;
interface MetricStat {
  Metric: { MetricName: string; Dimensions?: unknown[] };
  Period: number;
}
interface AlarmProperties {
  MetricName?: string;
  Dimensions?: unknown[];
  Period?: number;
  Threshold: number;
  AlarmActions?: unknown;
  Metrics?: { Expression?: string; MetricStat?: MetricStat }[];
}

/** The alarms that roll back a deploy of `group`, as the template reads them: the metric (an
 * expression's metric), its dimensions and period, the threshold, the actions. */
function guardsOf(resources: Resources, group: { AlarmConfiguration: { Alarms: { Name: { Ref: string } }[] } }) {
  return group.AlarmConfiguration.Alarms.map(({ Name }) => {
    const alarm = resources[Name.Ref];
    assert.equal(alarm?.Type, 'AWS::CloudWatch::Alarm', Name.Ref);
    const p = alarm.Properties as AlarmProperties;
    const stat = p.Metrics?.find((m) => m.MetricStat)?.MetricStat;
    return {
      metric: p.MetricName ?? stat?.Metric.MetricName,
      expression: p.Metrics?.find((m) => m.Expression)?.Expression,
      dimensions: JSON.stringify(p.Dimensions ?? stat?.Metric.Dimensions ?? []),
      period: p.Period ?? stat?.Period,
      threshold: p.Threshold,
      actions: p.AlarmActions,
    };
  });
}

describe('deploys', () => {
  for (const env of ENVIRONMENTS) {
    const s = synthesize(env);
    it(`puts every function behind a live alias with a deployment group shifting ${CONFIGS[env].trafficShift} in ${env}`, () => {
      const expected = TRAFFIC_SHIFTS[CONFIGS[env].trafficShift].deploymentConfigName;
      for (const f of topology.functions) {
        const { template, id } = lambda(s, f.name);
        const resources = template.toJSON().Resources as Resources;
        const aliases = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Alias' && r.Properties.FunctionName?.Ref === id);
        assert.equal(aliases.length, 1, `${f.name}: one alias`);
        const [, alias] = aliases[0];
        assert.equal(alias.Properties.Name, 'live');
        // A published version of this function, not $LATEST.
        const version = resources[alias.Properties.FunctionVersion['Fn::GetAtt'][0]];
        assert.equal(version.Type, 'AWS::Lambda::Version');
        assert.equal(version.Properties.FunctionName.Ref, id);
        const update = alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate;
        assert.ok(update, `${f.name}: CodeDeploy shifts the alias`);
        const group = resources[update.DeploymentGroupName.Ref];
        assert.equal(group.Type, 'AWS::CodeDeploy::DeploymentGroup');
        assert.equal(group.Properties.DeploymentConfigName, expected, f.name);
        assert.deepEqual(group.Properties.AutoRollbackConfiguration, {
          Enabled: true,
          Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
        });
        assert.equal(group.Properties.AlarmConfiguration.Enabled, true);
        const guards = guardsOf(resources, group.Properties as { AlarmConfiguration: { Alarms: { Name: { Ref: string } }[] } });
        for (const g of guards) assert.equal(g.period, 60, `${f.name}: ${g.metric} over one minute`);
        // Its own errors and throttles, read on the alias (both versions during a canary).
        for (const metric of ['Errors', 'Throttles']) {
          const own = guards.filter((g) => g.metric === metric && g.dimensions.includes(`"${id}"`) && g.dimensions.includes(":live"));
          assert.equal(own.length, 1, `${f.name}: ${metric} of the alias`);
        }
        // New dead letters of every queue (or stream) it consumes.
        const consumed = topology.event_sources.filter((e) => e.function === f.name);
        const deadLetters = guards.filter((g) => g.expression === 'DIFF(FILL(visible, 0))');
        assert.equal(deadLetters.length, consumed.length, `${f.name}: a dead-letter guard per source`);
        for (const e of consumed) {
          const dlq = 'queue' in e ? `Queue-${e.queue}-dlq` : 'RelayFailures';
          assert.ok(deadLetters.some((g) => referentsOf(s, g.dimensions).includes(dlq)), `${f.name}: ${dlq}`);
        }
        // The declared alarms that concern it, on their metric.
        for (const m of catalogue.metrics) {
          for (const a of m.alarms ?? []) {
            const concerned = (a.rolls_back ?? [m.function]).includes(f.name);
            const found = guards.filter((g) => g.metric === m.name && g.threshold === a.threshold);
            assert.equal(found.length, concerned ? 1 : 0, `${f.name}: ${a.name}`);
          }
        }
        // Guards roll back; the monitoring stack's alarms are the ones that page.
        for (const g of guards) assert.equal(g.actions, undefined);
      }
    });
  }

  it('has the API and every mapping call the live alias, never the function itself', () => {
    const s = synthesize('dev');
    const api = lambda(s, 'api-handler');
    const resources = api.template.toJSON().Resources as Resources;
    const [aliasId] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Alias') ?? [];
    assert.ok(aliasId);
    const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.Integration?.Type === 'AWS_PROXY');
    assert.ok(methods.length >= 10);
    for (const m of methods) {
      const uri = JSON.stringify(m.Properties.Integration.Uri);
      assert.ok(uri.includes(aliasId) && !uri.includes(`"${api.id}"`), uri);
    }
    const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    assert.ok(permissions.length > 0);
    for (const p of permissions) assert.equal(p.Properties.FunctionName.Ref, aliasId);
    const processing = s.templates.processing.toJSON().Resources as Resources;
    const mappings = Object.values(processing).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, topology.event_sources.length);
    for (const m of mappings) {
      const target = JSON.stringify(m.Properties.FunctionName);
      assert.ok(target.includes(':live'), target);
    }
  });
  it("outputs what the pipeline's smoke run reads", () => {
    const s = synthesize('prod');
    const api = s.templates.api.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const name of ['ApiUrl', 'ReturnBinApiKeyId', 'CallerRoleArns']) assert.ok(api[name], name);
    const roles = JSON.stringify(api.CallerRoleArns.Value);
    for (const role of ['operations', 'ordering', 'kitchen', 'intake']) assert.ok(roles.includes(`"${role}"`), role);
    const stateful = s.templates.stateful.toJSON().Outputs as Record<string, unknown>;
    assert.ok(stateful.TestUserClientId);
  });
});

/** The stateful resources the JSON text of `dimensions` points at. */
function referentsOf(s: ReturnType<typeof synthesize>, dimensions: string): string[] {
  return (JSON.parse(dimensions) as { Value: unknown }[]).map((d) => referent(s, d.Value).split('.')[0]);
}
