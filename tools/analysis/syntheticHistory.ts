// Synthetic metric history of blue/green services, minute by minute, with the series and labels a
// real scrape produces (app metrics from the pods, kube-state-metrics, cAdvisor). Rendered as
// OpenMetrics for `promtool tsdb create-blocks-from openmetrics` (a Prometheus over hours of
// history, written in a second) and as `promtool test rules` input series. Used by the tests and
// the bench; nothing here talks to a cluster.

/** What one color of one service looks like during one minute. */
export interface ColorMinute {
    requestsPerMinute: number;
    /** Share of requests answered 500 (0–1). */
    errorRatio: number;
    /** 95th percentile latency in seconds the histogram buckets encode. */
    p95Seconds: number;
    /** Container restarts per minute, per pod. */
    restartsPerMinute: number;
    desiredPods: number;
    readyPods: number;
    /** CPU used as a share of the limit, memory used as a share of the limit. */
    cpuShare: number;
    memoryShare: number;
}

export const HEALTHY: ColorMinute = {
    requestsPerMinute: 6000,
    errorRatio: 0.001,
    p95Seconds: 0.3,
    restartsPerMinute: 0,
    desiredPods: 3,
    readyPods: 3,
    cpuShare: 0.4,
    memoryShare: 0.5,
};

/** One color's history: its state at each minute from the start. */
export interface ColorHistory {
    service: string;
    color: string;
    namespace: string;
    minutes: number;
    at(minute: number): ColorMinute;
}

/** One series: its metric, labels and a value per minute. */
export interface Series {
    metric: string;
    labels: Record<string, string>;
    values: number[];
    type: "counter" | "gauge";
}

/** Latency histogram bucket bounds in seconds (the app's histogram). */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const CPU_LIMIT_CORES = 1;
const MEMORY_LIMIT_BYTES = 1024 ** 3;

export function podName(service: string, color: string, index: number): string {
    return `${service}-${color}-7d4b9c8f5-p${index}x9k`;
}

/**
 * Cumulative bucket counts (per observation total of 100) whose interpolated 95th percentile is
 * exactly `p95`: 95% rank lands `(p95 - lo) / (hi - lo)` into the bucket around it.
 */
export function bucketShares(p95: number): Map<string, number> {
    const bounds = [0, ...LATENCY_BUCKETS];
    const i = bounds.findIndex((b, k) => k > 0 && p95 <= b);
    if (i < 1 || p95 <= 0) throw new Error(`p95 ${p95}s is outside the histogram's buckets`);
    const [lo, hi] = [bounds[i - 1], bounds[i]];
    const below = (95 * (hi - lo) - 100 * (p95 - lo)) / (hi - p95);
    if (!(below >= 0 && below < 95)) throw new Error(`p95 ${p95}s is too close to the bucket bound ${hi}s to encode`);
    const shares = new Map<string, number>();
    for (const le of LATENCY_BUCKETS) shares.set(String(le), le < hi ? below : 100);
    shares.set("+Inf", 100);
    return shares;
}

/** Every series one color produces over its history. */
export function colorSeries(h: ColorHistory): Series[] {
    const states = Array.from({ length: h.minutes }, (_, m) => h.at(m));
    const maxPods = Math.max(1, ...states.map((s) => s.desiredPods));
    const base = { namespace: h.namespace };
    const series: Series[] = [];
    const add = (metric: string, labels: Record<string, string>, type: Series["type"], perMinute: (s: ColorMinute) => number) => {
        const values: number[] = [];
        states.forEach((s, m) => values.push(type === "counter" ? (m === 0 ? 0 : values[m - 1]) + perMinute(s) : perMinute(s)));
        series.push({ metric, labels: { ...base, ...labels }, values, type });
    };
    add("kube_deployment_spec_replicas", { deployment: `${h.service}-${h.color}` }, "gauge", (s) => s.desiredPods);
    for (let p = 0; p < maxPods; p++) {
        const pod = { pod: podName(h.service, h.color, p) };
        const container = { ...pod, container: h.service };
        const exists = (s: ColorMinute) => p < s.desiredPods;
        const share = (s: ColorMinute) => (exists(s) ? 1 / s.desiredPods : 0);
        const ready = (s: ColorMinute) => (p < s.readyPods ? 1 : 0);
        add("http_requests_total", { ...pod, status: "200" }, "counter", (s) => s.requestsPerMinute * (1 - s.errorRatio) * share(s));
        add("http_requests_total", { ...pod, status: "500" }, "counter", (s) => s.requestsPerMinute * s.errorRatio * share(s));
        for (const le of [...LATENCY_BUCKETS.map(String), "+Inf"]) {
            add(
                "http_request_duration_seconds_bucket",
                { ...pod, le },
                "counter",
                (s) => (s.requestsPerMinute * share(s) * bucketShares(s.p95Seconds).get(le)!) / 100,
            );
        }
        add("kube_pod_container_status_restarts_total", container, "counter", (s) => (exists(s) ? s.restartsPerMinute : 0));
        add("kube_pod_status_ready", { ...pod, condition: "true" }, "gauge", ready);
        add("kube_pod_status_ready", { ...pod, condition: "false" }, "gauge", (s) => (exists(s) ? 1 - ready(s) : 0));
        add("container_cpu_usage_seconds_total", container, "counter", (s) => s.cpuShare * CPU_LIMIT_CORES * 60);
        add("container_memory_working_set_bytes", container, "gauge", (s) => s.memoryShare * MEMORY_LIMIT_BYTES);
        add("kube_pod_container_resource_limits", { ...container, resource: "cpu", unit: "core" }, "gauge", () => CPU_LIMIT_CORES);
        add("kube_pod_container_resource_limits", { ...container, resource: "memory", unit: "byte" }, "gauge", () => MEMORY_LIMIT_BYTES);
    }
    return series;
}

function labelText(labels: Record<string, string>): string {
    return Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
        .join(",");
}

/**
 * OpenMetrics text of the series, minute `m` at `startSeconds + 60·m` (Unix seconds). Families are
 * left untyped (the TSDB stores samples alike), each metric's samples kept together.
 */
export function toOpenMetrics(series: Series[], startSeconds: number): string {
    const lines: string[] = [];
    for (const metric of new Set(series.map((s) => s.metric))) {
        for (const s of series.filter((x) => x.metric === metric)) {
            s.values.forEach((v, m) => lines.push(`${metric}{${labelText(s.labels)}} ${v} ${startSeconds + 60 * m}`));
        }
    }
    lines.push("# EOF");
    return lines.join("\n") + "\n";
}

/** `promtool test rules` input series (one value per minute). */
export function toPromtoolSeries(series: Series[]): { series: string; values: string }[] {
    return series.map((s) => ({ series: `${s.metric}{${labelText(s.labels)}}`, values: s.values.map((v) => String(v)).join(" ") }));
}

/** A history where the color is `HEALTHY` with `changes` from minute `from` on. */
export function history(service: string, color: string, namespace: string, minutes: number, changes: Partial<ColorMinute> = {}, from = 0): ColorHistory {
    return { service, color, namespace, minutes, at: (m) => ({ ...HEALTHY, ...(m >= from ? changes : {}) }) };
}
