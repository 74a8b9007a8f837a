// Parsing the whole stack config: a pure function of the raw config map (the `project:key` →
// string map the Pulumi CLI hands a program). It collects every mistake and throws one
// `StackConfigError` that lists them all, so a bad stack file fails before a single resource is
// registered.
import { MAX_AVAILABILITY_ZONES, MIN_AVAILABILITY_ZONES } from "../thresholds";
import { K8S_DNS_LABEL } from "../naming";
import { AWS_REGION, AZ_NAME, DEFAULT_ROLLBACK_WINDOW, named, networkCidr, pinnedImage, rollbackWindow } from "./checks";
import { parseAlerting } from "./alerting";
import { checkDerivedNames } from "./derived";
import { Checker, closest, complete, Fields, Read } from "./reader";
import { parseCluster, parseDatabase, parseIngress, parseMigrations, parseRelease, parseServices } from "./sections";
import { Environment, ENVIRONMENTS, PROJECT, StackConfig, StackConfigError } from "./types";

/**
 * Parses and validates the whole stack config.
 *
 * @param raw the config map as the CLI passes it: `release-platform:services` → JSON text, etc.
 * @param source where the values came from, for the error message (e.g. `Pulumi.prod.yaml`).
 * @param secretKeys the full keys (`release-platform:redisUrl`) whose values are secrets.
 */
export function parseStackConfig(raw: Record<string, string>, stack: string, source = `Pulumi.${stack}.yaml`, secretKeys: readonly string[] = []): StackConfig {
    const c = new Checker();
    const config = complete<StackConfig>(readStackConfig(c, raw, stack, secretKeys));
    if (c.problems.length > 0 || !config) throw new StackConfigError(c.problems, source);
    return config;
}

/** Every key the program reads from `raw`, as schema paths (`cluster.kubernetesVersion`, `services.*.blue.version`). */
export function keysRead(raw: Record<string, string>, stack = "prod"): string[] {
    const c = new Checker();
    readStackConfig(c, raw, stack, []);
    return [...c.keysRead];
}

/** The top-level keys of the project's namespace (every one is read whatever the stack holds). */
export const TOP_LEVEL_KEYS: readonly string[] = keysRead({});

function readStackConfig(c: Checker, raw: Record<string, string>, stack: string, secretKeys: readonly string[]): Read<StackConfig> {
    const f = projectFields(c, raw);
    const environment = f.oneOf("environment", ENVIRONMENTS);
    const region = awsRegion(c, raw);
    const fields = {
        project: PROJECT,
        stack,
        region,
        environment,
        owner: f.string("owner", { pattern: /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$/, allowed: "a team name or e-mail" }),
        availabilityZones: availabilityZones(c, f, environment, region),
        vpcCidr: vpcCidr(c, f),
        namespace: namespace(c, f),
        cluster: parseCluster(c, f.value("cluster")),
        database: parseDatabase(c, f.value("database"), environment),
        migrations: parseMigrations(c, f.value("migrations")),
        services: parseServices(c, f.value("services")),
        ingress: parseIngress(c, f.value("ingress"), region),
        release: parseRelease(c, f.value("release"), environment),
        rollbackWindow: rollbackWindowOf(c, f, environment),
        maintenance: f.boolean("maintenance", false),
        smokeTestImage: f.get("smokeTestImage", pinnedImage, "curlimages/curl:8.11.1"),
        maintenanceImage: f.get("maintenanceImage", pinnedImage, "nginxinc/nginx-unprivileged:1.27.3-alpine"),
        hasRedisUrl: redisUrlConfigured(c, f, secretKeys),
        alerting: parseAlerting(c, f, environment, secretKeys),
    };
    f.done();
    checkDerivedNames(c, fields);
    if (fields.database?.restoreFromSnapshot && fields.migrations?.length) {
        // Restoring is the rollback of a migration; running migrations against the restored copy
        // at the same time would redo what the rollback undoes.
        c.fail("database.restoreFromSnapshot", "cannot restore from a snapshot while migrations are listed; remove the migrations first");
    }
    return fields;
}

export const REGION_KEY = "aws:region";

/**
 * The project's own keys, decoded, as fields. Keys of other namespaces (`aws:region`) are not ours,
 * unless the namespace is a misspelling of the project's name: the program would never read them.
 */
function projectFields(c: Checker, raw: Record<string, string>): Fields {
    const own: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(raw)) {
        const [namespace, key] = fullKey.includes(":") ? (fullKey.split(/:(.*)/s, 2) as [string, string]) : [PROJECT, fullKey];
        if (namespace === PROJECT) own[key] = decode(value);
        else if (closest(namespace, [PROJECT])) {
            c.fail(
                fullKey,
                `unknown namespace ${JSON.stringify(namespace)}; did you mean '${PROJECT}:${key}'? (this program reads only ${PROJECT}:* and aws:region)`,
            );
        }
    }
    return new Fields(c, own, {
        keyOf: (name) => name,
        schemaPathOf: (name) => name,
        unknownKey: (name, known) => {
            const hint = closest(name, known);
            return [`${PROJECT}:${name}`, `unknown key${hint ? `; did you mean '${PROJECT}:${hint}'?` : ""}`];
        },
    });
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

/** The AWS provider's region: `aws:region`, which the whole stack (zones, certificate) must agree with. */
function awsRegion(c: Checker, raw: Record<string, string>): string | undefined {
    const value = raw[REGION_KEY];
    if (value === undefined) return c.fail(REGION_KEY, "is not set; allowed: the stack's AWS region, e.g. `pulumi config set aws:region us-east-1`");
    return c.string(REGION_KEY, value, { pattern: AWS_REGION, allowed: "an AWS region such as us-east-1" });
}

function availabilityZones(c: Checker, f: Fields, environment: Environment | undefined, region: string | undefined): string[] | undefined {
    const zones = f.stringList("availabilityZones", { pattern: AZ_NAME, allowed: "availability zone names such as us-east-1a" });
    if (zones === undefined) return undefined;
    zones.forEach((zone, i) => {
        if (region !== undefined && zone.slice(0, -1) !== region) {
            c.fail(`availabilityZones[${i}]`, `${JSON.stringify(zone)} is not in aws:region ${region}; allowed: zones of ${region}, such as ${region}a`);
        }
    });
    const minZones = MIN_AVAILABILITY_ZONES[environment ?? "staging"];
    if (zones.length < minZones || zones.length > MAX_AVAILABILITY_ZONES) {
        c.fail("availabilityZones", `${environment ?? "this stack"} needs ${minZones} to ${MAX_AVAILABILITY_ZONES} zones, got ${zones.length}`);
    }
    if (new Set(zones).size !== zones.length) c.fail("availabilityZones", "lists a zone twice");
    return zones;
}

function vpcCidr(c: Checker, f: Fields): string | undefined {
    const block = f.get("vpcCidr", networkCidr, "10.0.0.0/16");
    if (block === undefined) return undefined;
    const bits = Number(block.split("/")[1]);
    if (bits < 16 || bits > 20) c.fail("vpcCidr", `${block} must be a /16 to /20 block so every zone gets a public and a private subnet`);
    return block;
}

function namespace(c: Checker, f: Fields): string | undefined {
    const name = f.get("namespace", named(K8S_DNS_LABEL), "api-platform");
    if (name === "default" || name?.startsWith("kube-")) {
        c.fail("namespace", `${JSON.stringify(name)} is reserved; workloads run in their own namespace`);
    }
    return name;
}

function rollbackWindowOf(c: Checker, f: Fields, environment: Environment | undefined): string | undefined {
    const value = f.value("rollbackWindow");
    // Pulumi.yaml's default "" means the environment's default.
    if (value === undefined || value === "") return environment ? DEFAULT_ROLLBACK_WINDOW[environment] : undefined;
    return rollbackWindow(c, f.key("rollbackWindow"), value);
}

/** Whether `redisUrl` is set; it holds credentials, so it must be a secret and is never echoed. */
function redisUrlConfigured(c: Checker, f: Fields, secretKeys: readonly string[]): boolean {
    const value = f.value("redisUrl");
    // Pulumi.yaml's default for the optional key is "", i.e. not configured.
    if (value === undefined || value === "") return false;
    if (!secretKeys.includes(`${PROJECT}:redisUrl`)) {
        c.fail("redisUrl", "holds credentials and must be a secret: set it with `pulumi config set --secret redisUrl …` (value not shown)");
    }
    if (!/^rediss?:\/\/\S+$/.test(String(value))) {
        c.fail("redisUrl", "the secret value is not a redis:// or rediss:// URL (value not shown)");
    }
    return true;
}
