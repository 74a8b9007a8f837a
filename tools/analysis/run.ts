// One analysis run of one service's color, with the semantics of Argo Rollouts' AnalysisRun: a
// measurement of every metric each interval over the window; a metric fails after more than
// `failureLimit` failed measurements, is an error after more than `consecutiveErrorLimit` query
// errors in a row (an unreachable Prometheus never counts as a success), and is inconclusive after
// more than `inconclusiveLimit` measurements without data. The run stops at the first metric that
// fails, errs or is inconclusive; it passes only when every measurement of the window succeeded.
//
// Measurement times that have already passed (a window that started earlier) are read in one
// `query_range` per metric; the others are waited for and read with an instant query each.
import { AnalysisConfig, AnalysisMetric, analysisMetrics, baselineLatencyQuery } from "../../metrics/analysis";
import { durationSeconds } from "../../metrics/duration";
import { MetricScope } from "../../metrics/queries";
import { PrometheusClient, PrometheusError, Sample } from "./prometheus";

export type MeasurementPhase = "successful" | "failed" | "inconclusive" | "error";
export type MetricPhase = "running" | MeasurementPhase;
export type AnalysisPhase = "passed" | "failed" | "inconclusive" | "error";

export interface AnalysisTarget {
    namespace: string;
    service: string;
    /** The color whose own pods are measured. */
    color: string;
    /** The color whose p95 over the window before `start` is the latency baseline. */
    baselineColor?: string;
}

export interface Measurement {
    /** Unix seconds. */
    time: number;
    phase: MeasurementPhase;
    value?: number;
    /** The value as people read it, or why there is none. */
    shown: string;
    limit: string;
}

export interface MetricRun {
    name: AnalysisMetric["name"];
    query: string;
    phase: MetricPhase;
    failureLimit: number;
    measurements: Measurement[];
    failed: number;
    inconclusive: number;
    errors: number;
    consecutiveErrors: number;
}

export interface AnalysisResult {
    target: AnalysisTarget;
    phase: AnalysisPhase;
    /** One line saying why. */
    message: string;
    /** Unix seconds: the window. */
    start: number;
    end: number;
    /** Baseline p95 in seconds, when the baseline color had traffic. */
    baselineSeconds?: number;
    metrics: MetricRun[];
    /** Stopped (SIGINT) before the window ended. */
    stopped: boolean;
}

export interface IntervalProgress {
    target: AnalysisTarget;
    time: number;
    index: number;
    total: number;
    secondsLeft: number;
    metrics: { name: string; measurement: Measurement }[];
}

export interface RunOptions {
    client: PrometheusClient;
    target: AnalysisTarget;
    config: AnalysisConfig;
    /** Unix seconds the window starts at (defaults to now). */
    start?: number;
    signal?: AbortSignal;
    onInterval?: (progress: IntervalProgress) => void;
    /** Current time in Unix seconds; injectable for tests of the waiting path. */
    now?: () => number;
}

const wallClock = () => Date.now() / 1000;

/** The measurement times of a window: after the initial delay, each interval, up to the window's end. */
export function measurementTimes(config: AnalysisConfig, start: number): number[] {
    const window = durationSeconds(config.window)!;
    const interval = durationSeconds(config.interval)!;
    const times: number[] = [];
    for (let t = start + durationSeconds(config.initialDelay)!; t <= start + window; t += interval) times.push(t);
    return times;
}

export async function runAnalysis(opts: RunOptions): Promise<AnalysisResult> {
    const now = opts.now ?? wallClock;
    const start = Math.floor(opts.start ?? now());
    const { config, target, client, signal } = opts;
    const scope = (color: string): MetricScope => ({ namespace: target.namespace, service: target.service, colors: [color] });
    const metrics = analysisMetrics(config, scope(target.color));
    const runs: MetricRun[] = metrics.map((m) => ({
        name: m.name,
        query: m.query,
        phase: "running",
        failureLimit: m.failureLimit,
        measurements: [],
        failed: 0,
        inconclusive: 0,
        errors: 0,
        consecutiveErrors: 0,
    }));
    const times = measurementTimes(config, start);
    const end = start + durationSeconds(config.window)!;
    const result = (phase: AnalysisPhase, message: string, stopped = false): AnalysisResult => ({
        target,
        phase,
        message,
        start,
        end,
        baselineSeconds,
        metrics: runs,
        stopped,
    });

    let baselineSeconds: number | undefined;
    let baselineNote = "";
    if (target.baselineColor !== undefined && config.metrics.latencyP95.baselineFactor > 0) {
        try {
            baselineSeconds = await client.query(baselineLatencyQuery(config, scope(target.baselineColor)), start, signal);
            if (baselineSeconds === undefined) baselineNote = `; no latency baseline (${target.baselineColor} had no traffic), fixed limit only`;
        } catch (e) {
            if (signal?.aborted) return result("inconclusive", "stopped before the first measurement", true);
            baselineNote = `; no latency baseline (${(e as Error).message}), fixed limit only`;
        }
    }

    const history = new Map<string, Map<number, Sample | PrometheusError>>();
    for (let i = 0; i < times.length; i++) {
        const t = times[i];
        if (!(await waitUntil(t, now, signal))) {
            return result("inconclusive", `stopped after ${i} of ${times.length} measurements, before the window ended${baselineNote}`, true);
        }
        const active = metrics.filter((_, k) => runs[k].phase === "running");
        const values = await Promise.all(active.map((m) => valueAt(client, m, t, times, now(), history, signal)));
        if (signal?.aborted) return result("inconclusive", `stopped after ${i} of ${times.length} measurements, before the window ended${baselineNote}`, true);
        const measured = active.map((m, k) => {
            const run = runs[metrics.indexOf(m)];
            const measurement = judge(m, t, values[k], baselineSeconds);
            record(run, measurement, config);
            return { name: m.name, measurement };
        });
        opts.onInterval?.({ target, time: t, index: i + 1, total: times.length, secondsLeft: Math.max(0, end - t), metrics: measured });
        const verdict = finished(runs);
        if (verdict) return result(verdict.phase, verdict.message + baselineNote);
    }
    for (const run of runs) run.phase = "successful";
    return result("passed", `all ${times.length} measurements of every metric within limits${baselineNote}`);
}

/** Resolves true at `time`, false if stopped first; never waits past `time`. */
function waitUntil(time: number, now: () => number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    const ms = (time - now()) * 1000;
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
        const onAbort = () => {
            clearTimeout(timer);
            resolve(false);
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve(true);
        }, ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

/** The metric's value at `t`: from one range query over every time already past, or an instant query. */
async function valueAt(
    client: PrometheusClient,
    metric: AnalysisMetric,
    t: number,
    times: number[],
    nowSeconds: number,
    history: Map<string, Map<number, Sample | PrometheusError>>,
    signal?: AbortSignal,
): Promise<Sample | PrometheusError> {
    const cached = history.get(metric.name);
    if (cached?.has(t)) return cached.get(t)!;
    const past = times.filter((x) => x >= t && x <= nowSeconds);
    try {
        if (past.length <= 1) return await client.query(metric.query, t, signal);
        const step = past.length > 1 ? past[1] - past[0] : 1;
        const range = await client.queryRange(metric.query, t, past[past.length - 1], step, signal);
        history.set(metric.name, new Map(past.map((x) => [x, range.get(x)])));
        return range.get(t);
    } catch (e) {
        if (e instanceof PrometheusError) return e;
        throw e;
    }
}

function judge(metric: AnalysisMetric, time: number, value: Sample | PrometheusError, baseline: number | undefined): Measurement {
    const limit = metric.limit(baseline);
    if (value instanceof PrometheusError) return { time, phase: "error", shown: `error: ${value.message}`, limit: limit.describe };
    if (value === undefined) return { time, phase: "inconclusive", shown: "no data", limit: limit.describe };
    const ok = limit.direction === "max" ? value <= limit.bound : value >= limit.bound;
    return { time, phase: ok ? "successful" : "failed", value, shown: metric.format(value), limit: limit.describe };
}

function record(run: MetricRun, m: Measurement, config: AnalysisConfig): void {
    run.measurements.push(m);
    run.consecutiveErrors = m.phase === "error" ? run.consecutiveErrors + 1 : 0;
    if (m.phase === "error") run.errors++;
    if (m.phase === "failed") run.failed++;
    if (m.phase === "inconclusive") run.inconclusive++;
    if (run.failed > run.failureLimit) run.phase = "failed";
    else if (run.consecutiveErrors > config.consecutiveErrorLimit) run.phase = "error";
    else if (run.inconclusive > config.inconclusiveLimit) run.phase = "inconclusive";
}

/** The run's verdict once a metric is failed, an error or inconclusive (in that order of weight). */
function finished(runs: MetricRun[]): { phase: AnalysisPhase; message: string } | undefined {
    const failed = runs.filter((r) => r.phase === "failed");
    if (failed.length)
        return {
            phase: "failed",
            message: failed
                .map((r) => `${r.name} failed ${r.failed} measurements (limit ${r.failureLimit}): last ${last(r).shown}, ${last(r).limit}`)
                .join("; "),
        };
    const errors = runs.filter((r) => r.phase === "error");
    if (errors.length)
        return { phase: "error", message: errors.map((r) => `${r.name}: ${r.consecutiveErrors} query errors in a row, last ${last(r).shown}`).join("; ") };
    const missing = runs.filter((r) => r.phase === "inconclusive");
    if (missing.length) return { phase: "inconclusive", message: `no data for ${missing.map((r) => `${r.name} (${r.query})`).join(", ")}` };
    return undefined;
}

function last(run: MetricRun): Measurement {
    return run.measurements[run.measurements.length - 1];
}
