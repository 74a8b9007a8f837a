// Prometheus alerts for one blue/green service (thresholds from runbooks 000, 003 and 004).
//
// The rules select the service's pods of both colors by name (`<service>-(blue|green)-…`) and its
// container, so they stay the same when traffic switches colors; they need the Prometheus Operator
// CRDs (so each PrometheusRule depends on the kube-prometheus-stack release that installs them),
// kube-state-metrics and cAdvisor metrics, and the app's `http_requests_total` /
// `http_request_duration_seconds` metrics.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { COLORS } from "../config";
import { alertRulesName, LABELS, platformLabels, ROLE_LABEL, ROLES } from "../conventions";

export interface AlertRulesArgs {
    /** The blue/green service, which is also its container's name and its live Service's name. */
    serviceName: string;
    namespace: pulumi.Input<string>;
    /** The kube-prometheus-stack Helm release: it installs the PrometheusRule CRD. */
    monitoringStack: pulumi.Resource;
    provider: k8s.Provider;
}

interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: "critical" | "warning"; service: string; action?: string };
    annotations: { summary: string; description: string; runbook: string };
}

export class AlertRules extends pulumi.ComponentResource {
    readonly rule: k8s.apiextensions.CustomResource;

    constructor(name: string, args: AlertRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:AlertRules", name, {}, opts);
        const ruleName = alertRulesName(args.serviceName);
        this.rule = new k8s.apiextensions.CustomResource(
            ruleName,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: {
                    name: ruleName,
                    namespace: args.namespace,
                    labels: {
                        [LABELS.app]: args.serviceName,
                        [ROLE_LABEL]: ROLES.alerts,
                        ...platformLabels(),
                    },
                },
                spec: {
                    groups: pulumi.output(args.namespace).apply((ns) => [{ name: ruleName, rules: serviceAlerts(args.serviceName, ns) }]),
                },
            },
            // Without the CRD the API server rejects the kind.
            { parent: this, provider: args.provider, dependsOn: [args.monitoringStack] },
        );
        this.registerOutputs({ ruleName });
    }
}

/** The alerting rules of one service in one namespace. */
export function serviceAlerts(service: string, namespace: string): AlertRule[] {
    const pods = `namespace="${namespace}", pod=~"${service}-(${COLORS.join("|")})-.+"`;
    const container = `${pods}, container="${service}"`;
    const requests = (extra = "") => `sum(rate(http_requests_total{${pods}${extra}}[5m]))`;
    const errorRatio = `${requests(', status=~"5.."')} / ${requests()}`;
    const p95 = `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${pods}}[5m])))`;
    const limitRatio = (usage: string, resource: string) =>
        `max by (pod) (${usage} / on (namespace, pod, container) kube_pod_container_resource_limits{${container}, resource="${resource}"})`;
    const cpuRatio = limitRatio(`rate(container_cpu_usage_seconds_total{${container}}[5m])`, "cpu");
    const memoryRatio = limitRatio(`container_memory_working_set_bytes{${container}}`, "memory");
    const rule = (alert: string, expr: string, forDuration: string, severity: "critical" | "warning", summary: string, runbook: string, action?: string): AlertRule => ({
        alert: `${pascal(service)}${alert}`,
        expr,
        for: forDuration,
        labels: { severity, service, ...(action ? { action } : {}) },
        annotations: { summary: `${service}: ${summary}`, description: `${summary} ({{ $value }})`, runbook },
    });
    return [
        rule("NoReadyEndpoints", `(sum(kube_endpoint_address{namespace="${namespace}", endpoint="${service}", ready="true"}) or vector(0)) == 0`, "1m", "critical", "the live Service has no ready pods (API down)", "000 alert thresholds: API downtime > 1 minute"),
        rule("ErrorRateAboveOnePercent", `${errorRatio} > 0.01`, "5m", "critical", "5xx error rate above 1% for 5 minutes: roll back", "004 when to rollback: error rate > 1%", "rollback"),
        rule("ErrorRateAboveFivePercent", `${errorRatio} > 0.05`, "1m", "critical", "5xx error rate above 5%: roll back immediately", "001/003 rollback: error rate > 5%", "rollback"),
        rule("LatencyP95AboveHalfSecond", `${p95} > 0.5`, "10m", "warning", "p95 latency above 500ms", "000/004 monitoring: p95 < 500ms"),
        rule("LatencyP95AboveTwoSeconds", `${p95} > 2`, "5m", "critical", "p95 latency above 2000ms for 5 minutes: roll back", "003 automatic rollback: p95 > 2000ms for > 5 min", "rollback"),
        rule("PodRestarting", `sum by (pod) (increase(kube_pod_container_status_restarts_total{${container}}[5m])) > 3`, "0m", "critical", "a pod restarted more than 3 times in 5 minutes", "003/004 crash loops: roll back"),
        rule("CpuAboveEightyPercentOfLimit", `${cpuRatio} > 0.8`, "10m", "warning", "CPU above 80% of the limit", "000 infrastructure: CPU < 80%"),
        rule("MemoryAboveEightyPercentOfLimit", `${memoryRatio} > 0.8`, "10m", "warning", "memory above 80% of the limit", "000 infrastructure: memory < 80%"),
        rule("MemoryAboveNinetyPercentOfLimit", `${memoryRatio} > 0.9`, "5m", "critical", "memory above 90% of the limit (OOM kill ahead)", "003 high resource usage: memory > 90%"),
    ];
}

function pascal(name: string): string {
    return name
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((part) => part[0].toUpperCase() + part.slice(1))
        .join("");
}
