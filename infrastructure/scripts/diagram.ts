/** Regenerates docs/architecture.md, the diagram of the deployed topology, from the dev templates. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagramDocument } from '../lib/diagram.js';
import { WORKSPACE_DIR } from '../lib/topology.js';
import { synthesize } from '../test/helpers.js';

const { templates } = synthesize('dev');
const json = Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, t.toJSON()]));
const target = join(WORKSPACE_DIR, 'docs', 'architecture.md');
writeFileSync(target, diagramDocument(json));
console.log(`wrote ${target}`);
