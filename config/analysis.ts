// `release.analysis`: the metric analysis of a release (window, interval, limits per metric).
// Every key is optional; an omitted key takes the environment's default from the runbooks, and in
// prod no limit may be looser than that default.
import { AnalysisConfig, defaultAnalysis } from "../metrics/analysis";
import { durationSeconds } from "../metrics/duration";
import { Check, Checker, complete, Fields, Read } from "./reader";
import { Environment } from "./types";

const MAX_WINDOW_SECONDS = 24 * 3600;
const MAX_COUNT = 100;

/** A Prometheus duration (`30m`, `90s`, `1h`) from `min` to `max` seconds. */
function duration(min: number, max: number): Check<string> {
    return (c, key, value) => {
        const s = c.string(key, value, { pattern: /^(\d+h)?(\d+m)?(\d+s)?$/, allowed: "a duration such as 30m, 90s or 1h" });
        if (s === undefined) return undefined;
        const seconds = durationSeconds(s)!;
        if (seconds < min || seconds > max) return c.fail(key, `${s} is out of range; allowed: ${min}s to ${max}s`);
        return s;
    };
}

/** A number from `min` to `max` (inclusive), given as a number or numeric string. */
function number(min: number, max: number): Check<number> {
    return (c, key, value) => {
        const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
        if (typeof n !== "number" || !Number.isFinite(n)) return c.fail(key, `expected a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
        if (n < min || n > max) return c.fail(key, `${n} is out of range; allowed: ${min} to ${max}`);
        return n;
    };
}

function nested(f: Fields, name: string): Fields | undefined {
    const raw = f.value(name) ?? {};
    return f.c.fields(f.key(name), raw);
}

export function parseAnalysis(c: Checker, value: unknown, environment: Environment | undefined): AnalysisConfig | undefined {
    const defaults = defaultAnalysis(environment ?? "prod");
    const f = c.fields("release.analysis", value ?? {});
    if (!f) return undefined;
    const window = f.get("window", duration(60, MAX_WINDOW_SECONDS), defaults.window);
    const windowSeconds = window === undefined ? MAX_WINDOW_SECONDS : durationSeconds(window)!;
    const analysis = {
        window,
        interval: f.get("interval", duration(10, windowSeconds), defaults.interval),
        initialDelay: f.get("initialDelay", duration(0, windowSeconds - 1), defaults.initialDelay),
        consecutiveErrorLimit: f.integer("consecutiveErrorLimit", 0, MAX_COUNT, defaults.consecutiveErrorLimit),
        inconclusiveLimit: f.integer("inconclusiveLimit", 0, MAX_COUNT, defaults.inconclusiveLimit),
        metrics: parseMetrics(nested(f, "metrics"), defaults),
    };
    f.done();
    const parsed = complete<AnalysisConfig>(analysis);
    if (parsed && environment === "prod") noLooserThan(c, parsed, defaults);
    return parsed;
}

function parseMetrics(f: Fields | undefined, defaults: AnalysisConfig): AnalysisConfig["metrics"] | undefined {
    if (!f) return undefined;
    const d = defaults.metrics;
    const failureLimit = (m: Fields, fallback: number) => m.integer("failureLimit", 0, MAX_COUNT, fallback);
    const read = <T extends object>(name: keyof AnalysisConfig["metrics"], fields: (m: Fields) => Read<T>): T | undefined => {
        const m = nested(f, name);
        if (!m) return undefined;
        const out = fields(m);
        m.done();
        return complete<T>(out);
    };
    const metrics = {
        errorRate: read<AnalysisConfig["metrics"]["errorRate"]>("errorRate", (m) => ({
            max: m.get("max", number(0, 1), d.errorRate.max),
            failureLimit: failureLimit(m, d.errorRate.failureLimit),
        })),
        latencyP95: read<AnalysisConfig["metrics"]["latencyP95"]>("latencyP95", (m) => ({
            maxSeconds: m.get("maxSeconds", number(0.001, 60), d.latencyP95.maxSeconds),
            baselineFactor: m.get("baselineFactor", number(0, 10), d.latencyP95.baselineFactor),
            failureLimit: failureLimit(m, d.latencyP95.failureLimit),
        })),
        podRestarts: read<AnalysisConfig["metrics"]["podRestarts"]>("podRestarts", (m) => ({
            max: m.integer("max", 0, MAX_COUNT, d.podRestarts.max),
            window: m.get("window", duration(60, 3600), d.podRestarts.window),
            failureLimit: failureLimit(m, d.podRestarts.failureLimit),
        })),
        readyEndpoints: read<AnalysisConfig["metrics"]["readyEndpoints"]>("readyEndpoints", (m) => ({
            minRatio: m.get("minRatio", number(0.01, 1), d.readyEndpoints.minRatio),
            failureLimit: failureLimit(m, d.readyEndpoints.failureLimit),
        })),
    };
    f.done();
    return complete<AnalysisConfig["metrics"]>(metrics);
}

/** Prod watches at least as long and as strictly as the runbooks say. */
function noLooserThan(c: Checker, a: AnalysisConfig, d: AnalysisConfig): void {
    const key = "release.analysis";
    const looser = (name: string, value: string | number, runbook: string | number) =>
        c.fail(`${key}.${name}`, `${value} is looser than the runbooks allow in prod; allowed: ${runbook} or stricter`);
    if (durationSeconds(a.window)! < durationSeconds(d.window)!) looser("window", a.window, `at least ${d.window}`);
    if (a.metrics.errorRate.max > d.metrics.errorRate.max) looser("metrics.errorRate.max", a.metrics.errorRate.max, d.metrics.errorRate.max);
    if (a.metrics.latencyP95.maxSeconds > d.metrics.latencyP95.maxSeconds)
        looser("metrics.latencyP95.maxSeconds", a.metrics.latencyP95.maxSeconds, d.metrics.latencyP95.maxSeconds);
    const factor = a.metrics.latencyP95.baselineFactor;
    if (factor === 0 || factor > d.metrics.latencyP95.baselineFactor)
        looser("metrics.latencyP95.baselineFactor", factor, `1 to ${d.metrics.latencyP95.baselineFactor}`);
    if (a.metrics.podRestarts.max > d.metrics.podRestarts.max) looser("metrics.podRestarts.max", a.metrics.podRestarts.max, d.metrics.podRestarts.max);
}
