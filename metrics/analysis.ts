// The release analysis: which metrics it measures, with which query and limits, and its defaults per
// environment. Dependency-free, like the queries and thresholds it is built from; the stack config
// validates overrides of these defaults and the analysis tool runs them.
import * as q from "./queries";
import { THRESHOLDS as T } from "./thresholds";

export const ANALYSIS_METRICS = ["errorRate", "latencyP95", "podRestarts", "readyEndpoints"] as const;
export type AnalysisMetricName = (typeof ANALYSIS_METRICS)[number];

export interface ErrorRateLimits {
    /** Fails a measurement when the 5xx share (0–1) is above it. */
    max: number;
    failureLimit: number;
}

export interface LatencyLimits {
    /** Fails a measurement when p95 is above it (seconds). */
    maxSeconds: number;
    /** Also fails when p95 is above this many times the baseline color's p95 (0 turns it off). */
    baselineFactor: number;
    failureLimit: number;
}

export interface RestartLimits {
    /** Fails a measurement when a pod restarted more often than this within `window`. */
    max: number;
    window: string;
    failureLimit: number;
}

export interface ReadyLimits {
    /** Fails a measurement when fewer than this share (0–1) of the color's desired pods are ready. */
    minRatio: number;
    failureLimit: number;
}

/** Per stack: `release.analysis` in the stack config, keys omitted there taking these defaults. */
export interface AnalysisConfig {
    /** How long the analysis watches (the monitoring window), e.g. `30m`. */
    window: string;
    /** Time between measurements. */
    interval: string;
    /** Wait before the first measurement (new pods' metrics settle). */
    initialDelay: string;
    /** Query errors in a row (Prometheus unreachable, bad answers) before a metric is an error. */
    consecutiveErrorLimit: number;
    /** Measurements without data a metric may have before it is inconclusive. */
    inconclusiveLimit: number;
    metrics: {
        errorRate: ErrorRateLimits;
        latencyP95: LatencyLimits;
        podRestarts: RestartLimits;
        readyEndpoints: ReadyLimits;
    };
}

/**
 * Defaults: prod takes the strictest limit where the runbooks disagree; staging takes the automatic
 * rollback triggers. `failureLimit` counts failed measurements allowed (one each `interval`), so
 * "for > 5 minutes" at a 1-minute interval is 5.
 */
export function defaultAnalysis(environment: "staging" | "prod"): AnalysisConfig {
    const prod = environment === "prod";
    return {
        window: prod ? T.prodMonitoringWindow : T.monitoringWindow,
        interval: "1m",
        initialDelay: "1m",
        consecutiveErrorLimit: 4,
        inconclusiveLimit: 0,
        metrics: {
            errorRate: prod ? { max: T.errorRateImmediateRollback.ratio, failureLimit: 0 } : { max: T.errorRateAutomaticRollback.ratio, failureLimit: 5 },
            latencyP95: {
                maxSeconds: T.latencyP95AutomaticRollback.seconds,
                baselineFactor: prod ? T.latencyBaselineFactor : 0,
                failureLimit: 5,
            },
            podRestarts: { max: T.podRestarts.count, window: T.podRestarts.window, failureLimit: 0 },
            readyEndpoints: { minRatio: 1, failureLimit: T.healthCheckFailures },
        },
    };
}

/** What one metric of the analysis measures and how a value is judged. */
export interface AnalysisMetric {
    name: AnalysisMetricName;
    query: string;
    failureLimit: number;
    /** The limit a value is compared with; `baseline` only for latency. */
    limit(baseline: number | undefined): { bound: number; direction: "max" | "min"; describe: string };
    /** The value as people read it. */
    format(value: number): string;
}

const percent = (v: number) => `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;
const millis = (v: number) => (Number.isFinite(v) ? `${Math.round(v * 1000)}ms` : String(v));

/** The analysis metrics of one service's color, with their queries from the shared builders. */
export function analysisMetrics(config: AnalysisConfig, scope: q.MetricScope): AnalysisMetric[] {
    const m = config.metrics;
    return [
        {
            name: "errorRate",
            query: q.errorRatio(scope),
            failureLimit: m.errorRate.failureLimit,
            limit: () => ({ bound: m.errorRate.max, direction: "max", describe: `≤ ${percent(m.errorRate.max)}` }),
            format: percent,
        },
        {
            name: "latencyP95",
            query: q.latencyP95(scope),
            failureLimit: m.latencyP95.failureLimit,
            limit: (baseline) => {
                const relative = baseline !== undefined && m.latencyP95.baselineFactor > 0 ? baseline * m.latencyP95.baselineFactor : undefined;
                return relative !== undefined && relative < m.latencyP95.maxSeconds
                    ? { bound: relative, direction: "max", describe: `≤ ${millis(relative)} (${m.latencyP95.baselineFactor}× baseline ${millis(baseline!)})` }
                    : { bound: m.latencyP95.maxSeconds, direction: "max", describe: `≤ ${millis(m.latencyP95.maxSeconds)}` };
            },
            format: millis,
        },
        {
            name: "podRestarts",
            query: q.maxPodRestarts(scope, m.podRestarts.window),
            failureLimit: m.podRestarts.failureLimit,
            limit: () => ({ bound: m.podRestarts.max, direction: "max", describe: `≤ ${m.podRestarts.max} in ${m.podRestarts.window}` }),
            format: (v) => String(Math.round(v * 100) / 100),
        },
        {
            name: "readyEndpoints",
            query: q.readyRatio(scope),
            failureLimit: m.readyEndpoints.failureLimit,
            limit: () => ({ bound: m.readyEndpoints.minRatio, direction: "min", describe: `≥ ${percent(m.readyEndpoints.minRatio)}` }),
            format: percent,
        },
    ];
}

/** The baseline p95 query: the other color over the window before the analysis starts. */
export function baselineLatencyQuery(config: AnalysisConfig, scope: q.MetricScope): string {
    return q.latencyP95(scope, config.window);
}
