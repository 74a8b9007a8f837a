// Prometheus alerts for one blue/green service: the runbooks' alert thresholds, rollback triggers
// and monitoring targets, plus an alert when the app metrics they read are missing.
//
// The rules select the service's pods of both colors, so they stay the same when traffic switches
// colors; their PromQL comes from metrics/queries.ts, which the release analysis uses too. They need
// the Prometheus Operator CRDs (so each PrometheusRule depends on the kube-prometheus-stack release
// that installs them), kube-state-metrics and cAdvisor metrics, and the app's scraped
// `http_requests_total` / `http_request_duration_seconds` metrics.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { COLORS } from "../config";
import { alertRulesName, LABELS, platformLabels, ROLE_LABEL, ROLES } from "../conventions";
import * as q from "../metrics/queries";
import { Severity, THRESHOLDS as T } from "../metrics/thresholds";

export interface AlertRulesArgs {
    /** The blue/green service, which is also its container's name and its live Service's name. */
    serviceName: string;
    /** The app namespace: the rule lives there and selects only its pods. */
    namespace: pulumi.Input<string>;
    /** The kube-prometheus-stack Helm release: it installs the PrometheusRule CRD. */
    monitoringStack: pulumi.Resource;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: Severity; service: string; action?: "rollback" };
    /** `threshold` quotes the runbook threshold the rule encodes. */
    annotations: { summary: string; description: string; threshold: string };
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

interface RuleSpec {
    alert: string;
    expr: string;
    /** How long the condition holds before the alert fires; "0m" where the runbook says immediate. */
    for: string;
    severity: Severity;
    summary: string;
    threshold: string;
    action?: "rollback";
}

/** The alerting rules of one service in one namespace. */
export function serviceAlerts(service: string, namespace: string): AlertRule[] {
    const scope: q.MetricScope = { namespace, service, colors: COLORS };
    const errorRatio = q.errorRatio(scope);
    const p95 = q.latencyP95(scope);
    const specs: RuleSpec[] = [
        {
            alert: "NoReadyEndpoints",
            expr: `${q.readyServiceEndpoints(namespace, service)} == 0`,
            for: T.apiDowntime.for,
            severity: "critical",
            summary: "the live Service has no ready pods (API down)",
            threshold: "Alert thresholds, critical: API downtime > 1 minute",
        },
        {
            alert: "ErrorRateAboveOnePercent",
            expr: `${errorRatio} > ${T.errorRateImmediateRollback.ratio}`,
            for: "0m",
            severity: "critical",
            summary: "5xx error rate above 1%: roll back now",
            threshold: "When to roll back: error rate > 1% → immediate rollback (no wait beyond the 5m rate window)",
            action: "rollback",
        },
        {
            alert: "ErrorRateAboveFivePercent",
            expr: `${errorRatio} > ${T.errorRateHigh.ratio}`,
            for: "0m",
            severity: "high",
            summary: "5xx error rate above 5%",
            threshold: "Alert thresholds, high: error rate > 5%",
            action: "rollback",
        },
        {
            alert: "LatencyP95AboveHalfSecond",
            expr: `${p95} > ${T.latencyP95Target.seconds}`,
            for: "10m",
            severity: "warning",
            summary: "p95 latency above 500ms",
            threshold: "Key metrics to monitor: response time p95 < 500ms (a target; sustained 10 minutes)",
        },
        {
            alert: "LatencyP95AboveOneSecond",
            expr: `${p95} > ${T.latencyP95Medium.seconds}`,
            for: "0m",
            severity: "medium",
            summary: "p95 latency above 1000ms",
            threshold: "Alert thresholds, medium: response time p95 > 1000ms",
        },
        {
            alert: "LatencyP95AboveTwoSeconds",
            expr: `${p95} > ${T.latencyP95AutomaticRollback.seconds}`,
            for: T.latencyP95AutomaticRollback.for,
            severity: "critical",
            summary: "p95 latency above 2000ms for 5 minutes: roll back",
            threshold: "Automatic rollback triggers: API response time exceeds 2000ms P95 for > 5 minutes",
            action: "rollback",
        },
        {
            alert: "PodRestarting",
            expr: `${q.restartsPerPod(scope, T.podRestarts.window)} > ${T.podRestarts.count}`,
            for: "0m",
            severity: "critical",
            summary: "a pod restarted more than 3 times in 5 minutes",
            threshold: "Decision matrix: pod restarts > 3 in 5 min → investigate, consider rollback",
        },
        {
            alert: "CpuAboveEightyPercentOfLimit",
            expr: `${q.cpuShareOfLimit(scope)} > ${T.resourceTarget.ratio}`,
            for: "10m",
            severity: "warning",
            summary: "CPU above 80% of the limit",
            threshold: "Key metrics to monitor: CPU usage < 80% (a target; sustained 10 minutes)",
        },
        {
            alert: "CpuAboveNinetyPercentOfLimit",
            expr: `${q.cpuShareOfLimit(scope)} > ${T.cpuLow.ratio}`,
            for: "0m",
            severity: "low",
            summary: "CPU above 90% of the limit",
            threshold: "Alert thresholds, low: CPU usage > 90%",
        },
        {
            alert: "MemoryAboveEightyPercentOfLimit",
            expr: `${q.memoryShareOfLimit(scope)} > ${T.resourceTarget.ratio}`,
            for: "10m",
            severity: "warning",
            summary: "memory above 80% of the limit",
            threshold: "Key metrics to monitor: memory usage < 80% (a target; sustained 10 minutes)",
        },
        {
            alert: "MemoryAboveNinetyPercentOfLimit",
            expr: `${q.memoryShareOfLimit(scope)} > ${T.memoryCritical.ratio}`,
            for: T.memoryCritical.for,
            severity: "critical",
            summary: "memory above 90% of the limit (OOM kill ahead)",
            threshold: "High resource usage: memory > 90%",
        },
        {
            alert: "AppMetricsAbsent",
            expr: q.appMetricsAbsent(scope),
            for: "5m",
            severity: "high",
            summary:
                "no http_requests_total or http_request_duration_seconds series from its pods: the error-rate and latency alerts and the release analysis are blind",
            threshold: "Monitoring: Prometheus metrics being collected (the other alerts need these series)",
        },
    ];
    return specs.map((spec) => alertRule(service, spec));
}

function alertRule(service: string, spec: RuleSpec): AlertRule {
    return {
        alert: `${pascal(service)}${spec.alert}`,
        expr: spec.expr,
        for: spec.for,
        labels: { severity: spec.severity, service, ...(spec.action ? { action: spec.action } : {}) },
        annotations: {
            summary: `${service}: ${spec.summary}`,
            description: `${spec.summary} ({{ $value }})`,
            threshold: spec.threshold,
        },
    };
}

function pascal(name: string): string {
    return name
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((part) => part[0].toUpperCase() + part.slice(1))
        .join("");
}
