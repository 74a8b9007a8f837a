// Evaluates the real program (index.ts) under Pulumi's runtime mocks with a stack's config and
// records every resource registration the way the engine would see it: type, name, URN, inputs
// (wire format: secrets stay wrapped, unknowns stay unknown), parent, dependencies, provider and
// resource options. `plan`, the tests and the benchmark all evaluate the program through here.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { deserializeProperties, serializeProperties } from "@pulumi/pulumi/runtime/rpc";
import { PROJECT } from "../config";
import { DefaultProviders } from "./defaultProviders";
import { computedOutputs, invokeAnswer } from "./fakeOutputs";
import { trackPromisesLightly } from "./promiseTracking";
import { readStackConfig, ROOT, StackConfigSource, withOverrides, withSecrets } from "./stackConfig";
import { keepStructValues } from "./valueStructs";
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
    /** Sees each resource as it is recorded (default providers included), in the order of `ProgramRun.resources`. */
    onRecord?: (recorded: RecordedResource) => void;
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
    const recording = await startRecording({ stack: opts.stack, preview, config: source.config, secretKeys: source.secretKeys, onRecord: opts.onRecord });

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
    // Each resource also parses a full stack for its source position, which only the engine's
    // display uses and nothing here records.
    const resourceClass = pulumi.Resource as unknown as { callsites: () => unknown[] };
    const callsites = resourceClass.callsites;
    resourceClass.callsites = () => [];
    const structs = keepStructValues();
    const promises = trackPromisesLightly();
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
    resourceClass.callsites = callsites;
    structs.restore();
    promises.restore();
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
    /** Sees each resource as it is recorded, default providers included, in the order of `Recording.resources`. */
    onRecord?: (recorded: RecordedResource) => void;
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

    const mocks: pulumi.runtime.Mocks = {
        newResource: (args) => ({
            id: preview ? undefined : `${args.name}-id`,
            state: preview ? args.inputs : { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs) },
        }),
        call: (args) => {
            const answer = invokeAnswer(args.token);
            if (answer) return answer;
            throw new Error(`offline: provider function ${args.token} has no answer without a cloud; derive the value from config or resource inputs`);
        },
    };
    await pulumi.runtime.setMocks(mocks, PROJECT, stack, preview);
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
    // The engine's answers arrive from the event loop, one at a time; answered at once, the whole
    // evaluation would be one chain of promise callbacks and no I/O (a policy pack starting, its
    // verdicts on the resources registered so far) would be served until it ends. One answer per
    // turn of the loop, in the order the registrations completed.
    const pending: (() => void)[] = [];
    const answerNext = () => {
        const answer = pending.shift()!;
        // Scheduled first, so that an answer that throws does not stop the ones after it.
        if (pending.length) setImmediate(answerNext);
        answer();
    };
    const answerLater = (answer: () => void) => {
        if (pending.push(answer) === 1) setImmediate(answerNext);
    };
    const keep = (recorded: RecordedResource) => {
        resources.push(recorded);
        opts.onRecord?.(recorded);
    };
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
        const inputs = req.getObject()?.toJavaScript() ?? {};
        answerRegistration(monitor, mocks, req, inputs).then(
            (resp) => {
                const recorded = record(req, resp.getUrn(), inputs);
                if (needsDefaultProvider(recorded)) {
                    const provider = defaultProviders.refFor(recorded.type, req.getVersion());
                    recorded.provider = provider.ref;
                    if (provider.created) keep(provider.created);
                }
                keep(recorded);
                opts.onRegister?.(req, recorded);
                answerLater(() => callback(null, resp));
            },
            (err) => answerLater(() => callback(err, undefined)),
        );
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

/**
 * The mock monitor's RegisterResource without its protobuf round trips: the request's properties
 * are decoded once, for the mocks and the recording, and the answer carries the state as the value
 * the SDK would decode from the response's Struct (the SDK answers itself that way on a failure).
 */
async function answerRegistration(monitor: any, mocks: pulumi.runtime.Mocks, req: any, inputs: Record<string, unknown>): Promise<any> {
    const result = await mocks.newResource({
        type: req.getType(),
        name: req.getName(),
        inputs: deserializeProperties(decodedStruct(inputs)),
        provider: req.getProvider(),
        custom: req.getCustom(),
        id: req.getImportid(),
    });
    const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
    const state = await serializeProperties("", result.state);
    monitor.resources.set(urn, { urn, id: result.id ?? null, state });
    return {
        getUrn: () => urn,
        getId: () => result.id || "",
        getObject: () => decodedStruct(state),
        getPropertydependenciesMap: () => undefined,
        getResult: () => REGISTRATION_SUCCEEDED,
    };
}

/** `Result.SUCCESS` of resource.proto's RegisterResourceResponse. */
const REGISTRATION_SUCCEEDED = 0;

type Struct = Parameters<typeof deserializeProperties>[0];

/** What the SDK reads of a google.protobuf.Struct it receives: its value (`toJavaScript`, nothing else). */
function decodedStruct(value: Record<string, unknown>): Struct {
    return { toJavaScript: () => value } as unknown as Struct;
}

function record(req: any, urn: string, inputs: Record<string, unknown>): RecordedResource {
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
        inputs,
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
