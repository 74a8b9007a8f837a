// Alerts reach someone: kube-prometheus-stack's Alertmanager takes its whole configuration from the
// program's AlertmanagerConfig, whose root route leads to the team's chat; the program's own alert
// rules are routed by Alertmanager's matching rules to chat, and critical ones also to on-call's
// pager in prod; the receivers' credentials reach Kubernetes only as secrets. Checked on the
// resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { byName, byType, dependsOn, inputs, ProgramRun, RecordedResource } from "./harness";
import { toStackExport } from "../offline/stackExport";
import { upstreamValuesFile } from "./support/upstream";
import { CHAT_WEBHOOK_URL, chartRelease, isSecretAt, PAGING_ROUTING_KEY, recordedPlatform, T, visibleText } from "./support/platform";

const runs = recordedPlatform();

interface Matcher {
    name: string;
    value: string;
    matchType: "=" | "!=" | "=~" | "!~";
}
interface Route {
    receiver?: string;
    matchers?: Matcher[];
    continue?: boolean;
    routes?: Route[];
    repeatInterval?: string;
}
interface Receiver {
    name: string;
    [integration: string]: unknown;
}

function alertmanagerConfig(run: ProgramRun): RecordedResource {
    const found = byType(run, T.alertmanagerConfig);
    assert.equal(found.length, 1, "one AlertmanagerConfig");
    return found[0];
}

function spec(run: ProgramRun): { route: Route; receivers: Receiver[] } {
    return inputs(alertmanagerConfig(run)).spec;
}

/** The receiver's integrations (`slackConfigs`, `pagerdutyConfigs`, …) that hold at least one entry. */
function integrations(receiver: Receiver | undefined): string[] {
    return Object.entries(receiver ?? {})
        .filter(([key, value]) => key.endsWith("Configs") && Array.isArray(value) && value.length > 0)
        .map(([key]) => key);
}

function matches(m: Matcher, labels: Record<string, string>): boolean {
    const value = labels[m.name] ?? "";
    switch (m.matchType) {
        case "=":
            return value === m.value;
        case "!=":
            return value !== m.value;
        case "=~":
            return new RegExp(`^(?:${m.value})$`).test(value);
        case "!~":
            return !new RegExp(`^(?:${m.value})$`).test(value);
    }
}

/**
 * The routes an alert is delivered by, as Alertmanager picks them: depth first, the first child
 * whose matchers all match (and the next ones while `continue` is set); a route no child takes
 * delivers itself.
 */
function deliveringRoutes(route: Route, labels: Record<string, string>): Route[] {
    const found: Route[] = [];
    for (const child of route.routes ?? []) {
        if (!(child.matchers ?? []).every((m) => matches(m, labels))) continue;
        found.push(...deliveringRoutes(child, labels));
        if (!child.continue) break;
    }
    return found.length > 0 ? found : [route];
}

/** The integrations an alert with these labels is sent through. */
function deliveredBy(run: ProgramRun, labels: Record<string, string>): string[] {
    const { route, receivers } = spec(run);
    return deliveringRoutes(route, labels).flatMap((r) => integrations(receivers.find((x) => x.name === r.receiver)));
}

/** Every alert of the program's PrometheusRules, with the labels Alertmanager sees. */
function programAlerts(run: ProgramRun): Record<string, string>[] {
    return byType(run, T.prometheusRule).flatMap((rule) => {
        const { metadata, spec } = inputs(rule);
        return spec.groups.flatMap((g: any) => g.rules.map((r: any) => ({ ...r.labels, alertname: r.alert, namespace: metadata.namespace })));
    });
}

function allRoutes(route: Route): Route[] {
    return [route, ...(route.routes ?? []).flatMap(allRoutes)];
}

describe("platform: alert routing", () => {
    for (const stack of ["staging", "prod"] as const) {
        describe(stack, () => {
            it("kube-prometheus-stack's Alertmanager takes its configuration from the program's AlertmanagerConfig, in its own namespace", () => {
                const run = runs[stack];
                const release = chartRelease(run, "kube-prometheus-stack");
                const values = inputs(release).values;
                const config = alertmanagerConfig(run);
                assert.equal(values.alertmanager.enabled, true);
                assert.deepEqual(values.alertmanager.alertmanagerSpec.alertmanagerConfiguration, { name: inputs(config).metadata.name });
                // The Alertmanager (and so the operator's lookup of the named config) is in the release's namespace.
                assert.equal(inputs(config).metadata.namespace, inputs(release).namespace);
                // Helm ignores unknown keys: the key must be the pinned chart's own.
                const upstream = yaml.load(fs.readFileSync(upstreamValuesFile(inputs(release).chart, inputs(release).version), "utf8")) as any;
                assert.ok(
                    "alertmanagerConfiguration" in upstream.alertmanager.alertmanagerSpec,
                    "alertmanager.alertmanagerSpec.alertmanagerConfiguration is a chart value",
                );
                assert.ok(dependsOn(run, config, release), "the AlertmanagerConfig waits for the chart that installs its CRD");
            });

            it("has a root route the operator accepts, leading to a receiver with an integration", () => {
                const { route, receivers } = spec(runs[stack]);
                // The operator's checks of a global AlertmanagerConfig's root route.
                assert.ok(route, "a root route");
                assert.ok(route.receiver, "the root route names a receiver");
                assert.ok(!route.continue, "no continue on the root route");
                assert.equal((route.matchers ?? []).length, 0, "no matchers on the root route");
                const root = receivers.find((r) => r.name === route.receiver);
                assert.ok(root, `receiver ${route.receiver} is defined`);
                assert.deepEqual(integrations(root), ["slackConfigs"], "the root route posts to chat");
            });

            it("names only defined receivers, and only the chart's Watchdog and InfoInhibitor go nowhere", () => {
                const run = runs[stack];
                const { route, receivers } = spec(run);
                const names = receivers.map((r) => r.name);
                assert.equal(new Set(names).size, names.length, "receiver names are unique");
                for (const r of allRoutes(route)) assert.ok(names.includes(r.receiver!), `route to ${r.receiver}`);
                assert.deepEqual(deliveredBy(run, { alertname: "Watchdog", severity: "none" }), []);
                assert.deepEqual(deliveredBy(run, { alertname: "InfoInhibitor", severity: "none" }), []);
                // The chart's own alerts of other severities are posted too.
                assert.deepEqual(deliveredBy(run, { alertname: "KubePodCrashLooping", severity: "info" }), ["slackConfigs"]);
                assert.deepEqual(deliveredBy(run, { alertname: "Anything" }), ["slackConfigs"]);
            });

            it("posts every alert of the program's rules to chat; pages on-call for critical ones only where paging is configured (prod)", () => {
                const run = runs[stack];
                const alerts = programAlerts(run);
                assert.ok(alerts.length >= 30, `only ${alerts.length} alerts`);
                assert.ok(alerts.some((a) => a.severity === "critical"));
                assert.ok(alerts.some((a) => a.severity !== "critical"));
                for (const alert of alerts) {
                    const via = deliveredBy(run, alert);
                    const expected = alert.severity === "critical" && stack === "prod" ? ["pagerdutyConfigs", "slackConfigs"] : ["slackConfigs"];
                    assert.deepEqual([...via].sort(), expected, `${alert.alertname} (${alert.severity})`);
                }
            });

            it("notifies a still-firing alert again after its escalation-matrix response time", () => {
                const { route } = spec(runs[stack]);
                const repeat = (severity: string) => deliveringRoutes(route, { alertname: "X", severity })[0].repeatInterval;
                assert.deepEqual(["critical", "high", "medium", "low"].map(repeat), ["15m", "1h", "4h", "24h"]);
            });

            it("reads the receivers' credentials from the program's Secret next to it, by keys the Secret has", () => {
                const run = runs[stack];
                const config = inputs(alertmanagerConfig(run));
                const secret = byName(run, T.k8sSecret, "alert-routing-receivers");
                assert.equal(inputs(secret).metadata.namespace, config.metadata.namespace);
                assert.ok(dependsOn(run, alertmanagerConfig(run), secret), "the config waits for its Secret");
                const selectors = config.spec.receivers.flatMap((r: any) => [
                    ...(r.slackConfigs ?? []).map((c: any) => c.apiURL),
                    ...(r.pagerdutyConfigs ?? []).map((c: any) => c.routingKey),
                ]);
                assert.equal(selectors.length, stack === "prod" ? 3 : 1);
                for (const selector of selectors) {
                    assert.equal(selector.name, inputs(secret).metadata.name);
                    assert.ok(selector.key in inputs(secret).stringData, `the Secret has ${selector.key}`);
                }
                assert.equal(Object.keys(inputs(secret).stringData).length, stack === "prod" ? 2 : 1, "a paging key only where paging is on");
            });
        });
    }

    it("passes the webhook URL and the routing key to Kubernetes only as Pulumi secrets, never in plaintext", () => {
        const run = runs.restoring;
        const secret = byName(run, T.k8sSecret, "alert-routing-receivers");
        const data = inputs(secret).stringData;
        assert.equal(data["chat-webhook-url"], CHAT_WEBHOOK_URL);
        assert.equal(data["paging-routing-key"], PAGING_ROUTING_KEY);
        assert.ok(isSecretAt(secret.inputs, ["stringData", "chat-webhook-url"]));
        assert.ok(isSecretAt(secret.inputs, ["stringData", "paging-routing-key"]));
        const visible = visibleText(run);
        const exported = JSON.stringify(toStackExport(run));
        for (const value of [CHAT_WEBHOOK_URL, PAGING_ROUTING_KEY]) {
            assert.ok(JSON.stringify(run.resources.map((r) => r.inputs)).includes(value), "the search must be able to find the value");
            assert.ok(!visible.includes(value), "a receiver credential leaks in plaintext into an input or output");
            assert.ok(!exported.includes(value), "a receiver credential leaks into the stack export");
        }
    });
});
