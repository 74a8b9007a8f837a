// The platform charts every cluster runs, as Helm releases: the AWS Load Balancer Controller (the
// ALB Ingress), metrics-server (the HPAs' CPU metrics), the cluster autoscaler (nodes for the HPAs'
// pods) and kube-prometheus-stack (Prometheus, Alertmanager, Grafana and the Operator's CRDs).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { ALERT_ROUTING_NAME } from "../../conventions";
import { Tags } from "../tags";
import { clusterAutoscalerPolicy, loadBalancerControllerPolicy } from "./iamPolicies";
import { irsaAnnotations, irsaRole } from "./irsa";
import { PlatformChart, platformChartVersions, PlatformChartVersions } from "../../chartVersions";

export interface ChartSpec {
    chart: PlatformChart;
    repo: string;
    namespace: string;
}

/**
 * The platform Helm charts; each is installed as a release named after its chart, at the version
 * the chart table (chartVersions.ts) pins for the cluster's Kubernetes minor.
 */
export const CHARTS = {
    metricsServer: { chart: "metrics-server", repo: "https://kubernetes-sigs.github.io/metrics-server/", namespace: "kube-system" },
    loadBalancerController: { chart: "aws-load-balancer-controller", repo: "https://aws.github.io/eks-charts", namespace: "kube-system" },
    clusterAutoscaler: { chart: "cluster-autoscaler", repo: "https://kubernetes.github.io/autoscaler", namespace: "kube-system" },
    // Brings the Prometheus Operator CRDs (PrometheusRule, ServiceMonitor), Prometheus, Alertmanager and Grafana.
    monitoring: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", namespace: "monitoring" },
} satisfies Record<string, ChartSpec>;

/**
 * The labels kube-prometheus-stack's Prometheus selects ServiceMonitors and PodMonitors by: with the
 * chart's default `*MonitorSelectorNilUsesHelmValues: true` and empty selectors, the chart renders
 * `matchLabels: {release: <Helm release name>}`; the release is named after its chart.
 */
export const MONITOR_SELECTOR_LABELS: Readonly<Record<string, string>> = { release: CHARTS.monitoring.chart };
/** The namespace the monitoring stack runs in (its Prometheus scrapes from there). */
export const MONITORING_NAMESPACE = CHARTS.monitoring.namespace;

export const LB_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";

export interface PlatformChartsArgs {
    /** The EKS cluster's name, as the load balancer controller and the autoscaler's autodiscovery need it. */
    clusterName: pulumi.Input<string>;
    /** The cluster's name as known before it exists: the autoscaler's IAM policy is scoped to its tag. */
    knownClusterName: string;
    /** `MAJOR.MINOR` of the control plane: picks every chart's version, and the autoscaler's, from the chart table. */
    kubernetesVersion: string;
    /** The AWS region the cluster runs in. */
    region: string;
    /** The VPC of the cluster, where the load balancer controller creates target groups. */
    vpcId: pulumi.Input<string>;
    /** The cluster's OIDC provider, for the charts' IRSA roles. */
    oidc: aws.iam.OpenIdConnectProvider;
    /** Nodes and core add-ons: the charts' pods need somewhere to run and a working CNI and DNS. */
    ready: pulumi.Resource[];
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
    /** The tags of an AWS resource given its name suffix. */
    tags: (suffix: string) => Tags;
}

export interface PlatformCharts {
    /** kube-prometheus-stack: PrometheusRules need its CRDs and its Prometheus to be evaluated. */
    monitoringStack: k8s.helm.v3.Release;
    /** Everything application resources must wait for, the charts included. */
    workloadDependencies: pulumi.Resource[];
}

/** Installs the charts as children of `parent`, the load balancer controller first. */
export function installPlatformCharts(name: string, args: PlatformChartsArgs, parent: pulumi.Resource): PlatformCharts {
    const charts = new ChartInstaller(name, args, parent);
    const lbController = charts.loadBalancerController();
    // Every other chart creates Services, which the controller's webhook admits only once it runs.
    const platformReady = [...args.ready, lbController];
    const metricsServer = charts.metricsServer(platformReady);
    const autoscaler = charts.clusterAutoscaler(platformReady);
    const monitoringStack = charts.monitoring(platformReady);
    return { monitoringStack, workloadDependencies: [...platformReady, metricsServer, autoscaler, monitoringStack] };
}

class ChartInstaller {
    private readonly versions: PlatformChartVersions;

    constructor(
        private readonly name: string,
        private readonly args: PlatformChartsArgs,
        private readonly parent: pulumi.Resource,
    ) {
        this.versions = platformChartVersions(args.kubernetesVersion);
    }

    /** A chart at the table's version for the cluster, installed once `dependsOn` is ready; Helm waits until its workloads are Ready. */
    private helmRelease(
        resourceName: string,
        spec: ChartSpec,
        values: pulumi.Inputs,
        dependsOn: pulumi.Resource[],
        extra: Partial<k8s.helm.v3.ReleaseArgs> = {},
    ): k8s.helm.v3.Release {
        return new k8s.helm.v3.Release(
            resourceName,
            {
                name: spec.chart,
                chart: spec.chart,
                version: this.versions.charts[spec.chart],
                repositoryOpts: { repo: spec.repo },
                namespace: spec.namespace,
                values,
                ...extra,
            },
            { parent: this.parent, provider: this.args.provider, dependsOn },
        );
    }

    private irsa(suffix: string, namespace: string, serviceAccount: string, description: string, policy: object) {
        return irsaRole(
            `${this.name}-${suffix}`,
            { oidc: this.args.oidc, serviceAccount: { namespace, name: serviceAccount }, description, policy, tags: this.args.tags(suffix) },
            { parent: this.parent },
        );
    }

    loadBalancerController(): k8s.helm.v3.Release {
        const spec = CHARTS.loadBalancerController;
        const { role, attachment } = this.irsa(
            "lb-controller",
            spec.namespace,
            LB_CONTROLLER_SERVICE_ACCOUNT,
            "AWS Load Balancer Controller",
            loadBalancerControllerPolicy(),
        );
        const values = {
            clusterName: this.args.clusterName,
            region: this.args.region,
            vpcId: this.args.vpcId,
            replicaCount: 2,
            serviceAccount: { create: true, name: LB_CONTROLLER_SERVICE_ACCOUNT, annotations: irsaAnnotations(role) },
        };
        return this.helmRelease(`${this.name}-lb-controller`, spec, values, [...this.args.ready, attachment]);
    }

    metricsServer(ready: pulumi.Resource[]): k8s.helm.v3.Release {
        return this.helmRelease(`${this.name}-metrics-server`, CHARTS.metricsServer, { replicas: 2 }, ready);
    }

    /** Adds nodes when pods can't be scheduled (HPA up to 50 pods per service) and removes idle ones. */
    clusterAutoscaler(ready: pulumi.Resource[]): k8s.helm.v3.Release {
        const spec = CHARTS.clusterAutoscaler;
        const { role, attachment } = this.irsa(
            "cluster-autoscaler",
            spec.namespace,
            CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
            "Kubernetes cluster-autoscaler",
            clusterAutoscalerPolicy(this.args.knownClusterName),
        );
        const values = {
            cloudProvider: "aws",
            awsRegion: this.args.region,
            autoDiscovery: { clusterName: this.args.knownClusterName },
            // The autoscaler supports only the control-plane minor it was built for.
            image: { tag: this.versions.clusterAutoscalerImageTag },
            rbac: {
                serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, annotations: irsaAnnotations(role) },
            },
            // The services and migrations mount emptyDir volumes (read-only root filesystem); by
            // default the autoscaler never removes a node running such pods.
            extraArgs: { "skip-nodes-with-local-storage": false },
        };
        return this.helmRelease(`${this.name}-cluster-autoscaler`, spec, values, [...ready, attachment]);
    }

    /** Prometheus evaluates PrometheusRules from every namespace, not only the release's own. */
    monitoring(ready: pulumi.Resource[]): k8s.helm.v3.Release {
        // The chart's default Grafana password is public ("prom-operator").
        const grafanaPassword = new random.RandomPassword(`${this.name}-grafana-admin`, { length: 32, special: false }, { parent: this.parent });
        const values = {
            prometheus: {
                prometheusSpec: {
                    ruleSelectorNilUsesHelmValues: false,
                    ruleSelector: {},
                    ruleNamespaceSelector: {},
                },
            },
            // Alertmanager's whole configuration comes from this AlertmanagerConfig (see alertRouting.ts),
            // instead of the chart's default route to a receiver without integrations.
            alertmanager: { enabled: true, alertmanagerSpec: { alertmanagerConfiguration: { name: ALERT_ROUTING_NAME } } },
            grafana: { enabled: true, adminPassword: pulumi.secret(grafanaPassword.result) },
        };
        return this.helmRelease(`${this.name}-monitoring`, CHARTS.monitoring, values, ready, { createNamespace: true, timeout: 900 });
    }
}
