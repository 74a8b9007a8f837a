// The shape of a validated stack configuration. A new key gets its field here (documented), its
// read in `parse.ts`, and its declaration in Pulumi.yaml (test/project.test.ts checks all three agree).
import type { AnalysisConfig } from "../metrics/analysis";

export const PROJECT = "release-platform";

export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];
export const ENVIRONMENTS = ["staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface ColorConfig {
    /** Image tag or digest (`sha256:…`) deployed on this color. */
    version: string;
    replicas: number;
}

export interface AutoscalingConfig {
    minReplicas: number;
    maxReplicas: number;
    targetCpuUtilization: number;
}

export interface ServiceConfig {
    name: string;
    /** Image repository without tag, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform/auth-service`. */
    image: string;
    port: number;
    /** Path prefix on the public host, e.g. `/v1/auth`. */
    path: string;
    live: Color;
    blue: ColorConfig;
    green: ColorConfig;
    autoscaling: AutoscalingConfig;
    /** When the live color last changed (a promote or a rollback), ISO 8601 with offset; the rollback window runs from it. */
    promotedAt?: string;
}

export interface ClusterConfig {
    kubernetesVersion: string;
    publicAccessCidrs: string[];
    nodeInstanceTypes: string[];
    nodeMinSize: number;
    nodeDesiredSize: number;
    nodeMaxSize: number;
    nodeDiskSize: number;
    /** IAM roles granted cluster-admin through EKS access entries (operators, CI). */
    adminRoleArns: string[];
}

export interface DatabaseConfig {
    /** RDS instance identifier, e.g. `prod-db`; snapshots are named `<identifier>-snapshot-<release>`. */
    identifier: string;
    engineVersion: string;
    instanceClass: string;
    allocatedStorage: number;
    maxAllocatedStorage: number;
    backupRetentionDays: number;
    multiAz: boolean;
    readReplicas: number;
    dbName: string;
    username: string;
    /** When set, a new instance is restored from this snapshot and the services point at it. */
    restoreFromSnapshot?: string;
}

export interface MigrationConfig {
    /** Release whose migrations need a snapshot first, e.g. `1.2.3`. */
    release: string;
    /** Full image reference with tag or digest that carries the migration command. */
    image: string;
    command: string[];
}

export interface IngressConfig {
    host: string;
    /** ACM certificate for the ALB listener; without it the controller discovers one by host. */
    certificateArn?: string;
}

export interface ReleaseConfig {
    /** The release being rolled out, e.g. `1.2.3`. */
    version: string;
    /** When the change is planned to be applied (ISO 8601 with offset); checked against the change window. */
    scheduledAt?: string;
    /** A hotfix may be applied outside the change window. */
    hotfix: boolean;
    /** The metric analysis that watches the release (runbook defaults for keys left out). */
    analysis: AnalysisConfig;
}

/** Where alerts go; the receivers' credentials are only available as secrets (`alertingSecrets`). */
export interface AlertingConfig {
    /** Whether critical alerts page on-call (`alertPagingRoutingKey` is set); every alert goes to chat. */
    paging: boolean;
}

export interface StackConfig {
    project: string;
    stack: string;
    /** `aws:region`: the zones and the ACM certificate are in it. */
    region: string;
    environment: Environment;
    owner: string;
    availabilityZones: string[];
    vpcCidr: string;
    namespace: string;
    cluster: ClusterConfig;
    database: DatabaseConfig;
    migrations: MigrationConfig[];
    services: ServiceConfig[];
    ingress: IngressConfig;
    release: ReleaseConfig;
    /** How long the previous color stays runnable after a promote (`15m`, `24h`, `2d`) before it may be scaled to 0. */
    rollbackWindow: string;
    maintenance: boolean;
    smokeTestImage: string;
    maintenanceImage: string;
    /** Whether `redisUrl` is configured; the value itself is only available as a secret. */
    hasRedisUrl: boolean;
    /** The alert receivers (chat, and paging for critical alerts). */
    alerting: AlertingConfig;
}

/** One problem with one key. */
export interface ConfigProblem {
    key: string;
    message: string;
}

export class StackConfigError extends Error {
    constructor(
        readonly problems: ConfigProblem[],
        readonly source: string,
    ) {
        super(
            `Invalid stack configuration (${source}): ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
        this.name = "StackConfigError";
    }
}

/** Colors other than the given one. */
export function idleColor(live: Color): Color {
    return live === "blue" ? "green" : "blue";
}
