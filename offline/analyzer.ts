// Drives a CrossGuard policy pack the way the Pulumi engine does: starts it with
// `@pulumi/pulumi/cmd/run-policy-pack <engine address> <pack dir>`, reads the port it prints,
// and talks to it over Pulumi's Analyzer gRPC protocol. A tiny Engine service on 127.0.0.1
// (engineService.ts) receives the pack's log messages. Nothing here evaluates a policy itself.
//
// `AnalyzerClient` builds the requests (as protobuf bytes) and reads the responses; how they
// travel is up to a subclass: `PolicyPackProcess` over gRPC to a started pack (from a worker
// thread, analyzerTransport.ts), or (in the tests) decoded by the service's own deserializers
// straight into @pulumi/policy's Analyzer handlers.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { readAnalyzeResponse, RequestEncoder } from "./analyzerEncoding";
import { AnalyzerTransport } from "./analyzerTransport";
import { EngineService } from "./engineService";
import { buildPack } from "./packBuild";

/**
 * The generated Analyzer protocol, loaded on first use: a tool spawns its pack before it loads
 * them (with @grpc/grpc-js and google-protobuf), so the pack starts alongside.
 */
function protos(): { analyzerRpc: any; analyzerProto: any; Empty: any; Struct: any } {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return (loadedProtos ??= {
        analyzerRpc: require("@pulumi/pulumi/proto/analyzer_grpc_pb.js"),
        analyzerProto: require("@pulumi/pulumi/proto/analyzer_pb.js"),
        Empty: require("google-protobuf/google/protobuf/empty_pb.js").Empty,
        Struct: require("google-protobuf/google/protobuf/struct_pb.js").Struct,
    });
    /* eslint-enable @typescript-eslint/no-require-imports */
}
let loadedProtos: ReturnType<typeof protos> | undefined;

const RUN_POLICY_PACK = path.dirname(require.resolve("@pulumi/pulumi/cmd/run-policy-pack/index.js"));
/** Keeps the TypeScript compiler out of the pack's process: the pack it runs is already JavaScript. */
const PACK_PRELOAD = path.join(__dirname, "packPreload.js");
const START_TIMEOUT_MS = 60_000;

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";
const LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "disabled", "remediate"]; // proto enum order

export interface PolicyInfo {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    kind: "resource" | "stack" | "unknown";
    configSchema?: { properties: Record<string, any>; required: string[] };
}

export interface PackInfo {
    name: string;
    version: string;
    policies: PolicyInfo[];
}

/** One policy's configuration as the engine sends it in Configure. */
export interface PolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

/** What the engine knows about a resource when it asks a pack to check it. */
export interface AnalyzedResource {
    urn: string;
    type: string;
    name: string;
    /** Properties in Pulumi's wire format (secrets enveloped, unknowns as sentinels). */
    properties: Record<string, unknown>;
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    protect: boolean;
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
    aliases: string[];
    deleteBeforeReplace?: boolean;
    customTimeouts?: { create?: number; update?: number; delete?: number };
    provider?: { urn: string; type: string; name: string; properties: Record<string, unknown> };
}

export interface Diagnostic {
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    enforcementLevel: EnforcementLevel;
    urn: string;
    message: string;
    description: string;
}

export interface LogMessage {
    severity: string;
    message: string;
    urn?: string;
}

export class PackStartError extends Error {}

export type AnalyzerMethod = "getAnalyzerInfo" | "configure" | "configureStack" | "analyze" | "analyzeStack";

/** The Analyzer protocol as the engine speaks it: requests built from `AnalyzedResource`s, responses read into `Diagnostic`s. */
export abstract class AnalyzerClient {
    /** Sends one Analyzer RPC (`getAnalyzerInfo`, `configure`, `configureStack`, `analyze`, `analyzeStack`), its request serialized. */
    protected abstract send(method: AnalyzerMethod, request: Uint8Array): Promise<any>;

    async getInfo(): Promise<PackInfo> {
        const info = await this.send("getAnalyzerInfo", new (protos().Empty)().serializeBinary());
        return {
            name: info.getName(),
            version: info.getVersion(),
            policies: info.getPoliciesList().map(toPolicyInfo),
        };
    }

    async configure(config: Record<string, PolicyConfig>): Promise<void> {
        const { analyzerProto, Struct } = protos();
        const req = new analyzerProto.ConfigureAnalyzerRequest();
        const map = req.getPolicyconfigMap();
        for (const [name, c] of Object.entries(config)) {
            const pc = new analyzerProto.PolicyConfig();
            pc.setEnforcementlevel(LEVELS.indexOf(c.enforcementLevel));
            pc.setProperties(Struct.fromJavaScript(toJson(c.properties)));
            map.set(name, pc);
        }
        await this.send("configure", req.serializeBinary());
    }

    async configureStack(stack: { stack: string; project: string; dryRun: boolean }): Promise<void> {
        const req = new (protos().analyzerProto.AnalyzerStackConfigureRequest)();
        req.setStack(stack.stack);
        req.setProject(stack.project);
        req.setDryRun(stack.dryRun);
        await this.send("configureStack", req.serializeBinary());
    }

    /** Analyze of one resource; pass one check's encoder to all its calls, so shared values are encoded once. */
    async analyze(resource: AnalyzedResource, encoder = new RequestEncoder()): Promise<Diagnostic[]> {
        const resp = await this.send("analyze", encoder.analyzeRequest(resource));
        return resp.getDiagnosticsList().map((d: any) => toDiagnostic(d, resource.urn));
    }

    async analyzeStack(resources: AnalyzedResource[], encoder = new RequestEncoder()): Promise<Diagnostic[]> {
        const resp = await this.send("analyzeStack", encoder.analyzeStackRequest(resources));
        // As the engine does: a stack diagnostic without a URN of the stack goes to the first resource (the root stack).
        const urns = new Set(resources.map((r) => r.urn));
        const fallback = resources[0]?.urn ?? "";
        return resp.getDiagnosticsList().map((d: any) => {
            const diag = toDiagnostic(d, fallback);
            return urns.has(diag.urn) ? diag : { ...diag, urn: fallback };
        });
    }
}

/** The Analyzer service's methods: their gRPC paths and response decoders. */
function analyzerMethod(method: AnalyzerMethod): { path: string; responseDeserialize: (bytes: Buffer) => any } {
    return protos().analyzerRpc.AnalyzerService[method];
}

/** A running policy pack plus the Engine service it logs to. Always `close()` it. */
export class PolicyPackProcess extends AnalyzerClient {
    readonly logs: LogMessage[] = [];
    private child?: ChildProcess;
    private engine?: EngineService;
    private closed = false;
    /** Its connection on the process's transport, once it listens. */
    private connection?: number;
    private readonly killOnExit = () => this.child?.kill("SIGKILL");

    private ready: Promise<void> = Promise.resolve();

    /** Compiles (or reuses) the pack in `packDir`, starts it and waits until it listens. */
    static async start(packDir: string): Promise<PolicyPackProcess> {
        const pack = await PolicyPackProcess.spawn(packDir);
        try {
            await pack.listening();
            return pack;
        } catch (e) {
            pack.close();
            throw e;
        }
    }

    /**
     * Compiles (or reuses) the pack and starts its process, without waiting for it to listen: the
     * caller works meanwhile and awaits `listening()` before its first request. The process must
     * exist before that work starts: a program evaluation keeps this event loop busy, and a pack
     * not yet spawned would wait for it instead of starting alongside.
     */
    static async spawn(packDir: string): Promise<PolicyPackProcess> {
        const pack = new PolicyPackProcess();
        try {
            const dir = buildPack(packDir).dir;
            const engineAddress = await pack.startEngine();
            const child = pack.spawnPack(dir, engineAddress);
            // The connection thread starts alongside the pack, not once the pack listens.
            AnalyzerTransport.get();
            pack.ready = pack.readPort(child).then((port) => pack.connect(port));
            // Awaited by listening(); until then a failure to start must not be an unhandled rejection.
            pack.ready.catch(() => undefined);
            return pack;
        } catch (e) {
            pack.close();
            throw e;
        }
    }

    /** Resolves once the pack listens; rejects if it could not start. */
    listening(): Promise<void> {
        return this.ready;
    }

    private spawnPack(dir: string, engineAddress: string): ChildProcess {
        process.once("exit", this.killOnExit);
        this.child = spawn(process.execPath, ["--require", PACK_PRELOAD, RUN_POLICY_PACK, engineAddress, dir], {
            cwd: dir,
            // The Node.js runtime sends `pulumi.log` calls to the engine named here.
            env: { ...process.env, PULUMI_NODEJS_ENGINE: engineAddress },
            stdio: ["ignore", "pipe", "pipe"],
        });
        return this.child;
    }

    private connect(port: number): void {
        this.connection = AnalyzerTransport.get().connect(`127.0.0.1:${port}`);
    }

    private async startEngine(): Promise<string> {
        const engine = await EngineService.listen((log) => this.logs.push(log));
        if (this.closed) engine.close();
        else this.engine = engine;
        return engine.address;
    }

    /** The pack prints its port as the first stdout line; everything else it prints is kept as logs. */
    private readPort(child: ChildProcess): Promise<number> {
        return new Promise((resolve, reject) => {
            let stdout = "";
            let stderr = "";
            let port: number | undefined;
            const timer = setTimeout(() => fail(`the policy pack did not report a port within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
            const fail = (message: string) => {
                clearTimeout(timer);
                reject(new PackStartError(`${message}${stderr.trim() ? `:\n${stderr.trim()}` : ""}`));
            };
            child.stdout!.on("data", (chunk: Buffer) => {
                stdout += chunk.toString();
                if (port !== undefined) return this.keepOutput(stdout, "info", (rest) => (stdout = rest));
                const newline = stdout.indexOf("\n");
                if (newline < 0) return;
                port = Number(stdout.slice(0, newline).trim());
                stdout = stdout.slice(newline + 1);
                clearTimeout(timer);
                if (Number.isInteger(port) && port > 0) resolve(port);
                else fail(`the policy pack printed '${stdout.slice(0, newline)}' instead of a port`);
            });
            child.stderr!.on("data", (chunk: Buffer) => {
                stderr += chunk.toString();
                if (port !== undefined) this.keepOutput(stderr, "error", (rest) => (stderr = rest));
            });
            child.on("error", (e) => fail(`could not start the policy pack: ${e.message}`));
            child.on("exit", (code, signal) => {
                if (port === undefined) fail(`the policy pack exited (${signal ?? `code ${code}`}) before reporting a port`);
            });
        });
    }

    private keepOutput(buffer: string, severity: string, setRest: (rest: string) => void): void {
        const lines = buffer.split("\n");
        setRest(lines.pop() ?? "");
        for (const line of lines) if (line.trim()) this.logs.push({ severity, message: line });
    }

    close(): void {
        this.closed = true;
        if (this.connection !== undefined) AnalyzerTransport.get().close(this.connection);
        this.connection = undefined;
        if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
        process.off("exit", this.killOnExit);
        this.engine?.close();
        this.engine = undefined;
    }

    protected async send(method: AnalyzerMethod, req: Uint8Array): Promise<any> {
        if (this.connection === undefined) throw new Error("the policy pack is not running");
        const { path: methodPath, responseDeserialize } = analyzerMethod(method);
        // AnalyzeStack goes ahead of Analyze calls queued for the same pack: it is the one a check ends with.
        const bytes = await AnalyzerTransport.get()
            .call(this.connection, methodPath, req, method === "analyzeStack")
            .catch((err) => {
                throw new PolicyPackError(method, err);
            });
        if (method === "analyze" || method === "analyzeStack") return readAnalyzeResponse(bytes);
        return responseDeserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
}

/** The pack failed while answering (a policy threw, or the process died). */
export class PolicyPackError extends Error {
    constructor(method: string, err: { details?: string; message: string }) {
        super(`policy pack ${method} failed: ${err.details || err.message}`);
    }
}

function toPolicyInfo(p: any): PolicyInfo {
    const schema = p.getConfigschema();
    const type = p.getPolicyType();
    const { PolicyType } = protos().analyzerProto;
    return {
        name: p.getName(),
        description: p.getDescription(),
        enforcementLevel: LEVELS[p.getEnforcementlevel()] ?? "advisory",
        kind: type === PolicyType.POLICY_TYPE_RESOURCE ? "resource" : type === PolicyType.POLICY_TYPE_STACK ? "stack" : "unknown",
        ...(schema ? { configSchema: { properties: schema.getProperties()?.toJavaScript() ?? {}, required: schema.getRequiredList() } } : {}),
    };
}

function toDiagnostic(d: any, defaultUrn: string): Diagnostic {
    const level = LEVELS[d.getEnforcementlevel()] ?? "advisory";
    return {
        policyName: d.getPolicyname(),
        policyPackName: d.getPolicypackname(),
        policyPackVersion: d.getPolicypackversion(),
        // Remediations that still violate are reported as mandatory, as the engine does.
        enforcementLevel: level === "remediate" ? "mandatory" : level,
        urn: d.getUrn() || defaultUrn,
        message: d.getMessage(),
        description: d.getDescription(),
    };
}

/** Struct.fromJavaScript rejects `undefined`; the engine drops such properties too. */
function toJson(value: unknown): any {
    return JSON.parse(JSON.stringify(value ?? {}));
}
