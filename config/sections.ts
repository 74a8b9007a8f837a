// One parser per object-valued top-level key. Each reads every field of its object through the
// field reader (so unread keys are reported as unknown), runs the checks that span fields, and
// returns the typed section, or `undefined` when a field is unusable (already reported).
import { cidr, DNS_LABEL, HOSTNAME, imageRepository, imageVersion, kubernetesVersion, matching, pinnedImage, RDS_IDENTIFIER, SNAPSHOT_ID } from "./checks";
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

const POSTGRES_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;

export function parseDatabase(c: Checker, value: unknown, environment: Environment | undefined): DatabaseConfig | undefined {
    const f = c.fields("database", value);
    if (!f) return undefined;
    const minRetention = environment === "prod" ? 7 : 1;
    const database = {
        identifier: f.get(
            "identifier",
            matching({ pattern: RDS_IDENTIFIER, allowed: "lowercase letters, digits and single hyphens, starting with a letter, at most 63 characters" }),
        ),
        engineVersion: f.string("engineVersion", {
            pattern: /^1[3-9](\.\d+)?$/,
            allowed: 'a PostgreSQL major or major.minor version from 13 up, such as "16.4"',
        }),
        instanceClass: f.string("instanceClass", { pattern: /^db\.[a-z0-9]+\.[a-z0-9]+$/, allowed: "an RDS instance class such as db.r6g.large" }),
        allocatedStorage: f.integer("allocatedStorage", 20, 65536),
        maxAllocatedStorage: f.integer("maxAllocatedStorage", 20, 65536, f.raw.allocatedStorage),
        backupRetentionDays: f.integer("backupRetentionDays", minRetention, 35),
        multiAz: f.boolean("multiAz", false),
        readReplicas: f.integer("readReplicas", 0, 5, 0),
        dbName: f.string("dbName", {
            fallback: "api_platform",
            pattern: POSTGRES_NAME,
            allowed: "a PostgreSQL database name: letters, digits and underscores, starting with a letter",
        }),
        username: f.string("username", { fallback: "app_admin", pattern: POSTGRES_NAME, allowed: "letters, digits and underscores, starting with a letter" }),
        restoreFromSnapshot: f.optional("restoreFromSnapshot", matching({ pattern: SNAPSHOT_ID, allowed: "an RDS snapshot identifier such as prod-db-snapshot-1-2-3" })),
    };
    f.done();
    const { allocatedStorage, maxAllocatedStorage, username } = database;
    if (allocatedStorage !== undefined && maxAllocatedStorage !== undefined && maxAllocatedStorage < allocatedStorage) {
        c.fail("database.maxAllocatedStorage", `${maxAllocatedStorage} is below allocatedStorage ${allocatedStorage}`);
    }
    if (environment === "prod") {
        if (database.multiAz === false) c.fail("database.multiAz", "prod runs a multi-AZ database; set true");
        if (database.readReplicas === 0) c.fail("database.readReplicas", "prod has read replicas; set 1 or more");
    }
    if (username !== undefined && ["admin", "postgres", "rdsadmin"].includes(username.toLowerCase())) {
        c.fail("database.username", `${JSON.stringify(username)} is reserved by RDS; choose another`);
    }
    return complete<DatabaseConfig>(database, ["restoreFromSnapshot"]);
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
    if (!DNS_LABEL.test(name) || name.length > 40) {
        c.fail(key, `service name ${JSON.stringify(name)} must be a DNS label (lowercase letters, digits, hyphens) of at most 40 characters`);
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
    };
    f.done();
    checkLiveColorRuns(c, key, service);
    return complete<ServiceConfig>(service);
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
        c.fail(`${key}.${live}.replicas`, `the live color ${live} runs ${liveColor.replicas} replicas, below autoscaling.minReplicas ${autoscaling.minReplicas}`);
    }
}

export function parseServices(c: Checker, value: unknown): ServiceConfig[] | undefined {
    const o = c.fields("services", value);
    if (!o) return undefined;
    const names = Object.keys(o.raw);
    if (names.length === 0) return c.fail("services", "expected at least one service");
    const services = names.map((name) => parseService(c, name, o.raw[name]));
    return services.every((s): s is ServiceConfig => s !== undefined) ? services : undefined;
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

export function parseIngress(c: Checker, value: unknown): IngressConfig | undefined {
    const f = c.fields("ingress", value);
    if (!f) return undefined;
    const ingress = {
        host: f.string("host", { pattern: HOSTNAME, allowed: "a DNS host name such as api.example.com" }),
        certificateArn: f.optional(
            "certificateArn",
            matching({ pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, allowed: "an ACM certificate ARN" }),
        ),
        tlsSecretName: f.string("tlsSecretName", { fallback: "api-tls-cert", pattern: DNS_LABEL, allowed: "a DNS label" }),
    };
    f.done();
    return complete<IngressConfig>(ingress, ["certificateArn"]);
}

export function parseRelease(c: Checker, value: unknown, environment: Environment | undefined): ReleaseConfig | undefined {
    const f = c.fields("release", value);
    if (!f) return undefined;
    const release = {
        version: f.string("version", { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, allowed: "a release version such as 1.2.3" }),
        scheduledAt: f.optional("scheduledAt", scheduledTime),
        hotfix: f.boolean("hotfix", false),
        analysis: parseAnalysis(c, f.value("analysis"), environment),
    };
    f.done();
    return complete<ReleaseConfig>(release, ["scheduledAt"]);
}

function scheduledTime(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value, {
        pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
        allowed: "an ISO 8601 time with offset such as 2026-11-26T14:30:00-05:00",
    });
    if (s !== undefined && Number.isNaN(Date.parse(s))) return c.fail(key, `${JSON.stringify(s)} is not a real date and time`);
    return s;
}
