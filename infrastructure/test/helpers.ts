import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildSystem, SystemStacks } from '../lib/app.js';
import { configFor, EnvironmentName } from '../lib/config.js';
import { loadTopology } from '../lib/topology.js';

export interface Synthesized {
  app: App;
  stacks: SystemStacks;
  templates: Record<keyof SystemStacks, Template>;
}

/** The whole system for `env`, synthesized without bundling: tests never build Rust. */
export function synthesize(env: EnvironmentName = 'dev'): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true } });
  const stacks = buildSystem(app, configFor(env), loadTopology());
  return {
    app,
    stacks,
    templates: {
      stateful: Template.fromStack(stacks.stateful),
      api: Template.fromStack(stacks.api),
      processing: Template.fromStack(stacks.processing),
      monitoring: Template.fromStack(stacks.monitoring),
    },
  };
}
