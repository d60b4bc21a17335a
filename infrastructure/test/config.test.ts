import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFor } from '../lib/config.js';
import { loadTopology } from '../lib/topology.js';
import { configVariables } from '../lib/wiring.js';
import { synthesize } from './helpers.js';

describe('configuration', () => {
  it('selects a typed configuration by name and refuses unknown ones', () => {
    assert.equal(configFor('prod').protectData, true);
    assert.equal(configFor(undefined).name, 'dev');
    assert.throws(() => configFor('qa'), /unknown environment "qa"/);
    assert.equal(configFor('dev', { notifyUrl: 'https://n.example' }).notifyUrl, 'https://n.example');
  });

  it("gives each flow setting topology.json's deployed value unless the environment overrides it", () => {
    const topology = loadTopology();
    const settings = Object.entries(topology.settings ?? {});
    assert.ok(settings.length > 0);
    const dev = configFor('dev');
    for (const [name, s] of settings) assert.equal(configVariables(dev, topology)[name], s.deployed, name);
    const [name] = settings[0];
    assert.equal(configVariables({ ...dev, settings: { [name]: '42' } }, topology)[name], '42');
    assert.throws(() => configVariables({ ...dev, settings: { NUDGE_TYPO: '1' } }, topology), /settings.NUDGE_TYPO is not a setting of topology.json/);
    assert.equal(configVariables(dev, topology).NOTIFY_URL, dev.notifyUrl);
  });

  it('hard-codes no account or region', () => {
    const { templates } = synthesize('staging');
    for (const [name, template] of Object.entries(templates)) {
      const json = JSON.stringify(template.toJSON());
      assert.doesNotMatch(json, /\b\d{12}\b/, `${name}: account id`);
      assert.doesNotMatch(json, /\b(us|eu|ap|sa|ca|me|af)-(east|west|north|south|central|northeast|southeast)-\d\b/, `${name}: region`);
    }
  });
});
