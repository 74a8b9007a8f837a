// A client for Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`): every request has a
// timeout and can be stopped; credentials come from the environment, never from the command line.

/** Environment variables holding the credentials, if the server needs any. */
export const AUTH_ENV = {
    bearerToken: "PROMETHEUS_BEARER_TOKEN",
    username: "PROMETHEUS_USERNAME",
    password: "PROMETHEUS_PASSWORD",
} as const;

export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** A query failed: unreachable server, timeout, HTTP error or an error answer from Prometheus. */
export class PrometheusError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PrometheusError";
    }
}

/** The server URL or credentials are unusable; reported before any query runs. */
export class PrometheusSetupError extends Error {}

export interface PrometheusClientOptions {
    timeoutMs?: number;
    /** Defaults to the process environment. */
    env?: NodeJS.ProcessEnv;
}

/** The `Authorization` header from the environment, or none. */
export function authorizationFromEnv(env: NodeJS.ProcessEnv): string | undefined {
    const token = env[AUTH_ENV.bearerToken];
    const username = env[AUTH_ENV.username];
    const password = env[AUTH_ENV.password];
    if (token && (username || password)) {
        throw new PrometheusSetupError(`set either ${AUTH_ENV.bearerToken} or ${AUTH_ENV.username}/${AUTH_ENV.password}, not both`);
    }
    if (token) return `Bearer ${token}`;
    if (username || password) {
        if (!username || !password) throw new PrometheusSetupError(`basic auth needs both ${AUTH_ENV.username} and ${AUTH_ENV.password}`);
        return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
    return undefined;
}

/** Checks the server URL: http(s), no credentials in it (they would show in process lists and logs). */
export function parseServerUrl(text: string): URL {
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new PrometheusSetupError(`--prometheus ${JSON.stringify(text)} is not a URL such as http://prometheus.monitoring:9090`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new PrometheusSetupError(`--prometheus must be an http:// or https:// URL`);
    if (url.username || url.password) {
        throw new PrometheusSetupError(
            `--prometheus must not carry credentials; set ${AUTH_ENV.bearerToken} or ${AUTH_ENV.username}/${AUTH_ENV.password} instead`,
        );
    }
    return url;
}

/** A value Prometheus returned; `undefined` when the query had no data (no series, or NaN from 0/0). */
export type Sample = number | undefined;

export class PrometheusClient {
    private readonly base: URL;
    private readonly timeoutMs: number;
    private readonly authorization: string | undefined;

    constructor(serverUrl: string, opts: PrometheusClientOptions = {}) {
        this.base = parseServerUrl(serverUrl);
        this.timeoutMs = opts.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
        this.authorization = authorizationFromEnv(opts.env ?? process.env);
    }

    get url(): string {
        return this.base.toString();
    }

    /** The query's single value at `time` (Unix seconds). */
    async query(expr: string, time: number, signal?: AbortSignal): Promise<Sample> {
        const data = await this.call("query", { query: expr, time: String(time) }, signal);
        if (data.resultType !== "vector") throw new PrometheusError(`expected a vector from ${expr}, got ${data.resultType}`);
        const series = onlySeries(expr, data.result);
        return series ? sampleValue(series.value[1]) : undefined;
    }

    /** The query's value at each step from `start` to `end` (Unix seconds), by timestamp. */
    async queryRange(expr: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<Map<number, Sample>> {
        const data = await this.call("query_range", { query: expr, start: String(start), end: String(end), step: String(step) }, signal);
        if (data.resultType !== "matrix") throw new PrometheusError(`expected a matrix from ${expr}, got ${data.resultType}`);
        const byTime = new Map<number, Sample>();
        for (const [t, v] of (onlySeries(expr, data.result)?.values ?? []) as [number, string][]) byTime.set(t, sampleValue(v));
        return byTime;
    }

    private async call(endpoint: "query" | "query_range", params: Record<string, string>, signal?: AbortSignal): Promise<any> {
        const url = new URL(`api/v1/${endpoint}`, this.base.toString().endsWith("/") ? this.base : `${this.base}/`);
        const timeout = AbortSignal.timeout(this.timeoutMs);
        let res: Response;
        try {
            res = await fetch(url, {
                method: "POST",
                headers: { "Content-Type": "application/x-www-form-urlencoded", ...(this.authorization ? { Authorization: this.authorization } : {}) },
                body: new URLSearchParams(params),
                signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
            });
        } catch (e) {
            if (signal?.aborted) throw e;
            if (timeout.aborted) throw new PrometheusError(`${url.origin} did not answer within ${this.timeoutMs / 1000}s`);
            const cause = (e as { cause?: { code?: string; message?: string } }).cause;
            throw new PrometheusError(`${url.origin} is unreachable: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
        }
        const text = await res.text();
        let body: any;
        try {
            body = JSON.parse(text);
        } catch {
            throw new PrometheusError(`${url.origin}/api/v1/${endpoint} answered HTTP ${res.status} without a Prometheus API body`);
        }
        if (res.status === 401 || res.status === 403) {
            throw new PrometheusError(
                `${url.origin} refused the credentials (HTTP ${res.status}); check ${AUTH_ENV.bearerToken} or ${AUTH_ENV.username}/${AUTH_ENV.password}`,
            );
        }
        if (body.status !== "success")
            throw new PrometheusError(`${endpoint} failed (HTTP ${res.status}, ${body.errorType ?? "error"}): ${body.error ?? text.slice(0, 200)}`);
        return body.data;
    }
}

function sampleValue(v: string): Sample {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
}

/** The one series an aggregated query returns; none means no data. */
function onlySeries(expr: string, result: any[]): any {
    if (result.length > 1) throw new PrometheusError(`expected one series from ${expr}, got ${result.length}`);
    return result[0];
}
