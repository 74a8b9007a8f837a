// Reads a `--policy-pack-config` file and reconciles it with the pack's own defaults the way the
// Pulumi CLI does (pkg/resource/analyzer/config.go): start from each policy's enforcement level and
// config-schema defaults, apply `all`, then per-policy settings, then validate against the schemas.
import * as fs from "fs";
import type { EnforcementLevel, PolicyConfig, PolicyInfo } from "./analyzer";

const VALID_LEVELS = new Set<EnforcementLevel>(["advisory", "mandatory", "remediate", "disabled"]);

export class PolicyConfigError extends Error {}

export interface GivenConfig {
    enforcementLevel?: EnforcementLevel;
    properties: Record<string, unknown>;
}

/** Reads a policy config file (see `parsePolicyConfig`). */
export function readPolicyConfigFile(file: string): Record<string, GivenConfig> {
    if (!fs.existsSync(file)) throw new PolicyConfigError(`policy config ${file} does not exist`);
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new PolicyConfigError(`policy config ${file} is not valid JSON: ${(e as Error).message}`);
    }
    return parsePolicyConfig(doc, file);
}

/** Parses a policy config: `{ "<policy>|all": "<level>" | { enforcementLevel?, ...properties } }`; `file` names it in errors. */
export function parsePolicyConfig(doc: unknown, file: string): Record<string, GivenConfig> {
    if (!isObject(doc)) throw new PolicyConfigError(`policy config ${file} must be a JSON object of policy names`);
    const result: Record<string, GivenConfig> = {};
    for (const [name, value] of Object.entries(doc)) {
        result[name] = parseEntry(file, name, value);
    }
    return result;
}

function parseEntry(file: string, name: string, value: unknown): GivenConfig {
    if (typeof value === "string") return { enforcementLevel: checkLevel(file, name, value), properties: {} };
    if (!isObject(value)) throw new PolicyConfigError(`policy config ${file}: "${name}" must be an enforcement level or an object`);
    const { enforcementLevel, ...properties } = value;
    return {
        ...(enforcementLevel === undefined ? {} : { enforcementLevel: checkLevel(file, name, enforcementLevel) }),
        properties,
    };
}

function checkLevel(file: string, name: string, level: unknown): EnforcementLevel {
    if (typeof level === "string" && VALID_LEVELS.has(level as EnforcementLevel)) return level as EnforcementLevel;
    throw new PolicyConfigError(
        `policy config ${file}: "${name}" has invalid enforcement level ${JSON.stringify(level)} (use ${[...VALID_LEVELS].join(", ")})`,
    );
}

export interface ReconciledConfig {
    config: Record<string, PolicyConfig>;
    /** Entries naming policies the pack doesn't have: the CLI ignores them silently, we say so. */
    warnings: string[];
}

/** The config the engine would send to Configure: pack defaults, then `all`, then per-policy entries. */
export function reconcilePolicyConfig(policies: PolicyInfo[], given: Record<string, GivenConfig>, file: string): ReconciledConfig {
    const result: Record<string, PolicyConfig> = {};
    for (const p of policies) result[p.name] = { enforcementLevel: p.enforcementLevel, properties: schemaDefaults(p) };
    const all = given.all?.enforcementLevel;
    if (all) for (const c of Object.values(result)) c.enforcementLevel = all;

    const unknownNames = Object.keys(given).filter((name) => name !== "all" && !result[name]);
    const warnings = unknownNames.map((name) => `policy config ${file} names "${name}", which the pack does not have`);
    for (const [name, c] of Object.entries(given)) {
        if (name === "all" || !result[name]) continue;
        const target = result[name];
        if (c.enforcementLevel) target.enforcementLevel = c.enforcementLevel;
        Object.assign(target.properties, c.properties);
    }
    const problems = policies.flatMap((p) => validateAgainstSchema(p, result[p.name].properties));
    if (problems.length) throw new PolicyConfigError(`policy config ${file} is invalid:\n${problems.map((m) => `  - ${m}`).join("\n")}`);
    return { config: result, warnings };
}

function schemaDefaults(p: PolicyInfo): Record<string, unknown> {
    const defaults: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
        if (isObject(schema) && "default" in schema) defaults[key] = structuredClone(schema.default);
    }
    return defaults;
}

/** The checks the CLI's JSON-schema validation makes that matter for flat policy configs: required, type, enum. */
function validateAgainstSchema(p: PolicyInfo, props: Record<string, unknown>): string[] {
    if (!p.configSchema) return [];
    const problems: string[] = [];
    for (const key of p.configSchema.required) {
        if (!(key in props)) problems.push(`${p.name}: ${key} is required`);
    }
    for (const [key, value] of Object.entries(props)) {
        const schema = p.configSchema.properties[key];
        if (!isObject(schema)) continue;
        const types = schema.type === undefined ? [] : ([] as unknown[]).concat(schema.type);
        if (types.length && !types.some((t) => matchesType(value, String(t)))) {
            problems.push(`${p.name}: ${key} must be of type ${types.join(" or ")}, got ${JSON.stringify(value)}`);
        }
        if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
            problems.push(`${p.name}: ${key} must be one of ${JSON.stringify(schema.enum)}`);
        }
    }
    return problems;
}

function matchesType(value: unknown, type: string): boolean {
    switch (type) {
        case "integer":
            return Number.isInteger(value);
        case "number":
            return typeof value === "number";
        case "array":
            return Array.isArray(value);
        case "object":
            return isObject(value);
        case "null":
            return value === null;
        default:
            return typeof value === type;
    }
}

function isObject(v: unknown): v is Record<string, any> {
    return !!v && typeof v === "object" && !Array.isArray(v);
}
