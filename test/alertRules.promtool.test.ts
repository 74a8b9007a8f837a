// The PrometheusRules both stacks render, checked by promtool: `promtool check rules` on every rule
// file, and `promtool test rules` showing each alert firing just past its runbook threshold and
// staying quiet just below it, on the series a real scrape produces.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { THRESHOLDS as T } from "../metrics/thresholds";
import { promtool } from "../tools/analysis/localPrometheus";
import { ColorMinute, colorSeries, history, toPromtoolSeries } from "../tools/analysis/syntheticHistory";
import { byType, inputs } from "./harness";
import { recordedPlatform } from "./support/platform";

const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
// Long enough for the longest `for` (10m) over a 5m rate window.
const MINUTES = 18;
const EVAL_AT = "16m";
const ONE_POD = { desiredPods: 1, readyPods: 1 };
const ABOVE = 1.05;
const BELOW = 0.95;

interface RenderedRules {
    name: string;
    namespace: string;
    service: string;
    groups: { name: string; rules: any[] }[];
}

type Case = { changes?: Partial<ColorMinute>; extra?: (ns: string, service: string) => { series: string; values: string }[]; withoutAppMetrics?: boolean };

const flat = (v: number) => Array(MINUTES).fill(v).join(" ");
const endpoint = (ready: boolean) => (ns: string, service: string) => [
    { series: `kube_endpoint_address{namespace="${ns}",endpoint="${service}",ip="10.0.1.7",ready="${ready}"}`, values: flat(1) },
];

/** Per alert: the history just past its threshold (fires) and just below it (quiet). */
const CASES: Record<string, { fire: Case; quiet: Case }> = {
    NoReadyEndpoints: { fire: { extra: endpoint(false) }, quiet: { extra: endpoint(true) } },
    ErrorRateAboveOnePercent: around("errorRatio", T.errorRateImmediateRollback.ratio),
    ErrorRateAboveFivePercent: around("errorRatio", T.errorRateHigh.ratio),
    LatencyP95AboveHalfSecond: around("p95Seconds", T.latencyP95Target.seconds),
    LatencyP95AboveOneSecond: around("p95Seconds", T.latencyP95Medium.seconds),
    LatencyP95AboveTwoSeconds: around("p95Seconds", T.latencyP95AutomaticRollback.seconds),
    // 4 and 3 restarts within the 5 minutes.
    PodRestarting: {
        fire: { changes: { restartsPerMinute: (T.podRestarts.count + 1) / 5 } },
        quiet: { changes: { restartsPerMinute: T.podRestarts.count / 5 } },
    },
    CpuAboveEightyPercentOfLimit: around("cpuShare", T.resourceTarget.ratio),
    CpuAboveNinetyPercentOfLimit: around("cpuShare", T.cpuLow.ratio),
    MemoryAboveEightyPercentOfLimit: around("memoryShare", T.resourceTarget.ratio),
    MemoryAboveNinetyPercentOfLimit: around("memoryShare", T.memoryCritical.ratio),
    AppMetricsAbsent: { fire: { withoutAppMetrics: true }, quiet: {} },
};

function around(key: keyof ColorMinute, threshold: number): { fire: Case; quiet: Case } {
    return { fire: { changes: { [key]: threshold * ABOVE } }, quiet: { changes: { [key]: threshold * BELOW } } };
}

function inputSeries(ns: string, service: string, c: Case): { series: string; values: string }[] {
    const series = colorSeries(history(service, "green", ns, MINUTES, { ...ONE_POD, ...c.changes })).filter(
        (s) => !(c.withoutAppMetrics && s.metric.startsWith("http_")),
    );
    return [...toPromtoolSeries(series), ...(c.extra?.(ns, service) ?? [])];
}

function unitTests(rules: RenderedRules): any[] {
    const tests: any[] = [];
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
        const kind = Object.keys(CASES).find((k) => rule.alert.endsWith(k));
        assert.ok(kind, `${rule.alert} has no promtool unit test case`);
        const { fire, quiet } = CASES[kind];
        tests.push({
            name: `${rule.alert} fires just past its threshold`,
            interval: "1m",
            input_series: inputSeries(rules.namespace, rules.service, fire),
            promql_expr_test: [
                { expr: `max(ALERTS{alertname="${rule.alert}", alertstate="firing"})`, eval_time: EVAL_AT, exp_samples: [{ labels: "{}", value: 1 }] },
            ],
        });
        tests.push({
            name: `${rule.alert} stays quiet just below its threshold`,
            interval: "1m",
            input_series: inputSeries(rules.namespace, rules.service, quiet),
            alert_rule_test: [{ eval_time: EVAL_AT, alertname: rule.alert, exp_alerts: [] }],
        });
    }
    return tests;
}

describe("alert rules under promtool (both stacks)", function () {
    this.timeout(120_000);
    const runs = recordedPlatform();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alert-rules-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const stack of ["staging", "prod"] as const) {
        let files: string[] = [];
        let rendered: RenderedRules[] = [];

        before(() => {
            rendered = byType(runs[stack], PROMETHEUS_RULE).map((r) => {
                const rule = inputs(r);
                return { name: rule.metadata.name, namespace: rule.metadata.namespace, service: rule.metadata.labels.app, groups: rule.spec.groups };
            });
            files = rendered.map((r) => {
                const file = path.join(dir, `${stack}-${r.name}.yml`);
                fs.writeFileSync(file, yaml.dump({ groups: r.groups }));
                return file;
            });
        });

        it(`${stack}: promtool check rules passes on every PrometheusRule`, async () => {
            assert.ok(files.length >= 3, "expected a PrometheusRule per service");
            const out = await promtool(["check", "rules", ...files]);
            for (const file of files) assert.match(out, new RegExp(`Checking ${file.replace(/[.]/g, "\\.")}\\s+SUCCESS`));
        });

        it(`${stack}: every alert says which runbook threshold it encodes`, () => {
            for (const rule of rendered.flatMap((r) => r.groups.flatMap((g) => g.rules))) {
                assert.ok(rule.annotations.threshold?.length > 10, `${rule.alert} has no threshold annotation`);
                assert.match(rule.expr, /namespace="[^"]+"/, `${rule.alert} is not scoped to its namespace`);
            }
        });

        it(`${stack}: every service's rules are the same rules, scoped to that service`, () => {
            const [first, ...rest] = rendered;
            const prefix = (r: RenderedRules) => r.groups[0].rules[0].alert.replace(/NoReadyEndpoints$/, "");
            for (const r of rest) {
                const expected = JSON.stringify(first.groups).replaceAll(prefix(first), prefix(r)).replaceAll(first.service, r.service);
                assert.deepEqual(r.groups, JSON.parse(expected), r.name);
            }
        });

        // One service's file covers every alert: the others differ only by the service's name.
        it(`${stack}: promtool test rules: each alert fires just past its threshold and stays quiet just below`, async () => {
            const testFile = path.join(dir, `${stack}-tests.yml`);
            const tests = unitTests(rendered[0]);
            fs.writeFileSync(testFile, yaml.dump({ rule_files: [files[0]], evaluation_interval: "1m", tests }, { lineWidth: -1 }));
            const out = await promtool(["test", "rules", testFile]);
            assert.match(out, /SUCCESS/);
            assert.equal(tests.length, 2 * rendered[0].groups.flatMap((g) => g.rules).length);
        });
    }
});
