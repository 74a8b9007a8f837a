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

/** Analyze calls in flight at once; the pack is single-threaded, this only hides round trips. */
const CONCURRENCY = 8;

/**
 * Starts the pack's process, runs `prepare` while the pack loads (the two take about as long and
 * overlap well), then checks what `prepare` produced. The pack is stopped in every case.
 */
export async function checkWith<T>(
    packDir: string,
    policyConfigFile: string,
    prepare: () => Promise<T>,
    request: (prepared: T) => Omit<CheckRequest, "policyConfigFile">,
): Promise<{ prepared: T; check: CheckResult }> {
    // Read the config before starting anything, so a bad file fails fast.
    const given = readPolicyConfigFile(policyConfigFile);
    const pack = await PolicyPackProcess.spawn(packDir);
    try {
        const prepared = await prepare();
        await pack.listening();
        return { prepared, check: await check(pack, given, { ...request(prepared), policyConfigFile }, pack.logs) };
    } finally {
        pack.close();
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
): Promise<{ prepared: T; check: CheckResult }> {
    const given = readPolicyConfigFile(target.policyConfigFile);
    const pack = await PolicyPackProcess.spawn(packDir);
    try {
        const configured = pack.listening().then(() => configurePack(pack, given, target));
        const encoder = new RequestEncoder();
        const limit = concurrencyLimit(CONCURRENCY);
        const sent: AnalyzedResource[] = [];
        let done = 0;
        configured.then(() => (global as any).__phase?.("configured"));
        const answers: Promise<Diagnostic[]>[] = [];
        const prepared = await prepare((resource) => {
            sent.push(resource);
            const answer = limit(() => configured.then(() => pack.analyze(resource, encoder)));
            // Awaited below; a failure while `prepare` still runs must not be an unhandled rejection.
            answer.catch(() => undefined);
            answer.then(() => {
                done++;
                if (done === 1) (global as any).__phase?.("first answer");
            });
            answers.push(answer);
        });
        (global as any).__phase?.(`prepared, ${done}/${sent.length} answered`);
        const { info, warnings } = await configured;
        const all = input(prepared);
        if (all.perResource.length !== sent.length || all.perResource.some((r, i) => r !== sent[i])) {
            throw new Error(`the check was handed ${sent.length} resources while preparing, but the input has ${all.perResource.length} others`);
        }
        const perResource = await Promise.all(answers);
        (global as any).__phase?.("all answered");
        const stack = await pack.analyzeStack(all.stack, encoder);
        (global as any).__phase?.("stack analyzed");
        return { prepared, check: { pack: info, violations: [...perResource.flat(), ...stack], logs: pack.logs, warnings } };
    } finally {
        pack.close();
    }
}

/** Runs the functions it is given at most `limit` at a time, in the order given. */
function concurrencyLimit(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
    let running = 0;
    const waiting: (() => void)[] = [];
    return async (fn) => {
        // A finished call hands its slot straight to the next one waiting.
        if (running < limit) running++;
        else await new Promise<void>((resolve) => waiting.push(resolve));
        try {
            return await fn();
        } finally {
            const next = waiting.shift();
            if (next) next();
            else running--;
        }
    };
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
    const perResource = await mapConcurrently(req.input.perResource, CONCURRENCY, (r) => analyzer.analyze(r, encoder));
    const stack = await analyzer.analyzeStack(req.input.stack, encoder);
    return { pack: info, violations: [...perResource.flat(), ...stack], logs, warnings };
}

async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}
