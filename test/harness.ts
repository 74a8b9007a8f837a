// Offline harness: runs the real program (index.ts) under Pulumi's runtime mocks with a stack's
// config and records every resource registration the way the engine would see it: type, name,
// URN, inputs (wire format: secrets stay wrapped, unknowns stay unknown), parent, dependencies,
// provider and resource options.
//
// Used by the tests and by the offline `plan` runner.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { OFFLINE_SECRET_PLACEHOLDER, PROJECT } from "../config";
import { computedOutputs, invokeAnswer } from "./fakeOutputs";

export const ROOT = path.resolve(__dirname, "..");
export const PROGRAM = path.join(ROOT, "index.ts");
export const STACK_TYPE = "pulumi:pulumi:Stack";

/** Pulumi's wire markers, as the engine and policy analyzers see them. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/** Stands in for a `secure:` value that can't be decrypted offline. */
export const SECRET_PLACEHOLDER = OFFLINE_SECRET_PLACEHOLDER;

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** Inputs in Pulumi's wire format: secrets as `{SIG_KEY: SECRET_SIG, value}`, unknowns as `UNKNOWN`. */
    inputs: Record<string, any>;
    parent?: string;
    /** Every resource this one depends on, explicit (`dependsOn`) and implicit (from input outputs). */
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    /** Provider reference `urn::id`, when the resource names an explicit provider. */
    provider?: string;
    protect: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace: boolean;
    replaceOnChanges: string[];
    additionalSecretOutputs: string[];
    deletedWith?: string;
}

export interface StackConfigSource {
    /** The `project:key` → string map the CLI would hand the program. */
    config: Record<string, string>;
    /** Keys whose values are secret. */
    secretKeys: string[];
    /** `secure:` keys that could not be decrypted and carry `SECRET_PLACEHOLDER`. */
    placeholders: string[];
    file: string;
}

export interface RunOptions {
    stack: string;
    /** Config source; defaults to `Pulumi.<stack>.yaml` in the project root. */
    source?: StackConfigSource;
    /** Patch top-level keys (without namespace) of the config, e.g. `{ maintenance: true }`; `undefined` removes a key. */
    overrides?: Record<string, unknown>;
    /** Set keys as secrets, the way `pulumi config set --secret` does, e.g. `{ redisUrl: "rediss://…" }`. */
    secrets?: Record<string, string>;
    /** Preview (default): provider outputs stay unknown, as in `pulumi preview`. Otherwise mocks return fake outputs. */
    preview?: boolean;
    /** The program module to evaluate; defaults to the project's index.ts. */
    program?: string;
}

export interface ProgramRun {
    stack: string;
    preview: boolean;
    source: StackConfigSource;
    resources: RecordedResource[];
    /** Stack outputs in wire format. */
    outputs: Record<string, any>;
}

export class ProgramError extends Error {
    constructor(
        readonly cause: unknown,
        readonly resources: RecordedResource[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "ProgramError";
    }
}

/** Reads `Pulumi.<stack>.yaml` (or the given file) into the map the CLI would pass. */
export function readStackConfig(stack: string, file = path.join(ROOT, `Pulumi.${stack}.yaml`)): StackConfigSource {
    if (!fs.existsSync(file)) {
        throw new Error(`No stack config for stack "${stack}": ${file} does not exist`);
    }
    let doc: unknown;
    try {
        doc = yaml.load(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    const configSection = doc && typeof doc === "object" ? (doc as Record<string, unknown>).config : undefined;
    if (configSection === undefined || configSection === null || typeof configSection !== "object" || Array.isArray(configSection)) {
        throw new Error(`${file} has no 'config:' map`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholders: string[] = [];
    for (const [rawKey, value] of Object.entries(configSection as Record<string, unknown>)) {
        const key = rawKey.includes(":") ? rawKey : `${PROJECT}:${rawKey}`;
        if (isSecure(value)) {
            config[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
            placeholders.push(key);
            continue;
        }
        config[key] = toConfigString(value);
    }
    return { config, secretKeys, placeholders, file };
}

function isSecure(value: unknown): boolean {
    return !!value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

function toConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Applies top-level overrides (`{ maintenance: true }`, `{ services: {...} }`) to a config source. */
export function withOverrides(source: StackConfigSource, overrides: Record<string, unknown>): StackConfigSource {
    const config = { ...source.config };
    for (const [k, v] of Object.entries(overrides)) {
        const key = k.includes(":") ? k : `${PROJECT}:${k}`;
        if (v === undefined) delete config[key];
        else config[key] = toConfigString(v);
    }
    return { ...source, config };
}

/** Sets top-level keys as secret values (as `pulumi config set --secret` would). */
export function withSecrets(source: StackConfigSource, secrets: Record<string, string>): StackConfigSource {
    const patched = withOverrides(source, secrets);
    const keys = Object.keys(secrets).map((k) => (k.includes(":") ? k : `${PROJECT}:${k}`));
    return { ...patched, secretKeys: [...new Set([...source.secretKeys, ...keys])] };
}

/** The decoded value of a top-level key of a config source, for building overrides. */
export function configValue<T = any>(source: StackConfigSource, key: string): T {
    const raw = source.config[key.includes(":") ? key : `${PROJECT}:${key}`];
    if (raw === undefined) return undefined as T;
    try {
        return JSON.parse(raw) as T;
    } catch {
        return raw as unknown as T;
    }
}

/**
 * Forgets the program's entry module so it is evaluated afresh. The modules it imports
 * (config.ts, components/) hold no module-level state — a test checks that — so they stay
 * loaded: re-transpiling them on every run would cost most of a run's time.
 */
function forgetProgram(program: string): void {
    delete require.cache[require.resolve(program)];
}

let running = false;

/** Runs the program for a stack and records what it registers. Runs are serialized (the Pulumi runtime is global). */
export async function runProgram(opts: RunOptions): Promise<ProgramRun> {
    if (running) throw new Error("runProgram: runs must not overlap (the Pulumi runtime is process-global)");
    running = true;
    try {
        return await runOnce(opts);
    } finally {
        running = false;
    }
}

async function runOnce(opts: RunOptions): Promise<ProgramRun> {
    const preview = opts.preview ?? true;
    let source = opts.source ?? readStackConfig(opts.stack);
    if (opts.overrides) source = withOverrides(source, opts.overrides);
    if (opts.secrets) source = withSecrets(source, opts.secrets);

    const resources: RecordedResource[] = [];
    const defaultProviders = new DefaultProviders(opts.stack, source.config, preview);
    const qualifiedTypes = new Map<string, string>();
    let stackUrn: string | undefined;
    let outputs: Record<string, any> = {};

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({
                id: preview ? undefined : `${args.name}-id`,
                state: preview ? args.inputs : { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs) },
            }),
            call: (args) => {
                const answer = invokeAnswer(args.token);
                if (answer) return answer;
                throw new Error(`offline: provider function ${args.token} has no answer without a cloud; derive the value from config or resource inputs`);
            },
        },
        PROJECT,
        opts.stack,
        preview,
    );
    pulumi.runtime.setAllConfig(source.config, source.secretKeys);

    const monitor: any = (pulumi.runtime as any).getMonitor();
    // The engine qualifies a child's type with its parent's full type chain, leaving out the root stack.
    monitor.newUrn = (parent: string, type: string, name: string): string => {
        const parentQualified = parent && parent !== stackUrn ? qualifiedTypes.get(parent) : undefined;
        const qualified = parentQualified ? `${parentQualified}$${type}` : type;
        const urn = `urn:pulumi:${opts.stack}::${PROJECT}::${qualified}::${name}`;
        qualifiedTypes.set(urn, qualified);
        if (type === STACK_TYPE) stackUrn = urn;
        return urn;
    };
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
        registerResource(req, (err: any, resp: any) => {
            if (!err && resp) {
                const recorded = record(req, resp.getUrn());
                if (needsDefaultProvider(recorded)) {
                    const provider = defaultProviders.refFor(recorded.type, req.getVersion());
                    recorded.provider = provider.ref;
                    if (provider.created) resources.push(provider.created);
                }
                resources.push(recorded);
            }
            callback(err, resp);
        });
    };
    const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: (err: any, resp: any) => void) => {
        if (req.getUrn() === stackUrn) outputs = req.getOutputs()?.toJavaScript() ?? {};
        registerResourceOutputs(req, callback);
    };

    forgetProgram(opts.program ?? PROGRAM);
    let failure: unknown;
    // A program that throws rejects promises the runtime never awaits (the stack's data); they
    // belong to this run's failure, not to the process.
    const onUnhandled = (reason: unknown) => {
        failure = failure ?? reason;
    };
    process.on("unhandledRejection", onUnhandled);
    // The SDK captures a stack trace for every promise and resource; mapped through ts-node's
    // source maps that is most of a run's time. V8's own formatting is enough here.
    const errorClass = Error as { prepareStackTrace?: unknown };
    const prepareStackTrace = errorClass.prepareStackTrace;
    errorClass.prepareStackTrace = undefined;
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            // The program is loaded the way the Node.js language host loads it.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            return require(opts.program ?? PROGRAM);
        });
    } catch (e) {
        failure = e;
    }
    try {
        await settings().waitForRPCs();
    } catch (e) {
        failure = failure ?? e;
    }
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onUnhandled);
    errorClass.prepareStackTrace = prepareStackTrace;
    if (failure !== undefined) throw new ProgramError(failure, resources);
    return { stack: opts.stack, preview, source, resources, outputs };
}

/** `waitForRPCs` is internal to the SDK (left out of its typings); the language host uses it the same way. */
function settings(): { waitForRPCs(): Promise<void> } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@pulumi/pulumi/runtime/settings");
}

function needsDefaultProvider(r: RecordedResource): boolean {
    return r.custom && !r.provider && r.type !== STACK_TYPE && !r.type.startsWith(PROVIDER_TYPE_PREFIX);
}

const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

/**
 * The engine gives a custom resource without an explicit provider the package's default provider
 * (`pulumi:providers:aws::default_7_48_0`), configured from the stack's `aws:*` keys, and
 * registers that provider first. The mock monitor leaves this to the engine, so the harness does it.
 */
class DefaultProviders {
    private readonly known = new Map<string, string>();

    constructor(
        private readonly stack: string,
        private readonly config: Record<string, string>,
        private readonly preview: boolean,
    ) {}

    refFor(type: string, version: string): { ref: string; created?: RecordedResource } {
        const pkg = type.split(":")[0];
        const name = version ? `default_${version.replace(/[.-]/g, "_")}` : "default";
        const urn = `urn:pulumi:${this.stack}::${PROJECT}::${PROVIDER_TYPE_PREFIX}${pkg}::${name}`;
        // Provider ids are assigned when the provider is created: unknown during a preview.
        const ref = `${urn}::${this.preview ? UNKNOWN : `${name}-id`}`;
        if (this.known.has(urn)) return { ref };
        this.known.set(urn, ref);
        return { ref, created: this.providerResource(urn, pkg, name, version) };
    }

    private providerResource(urn: string, pkg: string, name: string, version: string): RecordedResource {
        const inputs: Record<string, unknown> = Object.fromEntries(
            Object.entries(this.config)
                .filter(([k]) => k.startsWith(`${pkg}:`))
                .map(([k, v]) => [k.slice(pkg.length + 1), v]),
        );
        if (version) inputs.version = version;
        return {
            urn,
            type: `${PROVIDER_TYPE_PREFIX}${pkg}`,
            name,
            custom: true,
            inputs,
            dependencies: [],
            propertyDependencies: {},
            protect: false,
            retainOnDelete: false,
            ignoreChanges: [],
            deleteBeforeReplace: false,
            replaceOnChanges: [],
            additionalSecretOutputs: [],
        };
    }
}

function record(req: any, urn: string): RecordedResource {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
        propertyDependencies[key] = deps.getUrnsList();
    });
    const provider = req.getProvider() || undefined;
    return {
        urn,
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        inputs: req.getObject()?.toJavaScript() ?? {},
        parent: req.getParent() || undefined,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        ...(provider ? { provider } : {}),
        protect: req.getProtect() === true,
        retainOnDelete: req.getRetainondelete() === true,
        ignoreChanges: req.getIgnorechangesList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        replaceOnChanges: req.getReplaceonchangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ...(req.getDeletedwith() ? { deletedWith: req.getDeletedwith() } : {}),
    };
}

// ---- Reading recorded values -------------------------------------------------------------------

export function isSecretValue(v: unknown): v is { value: unknown } {
    return !!v && typeof v === "object" && (v as any)[SIG_KEY] === SECRET_SIG;
}

/** Strips secret envelopes (keeping values) so tests can read inputs as plain objects; unknowns stay `UNKNOWN`. */
export function plain<T = any>(v: unknown): T {
    if (isSecretValue(v)) return plain(v.value);
    if (Array.isArray(v)) return v.map((x) => plain(x)) as T;
    if (v && typeof v === "object") {
        if ((v as any)[SIG_KEY] === RESOURCE_SIG) return (v as any).urn as T;
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) as T;
    }
    return v as T;
}

/** Lookups over a run's resources. */
export function byType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function byName(run: ProgramRun, type: string, name: string): RecordedResource {
    const found = run.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        const names = byType(run, type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ") || "none"}`);
    }
    return found;
}

export function byUrn(run: ProgramRun, urn: string): RecordedResource {
    const found = run.resources.find((r) => r.urn === urn);
    if (!found) throw new Error(`no resource ${urn}`);
    return found;
}

/** The URN part of a provider reference `urn::id`. */
export function providerUrn(ref: string | undefined): string | undefined {
    return ref ? ref.split("::").slice(0, -1).join("::") : undefined;
}

/** Whether `from` depends on `to`, directly or through other resources' dependencies or parents' children. */
export function dependsOn(run: ProgramRun, from: RecordedResource, to: RecordedResource): boolean {
    const seen = new Set<string>();
    const stack = [from.urn];
    while (stack.length) {
        const urn = stack.pop()!;
        if (urn === to.urn && urn !== from.urn) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const r = run.resources.find((x) => x.urn === urn);
        if (!r) continue;
        stack.push(...r.dependencies);
        // A dependency on a component is a dependency on everything beneath it.
        if (!r.custom) stack.push(...run.resources.filter((x) => x.parent === r.urn).map((x) => x.urn));
    }
    return false;
}
