// One policy check: start the pack, configure it like the CLI would, Analyze each resource,
// AnalyzeStack once, stop the pack (always, also when something fails).
import { AnalyzerClient, Diagnostic, LogMessage, PackInfo, PolicyPackProcess } from "./analyzer";
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
 * Starts the pack while `prepare` runs (the two take about as long and overlap well), then checks
 * what `prepare` produced. The pack is stopped in every case.
 */
export async function checkWith<T>(
    packDir: string,
    policyConfigFile: string,
    prepare: () => Promise<T>,
    request: (prepared: T) => Omit<CheckRequest, "policyConfigFile">,
): Promise<{ prepared: T; check: CheckResult }> {
    // Read the config before starting anything, so a bad file fails fast.
    const given = readPolicyConfigFile(policyConfigFile);
    const starting = PolicyPackProcess.start(packDir);
    let prepared: T;
    try {
        prepared = await prepare();
    } catch (e) {
        await starting.then(
            (p) => p.close(),
            () => undefined,
        );
        throw e;
    }
    const pack = await starting;
    try {
        return { prepared, check: await check(pack, given, { ...request(prepared), policyConfigFile }, pack.logs) };
    } finally {
        pack.close();
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
