// The release analysis against a real Prometheus server on a free loopback port, over 40 minutes of
// synthetic history written with `promtool tsdb create-blocks-from openmetrics`: a 30-minute window
// that already passed is read in seconds. The server is stopped by `after`, whatever happens.
import * as assert from "node:assert/strict";
import { AnalysisConfig, defaultAnalysis } from "../metrics/analysis";
import { freeLoopbackPort, LocalPrometheus, startPrometheus } from "../tools/analysis/localPrometheus";
import { PrometheusClient } from "../tools/analysis/prometheus";
import { overallPhase, progressLine, resultTable } from "../tools/analysis/report";
import { AnalysisTarget, IntervalProgress, runAnalysis } from "../tools/analysis/run";
import { ColorMinute, colorSeries, history, toOpenMetrics } from "../tools/analysis/syntheticHistory";

const NAMESPACE = "api-platform-prod";
const MINUTES = 41;
/** The new color goes bad this many minutes into the history (six minutes into the window). */
const BAD_FROM = 15;

/** The new (green) color of each service; blue is healthy everywhere and is the baseline. */
const SCENARIOS: Record<string, Partial<ColorMinute> | undefined> = {
    healthy: {},
    "error-spike": { errorRatio: 0.2 },
    // Under the 2000 ms limit but above 2× blue's 300 ms: only the baseline catches it.
    "slow-p95": { p95Seconds: 0.8 },
    "restart-loop": { restartsPerMinute: 1 },
    "lost-endpoints": { readyPods: 1 },
    "no-series": undefined,
};

describe("release analysis on a real Prometheus", function () {
    this.timeout(60_000);
    let prometheus: LocalPrometheus | undefined;
    let client: PrometheusClient;
    const historyStart = Math.floor(Date.now() / 60_000) * 60 - (MINUTES - 1) * 60;
    // The window ends a minute before the history does: every measurement time has passed.
    const windowStart = historyStart + (MINUTES - 32) * 60;
    const prod = defaultAnalysis("prod");

    before(async () => {
        const series = Object.entries(SCENARIOS).flatMap(([service, bad]) =>
            bad === undefined
                ? []
                : [...colorSeries(history(service, "blue", NAMESPACE, MINUTES)), ...colorSeries(history(service, "green", NAMESPACE, MINUTES, bad, BAD_FROM))],
        );
        prometheus = await startPrometheus(toOpenMetrics(series, historyStart));
        client = new PrometheusClient(prometheus.url, { env: {} });
    });

    after(async () => {
        await prometheus?.stop();
    });

    const target = (service: string): AnalysisTarget => ({ namespace: NAMESPACE, service, color: "green", baselineColor: "blue" });
    const analyse = (service: string, config: AnalysisConfig = prod, onInterval?: (p: IntervalProgress) => void) =>
        runAnalysis({ client, target: target(service), config, start: windowStart, onInterval });

    it("passes a healthy release after measuring every interval of the 30-minute window", async () => {
        const lines: string[] = [];
        const r = await analyse("healthy", prod, (p) => lines.push(progressLine(p)));
        assert.equal(r.phase, "passed", r.message);
        assert.equal(lines.length, 30);
        for (const m of r.metrics) {
            assert.equal(m.phase, "successful");
            assert.equal(m.measurements.length, 30);
        }
        assert.ok(Math.abs(r.baselineSeconds! - 0.3) < 0.01, `baseline ${r.baselineSeconds}`);
        assert.match(
            lines[0],
            /errorRate 0\.10% ≤ 1\.00% ok \| latencyP95 300ms ≤ 600ms \(2× baseline 300ms\) ok \| podRestarts 0 ≤ 3 in 5m ok \| readyEndpoints 100\.0% ≥ 100\.0% ok \| 29m left$/,
        );
        assert.match(resultTable(r), /^healthy\/green in api-platform-prod: PASSED/);
    });

    it("fails an error-rate spike at the first measurement above 1%", async () => {
        const r = await analyse("error-spike");
        assert.equal(r.phase, "failed");
        const errorRate = r.metrics.find((m) => m.name === "errorRate")!;
        assert.equal(errorRate.phase, "failed");
        assert.equal(errorRate.failed, 1);
        assert.match(r.message, /errorRate failed 1 measurements \(limit 0\)/);
        // The run stops there instead of waiting out the window.
        assert.ok(errorRate.measurements.length < 30);
    });

    it("fails a p95 above twice the live color's baseline after more than 5 slow measurements", async () => {
        const r = await analyse("slow-p95");
        assert.equal(r.phase, "failed");
        const latency = r.metrics.find((m) => m.name === "latencyP95")!;
        assert.equal(latency.failed, 6);
        assert.match(r.message, /latencyP95 failed 6 measurements \(limit 5\): last 800ms, ≤ 600ms \(2× baseline 300ms\)/);
        // Staging compares with the fixed 2000 ms only: the same history passes there.
        assert.equal((await analyse("slow-p95", { ...defaultAnalysis("staging"), window: "30m" })).phase, "passed");
    });

    it("fails a restart loop (more than 3 restarts of a pod in 5 minutes)", async () => {
        const r = await analyse("restart-loop");
        assert.equal(r.phase, "failed");
        assert.match(r.message, /^podRestarts failed 1 measurements \(limit 0\): last [45]/);
    });

    it("fails lost endpoints after more than 3 measurements with pods not ready", async () => {
        const r = await analyse("lost-endpoints");
        assert.equal(r.phase, "failed");
        assert.match(r.message, /^readyEndpoints failed 4 measurements \(limit 3\): last 33\.3%, ≥ 100\.0%/);
    });

    it("is inconclusive, never passed, for a service without series, and says what was missing", async () => {
        const r = await analyse("no-series");
        assert.equal(r.phase, "inconclusive");
        assert.match(r.message, /^no data for errorRate \(sum\(rate\(http_requests_total\{namespace="api-platform-prod", pod=~"no-series-green-/);
        assert.match(r.message, /no latency baseline \(blue had no traffic\), fixed limit only$/);
        assert.equal(overallPhase([r, await analyse("healthy")]), "inconclusive");
    });

    it("measures live: waits for each interval, instant queries, and stops on SIGINT", async () => {
        const live = { ...prod, window: "2s", interval: "1s", initialDelay: "0s" };
        const started = Date.now();
        const passed = await runAnalysis({ client, target: target("healthy"), config: live });
        assert.equal(passed.phase, "passed", passed.message);
        assert.equal(passed.metrics[0].measurements.length, 3);
        assert.ok(Date.now() - started >= 1000, "the live window was waited for");

        const stop = new AbortController();
        const stopped = await runAnalysis({
            client,
            target: target("healthy"),
            config: { ...live, window: "30s" },
            signal: stop.signal,
            onInterval: () => stop.abort(),
        });
        assert.equal(stopped.phase, "inconclusive");
        assert.ok(stopped.stopped);
        assert.match(stopped.message, /^stopped after 1 of 31 measurements/);
    });

    it("is an error, never a pass, once the server is stopped", async () => {
        await prometheus!.stop();
        const r = await analyse("healthy");
        assert.equal(r.phase, "error");
        assert.match(r.message, /errorRate: 5 query errors in a row, last error: http:\/\/127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED/);
        const nobody = new PrometheusClient(`http://127.0.0.1:${await freeLoopbackPort()}`, { env: {} });
        const never = await runAnalysis({ client: nobody, target: target("healthy"), config: prod, start: windowStart });
        assert.equal(never.phase, "error");
    });
});
