// Makes Prometheus scrape one blue/green service: a PodMonitor over both colors' pods (the selector
// ignores the color, so a switch changes nothing), on the app's `http` port at `/metrics`, where the
// apps expose `http_requests_total` and `http_request_duration_seconds`.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LABELS, platformLabels, podMonitorName, ROLE_LABEL, ROLES } from "../conventions";
import { MONITOR_SELECTOR_LABELS } from "./eks/charts";

export const METRICS_PATH = "/metrics";
/** The app container's named port, which serves the API and its metrics. */
export const METRICS_PORT_NAME = "http";
export const SCRAPE_INTERVAL = "30s";

export interface PodMonitorArgs {
    /** The blue/green service; its pods of both colors carry `app: <service>`. */
    serviceName: string;
    /** The app namespace: the PodMonitor lives there and selects pods only there. */
    namespace: pulumi.Input<string>;
    /** The kube-prometheus-stack release: it installs the PodMonitor CRD and the Prometheus that selects it. */
    monitoringStack: pulumi.Resource;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

/** The PodMonitor, carrying the labels kube-prometheus-stack's Prometheus selects PodMonitors by. */
export function servicePodMonitor(args: PodMonitorArgs, opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource {
    const name = podMonitorName(args.serviceName);
    return new k8s.apiextensions.CustomResource(
        name,
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: {
                name,
                namespace: args.namespace,
                labels: { [LABELS.app]: args.serviceName, [ROLE_LABEL]: ROLES.metrics, ...MONITOR_SELECTOR_LABELS, ...platformLabels() },
            },
            spec: {
                selector: { matchLabels: { [LABELS.app]: args.serviceName } },
                podMetricsEndpoints: [{ port: METRICS_PORT_NAME, path: METRICS_PATH, interval: SCRAPE_INTERVAL }],
            },
        },
        // Without the CRD the API server rejects the kind.
        { ...opts, provider: args.provider, dependsOn: [args.monitoringStack] },
    );
}
