// How an analysis shows itself: a progress line per interval while it runs, a table of every
// measurement at the end, and one JSON document for pipelines.
import { AnalysisPhase, AnalysisResult, IntervalProgress, Measurement } from "./run";

/**
 * Exit codes: one per result, so a pipeline can branch on them (2 stays "unusable input", and an
 * error means the analysis could not run, as 3 does for the other tools).
 */
export const ANALYSIS_EXIT: Record<AnalysisPhase, number> = { passed: 0, failed: 1, error: 3, inconclusive: 4 };
/** Stopped by SIGINT before the window ended (the result is inconclusive). */
export const EXIT_STOPPED = 130;

const MARK: Record<Measurement["phase"], string> = { successful: "ok", failed: "FAIL", inconclusive: "no data", error: "ERROR" };

function clock(unixSeconds: number): string {
    return new Date(unixSeconds * 1000).toISOString().slice(11, 19);
}

function minutesLeft(seconds: number): string {
    return seconds >= 60 ? `${Math.round(seconds / 60)}m left` : `${Math.round(seconds)}s left`;
}

export function targetName(r: { target: AnalysisResult["target"] }): string {
    return `${r.target.service}/${r.target.color}`;
}

/** `12:03:00 auth-service/green 4/30  errorRate 0.10% ≤ 1.00% ok | … | 26m left` */
export function progressLine(p: IntervalProgress): string {
    const cells = p.metrics.map(({ name, measurement: m }) => `${name} ${m.phase === "error" ? "error" : m.shown} ${m.limit} ${MARK[m.phase]}`);
    return `${clock(p.time)} ${targetName(p)} ${p.index}/${p.total}  ${cells.join(" | ")} | ${minutesLeft(p.secondsLeft)}`;
}

/** Every measurement, a row per time and a column per metric, then the verdict. */
export function resultTable(r: AnalysisResult): string {
    const times = [...new Set(r.metrics.flatMap((m) => m.measurements.map((x) => x.time)))].sort((a, b) => a - b);
    const header = ["time", ...r.metrics.map((m) => `${m.name} (${m.measurements[0]?.limit ?? "not measured"})`)];
    const rows = times.map((t) => [
        clock(t),
        ...r.metrics.map((m) => {
            const x = m.measurements.find((y) => y.time === t);
            return x ? `${x.phase === "error" ? "error" : x.shown} ${MARK[x.phase]}` : "-";
        }),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd();
    const counts = r.metrics.map((m) => `${m.name} ${m.phase} (${m.failed} failed, ${m.inconclusive} no data, ${m.errors} errors)`).join("; ");
    return [
        `${targetName(r)} in ${r.target.namespace}: ${r.phase.toUpperCase()}${r.stopped ? " (stopped)" : ""}: ${r.message}`,
        line(header),
        ...rows.map(line),
        counts,
        "",
    ].join("\n");
}

/** The overall result of several runs: failed outweighs error, error outweighs inconclusive. */
export function overallPhase(results: AnalysisResult[]): AnalysisPhase {
    for (const phase of ["failed", "error", "inconclusive"] as const) if (results.some((r) => r.phase === phase)) return phase;
    return "passed";
}

export function resultsJson(results: AnalysisResult[], extra: Record<string, unknown> = {}): string {
    return JSON.stringify({ result: overallPhase(results), stopped: results.some((r) => r.stopped), ...extra, analyses: results }, null, 2) + "\n";
}
