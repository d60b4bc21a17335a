import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTopology } from '../lib/topology.js';
import { grantsOf, implied, synthesize } from './helpers.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const topology = loadTopology();
const resourcesOf = (grants: string[], action: string) =>
  [...new Set(grants.filter((g) => g.startsWith(`${action} on `)).map((g) => g.slice(action.length + 4)))].sort();

describe('least privilege', () => {
  const s = synthesize('prod');
  const statements: [string, Statement][] = Object.entries(s.templates).flatMap(([stack, t]) =>
    Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).map((st): [string, Statement] => [stack, st]),
    ),
  );

  it('puts no data-plane action on "*"', () => {
    // ListStreams is account-level by design; X-Ray actions have no resource.
    const allowedOnStar = /^(xray:|dynamodb:ListStreams$)/;
    for (const [stack, st] of statements) {
      const resources = [st.Resource].flat();
      if (!resources.includes('*')) continue;
      for (const action of [st.Action].flat()) {
        assert.match(action, allowedOnStar, `${stack}: ${action} on "*"`);
      }
    }
  });

  it('grants no wildcard actions', () => {
    for (const [stack, st] of statements) {
      for (const action of [st.Action].flat()) {
        assert.ok(!action.endsWith(':*') && action !== '*', `${stack}: ${action}`);
      }
    }
  });

  for (const f of topology.functions) {
    const sources = topology.event_sources.filter((e) => e.function === f.name);
    const consumed = sources.flatMap((e) => ('queue' in e ? [`Queue-${e.queue}.Arn`] : []));
    const streams = sources.flatMap((e) => ('table' in e ? [`Table-${e.table}.StreamArn`] : []));
    // A stream mapping hands records that keep failing to the relay failure queue.
    const failures = streams.length > 0 ? ['RelayFailures.Arn'] : [];

    it(`gives ${f.name} exactly the DynamoDB actions its uses lists, on exactly those tables and indexes`, () => {
      const grants = grantsOf(s, f.name);
      const onTables = grants.filter((g) => g.startsWith('dynamodb:') && !g.endsWith('.StreamArn') && !g.endsWith(' on *'));
      assert.deepEqual(onTables, implied(topology, f.name).dynamodb);
      const onStreams = grants.filter((g) => g.endsWith('.StreamArn'));
      assert.deepEqual([...new Set(onStreams.map((g) => g.split(' on ')[1]))], streams, 'only the streams it is mapped to');
    });

    it(`lets ${f.name} send and publish only where its uses says, and receive only from its queues`, () => {
      const grants = grantsOf(s, f.name);
      const expected = implied(topology, f.name);
      assert.deepEqual(resourcesOf(grants, 'sqs:SendMessage'), [...expected.send, ...failures].sort());
      assert.deepEqual(resourcesOf(grants, 'sns:Publish'), expected.publish);
      assert.deepEqual(resourcesOf(grants, 'sqs:ReceiveMessage'), [...consumed].sort());
      const allowed = new Set([
        ...expected.dynamodb.map((g) => g.split(' on ')[1]),
        ...expected.send, ...expected.publish, ...consumed, ...streams, ...failures, '*',
      ]);
      for (const g of grants) assert.ok(allowed.has(g.split(' on ')[1]), `${f.name}: ${g}`);
    });
  }
});
