// Builds policy validation arguments exactly as @pulumi/policy's analyzer server does (server.js
// `makeAnalyzeRpcFun` / `makeAnalyzeStackRpcFun`), and runs policies the way it runs them:
//
// - props: the engine marshals resource properties with unknowns and secrets kept, resource
//   references replaced by their ID (or URN) and internal `__` keys dropped; the server turns the
//   protobuf Struct into JavaScript with @pulumi/policy's own `deserializeProperties` (secrets
//   unwrapped) and wraps it in `unknownCheckingProxy`, so touching an unknown throws.
// - opts: protect, ignoreChanges, aliases, customTimeouts, additionalSecretOutputs,
//   deleteBeforeReplace (only when defined) and, for `Analyze` only, parent. The analyzer protocol
//   has no retainOnDelete, dependsOn or provider option.
// - stack resources: parent, dependencies and propertyDependencies as resource objects.
// - config: the CLI reconciles the policy config file with the policies' schema defaults ("all"
//   sets only the enforcement level) before `Configure`; `getConfig` returns the properties.
// - diagnostics: `description + "\n" + message`; a policy that touches an unknown becomes an
//   advisory "can't run policy … during preview"; `notApplicable` records the policy as not applicable.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import {
    EnforcementLevel,
    Policies,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { RESOURCE_SIG, RecordedResource, SIG_KEY, UNKNOWN } from "./harness";
import { schemaDefaults } from "../policies/util";

/* eslint-disable @typescript-eslint/no-require-imports */
const { deserializeProperties } = require("@pulumi/policy/deserialize");
const { unknownCheckingProxy, UnknownValueError } = require("@pulumi/policy/proxy");
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));
/* eslint-enable @typescript-eslint/no-require-imports */

export const PACK = { name: "release-platform", version: "0.1.0", enforcementLevel: "mandatory" as EnforcementLevel };
export const POLICY_CONFIG_DIR = path.resolve(__dirname, "..", "policies", "config");
const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** A resource as a test describes it; `RecordedResource` from the harness converts with `fromRecorded`. */
export interface TestResource {
    type: string;
    name: string;
    urn?: string;
    /** Properties in plain or Pulumi wire format (secret envelopes, unknown sentinels). */
    props?: Record<string, any>;
    custom?: boolean;
    parent?: string;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    /** Provider reference `urn::id`. */
    provider?: string;
    protect?: boolean;
    ignoreChanges?: string[];
    deleteBeforeReplace?: boolean;
    additionalSecretOutputs?: string[];
    aliases?: string[];
}

export function urnOf(type: string, name: string, stack = "prod"): string {
    return `urn:pulumi:${stack}::release-platform::${type}::${name}`;
}

export function withUrn(r: TestResource): TestResource & { urn: string } {
    return { ...r, urn: r.urn ?? urnOf(r.type, r.name) };
}

export function fromRecorded(r: RecordedResource): TestResource & { urn: string } {
    return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.inputs,
        custom: r.custom,
        parent: r.parent,
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
        provider: r.provider,
        protect: r.protect,
        ignoreChanges: r.ignoreChanges,
        deleteBeforeReplace: r.deleteBeforeReplace || undefined,
        additionalSecretOutputs: r.additionalSecretOutputs,
    };
}

// ---- Properties as the engine marshals them for analyzers ------------------------------------------

/** What the engine sends: no `__` keys, resource references as their ID or URN, output values as their value or unknown. */
export function toAnalyzerWire(v: unknown): unknown {
    if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(toAnalyzerWire);
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, any>;
    if (o[SIG_KEY] === RESOURCE_SIG) return o.id || o.urn;
    if (o[SIG_KEY] === OUTPUT_VALUE_SIG) {
        const value = "value" in o ? toAnalyzerWire(o.value) : UNKNOWN;
        return o.secret ? { [SIG_KEY]: "1b47061264138c4ac30d75fd1eb44270", value } : value;
    }
    return Object.fromEntries(
        Object.entries(o)
            .filter(([k, x]) => x !== undefined && !k.startsWith("__"))
            .map(([k, x]) => [k, toAnalyzerWire(x)]),
    );
}

/** The protobuf Struct the engine sends for a resource's properties. */
export function propertiesStruct(props: Record<string, any> | undefined): any {
    return Struct.fromJavaScript(toAnalyzerWire(props ?? {}));
}

/** `props` exactly as a policy receives them: deserialized by @pulumi/policy and wrapped in its unknown-checking proxy. */
export function policyProps(props: Record<string, any> | undefined): Record<string, any> {
    return unknownCheckingProxy(deserializeProperties(propertiesStruct(props), false));
}

// ---- Config as the CLI reconciles it -----------------------------------------------------------------

export type PolicyConfigFile = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface ReconciledConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

export function readPolicyConfig(stack: string): PolicyConfigFile {
    return JSON.parse(fs.readFileSync(path.join(POLICY_CONFIG_DIR, `${stack}.json`), "utf8"));
}

function splitEntry(entry: PolicyConfigFile[string] | undefined): { level?: EnforcementLevel; properties: Record<string, unknown> } {
    if (entry === undefined) return { properties: {} };
    if (typeof entry === "string") return { level: entry, properties: {} };
    const { enforcementLevel, ...properties } = entry;
    return { level: enforcementLevel, properties };
}

/** pulumi's `ReconcilePolicyPackConfig`: schema defaults, then `all`'s level, then each policy's level and properties. */
export function reconcileConfig(policies: Policies, file: PolicyConfigFile = {}, packLevel: EnforcementLevel = PACK.enforcementLevel): Map<string, ReconciledConfig> {
    const all = splitEntry(file.all);
    const result = new Map<string, ReconciledConfig>();
    for (const p of policies) {
        const own = splitEntry(file[p.name]);
        result.set(p.name, {
            enforcementLevel: own.level ?? all.level ?? p.enforcementLevel ?? packLevel,
            properties: { ...schemaDefaults(p.configSchema), ...own.properties },
        });
    }
    return result;
}

// ---- Validation arguments ---------------------------------------------------------------------------

class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "Policy does not apply");
    }
}

function throwNotApplicable(reason?: string): never {
    throw new NotApplicable(reason);
}

const noStackTags: ReadonlyMap<string, string> = new Map();

function optionsOf(r: TestResource, withParent: boolean): ResourceValidationArgs["opts"] {
    const opts: ResourceValidationArgs["opts"] = {
        protect: r.protect ?? false,
        ignoreChanges: r.ignoreChanges ?? [],
        aliases: r.aliases ?? [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
    };
    if (r.deleteBeforeReplace !== undefined) opts.deleteBeforeReplace = r.deleteBeforeReplace;
    if (withParent && r.parent) opts.parent = r.parent;
    return opts;
}

function providerOf(r: TestResource, all: TestResource[]): ResourceValidationArgs["provider"] {
    if (!r.provider) return undefined;
    const urn = r.provider.split("::").slice(0, -1).join("::");
    const p = all.find((x) => withUrn(x).urn === urn);
    if (!p) return undefined;
    return { type: p.type, props: policyProps(p.props), urn, name: p.name };
}

function isTypeOf(type: string, resourceClass: any): boolean {
    const pulumiType = resourceClass?.__pulumiType;
    if (pulumiType) return type === pulumiType;
    return typeof resourceClass?.isInstance === "function" && resourceClass.isInstance({ __pulumiType: type }) === true;
}

/** What `Analyze` and `AnalyzeStack` both give a resource: identity, props, options, type checks, provider. */
function resourceBase(r: TestResource, all: TestResource[], withParent: boolean) {
    const { urn } = withUrn(r);
    const props = policyProps(r.props);
    const provider = providerOf(r, all);
    return {
        type: r.type,
        props,
        urn,
        name: r.name,
        opts: optionsOf(r, withParent),
        isType: (cls: any) => isTypeOf(r.type, cls),
        // Typed per caller: ResourceValidationArgs and PolicyResource declare asType differently.
        asType: (cls: any): any => (isTypeOf(r.type, cls) ? props : undefined),
        ...(provider ? { provider } : {}),
    };
}

/** `ResourceValidationArgs` as `Analyze` builds them. `all` lets the provider reference resolve. */
export function resourceArgs(r: TestResource, config: Record<string, unknown> = {}, all: TestResource[] = []): ResourceValidationArgs {
    return {
        ...resourceBase(r, all, true),
        stackTags: noStackTags,
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable: throwNotApplicable,
    };
}

/** `StackValidationArgs` as `AnalyzeStack` builds them: resources linked to their parent and dependencies. */
export function stackArgs(resources: TestResource[], config: Record<string, unknown> = {}): StackValidationArgs {
    const built = resources.map((r) => {
        const resource: PolicyResource = { ...resourceBase(r, resources, false), dependencies: [], propertyDependencies: {} };
        return { r, resource };
    });
    const byUrn = new Map(built.map((b) => [b.resource.urn, b.resource]));
    const resolve = (urns: string[] | undefined) => (urns ?? []).map((u) => byUrn.get(u)).filter((x): x is PolicyResource => !!x);
    for (const { r, resource } of built) {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) resource.parent = parent;
        resource.dependencies = resolve(r.dependencies);
        for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) resource.propertyDependencies[k] = resolve(urns);
    }
    return {
        resources: built.map((b) => b.resource),
        stackTags: noStackTags,
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable: throwNotApplicable,
    };
}

// ---- Running policies -------------------------------------------------------------------------------

export interface Diagnostic {
    policyName: string;
    /** As the CLI shows it: the policy's description, a newline, then the violation message. */
    message: string;
    enforcementLevel: EnforcementLevel;
    urn?: string;
}

export interface RunResult {
    diagnostics: Diagnostic[];
    notApplicable: { policyName: string; reason?: string }[];
}

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
    return typeof (p as ResourceValidationPolicy).validateResource !== "undefined";
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

function reporter(p: Policies[number], level: EnforcementLevel, into: Diagnostic[], defaultUrn?: string) {
    return (message: string, urn?: string) =>
        into.push({ policyName: p.name, message: message ? `${p.description}\n${message}` : p.description, enforcementLevel: level, urn: urn ?? defaultUrn });
}

async function runGuarded(p: Policies[number], result: RunResult, run: () => Promise<void> | void): Promise<void> {
    try {
        await run();
    } catch (e) {
        if (e instanceof UnknownValueError) {
            const from = `policy '${p.name}' from policy pack '${PACK.name}@v${PACK.version}'`;
            result.diagnostics.push({ policyName: p.name, message: `can't run ${from} during preview: ${(e as Error).message}`, enforcementLevel: "advisory" });
        } else if (e instanceof NotApplicable) {
            result.notApplicable.push({ policyName: p.name, reason: e.reason });
        } else {
            throw e;
        }
    }
}

function effectiveLevel(level: EnforcementLevel): EnforcementLevel {
    return level === "remediate" ? "mandatory" : level;
}

/** Runs the resource policies on one resource, as `Analyze` does. */
export async function analyze(policies: Policies, r: TestResource, file: PolicyConfigFile = {}, all: TestResource[] = []): Promise<RunResult> {
    const result: RunResult = { diagnostics: [], notApplicable: [] };
    const config = reconcileConfig(policies, file);
    for (const p of policies.filter(isResourcePolicy)) {
        const { enforcementLevel, properties } = config.get(p.name)!;
        if (enforcementLevel === "disabled" || !p.validateResource) continue;
        const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
        for (const validate of validations) {
            await runGuarded(p, result, () => validate(resourceArgs(r, properties, all), reporter(p, effectiveLevel(enforcementLevel), result.diagnostics, withUrn(r).urn)));
        }
    }
    return result;
}

/** Runs the stack policies on a set of resources, as `AnalyzeStack` does. */
export async function analyzeStack(policies: Policies, resources: TestResource[], file: PolicyConfigFile = {}): Promise<RunResult> {
    const result: RunResult = { diagnostics: [], notApplicable: [] };
    const config = reconcileConfig(policies, file);
    for (const p of policies.filter(isStackPolicy)) {
        const { enforcementLevel, properties } = config.get(p.name)!;
        if (enforcementLevel === "disabled") continue;
        await runGuarded(p, result, () => p.validateStack(stackArgs(resources, properties), reporter(p, effectiveLevel(enforcementLevel), result.diagnostics)));
    }
    return result;
}

/** What a `pulumi preview --policy-pack` reports for a whole program: `Analyze` per resource, then `AnalyzeStack`. */
export async function analyzeProgram(policies: Policies, resources: TestResource[], file: PolicyConfigFile = {}): Promise<Diagnostic[]> {
    const diagnostics: Diagnostic[] = [];
    for (const r of resources) diagnostics.push(...(await analyze(policies, r, file, resources)).diagnostics);
    diagnostics.push(...(await analyzeStack(policies, resources, file)).diagnostics);
    return diagnostics;
}

/** The violation messages (without the description line) a policy reported. */
export function messagesOf(result: RunResult | Diagnostic[], policyName?: string): string[] {
    const diagnostics = Array.isArray(result) ? result : result.diagnostics;
    return diagnostics.filter((d) => !policyName || d.policyName === policyName).map((d) => d.message.split("\n").slice(1).join("\n") || d.message);
}

// ---- Coverage: which policies have which kind of test case -------------------------------------------

/**
 * Policy names per kind of test case, recorded as the cases register (while mocha loads the spec
 * files, before any test runs); test/policies.coverage.test.ts compares them with the pack.
 */
export const coverage = {
    /** `fireAndQuiet` cases: the policy is quiet on compliant resources and fires on broken ones. */
    fireAndQuiet: new Set<string>(),
    /** Stack policies run on the program's recorded prod graph, unchanged (quiet) and with one edge or property changed (blocks). */
    mutatedProgramGraph: new Set<string>(),
};

export interface FireAndQuietCase {
    policy: Policies[number];
    /** Compliant input the policy reports nothing on: a resource, or a stack's resources. */
    quiet: TestResource | TestResource[];
    /** The same input with one thing broken: the policy reports a violation matching `expect`. */
    fire: TestResource | TestResource[];
    expect: RegExp;
    config?: PolicyConfigFile;
}

/** Registers a test that runs `policy` as `pulumi preview` would (Analyze per resource, then AnalyzeStack) on `quiet` and on `fire`. */
export function fireAndQuiet(title: string, c: FireAndQuietCase): void {
    coverage.fireAndQuiet.add(c.policy.name);
    it(title, async () => {
        const run = async (input: TestResource | TestResource[]) => messagesOf(await analyzeProgram([c.policy], Array.isArray(input) ? input : [input], c.config));
        assert.deepEqual(await run(c.quiet), [], `${c.policy.name} stays quiet on the compliant input`);
        const found = await run(c.fire);
        assert.ok(
            found.some((m) => c.expect.test(m)),
            `${c.policy.name}: expected a violation matching ${c.expect}, got ${JSON.stringify(found)}`,
        );
    });
}
