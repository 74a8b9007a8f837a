// Evaluates the real program (index.ts) under Pulumi's runtime mocks with a stack's config and
// records every resource registration the way the engine would see it: type, name, URN, inputs
// (wire format: secrets stay wrapped, unknowns stay unknown), parent, dependencies, provider and
// resource options. `plan`, the tests and the benchmark all evaluate the program through here.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config";
import { DefaultProviders } from "./defaultProviders";
import { computedOutputs, invokeAnswer } from "./fakeOutputs";
import { readStackConfig, ROOT, StackConfigSource, withOverrides, withSecrets } from "./stackConfig";
import { isProvider, STACK_TYPE } from "./wire";

export const PROGRAM = path.join(ROOT, "index.ts");

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
    const recording = await startRecording({ stack: opts.stack, preview, config: source.config, secretKeys: source.secretKeys });

    forgetProgram(opts.program ?? PROGRAM);
    let failure: unknown;
    // A program that throws rejects promises the runtime never awaits (the stack's data); they
    // belong to this run's failure, not to the process.
    const onUnhandled = (reason: unknown) => {
        failure = failure ?? reason;
    };
    process.on("unhandledRejection", onUnhandled);
    // The SDK captures and formats a stack trace for every promise it creates (for its leak
    // report) and every resource: at 1,600 resources that is a fifth of a run's time and most of
    // its garbage. Nothing offline reads them (a failure is reported by its message), so none are
    // captured while the program runs, unless DEBUG asks for stacks; none are mapped through ts-node's source maps.
    const errorClass = Error as { prepareStackTrace?: unknown };
    const prepareStackTrace = errorClass.prepareStackTrace;
    const stackTraceLimit = Error.stackTraceLimit;
    errorClass.prepareStackTrace = undefined;
    if (!process.env.DEBUG) Error.stackTraceLimit = 0;
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
        await recording.settled();
    } catch (e) {
        failure = failure ?? e;
    }
    process.off("unhandledRejection", onUnhandled);
    errorClass.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
    if (failure !== undefined) throw new ProgramError(failure, recording.resources);
    return { stack: opts.stack, preview, source, resources: recording.resources, outputs: recording.outputs };
}

export interface RecordingOptions {
    stack: string;
    /** Preview: provider outputs stay unknown, as in `pulumi preview`. Otherwise mocks return fake outputs. */
    preview: boolean;
    /** The `project:key` → string config the program reads. */
    config?: Record<string, string>;
    secretKeys?: string[];
    /** Sees each registration request as the engine receives it, for what `RecordedResource` leaves out. */
    onRegister?: (request: any, recorded: RecordedResource) => void;
}

export interface Recording {
    /** Every registration so far, in order, with the default providers the engine would add. */
    readonly resources: RecordedResource[];
    /** The root stack's outputs, once registered. */
    readonly outputs: Record<string, any>;
    /** Waits until every registration the runtime has started is answered and recorded. */
    settled(): Promise<void>;
}

/**
 * Installs Pulumi's runtime mocks for `stack` and records every resource registration from now on,
 * from the mock monitor's requests, which carry what `MockResourceArgs` leaves out (parent,
 * dependencies, options). Used by `runProgram`, and by tests that construct components directly.
 */
export async function startRecording(opts: RecordingOptions): Promise<Recording> {
    const { stack, preview } = opts;
    const config = opts.config ?? {};
    const resources: RecordedResource[] = [];
    const defaultProviders = new DefaultProviders(stack, config, preview);
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
        stack,
        preview,
    );
    pulumi.runtime.setAllConfig(config, opts.secretKeys ?? []);

    const monitor: any = (pulumi.runtime as any).getMonitor();
    // The engine qualifies a child's type with its parent's full type chain, leaving out the root stack.
    monitor.newUrn = (parent: string, type: string, name: string): string => {
        const parentQualified = parent && parent !== stackUrn ? qualifiedTypes.get(parent) : undefined;
        const qualified = parentQualified ? `${parentQualified}$${type}` : type;
        const urn = `urn:pulumi:${stack}::${PROJECT}::${qualified}::${name}`;
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
                opts.onRegister?.(req, recorded);
            }
            callback(err, resp);
        });
    };
    const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: (err: any, resp: any) => void) => {
        if (req.getUrn() === stackUrn) outputs = req.getOutputs()?.toJavaScript() ?? {};
        registerResourceOutputs(req, callback);
    };
    return {
        resources,
        get outputs() {
            return outputs;
        },
        async settled() {
            try {
                await settings().waitForRPCs();
            } finally {
                await new Promise((resolve) => setImmediate(resolve));
            }
        },
    };
}

/** `waitForRPCs` is internal to the SDK (left out of its typings); the language host uses it the same way. */
function settings(): { waitForRPCs(): Promise<void> } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@pulumi/pulumi/runtime/settings");
}

function needsDefaultProvider(r: RecordedResource): boolean {
    return r.custom && !r.provider && r.type !== STACK_TYPE && !isProvider(r);
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
