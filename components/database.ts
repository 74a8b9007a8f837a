// RDS PostgreSQL: primary, read replicas, pre-migration snapshots, restore from a snapshot
// (a database rollback restores the pre-migration snapshot as a new instance), the master secret
// and alarms.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { DatabaseConfig, Environment } from "../config";
import { releaseSlug, snapshotIdentifier } from "../conventions";
import { finalSnapshotIdentifier, replicaIdentifier, restoredIdentifier } from "../naming";
import { Tags, withName } from "./tags";

export interface DatabaseArgs {
    /** `staging` or `prod`; every setting of the database itself comes from `database`. */
    environment: Environment;
    /** Identifier, engine version, instance class, storage, replicas and an optional snapshot to restore, from stack config. */
    database: DatabaseConfig;
    /** The VPC of the database's security group. */
    vpcId: pulumi.Input<string>;
    /** Subnets of the DB subnet group (private, one per zone). */
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The only security groups admitted on the PostgreSQL port (the EKS nodes). */
    allowedSecurityGroupIds: pulumi.Input<string>[];
    /** Releases that get a snapshot of the primary before their migrations run. */
    snapshotReleases: string[];
    /** Tags of every AWS resource the component creates (a `Name` is added per resource). */
    tags: Tags;
}

export const POSTGRES_PORT = 5432;
export const CPU_ALARM_PERCENT = 80;
export const FREE_STORAGE_ALARM_FRACTION = 0.1;
export const REPLICA_LAG_ALARM_SECONDS = 30;

/** Settings every instance shares, primary or not. */
interface InstanceBase {
    parameterGroup: aws.rds.ParameterGroup;
    securityGroup: aws.ec2.SecurityGroup;
    key: aws.kms.Key;
}

export class Database extends pulumi.ComponentResource {
    /** Identifier of the primary (the instance snapshots are taken of). */
    readonly identifier: pulumi.Output<string>;
    /** Identifier of the instance the services use: the restored one while restoring. */
    readonly activeIdentifier: pulumi.Output<string>;
    /** `host:port` of the instance the services use: the restored one while restoring. */
    readonly endpoint: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly replicaEndpoints: pulumi.Output<string[]>;
    readonly masterSecretArn: pulumi.Output<string>;
    /** Secret: `postgresql://user:password@host:port/db?sslmode=require` of the instance the services use. */
    readonly connectionUrl: pulumi.Output<string>;
    /** Release → RDS snapshot identifier. */
    readonly snapshotIds: pulumi.Output<Record<string, string>>;
    /** SNS topic the database alarms notify. */
    readonly alarmTopicArn: pulumi.Output<string>;

    private readonly snapshots = new Map<string, aws.rds.Snapshot>();
    private readonly tags: Tags;
    private readonly config: DatabaseConfig;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:aws:Database", name, {}, opts);
        this.tags = args.tags;
        this.config = args.database;

        const base: InstanceBase = {
            key: this.storageKey(name),
            parameterGroup: this.parameterGroup(name),
            securityGroup: this.securityGroup(name, args.vpcId, args.allowedSecurityGroupIds),
        };
        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            { subnetIds: args.privateSubnetIds, description: `${this.config.identifier} private subnets`, tags: this.named("subnets") },
            { parent: this },
        );
        const password = pulumi.secret(new random.RandomPassword(`${name}-master-password`, { length: 32, special: false }, { parent: this }).result);

        const primary = this.primary(name, base, subnetGroup, password);
        const primaryReplicas = this.replicas(name, this.config.identifier, base, primary);
        const restored = this.config.restoreFromSnapshot ? this.restore(name, this.config.restoreFromSnapshot, base, subnetGroup, password) : undefined;
        const active = restored ?? primary;
        // A restored database gets read replicas of its own: the original's replicate the data the
        // rollback is getting away from. The original's stay (protected) until removed by hand.
        const replicas = restored ? this.replicas(`${name}-restore`, restoredIdentifier(this.config.identifier), base, restored) : primaryReplicas;
        args.snapshotReleases.forEach((release) => this.snapshot(name, release, primary));

        this.identifier = primary.identifier;
        this.activeIdentifier = active.identifier;
        this.endpoint = active.endpoint;
        this.address = active.address;
        this.port = active.port;
        this.replicaEndpoints = pulumi.output(replicas.map((r) => r.endpoint));
        this.connectionUrl = pulumi.secret(
            pulumi.interpolate`postgresql://${this.config.username}:${password}@${active.address}:${active.port}/${this.config.dbName}?sslmode=require`,
        );
        this.masterSecretArn = this.masterSecret(name, base.key, active, password).arn;
        this.snapshotIds = pulumi.output(Object.fromEntries([...this.snapshots].map(([release, snapshot]) => [release, snapshot.dbSnapshotIdentifier])));
        this.alarmTopicArn = this.alarms(name, active, replicas).arn;

        this.registerOutputs({
            identifier: this.identifier,
            activeIdentifier: this.activeIdentifier,
            endpoint: this.endpoint,
            port: this.port,
            replicaEndpoints: this.replicaEndpoints,
            masterSecretArn: this.masterSecretArn,
            connectionUrl: this.connectionUrl,
            snapshotIds: this.snapshotIds,
            alarmTopicArn: this.alarmTopicArn,
        });
    }

    /** The pre-migration snapshot of a release; migrations `dependsOn` it. */
    snapshotFor(release: string): aws.rds.Snapshot {
        const snapshot = this.snapshots.get(release);
        if (!snapshot) {
            throw new Error(`no pre-migration snapshot for release ${release}; snapshots exist for: ${[...this.snapshots.keys()].join(", ") || "none"}`);
        }
        return snapshot;
    }

    private named(suffix: string): Tags {
        return withName(this.tags, `${this.config.identifier}-${suffix}`);
    }

    private storageKey(name: string): aws.kms.Key {
        return new aws.kms.Key(
            `${name}-storage`,
            {
                description: `${this.config.identifier} storage, performance insights and master secret`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                tags: this.named("storage"),
            },
            // Without this key the database, its snapshots and the master secret can't be read.
            { parent: this, protect: true },
        );
    }

    /** `engineVersion` may be a major ("16", minors come from autoMinorVersionUpgrade) or "16.4": the family is `postgres16`. */
    private parameterGroup(name: string): aws.rds.ParameterGroup {
        const major = this.config.engineVersion.split(".")[0];
        return new aws.rds.ParameterGroup(
            `${name}-postgres${major}`,
            {
                family: `postgres${major}`,
                description: `${this.config.identifier} PostgreSQL ${major}`,
                parameters: [
                    { name: "rds.force_ssl", value: "1" },
                    { name: "log_connections", value: "1" },
                    { name: "log_disconnections", value: "1" },
                    { name: "log_min_duration_statement", value: "1000" },
                    { name: "log_lock_waits", value: "1" },
                ],
                tags: this.named(`postgres${major}`),
            },
            { parent: this },
        );
    }

    /** No CIDR rule at all: only the given security groups reach PostgreSQL. */
    private securityGroup(name: string, vpcId: pulumi.Input<string>, allowed: pulumi.Input<string>[]): aws.ec2.SecurityGroup {
        const group = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            { vpcId, description: `${this.config.identifier} PostgreSQL`, tags: this.named("sg") },
            { parent: this },
        );
        allowed.forEach(
            (referencedSecurityGroupId, i) =>
                new aws.vpc.SecurityGroupIngressRule(
                    `${name}-postgres-from-${i}`,
                    {
                        securityGroupId: group.id,
                        referencedSecurityGroupId,
                        ipProtocol: "tcp",
                        fromPort: POSTGRES_PORT,
                        toPort: POSTGRES_PORT,
                        description: "PostgreSQL from the EKS nodes",
                        tags: this.named(`postgres-from-${i}`),
                    },
                    { parent: this },
                ),
        );
        return group;
    }

    /**
     * Protections shared by the primary, the replicas and a restored instance. `storageEncrypted` is
     * set on replicas too: they inherit the source's encryption, but the provider reads `true` back
     * and, with the input unset, plans `true -> null` and replaces the replica.
     */
    private protectedSettings(base: InstanceBase): aws.rds.InstanceArgs {
        return {
            instanceClass: this.config.instanceClass,
            storageEncrypted: true,
            // Storage autoscaling on every instance: a replica that fills up stops replicating.
            maxAllocatedStorage: this.config.maxAllocatedStorage,
            publiclyAccessible: false,
            deletionProtection: true,
            performanceInsightsEnabled: true,
            performanceInsightsKmsKeyId: base.key.arn,
            copyTagsToSnapshot: true,
            autoMinorVersionUpgrade: true,
            parameterGroupName: base.parameterGroup.name,
            vpcSecurityGroupIds: [base.securityGroup.id],
            port: POSTGRES_PORT,
            enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        };
    }

    /**
     * What a writable instance (primary or restored) adds: its key, subnets, backups, a final
     * snapshot. Replicas leave `kmsKeyId` unset: in the same region AWS always encrypts them with the
     * source's key and asks not to pass one.
     */
    private writableSettings(base: InstanceBase, identifier: string, subnetGroup: aws.rds.SubnetGroup, password: pulumi.Output<string>): aws.rds.InstanceArgs {
        return {
            ...this.protectedSettings(base),
            identifier,
            engine: "postgres",
            kmsKeyId: base.key.arn,
            storageType: "gp3",
            dbSubnetGroupName: subnetGroup.name,
            password,
            multiAz: this.config.multiAz,
            backupRetentionPeriod: this.config.backupRetentionDays,
            skipFinalSnapshot: false,
            finalSnapshotIdentifier: finalSnapshotIdentifier(identifier),
            tags: withName(this.tags, identifier),
        };
    }

    private primary(name: string, base: InstanceBase, subnetGroup: aws.rds.SubnetGroup, password: pulumi.Output<string>): aws.rds.Instance {
        return new aws.rds.Instance(
            `${name}-primary`,
            {
                ...this.writableSettings(base, this.config.identifier, subnetGroup, password),
                engineVersion: this.config.engineVersion,
                allocatedStorage: this.config.allocatedStorage,
                dbName: this.config.dbName,
                username: this.config.username,
            },
            { parent: this, protect: true },
        );
    }

    /**
     * A new instance next to the original. The database name, user, engine version and allocated
     * storage come from the snapshot. Given here, the provider would follow the restore with a
     * ModifyDBInstance to the configured values: to a bare major version ("16") on a 16.x instance,
     * and to less storage than autoscaling may have grown the primary to, which RDS refuses.
     */
    private restore(name: string, snapshot: string, base: InstanceBase, subnetGroup: aws.rds.SubnetGroup, password: pulumi.Output<string>): aws.rds.Instance {
        return new aws.rds.Instance(
            `${name}-restore`,
            { ...this.writableSettings(base, restoredIdentifier(this.config.identifier), subnetGroup, password), snapshotIdentifier: snapshot },
            { parent: this, protect: true },
        );
    }

    private replicas(name: string, sourceIdentifier: string, base: InstanceBase, source: aws.rds.Instance): aws.rds.Instance[] {
        return Array.from({ length: this.config.readReplicas }, (_, i) => this.replica(name, replicaIdentifier(sourceIdentifier, i + 1), i + 1, base, source));
    }

    private replica(name: string, identifier: string, index: number, base: InstanceBase, source: aws.rds.Instance): aws.rds.Instance {
        return new aws.rds.Instance(
            `${name}-replica-${index}`,
            {
                ...this.protectedSettings(base),
                identifier,
                replicateSourceDb: source.identifier,
                // AWS refuses a final snapshot when deleting a replica; its data lives on the primary.
                skipFinalSnapshot: true,
                backupRetentionPeriod: 0,
                tags: withName(this.tags, identifier),
            },
            { parent: this, protect: true },
        );
    }

    /** Kept when the release leaves the config: a backup must outlive the code that made it. */
    private snapshot(name: string, release: string, primary: aws.rds.Instance): void {
        const id = snapshotIdentifier(this.config.identifier, release);
        const snapshot = new aws.rds.Snapshot(
            `${name}-snapshot-${releaseSlug(release)}`,
            { dbInstanceIdentifier: primary.identifier, dbSnapshotIdentifier: id, tags: { ...withName(this.tags, id), release } },
            { parent: this, retainOnDelete: true },
        );
        this.snapshots.set(release, snapshot);
    }

    private masterSecret(name: string, key: aws.kms.Key, active: aws.rds.Instance, password: pulumi.Output<string>): aws.secretsmanager.Secret {
        const secret = new aws.secretsmanager.Secret(
            `${name}-master`,
            {
                name: `${this.config.identifier}/master`,
                description: `${this.config.identifier} master user`,
                kmsKeyId: key.arn,
                recoveryWindowInDays: 30,
                tags: this.named("master"),
            },
            { parent: this },
        );
        new aws.secretsmanager.SecretVersion(
            `${name}-master`,
            {
                secretId: secret.id,
                secretString: pulumi.secret(
                    pulumi.jsonStringify({
                        engine: "postgres",
                        username: this.config.username,
                        password,
                        host: active.address,
                        port: active.port,
                        dbname: this.config.dbName,
                    }),
                ),
            },
            { parent: this },
        );
        return secret;
    }

    /**
     * Alarms notify an SNS topic (subscribe the on-call tool to it). Left unencrypted on purpose:
     * CloudWatch can't publish to a topic under an AWS-managed key, and alarm states carry no data.
     */
    private alarms(name: string, active: aws.rds.Instance, replicas: aws.rds.Instance[]): aws.sns.Topic {
        const topic = new aws.sns.Topic(`${name}-alarms`, { name: `${this.config.identifier}-alarms`, tags: this.named("alarms") }, { parent: this });
        const freeStorageBytes = this.config.allocatedStorage * FREE_STORAGE_ALARM_FRACTION * 1024 ** 3;
        this.alarm(name, "cpu", active, topic, {
            metricName: "CPUUtilization",
            comparisonOperator: "GreaterThanThreshold",
            threshold: CPU_ALARM_PERCENT,
            alarmDescription: `CPU above ${CPU_ALARM_PERCENT}% for 15 minutes`,
        });
        this.alarm(name, "free-storage", active, topic, {
            metricName: "FreeStorageSpace",
            comparisonOperator: "LessThanThreshold",
            threshold: freeStorageBytes,
            alarmDescription: `free storage below ${FREE_STORAGE_ALARM_FRACTION * 100}% of the allocated ${this.config.allocatedStorage} GiB`,
        });
        replicas.forEach((replica, i) =>
            this.alarm(name, `replica-${i + 1}-lag`, replica, topic, {
                metricName: "ReplicaLag",
                comparisonOperator: "GreaterThanThreshold",
                threshold: REPLICA_LAG_ALARM_SECONDS,
                alarmDescription: `replica lag above ${REPLICA_LAG_ALARM_SECONDS} s`,
            }),
        );
        return topic;
    }

    private alarm(
        name: string,
        suffix: string,
        instance: aws.rds.Instance,
        topic: aws.sns.Topic,
        spec: { metricName: string; comparisonOperator: string; threshold: number; alarmDescription: string },
    ): aws.cloudwatch.MetricAlarm {
        return new aws.cloudwatch.MetricAlarm(
            `${name}-${suffix}`,
            {
                ...spec,
                namespace: "AWS/RDS",
                dimensions: { DBInstanceIdentifier: instance.identifier },
                statistic: "Average",
                period: 300,
                evaluationPeriods: 3,
                alarmActions: [topic.arn],
                okActions: [topic.arn],
                tags: this.named(suffix),
            },
            { parent: this },
        );
    }
}
