// The one place that reads and validates the stack configuration.
//
// `parseStackConfig` is a pure function of the raw config map (the `project:key` → string map that
// the Pulumi CLI hands a program); it collects every mistake and throws one `StackConfigError`
// that lists them all, so a bad stack file fails before a single resource is registered.
import * as pulumi from "@pulumi/pulumi";

export const PROJECT = "release-platform";

/** Stands in for a `secure:` value that can't be decrypted offline; format checks skip it. */
export const OFFLINE_SECRET_PLACEHOLDER = "[secret: not decrypted offline]";

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
    tlsSecretName: string;
}

export interface ReleaseConfig {
    /** The release being rolled out, e.g. `1.2.3`. */
    version: string;
    /** When the change is planned to be applied (ISO 8601 with offset); checked against the change window. */
    scheduledAt?: string;
    /** A hotfix may be applied outside the change window. */
    hotfix: boolean;
}

export interface StackConfig {
    project: string;
    stack: string;
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
    maintenance: boolean;
    smokeTestImage: string;
    maintenanceImage: string;
    /** Whether `redisUrl` is configured; the value itself is only available as a secret. */
    hasRedisUrl: boolean;
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

/** Top-level keys this program reads, with the Pulumi.yaml declaration they correspond to. */
export const TOP_LEVEL_KEYS = [
    "environment",
    "owner",
    "availabilityZones",
    "vpcCidr",
    "namespace",
    "cluster",
    "database",
    "migrations",
    "services",
    "ingress",
    "release",
    "maintenance",
    "smokeTestImage",
    "maintenanceImage",
    "redisUrl",
] as const;

const CLUSTER_KEYS = [
    "kubernetesVersion",
    "publicAccessCidrs",
    "nodeInstanceTypes",
    "nodeMinSize",
    "nodeDesiredSize",
    "nodeMaxSize",
    "nodeDiskSize",
    "adminRoleArns",
];
const DATABASE_KEYS = [
    "identifier",
    "engineVersion",
    "instanceClass",
    "allocatedStorage",
    "maxAllocatedStorage",
    "backupRetentionDays",
    "multiAz",
    "readReplicas",
    "dbName",
    "username",
    "restoreFromSnapshot",
];
const SERVICE_KEYS = ["image", "port", "path", "live", "blue", "green", "autoscaling"];
const COLOR_KEYS = ["version", "replicas"];
const AUTOSCALING_KEYS = ["minReplicas", "maxReplicas", "targetCpuUtilization"];
const MIGRATION_KEYS = ["release", "image", "command"];
const INGRESS_KEYS = ["host", "certificateArn", "tlsSecretName"];
const RELEASE_KEYS = ["version", "scheduledAt", "hotfix"];

/** Oldest Kubernetes minor version EKS still supports that this program accepts. */
export const MIN_KUBERNETES_MINOR = 28;

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;
const SNAPSHOT_ID = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
const VERSION_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Collects problems while walking the raw config. */
class Checker {
    readonly problems: ConfigProblem[] = [];

    fail(key: string, message: string): undefined {
        this.problems.push({ key, message });
        return undefined;
    }

    object(key: string, value: unknown): Record<string, unknown> | undefined {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            return this.fail(key, `expected an object, got ${describe(value)}`);
        }
        return value as Record<string, unknown>;
    }

    /** Flags keys that are not in `known`, suggesting the closest known key. */
    knownKeys(prefix: string, value: Record<string, unknown>, known: readonly string[]): void {
        for (const k of Object.keys(value)) {
            if (!known.includes(k)) {
                const hint = closest(k, known);
                this.fail(
                    `${prefix}.${k}`,
                    `unknown key${hint ? `; did you mean '${prefix}.${hint}'?` : ""} (allowed: ${known.join(", ")})`,
                );
            }
        }
    }

    string(key: string, value: unknown, opts: { pattern?: RegExp; allowed?: string } = {}): string | undefined {
        if (typeof value !== "string" || value.trim() === "") {
            return this.fail(key, `expected a non-empty string, got ${describe(value)}`);
        }
        if (opts.pattern && !opts.pattern.test(value)) {
            return this.fail(key, `${JSON.stringify(value)} is not valid; allowed: ${opts.allowed ?? opts.pattern.source}`);
        }
        return value;
    }

    oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T | undefined {
        if (typeof value !== "string" || !allowed.includes(value as T)) {
            return this.fail(key, `${describe(value)} is not allowed; allowed: ${allowed.join(" | ")}`);
        }
        return value as T;
    }

    integer(key: string, value: unknown, min: number, max: number): number | undefined {
        const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n)) {
            return this.fail(key, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
        }
        if (n < min || n > max) {
            return this.fail(key, `${n} is out of range; allowed: ${min} to ${max}`);
        }
        return n;
    }

    boolean(key: string, value: unknown): boolean | undefined {
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        return this.fail(key, `expected true or false, got ${describe(value)}`);
    }

    stringList(key: string, value: unknown, opts: { pattern?: RegExp; allowed?: string; min?: number } = {}): string[] | undefined {
        if (!Array.isArray(value)) {
            return this.fail(key, `expected a list of strings, got ${describe(value)}`);
        }
        if (value.length < (opts.min ?? 0)) {
            return this.fail(key, `expected at least ${opts.min} entries, got ${value.length}`);
        }
        const items = value.map((v, i) => this.string(`${key}[${i}]`, v, opts));
        return items.every((v): v is string => v !== undefined) ? items : undefined;
    }

    cidr(key: string, value: unknown): string | undefined {
        const s = this.string(key, value);
        if (s === undefined) return undefined;
        return isCidr(s) ? s : this.fail(key, `${JSON.stringify(s)} is not an IPv4 CIDR block such as 10.0.0.0/16`);
    }

    /** A version tag or digest, never `latest`. */
    imageVersion(key: string, value: unknown): string | undefined {
        const s = this.string(key, value);
        if (s === undefined) return undefined;
        if (s.toLowerCase() === "latest") {
            return this.fail(key, `"latest" is not a release; pin a version tag such as "1.2.3" or a digest "sha256:…"`);
        }
        if (!VERSION_TAG.test(s) && !DIGEST.test(s)) {
            return this.fail(key, `${JSON.stringify(s)} is not an image tag or a sha256 digest`);
        }
        return s;
    }

    /** An image repository without tag or digest (the version comes from elsewhere). */
    imageRepository(key: string, value: unknown): string | undefined {
        const s = this.string(key, value);
        if (s === undefined) return undefined;
        const ref = splitImage(s);
        if (ref.tag !== undefined || ref.digest !== undefined) {
            return this.fail(key, `${JSON.stringify(s)} must be a repository without tag or digest; set the version per color`);
        }
        return s;
    }

    /** A full image reference pinned to a version tag (not `latest`) or a digest. */
    pinnedImage(key: string, value: unknown): string | undefined {
        const s = this.string(key, value);
        if (s === undefined) return undefined;
        const ref = splitImage(s);
        if (ref.digest !== undefined) return s;
        if (ref.tag === undefined) {
            return this.fail(key, `${JSON.stringify(s)} is untagged; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`);
        }
        if (ref.tag.toLowerCase() === "latest") {
            return this.fail(key, `${JSON.stringify(s)} is tagged latest; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`);
        }
        return s;
    }
}

/** Splits `registry/repo:tag@sha256:…` into its parts. */
export function splitImage(image: string): { repository: string; tag?: string; digest?: string } {
    let rest = image;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
    }
    const slash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    let tag: string | undefined;
    if (colon > slash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
    }
    return { repository: rest, tag, digest };
}

export function isCidr(s: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    return octets.every((o) => o <= 255) && Number(m[5]) <= 32;
}

function describe(value: unknown): string {
    if (value === undefined) return "nothing (the key is missing)";
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
    if (value === null) return "null";
    if (typeof value === "object") return `an object (${JSON.stringify(value)})`;
    return `${typeof value} ${JSON.stringify(value)}`;
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
    const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let diag = prev[0];
        prev[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = prev[j];
            prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            diag = up;
        }
    }
    return prev[b.length];
}

function closest(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const d = distance(key, k);
        if (d < bestDistance) {
            best = k;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Config values arrive as strings; objects and lists as JSON text. */
function decode(raw: string | undefined): unknown {
    if (raw === undefined) return undefined;
    const t = raw.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
        try {
            return JSON.parse(t);
        } catch {
            return raw;
        }
    }
    return raw;
}

function kubernetesMinor(version: string): number | undefined {
    const m = /^1\.(\d+)$/.exec(version);
    return m ? Number(m[1]) : undefined;
}

function parseCluster(c: Checker, value: unknown): ClusterConfig | undefined {
    const o = c.object("cluster", value);
    if (!o) return undefined;
    c.knownKeys("cluster", o, CLUSTER_KEYS);
    const kubernetesVersion = c.string("cluster.kubernetesVersion", o.kubernetesVersion, {
        pattern: /^1\.\d+$/,
        allowed: `a pinned minor version "1.${MIN_KUBERNETES_MINOR}" or newer, as a string`,
    });
    if (kubernetesVersion !== undefined && (kubernetesMinor(kubernetesVersion) ?? 0) < MIN_KUBERNETES_MINOR) {
        c.fail("cluster.kubernetesVersion", `${JSON.stringify(kubernetesVersion)} is too old; allowed: "1.${MIN_KUBERNETES_MINOR}" or newer`);
    }
    const publicAccessCidrs = c.stringList("cluster.publicAccessCidrs", o.publicAccessCidrs, { min: 1 });
    publicAccessCidrs?.forEach((cidr, i) => c.cidr(`cluster.publicAccessCidrs[${i}]`, cidr));
    const nodeInstanceTypes = c.stringList("cluster.nodeInstanceTypes", o.nodeInstanceTypes, {
        min: 1,
        pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
        allowed: "EC2 instance types such as m6i.large",
    });
    const nodeMinSize = c.integer("cluster.nodeMinSize", o.nodeMinSize, 1, 100);
    const nodeDesiredSize = c.integer("cluster.nodeDesiredSize", o.nodeDesiredSize, 1, 100);
    const nodeMaxSize = c.integer("cluster.nodeMaxSize", o.nodeMaxSize, 1, 100);
    const nodeDiskSize = c.integer("cluster.nodeDiskSize", o.nodeDiskSize ?? 50, 20, 1000);
    const adminRoleArns = c.stringList("cluster.adminRoleArns", o.adminRoleArns ?? [], {
        pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
        allowed: "IAM role ARNs such as arn:aws:iam::123456789012:role/platform-admin",
    });
    if (nodeMinSize !== undefined && nodeDesiredSize !== undefined && nodeMaxSize !== undefined) {
        if (!(nodeMinSize <= nodeDesiredSize && nodeDesiredSize <= nodeMaxSize)) {
            c.fail("cluster.nodeDesiredSize", `need nodeMinSize ≤ nodeDesiredSize ≤ nodeMaxSize, got ${nodeMinSize} ≤ ${nodeDesiredSize} ≤ ${nodeMaxSize}`);
        }
    }
    if (
        kubernetesVersion === undefined ||
        publicAccessCidrs === undefined ||
        nodeInstanceTypes === undefined ||
        nodeMinSize === undefined ||
        nodeDesiredSize === undefined ||
        nodeMaxSize === undefined ||
        nodeDiskSize === undefined ||
        adminRoleArns === undefined
    ) {
        return undefined;
    }
    return { kubernetesVersion, publicAccessCidrs, nodeInstanceTypes, nodeMinSize, nodeDesiredSize, nodeMaxSize, nodeDiskSize, adminRoleArns };
}

function parseDatabase(c: Checker, value: unknown, environment: Environment | undefined): DatabaseConfig | undefined {
    const o = c.object("database", value);
    if (!o) return undefined;
    c.knownKeys("database", o, DATABASE_KEYS);
    const identifier = c.string("database.identifier", o.identifier, {
        pattern: RDS_IDENTIFIER,
        allowed: "lowercase letters, digits and single hyphens, starting with a letter, at most 63 characters",
    });
    const engineVersion = c.string("database.engineVersion", o.engineVersion, {
        pattern: /^1[3-9](\.\d+)?$/,
        allowed: 'a PostgreSQL major or major.minor version from 13 up, such as "16.4"',
    });
    const instanceClass = c.string("database.instanceClass", o.instanceClass, {
        pattern: /^db\.[a-z0-9]+\.[a-z0-9]+$/,
        allowed: "an RDS instance class such as db.r6g.large",
    });
    const allocatedStorage = c.integer("database.allocatedStorage", o.allocatedStorage, 20, 65536);
    const maxAllocatedStorage = c.integer("database.maxAllocatedStorage", o.maxAllocatedStorage ?? o.allocatedStorage, 20, 65536);
    if (allocatedStorage !== undefined && maxAllocatedStorage !== undefined && maxAllocatedStorage < allocatedStorage) {
        c.fail("database.maxAllocatedStorage", `${maxAllocatedStorage} is below allocatedStorage ${allocatedStorage}`);
    }
    const minRetention = environment === "prod" ? 7 : 1;
    const backupRetentionDays = c.integer("database.backupRetentionDays", o.backupRetentionDays, minRetention, 35);
    const multiAz = c.boolean("database.multiAz", o.multiAz ?? false);
    const readReplicas = c.integer("database.readReplicas", o.readReplicas ?? 0, 0, 5);
    if (environment === "prod") {
        if (multiAz === false) c.fail("database.multiAz", "prod runs a multi-AZ database; set true");
        if (readReplicas === 0) c.fail("database.readReplicas", "prod has read replicas (runbook 001); set 1 or more");
    }
    const dbName = c.string("database.dbName", o.dbName ?? "api_platform", {
        pattern: /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/,
        allowed: "a PostgreSQL database name: letters, digits and underscores, starting with a letter",
    });
    const username = c.string("database.username", o.username ?? "app_admin", {
        pattern: /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/,
        allowed: "letters, digits and underscores, starting with a letter",
    });
    if (username !== undefined && ["admin", "postgres", "rdsadmin"].includes(username.toLowerCase())) {
        c.fail("database.username", `${JSON.stringify(username)} is reserved by RDS; choose another`);
    }
    let restoreFromSnapshot: string | undefined;
    if (o.restoreFromSnapshot !== undefined) {
        restoreFromSnapshot = c.string("database.restoreFromSnapshot", o.restoreFromSnapshot, {
            pattern: SNAPSHOT_ID,
            allowed: "an RDS snapshot identifier such as prod-db-snapshot-1-2-3",
        });
    }
    if (
        identifier === undefined ||
        engineVersion === undefined ||
        instanceClass === undefined ||
        allocatedStorage === undefined ||
        maxAllocatedStorage === undefined ||
        backupRetentionDays === undefined ||
        multiAz === undefined ||
        readReplicas === undefined ||
        dbName === undefined ||
        username === undefined
    ) {
        return undefined;
    }
    return {
        identifier,
        engineVersion,
        instanceClass,
        allocatedStorage,
        maxAllocatedStorage,
        backupRetentionDays,
        multiAz,
        readReplicas,
        dbName,
        username,
        ...(restoreFromSnapshot !== undefined ? { restoreFromSnapshot } : {}),
    };
}

function parseColor(c: Checker, key: string, value: unknown): ColorConfig | undefined {
    const o = c.object(key, value);
    if (!o) return undefined;
    c.knownKeys(key, o, COLOR_KEYS);
    const version = c.imageVersion(`${key}.version`, o.version);
    const replicas = c.integer(`${key}.replicas`, o.replicas, 0, 500);
    return version !== undefined && replicas !== undefined ? { version, replicas } : undefined;
}

function parseService(c: Checker, name: string, value: unknown): ServiceConfig | undefined {
    const key = `services.${name}`;
    if (!DNS_LABEL.test(name) || name.length > 40) {
        c.fail(key, `service name ${JSON.stringify(name)} must be a DNS label (lowercase letters, digits, hyphens) of at most 40 characters`);
    }
    const o = c.object(key, value);
    if (!o) return undefined;
    c.knownKeys(key, o, SERVICE_KEYS);
    const image = c.imageRepository(`${key}.image`, o.image);
    const port = c.integer(`${key}.port`, o.port ?? 3000, 1, 65535);
    const path = c.string(`${key}.path`, o.path, { pattern: /^\/[A-Za-z0-9._~\-/]*$/, allowed: "an absolute URL path such as /v1/auth" });
    const live = c.oneOf(`${key}.live`, o.live, COLORS);
    const blue = parseColor(c, `${key}.blue`, o.blue);
    const green = parseColor(c, `${key}.green`, o.green);
    const autoscaling = parseAutoscaling(c, `${key}.autoscaling`, o.autoscaling);
    if (live !== undefined && blue && green) {
        const liveColor = live === "blue" ? blue : green;
        if (liveColor.replicas === 0) {
            c.fail(
                `${key}.${live}.replicas`,
                `the live color ${live} has 0 replicas, so the live Service would route to no pods; scale ${live} up, or switch live to the color that runs`,
            );
        } else if (autoscaling && liveColor.replicas < autoscaling.minReplicas) {
            c.fail(
                `${key}.${live}.replicas`,
                `the live color ${live} runs ${liveColor.replicas} replicas, below autoscaling.minReplicas ${autoscaling.minReplicas}`,
            );
        }
    }
    if (image === undefined || port === undefined || path === undefined || live === undefined || !blue || !green || !autoscaling) {
        return undefined;
    }
    return { name, image, port, path, live, blue, green, autoscaling };
}

function parseAutoscaling(c: Checker, key: string, value: unknown): AutoscalingConfig | undefined {
    const o = c.object(key, value);
    if (!o) return undefined;
    c.knownKeys(key, o, AUTOSCALING_KEYS);
    const minReplicas = c.integer(`${key}.minReplicas`, o.minReplicas, 1, 500);
    const maxReplicas = c.integer(`${key}.maxReplicas`, o.maxReplicas, 1, 1000);
    const targetCpuUtilization = c.integer(`${key}.targetCpuUtilization`, o.targetCpuUtilization ?? 70, 10, 95);
    if (minReplicas !== undefined && maxReplicas !== undefined && minReplicas >= maxReplicas) {
        c.fail(`${key}.maxReplicas`, `${maxReplicas} must be above minReplicas ${minReplicas}`);
    }
    if (minReplicas === undefined || maxReplicas === undefined || targetCpuUtilization === undefined) return undefined;
    return { minReplicas, maxReplicas, targetCpuUtilization };
}

function parseServices(c: Checker, value: unknown): ServiceConfig[] | undefined {
    const o = c.object("services", value);
    if (!o) return undefined;
    const names = Object.keys(o);
    if (names.length === 0) return c.fail("services", "expected at least one service");
    const services = names.map((name) => parseService(c, name, o[name]));
    return services.every((s): s is ServiceConfig => s !== undefined) ? services : undefined;
}

function parseMigrations(c: Checker, value: unknown): MigrationConfig[] | undefined {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return c.fail("migrations", `expected a list, got ${describe(value)}`);
    const seen = new Set<string>();
    const migrations = value.map((item, i) => {
        const key = `migrations[${i}]`;
        const o = c.object(key, item);
        if (!o) return undefined;
        c.knownKeys(key, o, MIGRATION_KEYS);
        const release = c.string(`${key}.release`, o.release, {
            pattern: /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/,
            allowed: "a release version such as 1.2.3",
        });
        if (release !== undefined) {
            if (seen.has(release)) c.fail(`${key}.release`, `release ${JSON.stringify(release)} is listed twice`);
            seen.add(release);
        }
        const image = c.pinnedImage(`${key}.image`, o.image);
        const command = c.stringList(`${key}.command`, o.command ?? ["npm", "run", "migrate:up"], { min: 1 });
        return release !== undefined && image !== undefined && command !== undefined ? { release, image, command } : undefined;
    });
    return migrations.every((m): m is MigrationConfig => m !== undefined) ? migrations : undefined;
}

function parseIngress(c: Checker, value: unknown): IngressConfig | undefined {
    const o = c.object("ingress", value);
    if (!o) return undefined;
    c.knownKeys("ingress", o, INGRESS_KEYS);
    const host = c.string("ingress.host", o.host, { pattern: HOSTNAME, allowed: "a DNS host name such as api.example.com" });
    let certificateArn: string | undefined;
    if (o.certificateArn !== undefined) {
        certificateArn = c.string("ingress.certificateArn", o.certificateArn, {
            pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
            allowed: "an ACM certificate ARN",
        });
    }
    const tlsSecretName = c.string("ingress.tlsSecretName", o.tlsSecretName ?? "api-tls-cert", { pattern: DNS_LABEL, allowed: "a DNS label" });
    if (host === undefined || tlsSecretName === undefined) return undefined;
    return { host, tlsSecretName, ...(certificateArn !== undefined ? { certificateArn } : {}) };
}

function parseRelease(c: Checker, value: unknown): ReleaseConfig | undefined {
    const o = c.object("release", value);
    if (!o) return undefined;
    c.knownKeys("release", o, RELEASE_KEYS);
    const version = c.string("release.version", o.version, { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, allowed: "a release version such as 1.2.3" });
    let scheduledAt: string | undefined;
    if (o.scheduledAt !== undefined) {
        scheduledAt = c.string("release.scheduledAt", o.scheduledAt, {
            pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
            allowed: "an ISO 8601 time with offset such as 2026-11-26T14:30:00-05:00",
        });
        if (scheduledAt !== undefined && Number.isNaN(Date.parse(scheduledAt))) {
            scheduledAt = c.fail("release.scheduledAt", `${JSON.stringify(scheduledAt)} is not a real date and time`);
        }
    }
    const hotfix = c.boolean("release.hotfix", o.hotfix ?? false);
    if (version === undefined || hotfix === undefined) return undefined;
    return { version, hotfix, ...(scheduledAt !== undefined ? { scheduledAt } : {}) };
}

/**
 * Parses and validates the whole stack config.
 *
 * @param raw the config map as the CLI passes it: `release-platform:services` → JSON text, etc.
 * @param source where the values came from, for the error message (e.g. `Pulumi.prod.yaml`).
 */
export function parseStackConfig(
    raw: Record<string, string>,
    stack: string,
    source = `Pulumi.${stack}.yaml`,
    secretKeys: readonly string[] = [],
): StackConfig {
    const c = new Checker();
    const own: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(raw)) {
        const [namespace, key] = fullKey.includes(":") ? (fullKey.split(/:(.*)/s, 2) as [string, string]) : [PROJECT, fullKey];
        if (namespace !== PROJECT) continue;
        if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
            const hint = closest(key, TOP_LEVEL_KEYS);
            c.fail(`${PROJECT}:${key}`, `unknown key${hint ? `; did you mean '${PROJECT}:${hint}'?` : ""}`);
            continue;
        }
        own[key] = decode(value);
    }

    const environment = c.oneOf("environment", own.environment, ENVIRONMENTS);
    const owner = c.string("owner", own.owner, { pattern: /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$/, allowed: "a team name or e-mail" });
    const minZones = environment === "prod" ? 3 : 2;
    const availabilityZones = c.stringList("availabilityZones", own.availabilityZones, {
        pattern: AZ_NAME,
        allowed: "availability zone names such as us-east-1a",
    });
    if (availabilityZones !== undefined) {
        if (availabilityZones.length < minZones || availabilityZones.length > 6) {
            c.fail("availabilityZones", `${environment ?? "this stack"} needs ${minZones} to 6 zones, got ${availabilityZones.length}`);
        }
        if (new Set(availabilityZones).size !== availabilityZones.length) c.fail("availabilityZones", "lists a zone twice");
    }
    const vpcCidr = c.cidr("vpcCidr", own.vpcCidr ?? "10.0.0.0/16");
    if (vpcCidr !== undefined) {
        const bits = Number(vpcCidr.split("/")[1]);
        if (bits < 16 || bits > 20) c.fail("vpcCidr", `${vpcCidr} must be a /16 to /20 block so every zone gets a public and a private subnet`);
    }
    const namespace = c.string("namespace", own.namespace ?? "api-platform", { pattern: DNS_LABEL, allowed: "a DNS label" });
    if (namespace === "default" || namespace?.startsWith("kube-")) {
        c.fail("namespace", `${JSON.stringify(namespace)} is reserved; workloads run in their own namespace`);
    }
    const cluster = parseCluster(c, own.cluster);
    const database = parseDatabase(c, own.database, environment);
    const migrations = parseMigrations(c, own.migrations);
    const services = parseServices(c, own.services);
    const ingress = parseIngress(c, own.ingress);
    const release = parseRelease(c, own.release);
    const maintenance = c.boolean("maintenance", own.maintenance ?? false);
    const smokeTestImage = c.pinnedImage("smokeTestImage", own.smokeTestImage ?? "curlimages/curl:8.11.1");
    const maintenanceImage = c.pinnedImage("maintenanceImage", own.maintenanceImage ?? "nginxinc/nginx-unprivileged:1.27.3-alpine");
    // Pulumi.yaml's default for the optional key is "", i.e. not configured.
    const redisUrl = own.redisUrl === "" ? undefined : own.redisUrl;
    if (redisUrl !== undefined && !secretKeys.includes(`${PROJECT}:redisUrl`)) {
        c.fail("redisUrl", "holds credentials and must be a secret: set it with `pulumi config set --secret redisUrl …` (value not shown)");
    }
    if (redisUrl !== undefined && redisUrl !== OFFLINE_SECRET_PLACEHOLDER && !/^rediss?:\/\/\S+$/.test(String(redisUrl))) {
        // Never echo the value: it carries credentials.
        c.fail("redisUrl", "the secret value is not a redis:// or rediss:// URL (value not shown)");
    }
    if (database?.restoreFromSnapshot && migrations?.length) {
        // Restoring is the rollback of a migration; running migrations against the restored copy
        // at the same time would redo what the rollback undoes.
        c.fail("database.restoreFromSnapshot", "cannot restore from a snapshot while migrations are listed; remove the migrations first");
    }

    if (c.problems.length > 0) throw new StackConfigError(c.problems, source);
    return {
        project: PROJECT,
        stack,
        environment: environment!,
        owner: owner!,
        availabilityZones: availabilityZones!,
        vpcCidr: vpcCidr!,
        namespace: namespace!,
        cluster: cluster!,
        database: database!,
        migrations: migrations!,
        services: services!,
        ingress: ingress!,
        release: release!,
        maintenance: maintenance!,
        smokeTestImage: smokeTestImage!,
        maintenanceImage: maintenanceImage!,
        hasRedisUrl: redisUrl !== undefined,
    };
}

/** The stack config of the running Pulumi program. */
export function loadStackConfig(): StackConfig {
    const raw = pulumi.runtime.allConfig();
    // `isConfigSecret` is left out of the SDK's typings but is how the SDK itself tells secure: values.
    const isSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;
    return parseStackConfig(raw, pulumi.getStack(), `Pulumi.${pulumi.getStack()}.yaml`, Object.keys(raw).filter((k) => isSecret(k)));
}

/** The Redis URL as a Pulumi secret, when configured (store it with `pulumi config set --secret`). */
export function redisUrlSecret(config: StackConfig): pulumi.Output<string> | undefined {
    return config.hasRedisUrl ? new pulumi.Config(PROJECT).requireSecret("redisUrl") : undefined;
}

/** Colors other than the given one. */
export function idleColor(live: Color): Color {
    return live === "blue" ? "green" : "blue";
}
