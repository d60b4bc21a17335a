import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFor } from '../lib/config.js';
import { synthesize } from './helpers.js';

describe('configuration', () => {
  it('selects a typed configuration by name and refuses unknown ones', () => {
    assert.equal(configFor('prod').protectData, true);
    assert.equal(configFor(undefined).name, 'dev');
    assert.throws(() => configFor('qa'), /unknown environment "qa"/);
    assert.equal(configFor('dev', { notifyUrl: 'https://n.example' }).notifyUrl, 'https://n.example');
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
