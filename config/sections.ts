// One parser per object-valued top-level key. Each reads every field of its object through the
// field reader (so unread keys are reported as unknown), runs the checks that span fields, and
// returns the typed section, or `undefined` when a field is unusable (already reported).
import { MAX_BACKUP_RETENTION_DAYS, MAX_READ_REPLICAS, PROD_MIN_BACKUP_RETENTION_DAYS, PROD_MIN_READ_REPLICAS } from "../thresholds";
import { K8S_SERVICE_NAME, POSTGRES_NAME, RDS_AUTOMATED_SNAPSHOT, RDS_INSTANCE_IDENTIFIER, RDS_SNAPSHOT_IDENTIFIER } from "../naming";
import {
    cidr,
    HOSTNAME,
    imageRepository,
    imageVersion,
    kubernetesVersion,
    matching,
    named,
    pinnedImage,
    postgresVersion,
    releaseVersion,
    scheduledTime,
} from "./checks";
import { parseAnalysis } from "./analysis";
import { Checker, complete, describe } from "./reader";
import {
    AutoscalingConfig,
    ClusterConfig,
    Color,
    ColorConfig,
    COLORS,
    DatabaseConfig,
    Environment,
    IngressConfig,
    MigrationConfig,
    ReleaseConfig,
    ServiceConfig,
} from "./types";

export function parseCluster(c: Checker, value: unknown): ClusterConfig | undefined {
    const f = c.fields("cluster", value);
    if (!f) return undefined;
    const cluster = {
        kubernetesVersion: f.get("kubernetesVersion", kubernetesVersion),
        publicAccessCidrs: f.stringList("publicAccessCidrs", { min: 1 }),
        nodeInstanceTypes: f.stringList("nodeInstanceTypes", {
            min: 1,
            pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
            allowed: "EC2 instance types such as m6i.large",
        }),
        nodeMinSize: f.integer("nodeMinSize", 1, 100),
        nodeDesiredSize: f.integer("nodeDesiredSize", 1, 100),
        nodeMaxSize: f.integer("nodeMaxSize", 1, 100),
        nodeDiskSize: f.integer("nodeDiskSize", 20, 1000, 50),
        adminRoleArns: f.stringList("adminRoleArns", {
            fallback: [],
            pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
            allowed: "IAM role ARNs such as arn:aws:iam::123456789012:role/platform-admin",
        }),
    };
    f.done();
    cluster.publicAccessCidrs?.forEach((block, i) => cidr(c, `cluster.publicAccessCidrs[${i}]`, block));
    const { nodeMinSize: min, nodeDesiredSize: desired, nodeMaxSize: max } = cluster;
    if (min !== undefined && desired !== undefined && max !== undefined && !(min <= desired && desired <= max)) {
        c.fail("cluster.nodeDesiredSize", `need nodeMinSize ≤ nodeDesiredSize ≤ nodeMaxSize, got ${min} ≤ ${desired} ≤ ${max}`);
    }
    return complete<ClusterConfig>(cluster);
}

/** Service names stay short enough for every Kubernetes name derived from them (`<service>-smoke-green-…`). */
const MAX_SERVICE_NAME_LENGTH = 40;

/** Master user names RDS PostgreSQL keeps for itself. */
const RDS_RESERVED_USERS = ["admin", "rdsadmin", "rdsrepladmin", "rds_superuser"];

export function parseDatabase(c: Checker, value: unknown, environment: Environment | undefined): DatabaseConfig | undefined {
    const f = c.fields("database", value);
    if (!f) return undefined;
    const minRetention = environment === "prod" ? PROD_MIN_BACKUP_RETENTION_DAYS : 1;
    const database = {
        identifier: f.get("identifier", named(RDS_INSTANCE_IDENTIFIER)),
        engineVersion: f.get("engineVersion", postgresVersion),
        instanceClass: f.string("instanceClass", { pattern: /^db\.[a-z0-9]+\.[a-z0-9]+$/, allowed: "an RDS instance class such as db.r6g.large" }),
        allocatedStorage: f.integer("allocatedStorage", 20, 65536),
        maxAllocatedStorage: f.integer("maxAllocatedStorage", 20, 65536, f.raw.allocatedStorage),
        backupRetentionDays: f.integer("backupRetentionDays", minRetention, MAX_BACKUP_RETENTION_DAYS),
        multiAz: f.boolean("multiAz", false),
        readReplicas: f.integer("readReplicas", 0, MAX_READ_REPLICAS, 0),
        dbName: f.get("dbName", named(POSTGRES_NAME), "api_platform"),
        username: f.get("username", named(POSTGRES_NAME), "app_admin"),
        restoreFromSnapshot: f.optional("restoreFromSnapshot", snapshotToRestore),
    };
    f.done();
    const { allocatedStorage, maxAllocatedStorage, username } = database;
    if (allocatedStorage !== undefined && maxAllocatedStorage !== undefined && maxAllocatedStorage < allocatedStorage) {
        c.fail("database.maxAllocatedStorage", `${maxAllocatedStorage} is below allocatedStorage ${allocatedStorage}`);
    }
    if (environment === "prod") {
        if (database.multiAz === false) c.fail("database.multiAz", "prod runs a multi-AZ database; set true");
        if (database.readReplicas !== undefined && database.readReplicas < PROD_MIN_READ_REPLICAS) {
            c.fail("database.readReplicas", `prod has read replicas; set ${PROD_MIN_READ_REPLICAS} or more`);
        }
    }
    if (username !== undefined && RDS_RESERVED_USERS.includes(username.toLowerCase())) {
        c.fail("database.username", `${JSON.stringify(username)} is reserved by RDS; choose another`);
    }
    return complete<DatabaseConfig>(database, ["restoreFromSnapshot"]);
}

/** A manual snapshot identifier, or an automated snapshot's name (`rds:prod-db-2026-11-26-03-10`). */
function snapshotToRestore(c: Checker, key: string, value: unknown): string | undefined {
    const name = c.string(key, value);
    if (name === undefined || RDS_SNAPSHOT_IDENTIFIER.test(name) || RDS_AUTOMATED_SNAPSHOT.test(name)) return name;
    return c.fail(
        key,
        `${JSON.stringify(name)} is not an RDS snapshot name; allowed: a manual snapshot identifier such as prod-db-snapshot-1-2-3 (${RDS_SNAPSHOT_IDENTIFIER.allowed}) or an automated snapshot's name ${RDS_AUTOMATED_SNAPSHOT.allowed}`,
    );
}

function parseColor(c: Checker, service: string, color: Color, value: unknown): ColorConfig | undefined {
    const f = c.fields(`${service}.${color}`, value, `services.*.${color}`);
    if (!f) return undefined;
    const fields = { version: f.get("version", imageVersion), replicas: f.integer("replicas", 0, 500) };
    f.done();
    return complete<ColorConfig>(fields);
}

function parseAutoscaling(c: Checker, key: string, value: unknown): AutoscalingConfig | undefined {
    const f = c.fields(key, value, "services.*.autoscaling");
    if (!f) return undefined;
    const autoscaling = {
        minReplicas: f.integer("minReplicas", 1, 500),
        maxReplicas: f.integer("maxReplicas", 1, 1000),
        targetCpuUtilization: f.integer("targetCpuUtilization", 10, 95, 70),
    };
    f.done();
    const { minReplicas, maxReplicas } = autoscaling;
    if (minReplicas !== undefined && maxReplicas !== undefined && minReplicas >= maxReplicas) {
        c.fail(`${key}.maxReplicas`, `${maxReplicas} must be above minReplicas ${minReplicas}`);
    }
    return complete<AutoscalingConfig>(autoscaling);
}

function parseService(c: Checker, name: string, value: unknown): ServiceConfig | undefined {
    const key = `services.${name}`;
    if (!K8S_SERVICE_NAME.test(name) || name.length > MAX_SERVICE_NAME_LENGTH) {
        c.fail(
            key,
            `service name ${JSON.stringify(name)} must be a Kubernetes Service name of at most ${MAX_SERVICE_NAME_LENGTH} characters; allowed: ${K8S_SERVICE_NAME.allowed}`,
        );
    }
    const f = c.fields(key, value, "services.*");
    if (!f) return undefined;
    const service = {
        name,
        image: f.get("image", imageRepository),
        port: f.integer("port", 1, 65535, 3000),
        path: f.string("path", { pattern: /^\/[A-Za-z0-9._~\-/]*$/, allowed: "an absolute URL path such as /v1/auth" }),
        live: f.oneOf("live", COLORS),
        blue: parseColor(c, key, "blue", f.value("blue")),
        green: parseColor(c, key, "green", f.value("green")),
        autoscaling: parseAutoscaling(c, `${key}.autoscaling`, f.value("autoscaling")),
        promotedAt: f.optional("promotedAt", scheduledTime),
    };
    f.done();
    checkLiveColorRuns(c, key, service);
    return complete<ServiceConfig>(service, ["promotedAt"]);
}

/** The live Service must route to pods: the live color runs, and at least autoscaling's minimum. */
function checkLiveColorRuns(c: Checker, key: string, service: Partial<ServiceConfig>): void {
    const { live, blue, green, autoscaling } = service;
    if (live === undefined || !blue || !green) return;
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

export function parseServices(c: Checker, value: unknown): ServiceConfig[] | undefined {
    const o = c.fields("services", value);
    if (!o) return undefined;
    const names = Object.keys(o.raw);
    if (names.length === 0) return c.fail("services", "expected at least one service");
    const services = names.map((name) => parseService(c, name, o.raw[name]));
    checkOnePathPerService(c, services);
    return services.every((s): s is ServiceConfig => s !== undefined) ? services : undefined;
}

/** The Ingress routes each path prefix to one service; a second service on it would never get traffic. */
function checkOnePathPerService(c: Checker, services: (ServiceConfig | undefined)[]): void {
    const owner = new Map<string, string>();
    for (const s of services) {
        if (!s) continue;
        const path = s.path.replace(/\/+$/, "") || "/";
        const first = owner.get(path);
        if (first) c.fail(`services.${s.name}.path`, `${JSON.stringify(s.path)} is already services.${first}.path; allowed: a path no other service uses`);
        else owner.set(path, s.name);
    }
}

export function parseMigrations(c: Checker, value: unknown): MigrationConfig[] | undefined {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return c.fail("migrations", `expected a list, got ${describe(value)}`);
    const seen = new Set<string>();
    const migrations = value.map((item, i) => {
        const key = `migrations[${i}]`;
        const f = c.fields(key, item, "migrations[]");
        if (!f) return undefined;
        const migration = {
            release: f.string("release", { pattern: /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/, allowed: "a release version such as 1.2.3" }),
            image: f.get("image", pinnedImage),
            command: f.stringList("command", { min: 1, fallback: ["npm", "run", "migrate:up"] }),
        };
        f.done();
        if (migration.release !== undefined) {
            if (seen.has(migration.release)) c.fail(`${key}.release`, `release ${JSON.stringify(migration.release)} is listed twice`);
            seen.add(migration.release);
        }
        return complete<MigrationConfig>(migration);
    });
    return migrations.every((m): m is MigrationConfig => m !== undefined) ? migrations : undefined;
}

export function parseIngress(c: Checker, value: unknown, region: string | undefined): IngressConfig | undefined {
    const f = c.fields("ingress", value);
    if (!f) return undefined;
    const ingress = {
        host: f.string("host", { pattern: HOSTNAME, allowed: "a DNS host name such as api.example.com" }),
        certificateArn: f.optional(
            "certificateArn",
            matching({ pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, allowed: "an ACM certificate ARN" }),
        ),
    };
    f.done();
    const certificateRegion = ingress.certificateArn?.split(":")[3];
    if (region !== undefined && certificateRegion !== undefined && certificateRegion !== region) {
        c.fail(
            "ingress.certificateArn",
            `the certificate is in ${certificateRegion}, but the load balancer runs in aws:region ${region}; allowed: an ACM certificate in ${region}`,
        );
    }
    return complete<IngressConfig>(ingress, ["certificateArn"]);
}

export function parseRelease(c: Checker, value: unknown, environment: Environment | undefined): ReleaseConfig | undefined {
    const f = c.fields("release", value);
    if (!f) return undefined;
    const release = {
        version: f.get("version", releaseVersion),
        scheduledAt: f.optional("scheduledAt", scheduledTime),
        hotfix: f.boolean("hotfix", false),
        analysis: parseAnalysis(c, f.value("analysis"), environment),
    };
    f.done();
    return complete<ReleaseConfig>(release, ["scheduledAt"]);
}
