import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildSystem } from '../lib/app.js';
import { configFor } from '../lib/config.js';
import { loadTopology } from '../lib/topology.js';

const app = new App();
const config = configFor(app.node.tryGetContext('env'), {
  notifyUrl: app.node.tryGetContext('notifyUrl'),
  alarmEmail: app.node.tryGetContext('alarmEmail'),
});
buildSystem(app, config, loadTopology());
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
