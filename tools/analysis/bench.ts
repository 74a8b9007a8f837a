// Bench: one analysis interval's queries for every service of a stack, against a real Prometheus
// (started here over synthetic history of every service's colors, and stopped whatever happens).
import type { StackConfig } from "../../config";
import { AnalysisConfig, analysisMetrics } from "../../metrics/analysis";
import { startPrometheus } from "./localPrometheus";
import { PrometheusClient } from "./prometheus";
import { colorSeries, history, toOpenMetrics } from "./syntheticHistory";
import { watchTargets } from "./watch";

const MINUTES = 41;

export type Measure = (label: string, iterations: number, once: () => Promise<number>) => Promise<number>;

export async function timeAnalysisInterval(config: StackConfig, analysis: AnalysisConfig, iterations: number, measure: Measure): Promise<number> {
    const start = Math.floor(Date.now() / 60_000) * 60 - (MINUTES - 1) * 60;
    const series = config.services.flatMap((s) => ["blue", "green"].flatMap((color) => colorSeries(history(s.name, color, config.namespace, MINUTES))));
    const prometheus = await startPrometheus(toOpenMetrics(series, start));
    try {
        const client = new PrometheusClient(prometheus.url, { env: {} });
        const targets = watchTargets(
            config,
            config.services.map((s) => s.name),
            "post",
        );
        const queries = targets.flatMap((t) =>
            analysisMetrics(analysis, { namespace: t.namespace, service: t.service, colors: [t.color] }).map((m) => m.query),
        );
        return await measure(`analysis interval: ${config.stack}, ${targets.length} services, ${queries.length} queries`, iterations, async () => {
            const started = process.hrtime.bigint();
            const values = await Promise.all(queries.map((q) => client.query(q, Date.now() / 1000)));
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            if (values.some((v) => v === undefined)) throw new Error("the bench history left a query without data");
            return ms;
        });
    } finally {
        await prometheus.stop();
    }
}
