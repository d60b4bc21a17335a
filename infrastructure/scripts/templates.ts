/** Writes the synthesized templates of every environment to cdk.out/templates/<env>/ without
 * bundling (no Rust build): for cfn-lint, the topology parity test and the diagram. */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { buildSystem } from '../lib/app.js';
import { ENVIRONMENTS, configFor } from '../lib/config.js';
import { INFRASTRUCTURE_DIR, loadTopology } from '../lib/topology.js';

for (const env of ENVIRONMENTS) {
  const outdir = join(INFRASTRUCTURE_DIR, 'cdk.out', 'templates', env);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true } });
  buildSystem(app, configFor(env), loadTopology());
  app.synth();
  console.log(`templates for ${env} in ${outdir}`);
}
