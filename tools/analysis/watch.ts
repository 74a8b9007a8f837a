// Watching a release: the analysis of the chosen services' colors, side by side, and the rollback
// of every service whose analysis failed. Failed rolls back; inconclusive and error neither promote
// nor roll back: they stop and say what was missing or unreachable.
import { idleColor, StackConfig } from "../../config";
import { AnalysisConfig } from "../../metrics/analysis";
import { PrometheusClient } from "./prometheus";
import { ANALYSIS_EXIT, EXIT_STOPPED, overallPhase, progressLine, resultsJson, resultTable } from "./report";
import { AnalysisResult, AnalysisTarget, runAnalysis } from "./run";

/** `post`: the live color after a switch (baseline: the previous color). `pre`: the idle color before it. */
export type AnalysisStage = "pre" | "post";

/** Exit code when the analysis failed and the rollback itself did not go through. */
export const EXIT_ROLLBACK_FAILED = 3;

export interface RollbackOutcome {
    code: number;
    output: string;
}

export interface WatchOptions {
    /** Each with its own window start, or `start`. */
    targets: (AnalysisTarget & { start?: number })[];
    config: AnalysisConfig;
    client: PrometheusClient;
    /** Unix seconds the window starts at; defaults to now. */
    start?: number;
    signal?: AbortSignal;
    json: boolean;
    /** Progress lines while watching (stderr in the CLI). */
    progress: (line: string) => void;
    /** Rolls back the given services; shows the rollback without doing it unless the caller applies. */
    rollback?: (services: string[]) => Promise<RollbackOutcome>;
}

export interface WatchOutcome {
    code: number;
    output: string;
    results: AnalysisResult[];
    rolledBack: string[];
}

/** The colors to analyse per service: the live one after a switch, the idle one before it. */
export function watchTargets(config: Pick<StackConfig, "namespace" | "services">, services: string[], stage: AnalysisStage): AnalysisTarget[] {
    return services.map((name) => {
        const service = config.services.find((s) => s.name === name);
        if (!service) throw new Error(`unknown service ${name}`);
        const idle = idleColor(service.live);
        const [color, baselineColor] = stage === "post" ? [service.live, idle] : [idle, service.live];
        return { namespace: config.namespace, service: name, color, baselineColor };
    });
}

export async function watch(o: WatchOptions): Promise<WatchOutcome> {
    const start = Math.floor(o.start ?? Date.now() / 1000);
    const results = await Promise.all(
        o.targets.map((target) =>
            runAnalysis({
                client: o.client,
                target,
                config: o.config,
                start: target.start ?? start,
                signal: o.signal,
                onInterval: (p) => o.progress(progressLine(p)),
            }),
        ),
    );
    const phase = overallPhase(results);
    const failed = results.filter((r) => r.phase === "failed").map((r) => r.target.service);
    const stopped = results.some((r) => r.stopped);
    let rollback: RollbackOutcome | undefined;
    if (failed.length && o.rollback) rollback = await o.rollback(failed);
    const code = stopped && phase !== "failed" ? EXIT_STOPPED : rollback && rollback.code !== 0 ? EXIT_ROLLBACK_FAILED : ANALYSIS_EXIT[phase];
    const verdict = verdictLine(phase, failed, results, stopped);
    const output = o.json
        ? resultsJson(results, { verdict, rollback: rollback ? { services: failed, code: rollback.code, output: rollback.output } : null })
        : [...results.map(resultTable), verdict, ...(rollback ? [`Rollback of ${failed.join(", ")}:`, rollback.output] : [])].join("\n") + "\n";
    return { code, output, results, rolledBack: rollback && rollback.code === 0 ? failed : [] };
}

function verdictLine(phase: string, failed: string[], results: AnalysisResult[], stopped: boolean): string {
    if (phase === "failed") return `Analysis FAILED for ${failed.join(", ")}: roll back.`;
    if (phase === "passed") return `Analysis PASSED for ${results.map((r) => r.target.service).join(", ")}.`;
    const which = results.filter((r) => r.phase === phase).map((r) => r.target.service);
    const why = phase === "error" ? "Prometheus could not be queried" : stopped ? "stopped before the window ended" : "metrics without data";
    return `Analysis ${phase.toUpperCase()} for ${which.join(", ")} (${why}): no promotion and no rollback; fix the cause and watch again.`;
}
