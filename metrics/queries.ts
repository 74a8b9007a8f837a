// The PromQL of every metric the alert rules and the release analysis read, built in one place so
// the two cannot drift. Dependency-free: the Pulumi program, the policy pack and the tools import it.
//
// A query is scoped to one service's pods of some colors in one namespace. Every scraped series
// carries `namespace` and `pod` (the Prometheus Operator sets both for a ServiceMonitor or PodMonitor
// target, and kube-state-metrics reports them for the pod it describes), and a color's pods are
// named `<service>-<color>-<pod-template-hash>-<suffix>` by its Deployment, so (namespace, service,
// color) select the same pods in the app's own metrics and in kube-state-metrics' metrics.

import { deploymentName } from "../conventions";

/** Which pods a query reads. */
export interface MetricScope {
    namespace: string;
    /** The blue/green service: its Deployments are `<service>-<color>`, its container is `<service>`. */
    service: string;
    /** One color for the analysis of that color's pods; every color for alerts that survive a switch. */
    colors: readonly string[];
}

/** Prometheus duration such as `5m`. */
export type PromDuration = string;

/** The rate window of the runbooks' own monitoring queries. */
export const DEFAULT_RATE_WINDOW: PromDuration = "5m";

/** The app's request counter and latency histogram (seconds), with the HTTP status in `status`. */
export const APP_METRICS = {
    requests: "http_requests_total",
    latencyBuckets: "http_request_duration_seconds_bucket",
} as const;

/** kube-state-metrics and cAdvisor series the rules and the analysis read. */
export const CLUSTER_METRICS = {
    restarts: "kube_pod_container_status_restarts_total",
    podReady: "kube_pod_status_ready",
    deploymentReplicas: "kube_deployment_spec_replicas",
    endpointAddress: "kube_endpoint_address",
    cpuSeconds: "container_cpu_usage_seconds_total",
    memoryWorkingSet: "container_memory_working_set_bytes",
    containerLimits: "kube_pod_container_resource_limits",
} as const;

/** The pods of the scope's colors, by the name their Deployment gives them. */
export function podPattern(scope: MetricScope): string {
    const colors = scope.colors.length === 1 ? scope.colors[0] : `(${scope.colors.join("|")})`;
    return `${deploymentName(scope.service, colors)}-[a-z0-9]+-[a-z0-9]+`;
}

/** Label matchers (without braces) selecting the scope's pods. */
export function podMatchers(scope: MetricScope, extra = ""): string {
    return `namespace="${scope.namespace}", pod=~"${podPattern(scope)}"${extra}`;
}

/** Matchers for the service's own container in the scope's pods. */
function containerMatchers(scope: MetricScope, extra = ""): string {
    return podMatchers(scope, `, container="${scope.service}"${extra}`);
}

function requestRate(scope: MetricScope, window: PromDuration, extra = ""): string {
    return `sum(rate(${APP_METRICS.requests}{${podMatchers(scope, extra)}}[${window}]))`;
}

/** Share of requests answered 5xx (0–1); no traffic gives no value. */
export function errorRatio(scope: MetricScope, window = DEFAULT_RATE_WINDOW): string {
    return `${requestRate(scope, window, ', status=~"5.."')} / ${requestRate(scope, window)}`;
}

/** 95th percentile request latency in seconds; no traffic gives no value. */
export function latencyP95(scope: MetricScope, window = DEFAULT_RATE_WINDOW): string {
    return `histogram_quantile(0.95, sum by (le) (rate(${APP_METRICS.latencyBuckets}{${podMatchers(scope)}}[${window}])))`;
}

/** Container restarts per pod within the window. */
export function restartsPerPod(scope: MetricScope, window = DEFAULT_RATE_WINDOW): string {
    return `sum by (pod) (increase(${CLUSTER_METRICS.restarts}{${containerMatchers(scope)}}[${window}]))`;
}

/** The most restarts any one pod of the scope had within the window. */
export function maxPodRestarts(scope: MetricScope, window = DEFAULT_RATE_WINDOW): string {
    return `max(${restartsPerPod(scope, window)})`;
}

/**
 * Share of the color Deployments' desired replicas that are ready (0–1): the pods its Service would
 * route to. No Deployment series gives no value.
 */
export function readyRatio(scope: MetricScope): string {
    const deployments = scope.colors.map((c) => deploymentName(scope.service, c)).join("|");
    const ready = `sum(${CLUSTER_METRICS.podReady}{${podMatchers(scope, ', condition="true"')}})`;
    const desired = `sum(${CLUSTER_METRICS.deploymentReplicas}{namespace="${scope.namespace}", deployment=~"${deployments}"})`;
    // No ready pod leaves no ready series at all: that is 0 ready, not missing data.
    return `(${ready} or on () (${desired} * 0)) / ${desired}`;
}

/** Ready addresses behind a Service (0 when the Service has none). */
export function readyServiceEndpoints(namespace: string, serviceName: string): string {
    return `(sum(${CLUSTER_METRICS.endpointAddress}{namespace="${namespace}", endpoint="${serviceName}", ready="true"}) or vector(0))`;
}

/** Per pod, the container's usage as a share of its limit. */
function shareOfLimit(scope: MetricScope, usage: string, resource: "cpu" | "memory"): string {
    const limits = `${CLUSTER_METRICS.containerLimits}{${containerMatchers(scope, `, resource="${resource}"`)}}`;
    return `max by (pod) (${usage} / on (namespace, pod, container) ${limits})`;
}

/** Per pod, CPU used as a share of the container's CPU limit. */
export function cpuShareOfLimit(scope: MetricScope, window = DEFAULT_RATE_WINDOW): string {
    return shareOfLimit(scope, `rate(${CLUSTER_METRICS.cpuSeconds}{${containerMatchers(scope)}}[${window}])`, "cpu");
}

/** Per pod, memory working set as a share of the container's memory limit. */
export function memoryShareOfLimit(scope: MetricScope): string {
    return shareOfLimit(scope, `${CLUSTER_METRICS.memoryWorkingSet}{${containerMatchers(scope)}}`, "memory");
}

/** Non-empty (value 1) while either app metric the alerts and the analysis read is missing for the scope's pods. */
export function appMetricsAbsent(scope: MetricScope): string {
    return Object.values(APP_METRICS)
        .map((metric) => `absent(${metric}{${podMatchers(scope)}})`)
        .join(" or ");
}
