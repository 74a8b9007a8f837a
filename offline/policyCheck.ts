// One policy check: start the pack, configure it like the CLI would, Analyze each resource,
// AnalyzeStack once, stop the pack (always, also when something fails). A plan can hand each
// resource over as the program registers it, as the engine does in a preview.
import { AnalyzedResource, AnalyzerClient, Diagnostic, LogMessage, PackInfo, PolicyPackProcess } from "./analyzer";
import { RequestEncoder } from "./analyzerEncoding";
import { GivenConfig, readPolicyConfigFile, reconcilePolicyConfig } from "./policyConfig";
import type { AnalysisInput } from "./stackExport";

export interface CheckRequest {
    policyConfigFile: string;
    stack: string;
    project: string;
    /** True for a preview (plan); an audit of a deployed state is not a dry run. */
    dryRun: boolean;
    input: AnalysisInput;
}

export interface CheckResult {
    pack: PackInfo;
    violations: Diagnostic[];
    logs: LogMessage[];
    warnings: string[];
}

/**
 * Analyze calls handed to one pack at once. A started pack's connection thread sends them
 * CALLS_IN_FLIGHT_PER_PACK (analyzerTransport.ts) at a time, also while this thread is busy
 * evaluating the program.
 */
const HANDED_PER_PACK = 64;

/**
 * From this many resources on, AnalyzeStack goes to a second pack process, which answers it while
 * the first still answers Analyze (the pack is single-threaded): the stack request then takes
 * longer than a second pack takes to start, about a second. A plan starts it when the program has
 * registered this many, so it must be low enough for the pack to be ready (and take Analyze calls)
 * before the program ends: at 500 it was often still starting then; the shipped stacks (about 150
 * resources) stay below it.
 */
export const SECOND_PACK_FROM_RESOURCES = 250;

export interface CheckOptions {
    /** How many resources make AnalyzeStack go to a second pack; default `SECOND_PACK_FROM_RESOURCES`. */
    secondPackFrom?: number;
}

/**
 * Starts the pack's process, runs `prepare` while the pack loads (the two take about as long and
 * overlap well), then checks what `prepare` produced. The packs are stopped in every case.
 */
export async function checkWith<T>(
    packDir: string,
    policyConfigFile: string,
    prepare: () => Promise<T>,
    request: (prepared: T) => Omit<CheckRequest, "policyConfigFile">,
    options: CheckOptions = {},
): Promise<{ prepared: T; check: CheckResult }> {
    // Read the config before starting anything, so a bad file fails fast.
    const given = readPolicyConfigFile(policyConfigFile);
    const packs = new Packs(packDir, given, options);
    try {
        const pack = await packs.first();
        const prepared = await prepare();
        const req = { ...request(prepared), policyConfigFile };
        const encoder = new RequestEncoder();
        const queue = new AnalyzeQueue(encoder);
        const stackPack = packs.forStack(req, req.input.stack.length);
        // Encoded while the packs still load (this thread waits for them anyway), so AnalyzeStack
        // goes out as soon as its pack is configured; the Analyze requests reuse the resources' bytes.
        encoder.analyzeStackRequest(req.input.stack);
        const { info, warnings } = await packs.configured(pack, req);
        queue.serveWith(pack);
        const [perResource, stack] = await Promise.all([
            Promise.all(req.input.perResource.map((r) => queue.analyze(r))),
            stackPack.then((p) => {
                const answer = p.analyzeStack(req.input.stack, encoder);
                // A second pack answers the Analyze calls left once it has answered AnalyzeStack
                // (handed to it before, they would wait behind it).
                if (p !== pack) queue.serveOnceAnswered(p, answer);
                return answer;
            }),
        ]);
        return { prepared, check: { pack: info, violations: [...perResource.flat(), ...stack], logs: packs.logs(), warnings } };
    } finally {
        packs.close();
    }
}

/** The stack a check is for, known before the resources are. */
export type CheckTarget = Omit<CheckRequest, "input">;

/**
 * Like `checkWith`, but Analyze runs while `prepare` still does, as the engine analyzes each
 * resource of a preview when it is registered: `prepare` hands every resource to `analyze` in the
 * order of `input(prepared).perResource`, which must then be exactly those resources. The stack's
 * resources go to AnalyzeStack once `prepare` has ended.
 */
export async function checkWhilePreparing<T>(
    packDir: string,
    target: CheckTarget,
    prepare: (analyze: (resource: AnalyzedResource) => void) => Promise<T>,
    input: (prepared: T) => AnalysisInput,
    options: CheckOptions = {},
): Promise<{ prepared: T; check: CheckResult }> {
    const given = readPolicyConfigFile(target.policyConfigFile);
    const packs = new Packs(packDir, given, options);
    try {
        const pack = await packs.first();
        const configured = packs.configured(pack, target);
        const encoder = new RequestEncoder();
        const queue = new AnalyzeQueue(encoder);
        configured.then(
            () => queue.serveWith(pack),
            () => undefined,
        );
        const sent: AnalyzedResource[] = [];
        const answers: Promise<Diagnostic[]>[] = [];
        let stackPack: Promise<AnalyzerClient> | undefined;
        const prepared = await prepare((resource) => {
            sent.push(resource);
            if (!stackPack && sent.length >= packs.secondPackFrom) {
                // Started as soon as the stack is known to be large, so that it is ready when the
                // run ends; it answers Analyze meanwhile.
                stackPack = packs.forStack(target, sent.length);
                stackPack.then(
                    (p) => queue.serveWith(p),
                    () => undefined,
                );
            }
            const answer = queue.analyze(resource);
            // Awaited below; a failure while `prepare` still runs must not be an unhandled rejection.
            answer.catch(() => undefined);
            answers.push(answer);
        });
        // A failed start of the first pack fails the check here, not in a request that never goes out.
        await configured;
        const { info, warnings } = await configured;
        const all = input(prepared);
        if (all.perResource.length !== sent.length || all.perResource.some((r, i) => r !== sent[i])) {
            throw new Error(`the check was handed ${sent.length} resources while preparing, but the input has ${all.perResource.length} others`);
        }
        const [perResource, stack] = await Promise.all([
            Promise.all(answers),
            (stackPack ?? packs.forStack(target, all.stack.length)).then((p) => {
                // The second pack answers AnalyzeStack alone, the first the Analyze calls left;
                // once AnalyzeStack is answered, the second pack takes its share of them again.
                if (p !== pack) queue.stopServing(p);
                const answer = p.analyzeStack(all.stack, encoder);
                if (p !== pack) queue.serveOnceAnswered(p, answer);
                return answer;
            }),
        ]);
        return { prepared, check: { pack: info, violations: [...perResource.flat(), ...stack], logs: packs.logs(), warnings } };
    } finally {
        packs.close();
    }
}

/**
 * The pack processes of one check: the first, started at once, and for a large stack a second one
 * for AnalyzeStack, configured the same way. Every pack is stopped by `close()`.
 */
class Packs {
    readonly secondPackFrom: number;
    private readonly started: Promise<PolicyPackProcess>[] = [];
    private readonly spawned: PolicyPackProcess[] = [];
    private closed = false;
    private readonly configurations = new Map<PolicyPackProcess, Promise<{ info: PackInfo; warnings: string[] }>>();

    constructor(
        private readonly packDir: string,
        private readonly given: Record<string, GivenConfig>,
        options: CheckOptions,
    ) {
        this.secondPackFrom = options.secondPackFrom ?? SECOND_PACK_FROM_RESOURCES;
    }

    /** Spawns the first pack (its process runs from now on) and resolves once it is spawned. */
    first(): Promise<PolicyPackProcess> {
        return this.spawn();
    }

    /** The first pack configured for `target`: once per pack. */
    configured(pack: PolicyPackProcess, target: CheckTarget): Promise<{ info: PackInfo; warnings: string[] }> {
        let configured = this.configurations.get(pack);
        if (!configured) {
            configured = pack.listening().then(() => configurePack(pack, this.given, target));
            // Awaited by whoever needs it; until then a failure must not be an unhandled rejection.
            configured.catch(() => undefined);
            this.configurations.set(pack, configured);
        }
        return configured;
    }

    /** The pack to send AnalyzeStack to, configured: a second one for `resources` at or above the threshold. */
    forStack(target: CheckTarget, resources: number): Promise<AnalyzerClient> {
        const pack = resources >= this.secondPackFrom ? this.spawn() : this.started[0];
        const ready = pack.then(async (p) => {
            await this.configured(p, target);
            return p;
        });
        ready.catch(() => undefined);
        return ready;
    }

    logs(): LogMessage[] {
        return this.spawned.flatMap((p) => p.logs);
    }

    /** Stops every pack, also one whose start is still under way. */
    close(): void {
        this.closed = true;
        for (const p of this.spawned) p.close();
    }

    private spawn(): Promise<PolicyPackProcess> {
        const pack = PolicyPackProcess.spawn(this.packDir).then((p) => {
            if (this.closed) p.close();
            else this.spawned.push(p);
            return p;
        });
        pack.catch(() => undefined);
        this.started.push(pack);
        return pack;
    }
}

/** A pack's share of the Analyze queue: how many more calls it may hold, and whether it takes any now. */
interface Lane {
    pack: AnalyzerClient;
    free: number;
    serving: boolean;
}

/**
 * The Analyze requests of one check, in the order given, each handed to the pack with the most
 * free slots of those serving (at most HANDED_PER_PACK to each): a second pack takes its share
 * while it does not answer AnalyzeStack. Every resource is analyzed exactly once, by one pack.
 */
export class AnalyzeQueue {
    private readonly waiting: { resource: AnalyzedResource; resolve: (d: Diagnostic[]) => void; reject: (e: unknown) => void }[] = [];
    private readonly lanes: Lane[] = [];

    constructor(private readonly encoder: RequestEncoder) {}

    /** From now on `pack` (configured) answers requests too (again, after `stopServing`). */
    serveWith(pack: AnalyzerClient): void {
        const lane = this.lanes.find((l) => l.pack === pack);
        if (lane) lane.serving = true;
        else this.lanes.push({ pack, free: HANDED_PER_PACK, serving: true });
        this.dispatch();
    }

    /** `pack` serves again once `answered` (its AnalyzeStack) has succeeded. */
    serveOnceAnswered(pack: AnalyzerClient, answered: Promise<unknown>): void {
        answered.then(
            () => this.serveWith(pack),
            () => undefined,
        );
    }

    /** From now on `pack` takes no more requests (those it has are answered) until `serveWith` again. */
    stopServing(pack: AnalyzerClient): void {
        const lane = this.lanes.find((l) => l.pack === pack);
        if (lane) lane.serving = false;
    }

    analyze(resource: AnalyzedResource): Promise<Diagnostic[]> {
        return new Promise((resolve, reject) => {
            this.waiting.push({ resource, resolve, reject });
            this.dispatch();
        });
    }

    private dispatch(): void {
        while (this.waiting.length) {
            const lane = this.lanes.reduce<Lane | undefined>((best, l) => (l.serving && l.free > (best?.free ?? 0) ? l : best), undefined);
            if (!lane) return;
            const job = this.waiting.shift()!;
            lane.free--;
            lane.pack
                .analyze(job.resource, this.encoder)
                .then(job.resolve, job.reject)
                .finally(() => {
                    lane.free++;
                    this.dispatch();
                });
        }
    }
}

/** What the CLI does before analyzing: reads the pack's policies, reconciles the config file with them, Configure, ConfigureStack. */
export async function configurePack(
    analyzer: AnalyzerClient,
    given: Record<string, GivenConfig>,
    req: Pick<CheckRequest, "policyConfigFile" | "stack" | "project" | "dryRun">,
): Promise<{ info: PackInfo; warnings: string[] }> {
    const info = await analyzer.getInfo();
    const { config, warnings } = reconcilePolicyConfig(info.policies, given, req.policyConfigFile);
    await analyzer.configure(config);
    await analyzer.configureStack({ stack: req.stack, project: req.project, dryRun: req.dryRun });
    return { info, warnings };
}

/** Configures the pack, then Analyze per resource and AnalyzeStack once, as `pulumi preview --policy-pack` does. */
export async function check(analyzer: AnalyzerClient, given: Record<string, GivenConfig>, req: CheckRequest, logs: LogMessage[] = []): Promise<CheckResult> {
    const { info, warnings } = await configurePack(analyzer, given, req);
    const encoder = new RequestEncoder();
    const queue = new AnalyzeQueue(encoder);
    queue.serveWith(analyzer);
    const perResource = await Promise.all(req.input.perResource.map((r) => queue.analyze(r)));
    const stack = await analyzer.analyzeStack(req.input.stack, encoder);
    return { pack: info, violations: [...perResource.flat(), ...stack], logs, warnings };
}
