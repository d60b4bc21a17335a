import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The environments this app deploys; `-c env=<name>` selects one. */
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** Everything that differs between environments. Account and region come from the CLI's
 * credentials at deploy time (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION), never from here. */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Prefix of every stack name. */
  readonly stackPrefix: string;
  readonly logRetention: RetentionDays;
  /** Tables and their data survive `cdk destroy` and cannot be deleted by accident. */
  readonly protectData: boolean;
  readonly corsAllowOrigins: string[];
  readonly apiThrottle: { rateLimit: number; burstLimit: number };
  /** The web ACL's per-IP rule: requests one address may send in any 5 minutes (WAF's window)
   * before it is blocked; above the stage's throttle over 5 minutes it would never act. */
  readonly webAclRatePerIpPer5Minutes: number;
  /** Requests per day for each return bin's API key. */
  readonly returnBinQuotaPerDay: number;
  /** The return bins, one API key each (named `<stackPrefix>-<bin>`): a return records the id
   * of the key it came with. Letters, digits and dashes. */
  readonly returnBins: readonly string[];
  readonly apiLatencyAlarmP99: Duration;
  /** How a deploy moves each function's `live` alias to its new version (CodeDeploy): all at
   * once, or a canary share first and the rest when its alarms stayed quiet (see
   * `TRAFFIC_SHIFTS`). Any alarm guarding the function rolls it back. */
  readonly trafficShift: TrafficShift;
  /** Base URL of the notification service (`POST {url}/v1/notify`). */
  readonly notifyUrl: string;
  /** This environment's values of flow settings where they differ from topology.json's
   * `deployed` value, by variable name (one topology.json does not declare fails synthesis,
   * naming it). Each flow's page says what its settings mean. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Optional e-mail subscribed to the alarm topic. */
  readonly alarmEmail?: string;
}

/** The traffic shifts a deploy may use, by CodeDeploy's predefined configurations. */
export const TRAFFIC_SHIFTS = {
  allAtOnce: LambdaDeploymentConfig.ALL_AT_ONCE,
  canary10Percent5Minutes: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  canary10Percent10Minutes: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  linear10PercentEvery1Minute: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
} as const;
export type TrafficShift = keyof typeof TRAFFIC_SHIFTS;

const common = {
  apiLatencyAlarmP99: Duration.seconds(1),
};

export const CONFIGS: Record<EnvironmentName, EnvironmentConfig> = {
  dev: {
    ...common,
    name: 'dev',
    stackPrefix: 'Rentals-dev',
    logRetention: RetentionDays.ONE_WEEK,
    protectData: false,
    corsAllowOrigins: ['http://localhost:3000'],
    apiThrottle: { rateLimit: 50, burstLimit: 100 },
    returnBinQuotaPerDay: 10_000,
    returnBins: ['dev-bin-01', 'dev-bin-02'],
    webAclRatePerIpPer5Minutes: 3_000,
    trafficShift: 'allAtOnce',
    notifyUrl: 'https://notify.dev.rentals.example.com',
  },
  staging: {
    ...common,
    name: 'staging',
    stackPrefix: 'Rentals-staging',
    logRetention: RetentionDays.ONE_MONTH,
    protectData: false,
    corsAllowOrigins: ['https://staging.rentals.example.com'],
    apiThrottle: { rateLimit: 200, burstLimit: 400 },
    returnBinQuotaPerDay: 50_000,
    returnBins: ['staging-bin-01', 'staging-bin-02'],
    webAclRatePerIpPer5Minutes: 6_000,
    trafficShift: 'canary10Percent5Minutes',
    notifyUrl: 'https://notify.staging.rentals.example.com',
  },
  prod: {
    ...common,
    name: 'prod',
    stackPrefix: 'Rentals-prod',
    logRetention: RetentionDays.SIX_MONTHS,
    protectData: true,
    corsAllowOrigins: ['https://rentals.example.com'],
    apiThrottle: { rateLimit: 1000, burstLimit: 2000 },
    returnBinQuotaPerDay: 100_000,
    returnBins: ['topanga-location-01', 'topanga-location-02', 'topanga-location-03'],
    webAclRatePerIpPer5Minutes: 15_000,
    trafficShift: 'canary10Percent5Minutes',
    notifyUrl: 'https://notify.rentals.example.com',
  },
};

/** The configuration `-c env=<name>` selects; `-c notifyUrl=…` and `-c alarmEmail=…` override
 * those two values. */
export function configFor(name: unknown, overrides: { notifyUrl?: unknown; alarmEmail?: unknown } = {}): EnvironmentConfig {
  const env = String(name ?? 'dev');
  if (!(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw new Error(`unknown environment "${env}": use -c env=${ENVIRONMENTS.join('|')}`);
  }
  const base = CONFIGS[env as EnvironmentName];
  return {
    ...base,
    notifyUrl: typeof overrides.notifyUrl === 'string' ? overrides.notifyUrl : base.notifyUrl,
    alarmEmail: typeof overrides.alarmEmail === 'string' ? overrides.alarmEmail : base.alarmEmail,
  };
}

export function removalPolicy(config: EnvironmentConfig): RemovalPolicy {
  return config.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
