/** Regenerates docs/architecture.md and the README's diagram from the dev templates. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagramDocument, withReadmeDiagram } from '../lib/diagram.js';
import { WORKSPACE_DIR } from '../lib/topology.js';
import { synthesize } from '../test/helpers.js';

const { templates } = synthesize('dev');
const json = Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, t.toJSON()]));
const target = join(WORKSPACE_DIR, 'docs', 'architecture.md');
writeFileSync(target, diagramDocument(json));
console.log(`wrote ${target}`);
const readme = join(WORKSPACE_DIR, 'README.md');
writeFileSync(readme, withReadmeDiagram(readFileSync(readme, 'utf8'), json));
console.log(`updated the diagram in ${readme}`);
