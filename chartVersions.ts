// The platform charts' versions for each Kubernetes minor a cluster may run: the one table the
// program installs charts from, and the one the stack config checks `cluster.kubernetesVersion`
// against (a version without an entry is refused before any resource is registered).
//
// Dependency-free on purpose: the config checks import it, and it must never pull in a provider SDK.
//
// When EKS_SUPPORTED_VERSIONS (thresholds.ts) gains a minor, add its entry here; a test keeps the
// two equal. Before pinning a new chart version, read that version's values.yaml: Helm ignores
// unknown keys silently, and a test compares the values the program sets with a copy of it
// (test/fixtures/upstream/charts/).

/** The charts every cluster runs, by Helm chart name. */
export type PlatformChart = "metrics-server" | "aws-load-balancer-controller" | "cluster-autoscaler" | "kube-prometheus-stack";

/** The platform charts for one Kubernetes minor. */
export interface PlatformChartVersions {
    /** The Helm chart version of each platform chart. */
    charts: Readonly<Record<PlatformChart, string>>;
    /**
     * The cluster-autoscaler image tag: the autoscaler release of the cluster's own minor (the
     * autoscaler supports only the control-plane minor it was built for), the one its chart ships as
     * appVersion.
     */
    clusterAutoscalerImageTag: string;
}

/**
 * metrics-server chart 3.12.2 runs metrics-server 0.7.2; metrics-server 0.7.x supports Kubernetes
 * 1.27+ (compatibility matrix in kubernetes-sigs/metrics-server README.md, main at 5ed5d3a2,
 * August 2026; chart tag metrics-server-helm-chart-3.12.2): one version for every minor below.
 */
const METRICS_SERVER = "3.12.2";
/**
 * aws-load-balancer-controller chart 1.11.0 runs the controller v2.11.0; v2.5.0+ requires
 * Kubernetes 1.22+ with no upper bound (kubernetes-sigs/aws-load-balancer-controller
 * docs/deploy/installation.md "Supported Kubernetes versions", tag v2.11.0 and main at 225f4456;
 * chart: aws/eks-charts stable/aws-load-balancer-controller at e60a7cbf). The IAM policy in
 * components/eks/iamPolicies.ts is the one for v2.11.0. One version for every minor below.
 */
const LOAD_BALANCER_CONTROLLER = "1.11.0";
/**
 * kube-prometheus-stack chart 65.1.1 declares `kubeVersion: ">=1.19.0-0"` and "Prerequisites:
 * Kubernetes 1.19+" (prometheus-community/helm-charts charts/kube-prometheus-stack Chart.yaml and
 * README.md, tag kube-prometheus-stack-65.1.1 = aa3d8bc8). One version for every minor below.
 * That is the chart's only stated bound: its Prometheus Operator (v0.77.1) and kube-state-metrics
 * (2.13, chart 5.25) support what their client-go supports, a release older than 1.32, so objects
 * newer minors add get no kube-state-metrics series.
 */
const KUBE_PROMETHEUS_STACK = "65.1.1";

/**
 * The cluster-autoscaler chart per minor: the newest chart whose appVersion is that minor's
 * autoscaler (kubernetes/autoscaler charts/cluster-autoscaler/Chart.yaml, moved to
 * cluster-autoscaler/charts/cluster-autoscaler/ from chart 9.52.0; tags cluster-autoscaler-chart-<version>).
 * Autoscaler 1.32+ waits for its storage.k8s.io volumeattachments informer before the first loop;
 * the chart's ClusterRole grants list/watch/get on volumeattachments from chart 9.46.3 on, so every
 * entry is 9.46.3 or later.
 */
export const PLATFORM_CHART_VERSIONS: Readonly<Record<string, PlatformChartVersions>> = {
    // cluster-autoscaler-chart-9.46.6 (13dba175): appVersion 1.32.0, the last chart for 1.32.
    "1.32": {
        charts: {
            "metrics-server": METRICS_SERVER,
            "aws-load-balancer-controller": LOAD_BALANCER_CONTROLLER,
            "cluster-autoscaler": "9.46.6",
            "kube-prometheus-stack": KUBE_PROMETHEUS_STACK,
        },
        clusterAutoscalerImageTag: "v1.32.0",
    },
    // cluster-autoscaler-chart-9.51.0 (9befb31f): appVersion 1.33.0, the last chart for 1.33.
    "1.33": {
        charts: {
            "metrics-server": METRICS_SERVER,
            "aws-load-balancer-controller": LOAD_BALANCER_CONTROLLER,
            "cluster-autoscaler": "9.51.0",
            "kube-prometheus-stack": KUBE_PROMETHEUS_STACK,
        },
        clusterAutoscalerImageTag: "v1.33.0",
    },
    // cluster-autoscaler-chart-9.53.0 (a2db9eb7): appVersion 1.34.2, the last chart for 1.34.
    "1.34": {
        charts: {
            "metrics-server": METRICS_SERVER,
            "aws-load-balancer-controller": LOAD_BALANCER_CONTROLLER,
            "cluster-autoscaler": "9.53.0",
            "kube-prometheus-stack": KUBE_PROMETHEUS_STACK,
        },
        clusterAutoscalerImageTag: "v1.34.2",
    },
    // cluster-autoscaler-chart-9.59.0 (5a0b98e4, July 2026): appVersion 1.35.0, the newest chart for 1.35.
    "1.35": {
        charts: {
            "metrics-server": METRICS_SERVER,
            "aws-load-balancer-controller": LOAD_BALANCER_CONTROLLER,
            "cluster-autoscaler": "9.59.0",
            "kube-prometheus-stack": KUBE_PROMETHEUS_STACK,
        },
        clusterAutoscalerImageTag: "v1.35.0",
    },
};

/** The Kubernetes minors the table has chart versions for, oldest first. */
export const CHART_TABLE_VERSIONS: readonly string[] = Object.keys(PLATFORM_CHART_VERSIONS);

/** The platform charts for a Kubernetes minor; throws, naming the version, when the table has none. */
export function platformChartVersions(kubernetesVersion: string): PlatformChartVersions {
    const entry = Object.hasOwn(PLATFORM_CHART_VERSIONS, kubernetesVersion) ? PLATFORM_CHART_VERSIONS[kubernetesVersion] : undefined;
    if (!entry) {
        throw new Error(
            `no platform chart versions for Kubernetes ${kubernetesVersion}; the table covers ${CHART_TABLE_VERSIONS.join(", ")} (chartVersions.ts)`,
        );
    }
    return entry;
}
