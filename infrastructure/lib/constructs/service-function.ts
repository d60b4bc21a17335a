import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Alias, ApplicationLogLevel, Architecture, LoggingFormat, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { EnvironmentConfig, TRAFFIC_SHIFTS } from '../config.js';
import { Topology, WORKSPACE_DIR, functionSpec, resolveUses } from '../topology.js';
import { UsableResources, configVariables, grantUses, usesEnvironment } from '../wiring.js';

export interface ServiceFunctionProps {
  /** The Cargo binary (and topology.json function) name. */
  readonly binary: string;
  readonly topology: Topology;
  readonly config: EnvironmentConfig;
  /** Where the tables, queues and topics of the function's `uses` live. */
  readonly resources: UsableResources;
  /** Variables that name no resource and no deployment setting. */
  readonly environment?: Record<string, string>;
}

/** The alias every caller invokes (the API's integration, every event source mapping). */
export const LIVE_ALIAS = 'live';
/** Guard alarms read one-minute periods: a canary's few minutes must be enough to see trouble. */
export const GUARD_PERIOD = Duration.minutes(1);

/** Every Rust function of the workspace, built the same way: cargo-lambda-cdk from the
 * workspace manifest, arm64 on provided.al2023, JSON logs at the level Lambda's logging controls set (INFO) in a log group with retention,
 * X-Ray tracing, description, timeout, memory and reserved concurrency from topology.json. Its environment and its grants both come
 * from its `uses` in topology.json, so the variables it reads and what it may do cannot drift
 * apart, and the local stack wires the same names. */
export class ServiceFunction extends Construct {
  readonly fn: RustFunction;
  readonly logGroup: LogGroup;
  /** `live`: the version callers get. A deploy publishes a version and CodeDeploy moves the
   * alias to it as the environment's `trafficShift` says, rolling back on any guard alarm. */
  readonly alias: Alias;
  readonly deployment: LambdaDeploymentGroup;
  /** The alarms that roll a deploy of this function back. */
  readonly guards: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const { binary, topology, config, resources } = props;
    const spec = functionSpec(topology, binary);
    const uses = resolveUses(topology, binary);
    const wired = usesEnvironment(binary, uses, resources, configVariables(config));
    // No RUST_LOG: it would override the log level an operator sets on the function (Lambda's
    // advanced logging controls, AWS_LAMBDA_LOG_LEVEL), which the functions follow.
    const fixed: Record<string, string> = { ...props.environment };
    for (const name of Object.keys(fixed)) {
      if (name in wired) throw new Error(`${binary}: ${name} is set both in code and by its uses in topology.json`);
    }
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: config.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new RustFunction(this, 'Function', {
      manifestPath: join(WORKSPACE_DIR, 'Cargo.toml'),
      binaryName: binary,
      architecture: Architecture.ARM_64,
      description: spec.description,
      timeout: Duration.seconds(spec.timeout_seconds),
      memorySize: spec.memory_mb,
      reservedConcurrentExecutions: spec.reserved_concurrency,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      environment: { ...fixed, ...wired },
    });
    grantUses(this.fn, uses, resources);

    this.alias = new Alias(this, 'Live', { aliasName: LIVE_ALIAS, version: this.fn.currentVersion });
    this.deployment = new LambdaDeploymentGroup(this, 'Deployment', {
      alias: this.alias,
      deploymentConfig: TRAFFIC_SHIFTS[config.trafficShift],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    this.guard('Errors', this.alias.metricErrors({ period: GUARD_PERIOD, statistic: 'Sum' }), 1, `${binary} (live) reported errors.`);
    this.guard('Throttles', this.alias.metricThrottles({ period: GUARD_PERIOD, statistic: 'Sum' }), 1, `${binary} (live) was throttled.`);
  }

  /** An alarm that rolls a deploy of this function back while it is in alarm (no notification:
   * the monitoring stack's alarms page people). */
  guard(
    id: string,
    metric: IMetric,
    threshold: number,
    description: string,
    comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): Alarm {
    const alarm = new Alarm(this, `Guard${id}`, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `Rolls back a deploy of ${this.node.id}: ${description}`,
    });
    this.deployment.addAlarm(alarm);
    this.guards.push(alarm);
    return alarm;
  }
}
