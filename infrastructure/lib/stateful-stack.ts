import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import { AccountRecovery, Mfa, UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EnvironmentConfig, removalPolicy } from './config.js';
import { Topology, isFifo, queueVisibilitySeconds } from './topology.js';

export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly topology: Topology;
}

export interface QueuePair {
  readonly queue: Queue;
  readonly dlq: Queue;
}

/** Data and messaging: tables (the outbox with its stream), FIFO queues each with a FIFO
 * dead-letter queue, the domain-events FIFO topic and its filtered subscriptions. */
export class StatefulStack extends Stack {
  readonly tables = new Map<string, Table>();
  readonly queues = new Map<string, QueuePair>();
  readonly topics = new Map<string, Topic>();
  /** Where the outbox relay's stream records go when they keep failing (streams need a
   * standard queue as failure destination). */
  readonly relayFailures: Queue;
  /** The fitness app's users: the app signs them in (SRP) and calls `/v1/*` with their token. */
  readonly appUsers: UserPool;
  readonly appClient: UserPoolClient;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config, topology } = props;

    for (const t of topology.tables) {
      const table = new Table(this, `Table-${t.name}`, {
        partitionKey: { name: t.partition_key, type: AttributeType.STRING },
        sortKey: t.sort_key ? { name: t.sort_key, type: AttributeType.STRING } : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: config.protectData,
        removalPolicy: removalPolicy(config),
        stream: t.stream ? StreamViewType.NEW_IMAGE : undefined,
        timeToLiveAttribute: t.ttl_attribute,
      });
      for (const index of t.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partition_key, type: AttributeType.STRING },
          sortKey: index.sort_key ? { name: index.sort_key, type: AttributeType.STRING } : undefined,
          projectionType: ProjectionType.ALL,
        });
      }
      this.tables.set(t.name, table);
    }

    for (const q of topology.queues) {
      const fifo = isFifo(q);
      // Named as the local stack names them, so `make dlq` and `make redrive` find them.
      const named = (base: string) => `${config.stackPrefix}-${base}${fifo ? '.fifo' : ''}`;
      const dlq = new Queue(this, `Queue-${q.name}-dlq`, {
        queueName: named(`${q.name}-dlq`),
        fifo: fifo || undefined,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const queue = new Queue(this, `Queue-${q.name}`, {
        queueName: named(q.name),
        fifo: fifo || undefined,
        contentBasedDeduplication: fifo ? false : undefined,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(queueVisibilitySeconds(topology, q.name)),
        deadLetterQueue: { queue: dlq, maxReceiveCount: topology.max_receive_count },
      });
      this.queues.set(q.name, { queue, dlq });
    }

    const snsKey = Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns');
    for (const t of topology.topics) {
      this.topics.set(
        t.name,
        new Topic(this, `Topic-${t.name}`, {
          fifo: true,
          contentBasedDeduplication: false,
          masterKey: snsKey,
          enforceSSL: true,
        }),
      );
    }
    for (const s of topology.subscriptions) {
      this.topic(s.topic).addSubscription(
        new SqsSubscription(this.queue(s.queue).queue, {
          rawMessageDelivery: true,
          filterPolicy: { event_type: SubscriptionFilter.stringFilter({ allowlist: s.event_types }) },
        }),
      );
    }

    this.appUsers = new UserPool(this, 'AppUsers', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      deletionProtection: config.protectData,
      removalPolicy: removalPolicy(config),
    });
    // A public client (a mobile app keeps no secret): SRP sign-in and refresh only.
    this.appClient = this.appUsers.addClient('MobileApp', {
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
    });
    // The environment's test users (load and smoke runs) sign in with a password, which a
    // program can send and SRP makes hard; a client of its own keeps the app's client SRP-only.
    const testUserClient = this.appUsers.addClient('TestUsers', {
      generateSecret: false,
      authFlows: { userPassword: true },
      preventUserExistenceErrors: true,
    });
    new CfnOutput(this, 'AppUserPoolId', { value: this.appUsers.userPoolId, description: 'Cognito user pool of the fitness app' });
    new CfnOutput(this, 'AppClientId', { value: this.appClient.userPoolClientId, description: 'App client the mobile app signs in with' });
    new CfnOutput(this, 'TestUserClientId', {
      value: testUserClient.userPoolClientId,
      description: "Client the environment's test users sign in with (password): make load, make smoke",
    });

    this.relayFailures = new Queue(this, 'RelayFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  table(name: string): Table {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }

  queue(name: string): QueuePair {
    const q = this.queues.get(name);
    if (!q) throw new Error(`no queue ${name}`);
    return q;
  }

  topic(name: string): Topic {
    const t = this.topics.get(name);
    if (!t) throw new Error(`no topic ${name}`);
    return t;
  }
}
