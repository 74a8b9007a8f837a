// The analysis inside the release command: `release watch`, and the analysis around a promote's
// switch (before it, the idle color's own pods; after it, the new live color over the monitoring
// window). The release command hands in the stack's config and its rollback step; nothing here
// edits a stack file.
import type { StackConfig } from "../../config";
import { AnalysisConfig } from "../../metrics/analysis";
import { InputError } from "../cli";
import { AUTH_ENV, PrometheusClient, PrometheusSetupError } from "./prometheus";
import { ANALYSIS_EXIT } from "./report";
import { AnalysisStage, RollbackOutcome, watch, WatchOutcome, watchTargets } from "./watch";

/** Flags of `watch` (and of `promote`, which runs the same analysis). */
export const ANALYSIS_FLAGS = { values: ["prometheus", "since"], booleans: ["json"] };

/** Before the switch the idle color's last 10 minutes are measured, at once. */
export const PRE_PROMOTION_LOOKBACK_SECONDS = 600;

export interface AnalysisRequest {
    config: StackConfig;
    services: string[];
    /** The command's flags as given (`--prometheus`, `--since`, `--json`). */
    flags: Record<string, string | true>;
    now: Date;
    progress: (line: string) => void;
    /** The release's rollback step for these services: shown, or run when the command applies. */
    rollback: (services: string[]) => Promise<RollbackOutcome>;
}

/** What a promote hook tells the release command. */
export interface AnalysisVerdict {
    passed: boolean;
    /** Only a failed analysis rolls back; inconclusive and error stop without touching traffic. */
    rollBack: boolean;
    summary: string;
    /** The analysis' own exit code (0 passed, 1 failed, 3 error, 4 inconclusive, 130 stopped). */
    code: number;
}

export function prometheusClient(flags: Record<string, string | true>, command: string): PrometheusClient {
    const url = flags.prometheus;
    if (typeof url !== "string") {
        throw new InputError(
            `${command} needs --prometheus <url> (credentials, if any, from ${AUTH_ENV.bearerToken} or ${AUTH_ENV.username}/${AUTH_ENV.password})`,
        );
    }
    try {
        return new PrometheusClient(url);
    } catch (e) {
        if (e instanceof PrometheusSetupError) throw new InputError(e.message);
        throw e;
    }
}

function sinceFlag(flags: Record<string, string | true>): number | undefined {
    const since = flags.since;
    if (since === undefined) return undefined;
    const t = typeof since === "string" ? Date.parse(since) : NaN;
    if (!/[zZ]|[+-]\d{2}:\d{2}$/.test(String(since)) || Number.isNaN(t))
        throw new InputError(`--since must be an ISO 8601 time with offset, such as 2026-11-26T14:35:00-05:00`);
    return Math.floor(t / 1000);
}

/** Runs the analysis with SIGINT stopping it (the table of what was measured is still shown). */
async function stoppable(run: (signal: AbortSignal) => Promise<WatchOutcome>): Promise<WatchOutcome> {
    const controller = new AbortController();
    const others = process.listeners("SIGINT");
    process.removeAllListeners("SIGINT");
    const stop = () => controller.abort();
    process.on("SIGINT", stop);
    try {
        return await run(controller.signal);
    } finally {
        process.off("SIGINT", stop);
        for (const listener of others) process.on("SIGINT", listener as NodeJS.SignalsListener);
    }
}

/**
 * `release watch`: each service's live color from its promote (`services.<name>.promotedAt`, or
 * `--since`, or now) over the window; failed services are rolled back through the release step.
 */
export async function watchRelease(r: AnalysisRequest): Promise<{ code: number; output: string }> {
    const client = prometheusClient(r.flags, "watch");
    const since = sinceFlag(r.flags);
    const now = Math.floor(r.now.getTime() / 1000);
    const targets = watchTargets(r.config, r.services, "post").map((t) => {
        const promotedAt = r.config.services.find((s) => s.name === t.service)?.promotedAt;
        return { ...t, start: since ?? (promotedAt ? Math.floor(Date.parse(promotedAt) / 1000) : now) };
    });
    const outcome = await stoppable((signal) =>
        watch({ targets, config: r.config.release.analysis, client, signal, json: r.flags.json === true, progress: r.progress, rollback: r.rollback }),
    );
    return { code: outcome.code, output: outcome.output };
}

/** The promote hooks: refuse the switch when the idle color fails; after it, watch and roll back. */
export function promoteAnalysis(r: Omit<AnalysisRequest, "services">) {
    const verdict = async (services: string[], stage: AnalysisStage): Promise<AnalysisVerdict> => {
        const client = prometheusClient(r.flags, "promote");
        const analysis: AnalysisConfig = r.config.release.analysis;
        const now = Math.floor(r.now.getTime() / 1000);
        const config = stage === "pre" ? { ...analysis, window: `${PRE_PROMOTION_LOOKBACK_SECONDS}s`, initialDelay: "0s" } : analysis;
        const start = stage === "pre" ? now - PRE_PROMOTION_LOOKBACK_SECONDS : now;
        const outcome = await stoppable((signal) =>
            watch({ targets: watchTargets(r.config, services, stage), config, client, start, signal, json: false, progress: r.progress }),
        );
        const phase = outcome.results.some((x) => x.phase === "failed") ? "failed" : outcome.code === ANALYSIS_EXIT.passed ? "passed" : "other";
        return { passed: phase === "passed", rollBack: phase === "failed", summary: outcome.output.trimEnd(), code: outcome.code };
    };
    return {
        beforeSwitch: (services: string[]) => verdict(services, "pre"),
        afterSwitch: (services: string[]) => verdict(services, "post"),
    };
}
