// Prometheus scrapes every service: a PodMonitor over both colors that kube-prometheus-stack's
// Prometheus selects (by the chart's own selector logic and default values), on the port the app
// containers name, with the NetworkPolicies letting Prometheus in.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { upstreamValuesFile } from "./support/upstream";
import { byType, configValue, inputs, readStackConfig } from "./harness";
import { chartRelease, recordedPlatform, T } from "./support/platform";

function deepMerge(base: any, over: any): any {
    if (over === undefined) return base;
    if (!base || typeof base !== "object" || Array.isArray(base) || !over || typeof over !== "object" || Array.isArray(over)) return over;
    const out: any = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
    return out;
}

function isEmpty(selector: unknown): boolean {
    return selector === null || selector === undefined || (typeof selector === "object" && Object.keys(selector as object).length === 0);
}

/** What the chart's prometheus.yaml template renders as podMonitorSelector and podMonitorNamespaceSelector. */
function prometheusPodMonitorSelection(release: any): { selector: any; namespaceSelector: any } {
    const file = upstreamValuesFile(release.chart, release.version);
    assert.ok(fs.existsSync(file), `upstream values of ${release.chart} ${release.version} at ${file}`);
    const values = deepMerge(yaml.load(fs.readFileSync(file, "utf8")), release.values);
    const spec = values.prometheus.prometheusSpec;
    const selector = !isEmpty(spec.podMonitorSelector)
        ? spec.podMonitorSelector
        : spec.podMonitorSelectorNilUsesHelmValues
          ? { matchLabels: { release: release.name } }
          : {};
    return { selector, namespaceSelector: spec.podMonitorNamespaceSelector };
}

function matches(selector: any, labels: Record<string, string>): boolean {
    return Object.entries<string>(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v) && !(selector?.matchExpressions?.length > 0);
}

describe("monitoring: every service is scraped", function () {
    this.timeout(120_000);
    const runs = recordedPlatform();

    for (const stack of ["staging", "prod"] as const) {
        it(`${stack}: a PodMonitor per service that the monitoring stack's Prometheus selects, over both colors' metrics port`, () => {
            const run = runs[stack];
            const namespace = configValue<string>(readStackConfig(stack), "namespace");
            const monitoring = inputs(chartRelease(run, "kube-prometheus-stack"));
            const { selector, namespaceSelector } = prometheusPodMonitorSelection(monitoring);
            // {} selects PodMonitors in every namespace (nil would mean only the monitoring namespace).
            assert.deepEqual(namespaceSelector, {}, "Prometheus looks for PodMonitors in every namespace");
            const monitors = byType(run, T.podMonitor).map(inputs);
            for (const name of Object.keys(configValue<Record<string, unknown>>(readStackConfig(stack), "services"))) {
                const own = monitors.filter((m) => m.metadata.namespace === namespace && m.spec.selector.matchLabels.app === name);
                assert.equal(own.length, 1, `${name}: one PodMonitor`);
                const [monitor] = own;
                assert.ok(
                    matches(selector, monitor.metadata.labels),
                    `${name}: labels ${JSON.stringify(monitor.metadata.labels)} match Prometheus' ${JSON.stringify(selector)}`,
                );
                for (const color of ["blue", "green"]) {
                    const deployment = byType(run, T.deployment).find((d) => d.name === `${name}-${color}`)!;
                    const pod = inputs(deployment).spec.template;
                    assert.ok(matches(monitor.spec.selector, pod.metadata.labels), `${name}: the PodMonitor selects ${color}'s pods`);
                    const ports = pod.spec.containers.flatMap((c: any) => c.ports.map((p: any) => p.name));
                    for (const endpoint of monitor.spec.podMetricsEndpoints) {
                        assert.ok(ports.includes(endpoint.port), `${name}: ${color}'s containers name port ${endpoint.port}`);
                        assert.equal(endpoint.path, "/metrics");
                    }
                }
            }
        });

        it(`${stack}: the NetworkPolicies let the monitoring namespace's Prometheus pods reach every service's metrics port`, () => {
            const run = runs[stack];
            const monitoringNamespace = inputs(chartRelease(run, "kube-prometheus-stack")).namespace;
            const policies = byType(run, T.networkPolicy).map(inputs);
            for (const [name, svc] of Object.entries<any>(configValue<Record<string, unknown>>(readStackConfig(stack), "services"))) {
                const podLabels = { app: name, color: svc.live };
                const admitting = policies.filter(
                    (p) =>
                        p.spec.policyTypes.includes("Ingress") &&
                        matches(p.spec.podSelector, podLabels) &&
                        (p.spec.ingress ?? []).some(
                            (rule: any) =>
                                rule.ports.some((port: any) => port.port === svc.port) &&
                                rule.from.some(
                                    (peer: any) =>
                                        peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === monitoringNamespace &&
                                        peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "prometheus",
                                ),
                        ),
                );
                assert.ok(admitting.length > 0, `${name}: a NetworkPolicy admits Prometheus on port ${svc.port}`);
            }
        });
    }
});
