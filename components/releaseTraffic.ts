// How traffic reaches the services: the public ALB Ingress, the namespace's NetworkPolicies and the
// release manifest ConfigMap (docs/conventions.md) that records what is live.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { Environment, IngressConfig, ReleaseConfig } from "../config";
import {
    ALB_ANNOTATION_PREFIX,
    LABELS,
    MAINTENANCE_SELECTOR,
    platformLabels,
    RELEASE_MANIFEST_NAME,
    ROLE_LABEL,
    ROLES,
    SMOKE_TEST_OF_LABEL,
} from "../conventions";
import { BlueGreenService, LiveTarget } from "./blueGreenService";
import { MONITORING_NAMESPACE } from "./eks/charts";
import { MAINTENANCE_PORT } from "./maintenancePage";
import { READINESS_PATH } from "./podSpec";

export interface ReleaseTrafficArgs {
    /** `staging` or `prod`, recorded in the release manifest. */
    environment: Environment;
    /** The app namespace of the Ingress, the NetworkPolicies and the manifest. */
    namespace: pulumi.Input<string>;
    /** Public host and (optional) ACM certificate of the ALB, from stack config. */
    ingress: IngressConfig;
    /** The release being made (version, schedule, hotfix), recorded in the manifest. */
    release: ReleaseConfig;
    /** The blue/green services: a path per service on the Ingress and their NetworkPolicies. */
    services: BlueGreenService[];
    /** Whether maintenance mode is on; must agree with the services' live targets. */
    maintenance: boolean;
    /** The database port the apps and migrations may reach in the VPC. */
    databasePort: pulumi.Input<number>;
    /** Whether the app Secret has `REDIS_URL`: the apps then reach Redis (their `/health` checks it). */
    hasRedisUrl: boolean;
    /** The ALB (instance targets) and the database live in the VPC. */
    vpcCidr: string;
    /** AWS tags for the load balancer the controller creates. */
    tags?: Record<string, string>;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

export const INGRESS_NAME = "api";
const ALB = ALB_ANNOTATION_PREFIX;
/** TLS 1.2 and 1.3 only. */
export const ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Redis (ElastiCache) default port; REDIS_URL is a secret, so its port can't be read here. */
export const REDIS_PORT = 6379;

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** kube-prometheus-stack's Prometheus pods (the Operator labels them `app.kubernetes.io/name: prometheus`), which scrape the apps' `/metrics`. */
export const PROMETHEUS_PODS: k8s.types.input.networking.v1.NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } },
    podSelector: { matchLabels: { [LABELS.name]: "prometheus" } },
};

export class ReleaseTraffic extends pulumi.ComponentResource {
    /** Service → live color, or `maintenance`. */
    readonly liveColors: pulumi.Output<Record<string, LiveTarget>>;
    readonly publicUrl: pulumi.Output<string>;
    readonly ingress: k8s.networking.v1.Ingress;
    readonly manifest: k8s.core.v1.ConfigMap;

    private readonly args: ReleaseTrafficArgs;

    constructor(name: string, args: ReleaseTrafficArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:ReleaseTraffic", name, {}, opts);
        this.args = args;
        const live = liveTargets(args.services, args.maintenance);

        this.ingress = this.publicIngress();
        this.networkPolicies();
        this.manifest = this.releaseManifest();

        this.liveColors = pulumi.output(live);
        this.publicUrl = pulumi.output(`https://${args.ingress.host}`);
        this.registerOutputs({ liveColors: this.liveColors, publicUrl: this.publicUrl });
    }

    private childOptions(extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
        return { parent: this, provider: this.args.provider, ...extra };
    }

    private labels(extra: Record<string, string> = {}): Record<string, string> {
        return { ...extra, ...platformLabels() };
    }

    private albAnnotations(): Record<string, string> {
        const { ingress, environment, tags } = this.args;
        return {
            [`${ALB}/scheme`]: "internet-facing",
            // Targets are the nodes' NodePorts: a color switch is a Service selector change that
            // kube-proxy applies at once; `ip` targets would drop requests while pods re-register.
            [`${ALB}/target-type`]: "instance",
            [`${ALB}/load-balancer-name`]: `release-platform-${environment}`,
            [`${ALB}/listen-ports`]: JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
            [`${ALB}/ssl-redirect`]: "443",
            [`${ALB}/ssl-policy`]: ALB_SSL_POLICY,
            [`${ALB}/healthcheck-path`]: READINESS_PATH,
            [`${ALB}/success-codes`]: "200",
            ...(ingress.certificateArn ? { [`${ALB}/certificate-arn`]: ingress.certificateArn } : {}),
            ...(tags && Object.keys(tags).length
                ? {
                      [`${ALB}/tags`]: Object.entries(tags)
                          .map(([k, v]) => `${k}=${v}`)
                          .join(","),
                  }
                : {}),
        };
    }

    /** One path per service, to its live Service (whatever color or maintenance page that selects). */
    private publicIngress(): k8s.networking.v1.Ingress {
        const { ingress, namespace, services } = this.args;
        return new k8s.networking.v1.Ingress(
            INGRESS_NAME,
            {
                metadata: { name: INGRESS_NAME, namespace, labels: this.labels({ app: INGRESS_NAME }), annotations: this.albAnnotations() },
                spec: {
                    ingressClassName: "alb",
                    // The ALB terminates TLS with an ACM certificate (certificate-arn, or discovered by
                    // these hosts when none is configured); it never reads a Secret, so none is named.
                    tls: [{ hosts: [ingress.host] }],
                    rules: [
                        {
                            host: ingress.host,
                            http: {
                                paths: services.map((s) => ({
                                    path: s.config.path,
                                    pathType: "Prefix",
                                    backend: { service: { name: s.liveService.metadata.name, port: { number: s.config.port } } },
                                })),
                            },
                        },
                    ],
                },
            },
            this.childOptions(),
        );
    }

    private networkPolicy(name: string, spec: NetworkPolicySpec): k8s.networking.v1.NetworkPolicy {
        return new k8s.networking.v1.NetworkPolicy(
            name,
            { metadata: { name, namespace: this.args.namespace, labels: this.labels() }, spec },
            this.childOptions(),
        );
    }

    /** Default deny, then only what the runbooks' traffic needs. None of it depends on the live color. */
    private networkPolicies(): void {
        const { vpcCidr, databasePort, services, hasRedisUrl } = this.args;
        const appPods = { matchExpressions: [{ key: LABELS.app, operator: "In", values: services.map((s) => s.serviceName) }] };
        const fromVpc = [{ ipBlock: { cidr: vpcCidr } }];
        this.networkPolicy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        this.networkPolicy("allow-dns", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [
                        {
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                        },
                    ],
                    ports: [53].flatMap((port) => [
                        { protocol: "UDP", port },
                        { protocol: "TCP", port },
                    ]),
                },
            ],
        });
        this.networkPolicy("allow-database-egress", {
            podSelector: appPods,
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port: databasePort }] }],
        });
        // The apps use REDIS_URL and their `/health` (which the smoke tests GET) checks Redis.
        if (hasRedisUrl) {
            this.networkPolicy("allow-redis-egress", {
                podSelector: appPods,
                policyTypes: ["Egress"],
                egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port: REDIS_PORT }] }],
            });
        }
        this.networkPolicy("allow-migration-database-egress", {
            podSelector: { matchLabels: { [ROLE_LABEL]: ROLES.migration } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port: databasePort }] }],
        });
        // With instance targets the ALB reaches a NodePort and kube-proxy forwards from the node,
        // so app pods see VPC addresses.
        this.networkPolicy("maintenance-allow-ingress", {
            podSelector: { matchLabels: { ...MAINTENANCE_SELECTOR } },
            policyTypes: ["Ingress"],
            ingress: [{ from: fromVpc, ports: [{ protocol: "TCP", port: MAINTENANCE_PORT }] }],
        });
        for (const s of services) this.serviceNetworkPolicies(s, fromVpc);
    }

    private serviceNetworkPolicies(s: BlueGreenService, fromVpc: k8s.types.input.networking.v1.NetworkPolicyPeer[]): void {
        const port = [{ protocol: "TCP", port: s.config.port }];
        const smokeTestPods = { matchLabels: { [ROLE_LABEL]: ROLES.smokeTest, [SMOKE_TEST_OF_LABEL]: s.serviceName } };
        this.networkPolicy(`${s.serviceName}-allow-ingress`, {
            podSelector: { matchLabels: { [LABELS.app]: s.serviceName } },
            policyTypes: ["Ingress"],
            ingress: [{ from: [...fromVpc, { podSelector: smokeTestPods }, PROMETHEUS_PODS], ports: port }],
        });
        this.networkPolicy(`${s.serviceName}-smoke-test-egress`, {
            podSelector: smokeTestPods,
            policyTypes: ["Egress"],
            egress: [{ to: [{ podSelector: { matchLabels: { [LABELS.app]: s.serviceName } } }], ports: port }],
        });
    }

    /**
     * What the release declares (docs/conventions.md). It leaves out the live colors on purpose: a
     * promote or rollback must change nothing but the Services' selectors.
     */
    private releaseManifest(): k8s.core.v1.ConfigMap {
        const { release, environment, namespace } = this.args;
        return new k8s.core.v1.ConfigMap(
            RELEASE_MANIFEST_NAME,
            {
                metadata: { name: RELEASE_MANIFEST_NAME, namespace, labels: this.labels({ [ROLE_LABEL]: ROLES.manifest }) },
                data: {
                    environment,
                    version: release.version,
                    scheduledAt: release.scheduledAt ?? "",
                    hotfix: String(release.hotfix),
                },
            },
            // ConfigMap data changes replace it (the provider treats ConfigMaps as immutable); same name.
            this.childOptions({ deleteBeforeReplace: true }),
        );
    }
}

function liveTargets(services: BlueGreenService[], maintenance: boolean): Record<string, LiveTarget> {
    const live: Record<string, LiveTarget> = {};
    for (const s of services) {
        if ((s.liveTarget === "maintenance") !== maintenance) {
            throw new Error(`${s.serviceName} routes to ${s.liveTarget}, but maintenance mode is ${maintenance ? "on" : "off"}`);
        }
        live[s.serviceName] = s.liveTarget;
    }
    return live;
}
