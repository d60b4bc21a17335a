import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { EnvironmentConfig } from '../config.js';
import { Topology, WORKSPACE_DIR, functionSpec } from '../topology.js';

export interface ServiceFunctionProps {
  /** The Cargo binary (and topology.json function) name. */
  readonly binary: string;
  readonly description: string;
  readonly topology: Topology;
  readonly config: EnvironmentConfig;
  readonly environment: Record<string, string>;
}

/** Every Rust function of the workspace, built the same way: cargo-lambda-cdk from the
 * workspace manifest, arm64 on provided.al2023, JSON logs in a log group with retention,
 * X-Ray tracing, timeout and memory from topology.json. */
export class ServiceFunction extends Construct {
  readonly fn: RustFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const spec = functionSpec(props.topology, props.binary);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.config.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new RustFunction(this, 'Function', {
      manifestPath: join(WORKSPACE_DIR, 'Cargo.toml'),
      binaryName: props.binary,
      architecture: Architecture.ARM_64,
      description: props.description,
      timeout: Duration.seconds(spec.timeout_seconds),
      memorySize: spec.memory_mb,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      environment: { RUST_LOG: 'info', ...props.environment },
    });
  }

  /** Exactly `actions` on exactly `table` (or one of its indexes). */
  allowTable(table: ITable, actions: string[], index?: string): void {
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [index ? `${table.tableArn}/index/${index}` : table.tableArn],
      }),
    );
  }
}
