import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTopology, resolveUses, Topology } from '../lib/topology.js';
import { synthesize } from './helpers.js';

/** topology.json with `change` applied to a copy. */
function changed(change: (t: Topology) => void): Topology {
  const t = structuredClone(loadTopology());
  change(t);
  return t;
}

const uses = (t: Topology, name: string) => {
  const f = t.functions.find((x) => x.name === name);
  assert.ok(f?.uses);
  return f.uses;
};

describe('uses in topology.json', () => {
  it('resolves every function against the resources topology.json defines', () => {
    const t = loadTopology();
    for (const f of t.functions) assert.doesNotThrow(() => resolveUses(t, f.name), f.name);
    const relay = resolveUses(t, 'outbox-relay');
    const sends = t.functions.find((f) => f.name === 'outbox-relay')?.uses?.send ?? [];
    assert.deepEqual(relay.send.map((q) => q.name), sends);
    assert.ok(relay.send.every((q) => q.env.endsWith('_QUEUE_URL')));
    assert.deepEqual(relay.publish.map((x) => x.env), ['DOMAIN_EVENTS_TOPIC_ARN']);
    const index = resolveUses(t, 'api-handler').tables.find((x) => x.index);
    assert.deepEqual([index?.table.name, index?.index, index?.actions], ['rentals', 'by_user', ['Query']]);
  });

  it('fails synthesis, naming the function and the entry, when uses names what is not defined', () => {
    const cases: [string, (t: Topology) => void, RegExp][] = [
      ['table', (t) => { uses(t, 'notifier').tables = { ledger: ['GetItem'] }; }, /function notifier uses table "ledger", which topology.json does not define \(defined: users,/],
      ['index', (t) => { uses(t, 'api-handler').tables = { 'rentals/by_asset': ['Query'] }; }, /function api-handler uses index "rentals\/by_asset".*\(defined: rentals\/by_user\)/],
      ['queue', (t) => { uses(t, 'outbox-relay').send = ['work']; }, /function outbox-relay uses queue "work", which topology.json does not define/],
      ['topic', (t) => { uses(t, 'outbox-relay').publish = ['events']; }, /function outbox-relay uses topic "events", which topology.json does not define/],
      ['config', (t) => { uses(t, 'notifier').config = ['SMTP_HOST']; }, /function notifier needs config SMTP_HOST, which this app does not supply/],
    ];
    for (const [what, change, message] of cases) {
      assert.throws(() => synthesize('dev', changed(change)), message, what);
    }
  });

  it('refuses wildcards, prefixed and empty action lists', () => {
    for (const actions of [['*'], ['dynamodb:GetItem'], ['Get*'], []]) {
      const t = changed((x) => { uses(x, 'notifier').tables = { processed: actions }; });
      assert.throws(() => resolveUses(t, 'notifier'), /function notifier uses table "processed" with/, JSON.stringify(actions));
    }
  });

  it('refuses two resources behind one variable', () => {
    const t = changed((x) => {
      const queue = x.queues.find((q) => q.name === 'tasks');
      assert.ok(queue);
      queue.env = 'TASKS_TABLE';
      uses(x, 'queue-processor').send = ['tasks'];
    });
    assert.throws(() => synthesize('dev', t), /queue-processor gets TASKS_TABLE from both table tasks and queue tasks/);
  });
});
