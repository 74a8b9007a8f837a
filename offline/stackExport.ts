// The `pulumi stack export` format (apitype DeploymentV3 / ResourceV3) and the conversions between
// it, a recorded program run, and what the analyzer is sent.
//
// Offline exports written by `plan --out`:
// - secrets stay secret envelopes but carry no value: `{"4dabf…": "1b47…", "ciphertext": ""}`
//   (there is no secrets provider offline, so nothing is encrypted and nothing is revealed);
// - `inputs` are what the program passed, unknown values as Pulumi's unknown sentinel;
// - `outputs` are what a provider's preview reports: the known inputs (unknowns dropped); no
//   provider-computed property and no `id`, which only exist after apply.
import * as crypto from "crypto";
import * as fs from "fs";
import type { AnalyzedResource } from "./analyzer";
import type { ProgramRun, RecordedResource } from "./program";
import { isProvider, isSecret, providerUrn, SECRET_SIG, SIG_KEY, STACK_TYPE, UNKNOWN, urnName } from "./wire";

const EXPORT_TOOL_VERSION = "release-platform offline plan 0.1.0";

/** The ResourceV3 fields this tool reads and writes (JSON names as in Pulumi's apitype). */
export interface ExportResource {
    urn: string;
    custom: boolean;
    delete?: boolean;
    id?: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    protect?: boolean;
    retainOnDelete?: boolean;
    external?: boolean;
    dependencies?: string[];
    provider?: string;
    propertyDependencies?: Record<string, string[]>;
    pendingReplacement?: boolean;
    additionalSecretOutputs?: string[];
    aliases?: string[];
    customTimeouts?: { create?: number; update?: number; delete?: number };
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    deleteBeforeReplace?: boolean;
    deletedWith?: string;
}

export interface StackExport {
    version: 3;
    deployment: {
        manifest: { time: string; magic: string; version: string };
        resources: ExportResource[];
        [key: string]: unknown;
    };
}

export class ExportFileError extends Error {}

// ---- Writing ------------------------------------------------------------------------------------

/** The evaluated stack as `pulumi stack export` would lay it out, values redacted as described above. */
export function toStackExport(run: ProgramRun): StackExport {
    return {
        version: 3,
        deployment: {
            manifest: {
                time: new Date().toISOString(),
                magic: crypto.createHash("sha256").update(EXPORT_TOOL_VERSION).digest("hex"),
                version: EXPORT_TOOL_VERSION,
            },
            resources: run.resources.map((r) => toExportResource(r, r.type === STACK_TYPE ? run.outputs : undefined)),
        },
    };
}

function toExportResource(r: RecordedResource, stackOutputs?: Record<string, unknown>): ExportResource {
    const inputs = redactSecrets(r.inputs) as Record<string, unknown>;
    return {
        urn: r.urn,
        custom: r.custom,
        type: r.type,
        inputs,
        outputs: (withoutUnknowns(stackOutputs ? redactSecrets(stackOutputs) : inputs) ?? {}) as Record<string, unknown>,
        ...(r.parent ? { parent: r.parent } : {}),
        protect: r.protect,
        retainOnDelete: r.retainOnDelete,
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
        ...(r.provider ? { provider: r.provider } : {}),
        ...(r.additionalSecretOutputs.length ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
        ...(r.ignoreChanges.length ? { ignoreChanges: r.ignoreChanges } : {}),
        ...(r.replaceOnChanges.length ? { replaceOnChanges: r.replaceOnChanges } : {}),
        ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        ...(r.deletedWith ? { deletedWith: r.deletedWith } : {}),
    };
}

function redactSecrets(v: unknown): unknown {
    if (isSecret(v)) return { [SIG_KEY]: SECRET_SIG, ciphertext: "" };
    if (Array.isArray(v)) return v.map(redactSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactSecrets(x)]));
    return v;
}

function withoutUnknowns(v: unknown): unknown {
    if (v === UNKNOWN) return undefined;
    if (isSecret(v)) return v;
    if (Array.isArray(v)) return v.map((x) => withoutUnknowns(x) ?? null);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.entries(v)
                .map(([k, x]) => [k, withoutUnknowns(x)] as const)
                .filter(([, x]) => x !== undefined),
        );
    }
    return v;
}

export function writeStackExport(file: string, data: StackExport, text = stackExportText(data)): void {
    fs.writeFileSync(file, text);
}

/** The export file's text. */
export function stackExportText(data: StackExport): string {
    return JSON.stringify(data, null, 2) + "\n";
}

// ---- Reading ------------------------------------------------------------------------------------

/** Reads and checks a `pulumi stack export` file (deployment version 3). */
export function readStackExport(file: string): StackExport {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new ExportFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    let doc: any;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new ExportFileError(`${file} is not JSON: ${(e as Error).message}`);
    }
    const problem = exportProblem(doc);
    if (problem) throw new ExportFileError(`${file} is not a pulumi stack export: ${problem}`);
    return doc as StackExport;
}

function exportProblem(doc: any): string | undefined {
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) return "expected a JSON object";
    if (doc.version !== 3) return `expected "version": 3, found ${JSON.stringify(doc.version)}`;
    if (!doc.deployment || typeof doc.deployment !== "object") return `missing "deployment"`;
    const resources = doc.deployment.resources ?? [];
    if (!Array.isArray(resources)) return `"deployment.resources" is not a list`;
    const bad = resources.findIndex((r: any) => !r || typeof r.urn !== "string" || typeof r.type !== "string");
    if (bad >= 0) return `resource #${bad} has no urn or type`;
    return undefined;
}

// ---- What the analyzer is sent -------------------------------------------------------------------

export interface AnalysisInput {
    /** Sent one by one to Analyze: inputs, as the engine sends them before a step. */
    perResource: AnalyzedResource[];
    /** Sent together to AnalyzeStack: the resources' state after the step. */
    stack: AnalyzedResource[];
    /** How many resources hold secrets that could not be decrypted (sent as unknown). */
    undecryptedSecrets: number;
}

/**
 * Plan (preview): Analyze and AnalyzeStack both see the program's inputs with unknowns, because a
 * provider's preview of a new resource reports its inputs as its state. Providers are skipped, as
 * in an audit, so that both see the same resources.
 */
export function analysisForRun(run: ProgramRun): AnalysisInput {
    const analysis = new RunAnalysis();
    for (const r of run.resources) analysis.add(r);
    return analysis.complete(run.outputs);
}

/**
 * A plan's analysis built as the program records resources, so that Analyze can be sent while it
 * still runs: a resource's provider is always recorded before the resource.
 */
export class RunAnalysis {
    private readonly byUrn = new Map<string, RecordedResource>();
    private readonly resources: RecordedResource[] = [];
    private readonly perResource: AnalyzedResource[] = [];

    /** Adds the next recorded resource; returns what Analyze is sent for it (nothing for a provider). */
    add(r: RecordedResource): AnalyzedResource | undefined {
        this.byUrn.set(r.urn, r);
        if (isProvider(r)) return undefined;
        const analyzed = analyzedResource(r, r.inputs, this.provider(r));
        this.resources.push(r);
        this.perResource.push(analyzed);
        return analyzed;
    }

    /** The whole input once the run has ended, with the stack's outputs. */
    complete(outputs: Record<string, unknown>): AnalysisInput {
        // The root stack's state is its outputs; every other resource's is its inputs, the same request.
        const stack = this.resources.map((r, i) => (r.type === STACK_TYPE ? analyzedResource(r, outputs, this.provider(r)) : this.perResource[i]));
        return { perResource: [...this.perResource], stack, undecryptedSecrets: 0 };
    }

    private provider(r: RecordedResource): AnalyzedResource["provider"] {
        return providerFor(r.provider, (urn) => this.byUrn.get(urn)?.inputs, this.byUrn);
    }
}

/**
 * Audit (as `pulumi policy check`): providers and pending deletes are skipped; Analyze sees
 * inputs, AnalyzeStack outputs. A custom resource without an id was never created (an offline
 * preview export), so, as in a preview, its state is its inputs.
 */
export function analysisForExport(data: StackExport): AnalysisInput {
    const withSecrets = new Set<string>();
    const decode = (urn: string, props: Record<string, unknown> | undefined) => {
        const counter = { undecrypted: 0 };
        const decoded = decodeSecrets(props ?? {}, counter);
        if (counter.undecrypted) withSecrets.add(urn);
        return decoded;
    };
    const all = data.deployment.resources;
    const byUrn = new Map(all.map((r) => [r.urn, r]));
    const live = all.filter((r) => !isProvider(r) && !r.delete);
    // A provider is described once and shared by the resources that use it, as its encoding then is.
    const providers = new Map<string, AnalyzedResource["provider"]>();
    const provider = (r: ExportResource) => {
        if (!r.provider) return undefined;
        if (!providers.has(r.provider))
            providers.set(
                r.provider,
                providerFor(r.provider, (urn) => decode(urn, byUrn.get(urn)?.inputs), byUrn),
            );
        return providers.get(r.provider);
    };
    const perResource = live.map((r) => analyzedResource(r, decode(r.urn, r.inputs), provider(r)));
    const stack = live.map((r) => analyzedResource(r, decode(r.urn, stateOf(r)), provider(r)));
    return { perResource, stack, undecryptedSecrets: withSecrets.size };
}

function stateOf(r: ExportResource): Record<string, unknown> {
    const neverCreated = r.custom && !r.id;
    return (neverCreated ? r.inputs : r.outputs) ?? {};
}

export type ResourceLike = Pick<
    ExportResource,
    "urn" | "type" | "parent" | "dependencies" | "propertyDependencies" | "protect" | "ignoreChanges" | "additionalSecretOutputs" | "aliases" | "customTimeouts"
> & {
    deleteBeforeReplace?: boolean;
};

/** A resource as Analyze and AnalyzeStack describe it, with `properties` as its inputs or state. */
export function analyzedResource(r: ResourceLike, properties: Record<string, unknown>, provider: AnalyzedResource["provider"]): AnalyzedResource {
    return {
        urn: r.urn,
        type: r.type,
        name: urnName(r.urn),
        properties,
        ...(r.parent ? { parent: r.parent } : {}),
        dependencies: r.dependencies ?? [],
        propertyDependencies: r.propertyDependencies ?? {},
        protect: r.protect ?? false,
        ignoreChanges: r.ignoreChanges ?? [],
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
        aliases: (r.aliases ?? []).filter((a): a is string => typeof a === "string"),
        ...(r.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: r.deleteBeforeReplace } : {}),
        ...(r.customTimeouts ? { customTimeouts: r.customTimeouts } : {}),
        ...(provider ? { provider } : {}),
    };
}

/** Resolves a provider reference `urn::id` to the provider resource the engine would describe. */
export function providerFor(
    ref: string | undefined,
    inputsOf: (urn: string) => Record<string, unknown> | undefined,
    known: Map<string, unknown>,
): AnalyzedResource["provider"] {
    if (!ref) return undefined;
    const urn = providerUrn(ref)!;
    if (!known.has(urn)) return undefined;
    const type = urn.split("::")[2]?.split("$").pop() ?? "";
    return { urn, type, name: urnName(urn), properties: inputsOf(urn) ?? {} };
}

/**
 * Secrets in an export are `{sig, ciphertext}` (undecryptable here: sent as unknown, so policies
 * reading them report "can't run" instead of guessing) or `{sig, plaintext: "<json>"}` from
 * `--show-secrets` (sent as a secret with its value, as the engine would). A part without secrets
 * is the export's own value, not a copy: a resource never created then has the same properties
 * object for Analyze and AnalyzeStack, and the request encoder writes it once.
 */
function decodeSecrets(v: unknown, counter: { undecrypted: number }): any {
    if (isSecret(v)) {
        if ("value" in v) return { [SIG_KEY]: SECRET_SIG, value: decodeSecrets(v.value, counter) };
        if (typeof v.plaintext === "string") return { [SIG_KEY]: SECRET_SIG, value: decodeSecrets(parsePlaintext(v.plaintext), counter) };
        counter.undecrypted++;
        return UNKNOWN;
    }
    if (Array.isArray(v)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
            const x = decodeSecrets(v[i], counter);
            if (copy) copy.push(x);
            else if (x !== v[i]) copy = [...v.slice(0, i), x];
        }
        return copy ?? v;
    }
    if (v && typeof v === "object") {
        const keys = Object.keys(v);
        const obj = v as Record<string, unknown>;
        let copy: [string, unknown][] | undefined;
        for (let i = 0; i < keys.length; i++) {
            const x = decodeSecrets(obj[keys[i]], counter);
            if (copy) copy.push([keys[i], x]);
            else if (x !== obj[keys[i]]) copy = [...keys.slice(0, i).map((k): [string, unknown] => [k, obj[k]]), [keys[i], x]];
        }
        return copy ? Object.fromEntries(copy) : v;
    }
    return v;
}

function parsePlaintext(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
