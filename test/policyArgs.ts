// Runs policies the way `pulumi preview --policy-pack` does, without starting a pack process: the
// requests are built by the same client `plan` and `audit` use (offline/analyzer.ts), the policy
// config is reconciled by the same code (offline/policyConfig.ts), and every request is answered
// by @pulumi/policy's own Analyzer service handlers (server.js), called in this process.
//
// @pulumi/policy builds those handlers in `serve()`, which also binds a gRPC server and may run
// once per process. It is called once here with the server's `addService` captured and
// `bindAsync` skipped, so nothing listens; the policy list it was given is swapped per request.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { EnforcementLevel, Policies, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { AnalyzedResource, AnalyzerClient, AnalyzerMethod, Diagnostic, PolicyPackError } from "../offline/analyzer";
import { check, configurePack } from "../offline/policyCheck";
import { parsePolicyConfig } from "../offline/policyConfig";
import { analyzedResource, providerFor } from "../offline/stackExport";
import { RecordedResource } from "./harness";

export type { Diagnostic } from "../offline/analyzer";

/* eslint-disable @typescript-eslint/no-require-imports */
const POLICY_SERVER = require.resolve("@pulumi/policy/server");
const policyServer = require(POLICY_SERVER);
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [path.dirname(POLICY_SERVER)] }));
/* eslint-enable @typescript-eslint/no-require-imports */

const PACK_DIR = path.resolve(__dirname, "..", "policies");
/** The pack as policies/index.ts declares it (that module can't be loaded here: it serves the pack). */
export const PACK = {
    name: "release-platform",
    version: JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")).version as string,
    enforcementLevel: "mandatory" as EnforcementLevel,
};
export const POLICY_CONFIG_DIR = path.join(PACK_DIR, "config");
const TEST_CONFIG = "(the test's policy config)";
const STACK = { stack: "prod", project: "release-platform", dryRun: true };

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

/** What the engine sends about `r`; `all` lets its provider reference resolve. */
function analyzed(r: TestResource, all: TestResource[]): AnalyzedResource {
    const byUrn = new Map(all.map((x) => [withUrn(x).urn, x]));
    const resource = withUrn(r);
    return analyzedResource(
        resource,
        resource.props ?? {},
        providerFor(r.provider, (urn) => byUrn.get(urn)?.props, byUrn),
    );
}

// ---- @pulumi/policy's Analyzer service, in this process ------------------------------------------

type Handler = (call: { request: unknown }, callback: (err: any, resp: any) => void) => void;

/** The policies the service answers for; swapped (in place) for each session. */
const served: Policies = [];
let service: Record<string, Handler> | undefined;
/** The service definition the pack's server registers, with the request deserializers its gRPC server uses. */
let definition: Record<string, { requestDeserialize: (bytes: Buffer) => unknown }> = {};

function analyzerService(): Record<string, Handler> {
    if (service) return service;
    const server = grpc.Server.prototype;
    const { addService, bindAsync } = server;
    server.addService = (served: typeof definition, implementation: Record<string, Handler>) => {
        definition = served;
        service = implementation;
    };
    server.bindAsync = () => undefined;
    try {
        policyServer.serve(PACK.name, PACK.version, PACK.enforcementLevel, { policies: served }, undefined);
    } finally {
        server.addService = addService;
        server.bindAsync = bindAsync;
    }
    if (!service) throw new Error("@pulumi/policy's serve() registered no Analyzer service");
    return service;
}

class InProcessAnalyzer extends AnalyzerClient {
    /** Decodes the request bytes with the service's own deserializer, as the gRPC server in the pack would. */
    protected send(method: AnalyzerMethod, bytes: Uint8Array): Promise<any> {
        const handler = analyzerService()[method];
        const request = definition[method].requestDeserialize(Buffer.from(bytes));
        return new Promise((resolve, reject) => handler({ request }, (err, resp) => (err ? reject(new PolicyPackError(method, err)) : resolve(resp))));
    }
}

let sessions: Promise<unknown> = Promise.resolve();

/** Serves `policies` and runs `use`; sessions run one at a time, since the service's config and policy list are process-wide. */
function session<T>(policies: Policies, use: (analyzer: AnalyzerClient) => Promise<T>): Promise<T> {
    const next = sessions.then(() => {
        served.splice(0, served.length, ...policies);
        return use(new InProcessAnalyzer());
    });
    sessions = next.catch(() => undefined);
    return next;
}

// ---- Config as the CLI reconciles it -----------------------------------------------------------------

export type PolicyConfigFile = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export function readPolicyConfig(stack: string): PolicyConfigFile {
    return JSON.parse(fs.readFileSync(path.join(POLICY_CONFIG_DIR, `${stack}.json`), "utf8"));
}

function configure(analyzer: AnalyzerClient, file: PolicyConfigFile): Promise<unknown> {
    return configurePack(analyzer, parsePolicyConfig(file, TEST_CONFIG), { policyConfigFile: TEST_CONFIG, ...STACK });
}

// ---- Running policies -------------------------------------------------------------------------------

export interface RunResult {
    diagnostics: Diagnostic[];
}

/** Runs the resource policies on one resource, as `Analyze` does. */
export function analyze(policies: Policies, r: TestResource, file: PolicyConfigFile = {}, all: TestResource[] = []): Promise<RunResult> {
    return session(policies, async (analyzer) => {
        await configure(analyzer, file);
        return { diagnostics: await analyzer.analyze(analyzed(r, all)) };
    });
}

/** Runs the stack policies on a set of resources, as `AnalyzeStack` does. */
export function analyzeStack(policies: Policies, resources: TestResource[], file: PolicyConfigFile = {}): Promise<RunResult> {
    return session(policies, async (analyzer) => {
        await configure(analyzer, file);
        return { diagnostics: await analyzer.analyzeStack(resources.map((r) => analyzed(r, resources))) };
    });
}

/** What a `pulumi preview --policy-pack` reports for a whole program: `Analyze` per resource, then `AnalyzeStack`. */
export function analyzeProgram(policies: Policies, resources: TestResource[], file: PolicyConfigFile = {}): Promise<Diagnostic[]> {
    const input = resources.map((r) => analyzed(r, resources));
    return session(policies, async (analyzer) => {
        const result = await check(analyzer, parsePolicyConfig(file, TEST_CONFIG), {
            policyConfigFile: TEST_CONFIG,
            ...STACK,
            input: { perResource: input, stack: input, undecryptedSecrets: 0 },
        });
        return result.violations;
    });
}

/** The violation messages (without the description line) a policy reported. */
export function messagesOf(result: RunResult | Diagnostic[], policyName?: string): string[] {
    const diagnostics = Array.isArray(result) ? result : result.diagnostics;
    return diagnostics.filter((d) => !policyName || d.policyName === policyName).map((d) => d.message.split("\n").slice(1).join("\n") || d.message);
}

// ---- The arguments a policy receives ---------------------------------------------------------------

/** `ResourceValidationArgs` exactly as `Analyze` hands them to a policy (recorded by a probe policy); `getConfig` returns `config`. */
export async function resourceArgs(r: TestResource, config: Record<string, unknown> = {}, all: TestResource[] = []): Promise<ResourceValidationArgs> {
    let seen: ResourceValidationArgs | undefined;
    const probe: ResourceValidationPolicy = {
        name: "probe-resource-args",
        description: "records its arguments",
        validateResource: (args) => void (seen = frozenConfig(args)),
    };
    await analyze([probe], r, { [probe.name]: config }, all);
    assert.ok(seen, "Analyze did not run the probe policy");
    return seen;
}

/** `StackValidationArgs` exactly as `AnalyzeStack` hands them to a policy (recorded by a probe policy); `getConfig` returns `config`. */
export async function stackArgs(resources: TestResource[], config: Record<string, unknown> = {}): Promise<StackValidationArgs> {
    let seen: StackValidationArgs | undefined;
    const probe: StackValidationPolicy = {
        name: "probe-stack-args",
        description: "records its arguments",
        validateStack: (args) => void (seen = frozenConfig(args)),
    };
    await analyzeStack([probe], resources, { [probe.name]: config });
    assert.ok(seen, "AnalyzeStack did not run the probe policy");
    return seen;
}

/** The server's `getConfig` reads the pack's current config; keep what it returned during this call. */
function frozenConfig<A extends { getConfig<T extends object>(): T }>(args: A): A {
    const config = args.getConfig();
    return { ...args, getConfig: <T extends object>() => ({ ...config }) as T };
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
        const run = async (input: TestResource | TestResource[]) =>
            messagesOf(await analyzeProgram([c.policy], Array.isArray(input) ? input : [input], c.config));
        assert.deepEqual(await run(c.quiet), [], `${c.policy.name} stays quiet on the compliant input`);
        const found = await run(c.fire);
        assert.ok(
            found.some((m) => c.expect.test(m)),
            `${c.policy.name}: expected a violation matching ${c.expect}, got ${JSON.stringify(found)}`,
        );
    });
}
