// EKS control plane, managed nodes, IRSA, core add-ons, the platform charts (load balancer
// controller, metrics-server, cluster-autoscaler, kube-prometheus-stack), admin access entries, and
// the Kubernetes provider every Kubernetes resource in the program uses.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { ClusterConfig, Environment } from "../config";
import { eksClusterName, Tags, withName } from "./tags";

export interface EksClusterArgs {
    environment: Environment;
    cluster: ClusterConfig;
    vpcId: pulumi.Input<string>;
    publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Nodes run here, across every zone. */
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    tags: Tags;
}

export const CLUSTER_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
export const CORE_ADDONS = ["vpc-cni", "coredns", "kube-proxy"] as const;
/** The VPC CNI enforces NetworkPolicies only with its network policy agent turned on. */
export const VPC_CNI_CONFIGURATION = JSON.stringify({ enableNetworkPolicy: "true" });

interface ChartSpec {
    chart: string;
    version: string;
    repo: string;
    namespace: string;
}

/** Pinned Helm charts; each is installed as a release named after its chart. */
export const CHARTS = {
    metricsServer: { chart: "metrics-server", version: "3.12.2", repo: "https://kubernetes-sigs.github.io/metrics-server/", namespace: "kube-system" },
    loadBalancerController: { chart: "aws-load-balancer-controller", version: "1.11.0", repo: "https://aws.github.io/eks-charts", namespace: "kube-system" },
    clusterAutoscaler: { chart: "cluster-autoscaler", version: "9.43.2", repo: "https://kubernetes.github.io/autoscaler", namespace: "kube-system" },
    // Brings the Prometheus Operator CRDs (PrometheusRule, ServiceMonitor), Prometheus, Alertmanager and Grafana.
    monitoring: { chart: "kube-prometheus-stack", version: "65.1.1", repo: "https://prometheus-community.github.io/helm-charts", namespace: "monitoring" },
} satisfies Record<string, ChartSpec>;

export const LB_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
export const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

const NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];

export class EksCluster extends pulumi.ComponentResource {
    readonly clusterName: pulumi.Output<string>;
    /** Secret: the kubeconfig carries no credentials (it runs `aws eks get-token`), but it maps the cluster. */
    readonly kubeconfig: pulumi.Output<string>;
    readonly provider: k8s.Provider;
    /** The security group of every node; the database admits only this group. */
    readonly nodeSecurityGroupId: pulumi.Output<string>;
    readonly oidcProviderArn: pulumi.Output<string>;
    /** kube-prometheus-stack: PrometheusRules need its CRDs and its Prometheus to be evaluated. */
    readonly monitoringStack: k8s.helm.v3.Release;
    /**
     * What application resources must wait for: nodes, add-ons and every platform chart. The load
     * balancer controller's webhooks reject Services and Ingresses until its pods are Ready.
     */
    readonly workloadDependencies: pulumi.Resource[];

    private readonly tags: Tags;
    private readonly baseName: string;

    constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:aws:EksCluster", name, {}, opts);
        this.tags = args.tags;
        this.baseName = eksClusterName(args.environment);
        const retentionInDays = args.environment === "prod" ? 365 : 90;

        const cluster = this.controlPlane(name, args, retentionInDays);
        const oidc = this.oidcProvider(name, cluster);
        const nodeSecurityGroup = this.nodeSecurityGroup(name, args.vpcId);
        const nodeGroup = this.nodeGroup(name, args, cluster, nodeSecurityGroup);
        const addons = this.coreAddons(name, cluster, nodeGroup);

        this.clusterName = cluster.name;
        this.kubeconfig = pulumi.secret(kubeconfigFor(cluster, requireRegion()));
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this });
        this.nodeSecurityGroupId = nodeSecurityGroup.id;
        this.oidcProviderArn = oidc.arn;

        const ready = [nodeGroup, ...addons];
        const lbController = this.loadBalancerController(name, args.vpcId, oidc, ready);
        // Every other chart creates Services, which the controller's webhook admits only once it runs.
        const platformReady = [...ready, lbController];
        const metricsServer = this.metricsServer(name, platformReady);
        const autoscaler = this.clusterAutoscaler(name, args.cluster.kubernetesVersion, oidc, platformReady);
        this.monitoringStack = this.monitoring(name, platformReady);
        this.workloadDependencies = [...platformReady, metricsServer, autoscaler, this.monitoringStack];
        this.adminAccess(name, cluster, args.cluster.adminRoleArns);

        this.registerOutputs({
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            nodeSecurityGroupId: this.nodeSecurityGroupId,
            oidcProviderArn: this.oidcProviderArn,
        });
    }

    private named(suffix: string): Tags {
        return withName(this.tags, `${this.baseName}-${suffix}`);
    }

    private serviceRole(name: string, service: string, policyArns: string[]): { role: aws.iam.Role; attachments: aws.iam.RolePolicyAttachment[] } {
        const role = new aws.iam.Role(
            name,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
                }),
                tags: this.named(name),
            },
            { parent: this },
        );
        const attachments = policyArns.map(
            (policyArn) => new aws.iam.RolePolicyAttachment(`${name}-${policyArn.split("/").pop()}`, { role: role.name, policyArn }, { parent: this }),
        );
        return { role, attachments };
    }

    private controlPlane(name: string, args: EksClusterArgs, retentionInDays: number): aws.eks.Cluster {
        const { role, attachments } = this.serviceRole(`${name}-control-plane`, "eks.amazonaws.com", [
            "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        ]);
        const secretsKey = new aws.kms.Key(
            `${name}-secrets`,
            { description: `${this.baseName} Kubernetes secrets encryption`, enableKeyRotation: true, deletionWindowInDays: 30, tags: this.named("secrets") },
            { parent: this },
        );
        const keyAccess = new aws.iam.RolePolicy(
            `${name}-control-plane-kms`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], Resource: secretsKey.arn }],
                }),
            },
            { parent: this },
        );
        // EKS would create this group itself, without retention; owning it keeps logs bounded.
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-control-plane`,
            { name: `/aws/eks/${this.baseName}/cluster`, retentionInDays, tags: this.named("control-plane-logs") },
            { parent: this },
        );
        return new aws.eks.Cluster(
            `${name}-eks`,
            {
                name: this.baseName,
                version: args.cluster.kubernetesVersion,
                roleArn: role.arn,
                enabledClusterLogTypes: CLUSTER_LOG_TYPES,
                encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
                vpcConfig: {
                    subnetIds: pulumi.all([args.privateSubnetIds, args.publicSubnetIds]).apply(([priv, pub]) => [...priv, ...pub]),
                    endpointPrivateAccess: true,
                    endpointPublicAccess: true,
                    publicAccessCidrs: args.cluster.publicAccessCidrs,
                },
                // API access entries grant cluster-admin to config `cluster.adminRoleArns` (see adminAccess).
                accessConfig: { authenticationMode: "API_AND_CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: true },
                tags: this.named("eks"),
            },
            { parent: this, dependsOn: [...attachments, keyAccess, logGroup] },
        );
    }

    private oidcProvider(name: string, cluster: aws.eks.Cluster): aws.iam.OpenIdConnectProvider {
        return new aws.iam.OpenIdConnectProvider(
            `${name}-oidc`,
            { url: oidcIssuer(cluster), clientIdLists: ["sts.amazonaws.com"], tags: this.named("oidc") },
            { parent: this },
        );
    }

    private nodeSecurityGroup(name: string, vpcId: pulumi.Input<string>): aws.ec2.SecurityGroup {
        const group = new aws.ec2.SecurityGroup(
            `${name}-nodes`,
            { vpcId, description: `${this.baseName} worker nodes`, tags: this.named("nodes") },
            { parent: this },
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-nodes-from-nodes`,
            { securityGroupId: group.id, referencedSecurityGroupId: group.id, ipProtocol: "-1", description: "node to node", tags: this.named("nodes-from-nodes") },
            { parent: this },
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-nodes-egress`,
            { securityGroupId: group.id, cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "nodes reach AWS APIs, registries and the database", tags: this.named("nodes-egress") },
            { parent: this },
        );
        return group;
    }

    private nodeGroup(name: string, args: EksClusterArgs, cluster: aws.eks.Cluster, securityGroup: aws.ec2.SecurityGroup): aws.eks.NodeGroup {
        const { role, attachments } = this.serviceRole(`${name}-nodes`, "ec2.amazonaws.com", NODE_POLICIES);
        const launchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-nodes`,
            {
                // A custom launch template replaces the security groups EKS would attach, so the
                // cluster security group (control plane ↔ nodes) must be listed next to ours.
                vpcSecurityGroupIds: [securityGroup.id, cluster.vpcConfig.clusterSecurityGroupId],
                blockDeviceMappings: [
                    { deviceName: "/dev/xvda", ebs: { volumeSize: args.cluster.nodeDiskSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
                ],
                metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2, httpEndpoint: "enabled" },
                tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags: this.named("node") })),
                tags: this.named("nodes"),
            },
            { parent: this },
        );
        return new aws.eks.NodeGroup(
            `${name}-nodes`,
            {
                clusterName: cluster.name,
                nodeRoleArn: role.arn,
                subnetIds: args.privateSubnetIds,
                instanceTypes: args.cluster.nodeInstanceTypes,
                amiType: "AL2023_x86_64_STANDARD",
                capacityType: "ON_DEMAND",
                launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply((v) => String(v)) },
                scalingConfig: {
                    minSize: args.cluster.nodeMinSize,
                    desiredSize: args.cluster.nodeDesiredSize,
                    maxSize: args.cluster.nodeMaxSize,
                },
                updateConfig: { maxUnavailable: 1 },
                // EKS tags the node group's Auto Scaling group with k8s.io/cluster-autoscaler/enabled
                // and k8s.io/cluster-autoscaler/<cluster> itself; that is what autodiscovery reads.
                tags: this.named("nodes"),
            },
            // The cluster autoscaler owns the desired size between min and max; without this every
            // `pulumi up` would reset it to the configured value and evict pods it had scheduled.
            { parent: this, dependsOn: attachments, ignoreChanges: ["scalingConfig.desiredSize"] },
        );
    }

    /**
     * Without `addonVersion` an add-on gets EKS's default version for the cluster version when it is
     * created and then stays there: upgrading the cluster does not upgrade add-ons. After a
     * control-plane upgrade, set `addonVersion` explicitly (`aws eks describe-addon-versions
     * --kubernetes-version <v> --addon-name <name>`); `resolveConflictsOnUpdate: OVERWRITE` lets the
     * new version replace fields changed by hand.
     */
    private coreAddons(name: string, cluster: aws.eks.Cluster, nodeGroup: aws.eks.NodeGroup): aws.eks.Addon[] {
        return CORE_ADDONS.map(
            (addonName) =>
                new aws.eks.Addon(
                    `${name}-${addonName}`,
                    {
                        clusterName: cluster.name,
                        addonName,
                        resolveConflictsOnCreate: "OVERWRITE",
                        resolveConflictsOnUpdate: "OVERWRITE",
                        ...(addonName === "vpc-cni" ? { configurationValues: VPC_CNI_CONFIGURATION } : {}),
                        tags: this.named(addonName),
                    },
                    // CoreDNS stays degraded (and the create times out) until there are nodes to run it.
                    { parent: this, dependsOn: addonName === "coredns" ? [nodeGroup] : [] },
                ),
        );
    }

    /** A pinned chart, installed once `dependsOn` is ready; Helm waits until its workloads are Ready. */
    private helmRelease(
        resourceName: string,
        spec: ChartSpec,
        values: pulumi.Inputs,
        dependsOn: pulumi.Resource[],
        extra: Partial<k8s.helm.v3.ReleaseArgs> = {},
    ): k8s.helm.v3.Release {
        return new k8s.helm.v3.Release(
            resourceName,
            { name: spec.chart, chart: spec.chart, version: spec.version, repositoryOpts: { repo: spec.repo }, namespace: spec.namespace, values, ...extra },
            { parent: this, provider: this.provider, dependsOn },
        );
    }

    /** A role that exactly one service account assumes through IRSA, with its own managed policy. */
    private irsaRole(
        name: string,
        suffix: string,
        oidc: aws.iam.OpenIdConnectProvider,
        serviceAccount: { namespace: string; name: string },
        description: string,
        policy: object,
    ): { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } {
        const resourceName = `${name}-${suffix}`;
        const role = new aws.iam.Role(
            resourceName,
            { assumeRolePolicy: irsaTrustPolicy(oidc, serviceAccount.namespace, serviceAccount.name), tags: this.named(suffix) },
            { parent: this },
        );
        const managedPolicy = new aws.iam.Policy(resourceName, { description, policy: JSON.stringify(policy), tags: this.named(suffix) }, { parent: this });
        const attachment = new aws.iam.RolePolicyAttachment(resourceName, { role: role.name, policyArn: managedPolicy.arn }, { parent: this });
        return { role, attachment };
    }

    private metricsServer(name: string, ready: pulumi.Resource[]): k8s.helm.v3.Release {
        return this.helmRelease(`${name}-metrics-server`, CHARTS.metricsServer, { replicas: 2 }, ready);
    }

    private loadBalancerController(
        name: string,
        vpcId: pulumi.Input<string>,
        oidc: aws.iam.OpenIdConnectProvider,
        ready: pulumi.Resource[],
    ): k8s.helm.v3.Release {
        const { role, attachment } = this.irsaRole(
            name,
            "lb-controller",
            oidc,
            { namespace: CHARTS.loadBalancerController.namespace, name: LB_CONTROLLER_SERVICE_ACCOUNT },
            "AWS Load Balancer Controller",
            loadBalancerControllerPolicy(),
        );
        const values = {
            clusterName: this.clusterName,
            region: requireRegion(),
            vpcId,
            replicaCount: 2,
            serviceAccount: { create: true, name: LB_CONTROLLER_SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
        };
        return this.helmRelease(`${name}-lb-controller`, CHARTS.loadBalancerController, values, [...ready, attachment]);
    }

    /** Adds nodes when pods can't be scheduled (HPA up to 50 pods per service) and removes idle ones. */
    private clusterAutoscaler(name: string, kubernetesVersion: string, oidc: aws.iam.OpenIdConnectProvider, ready: pulumi.Resource[]): k8s.helm.v3.Release {
        const { role, attachment } = this.irsaRole(
            name,
            "cluster-autoscaler",
            oidc,
            { namespace: CHARTS.clusterAutoscaler.namespace, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT },
            "Kubernetes cluster-autoscaler",
            clusterAutoscalerPolicy(this.baseName),
        );
        const values = {
            cloudProvider: "aws",
            awsRegion: requireRegion(),
            autoDiscovery: { clusterName: this.baseName },
            // The autoscaler's minor version must match the cluster's (upstream compatibility rule).
            image: { tag: `v${kubernetesVersion}.0` },
            rbac: {
                serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
            },
            // The services and migrations mount emptyDir volumes (read-only root filesystem); by
            // default the autoscaler never removes a node running such pods.
            extraArgs: { "skip-nodes-with-local-storage": false },
        };
        return this.helmRelease(`${name}-cluster-autoscaler`, CHARTS.clusterAutoscaler, values, [...ready, attachment]);
    }

    /** Prometheus evaluates PrometheusRules from every namespace, not only the release's own. */
    private monitoring(name: string, ready: pulumi.Resource[]): k8s.helm.v3.Release {
        // The chart's default Grafana password is public ("prom-operator").
        const grafanaPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
        const values = {
            prometheus: {
                prometheusSpec: {
                    ruleSelectorNilUsesHelmValues: false,
                    ruleSelector: {},
                    ruleNamespaceSelector: {},
                },
            },
            alertmanager: { enabled: true },
            grafana: { enabled: true, adminPassword: pulumi.secret(grafanaPassword.result) },
        };
        return this.helmRelease(`${name}-monitoring`, CHARTS.monitoring, values, ready, { createNamespace: true, timeout: 900 });
    }

    /** Cluster-admin for the configured roles through EKS access entries, next to the creator's. */
    private adminAccess(name: string, cluster: aws.eks.Cluster, roleArns: string[]): void {
        for (const principalArn of roleArns) {
            const roleName = principalArn.split("/").pop()!;
            const entry = new aws.eks.AccessEntry(
                `${name}-admin-${roleName}`,
                { clusterName: cluster.name, principalArn, type: "STANDARD", tags: this.named(`admin-${roleName}`) },
                { parent: this },
            );
            new aws.eks.AccessPolicyAssociation(
                `${name}-admin-${roleName}`,
                { clusterName: cluster.name, principalArn: entry.principalArn, policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } },
                { parent: this },
            );
        }
    }
}

function requireRegion(): string {
    const region = aws.config.region;
    if (!region) throw new Error("aws:region is not set in the stack config");
    return region;
}

function oidcIssuer(cluster: aws.eks.Cluster): pulumi.Output<string> {
    return cluster.identities.apply((ids) => {
        const issuer = ids?.[0]?.oidcs?.[0]?.issuer;
        if (!issuer) throw new Error("the EKS cluster reports no OIDC issuer");
        return issuer;
    });
}

/** Trust policy that lets exactly one Kubernetes service account assume a role through IRSA. */
export function irsaTrustPolicy(oidc: aws.iam.OpenIdConnectProvider, namespace: string, serviceAccount: string): pulumi.Output<string> {
    const issuerHostPath = oidc.url.apply((url) => url.replace(/^https:\/\//, ""));
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: oidc.arn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: issuerHostPath.apply((host) => ({
                        [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                        [`${host}:aud`]: "sts.amazonaws.com",
                    })),
                },
            },
        ],
    });
}

/** A kubeconfig that authenticates through `aws eks get-token`, so it holds no long-lived credentials. */
function kubeconfigFor(cluster: aws.eks.Cluster, region: string): pulumi.Output<string> {
    return pulumi.all([cluster.name, cluster.endpoint, cluster.certificateAuthority]).apply(([clusterName, server, ca]) =>
        JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: clusterName, cluster: { server, "certificate-authority-data": ca.data } }],
            contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
            "current-context": clusterName,
            users: [
                {
                    name: clusterName,
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: "aws",
                            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
                        },
                    },
                },
            ],
        }),
    );
}

const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
const requestTagged = { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "false" } };
const resourceTagged = { Null: { [`aws:ResourceTag/${CLUSTER_TAG}`]: "false" } };
const onlyResourceTagged = { Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "true", [`aws:ResourceTag/${CLUSTER_TAG}`]: "false" } };
const ELB_TAGGABLE = [
    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
    "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
];

/** The controller's IAM policy (upstream iam_policy.json of v2.11): it may only change what it tagged. */
export function loadBalancerControllerPolicy(): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: "iam:CreateServiceLinkedRole",
                Resource: "*",
                Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
            },
            {
                Effect: "Allow",
                Action: [
                    "ec2:DescribeAccountAttributes",
                    "ec2:DescribeAddresses",
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInternetGateways",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeTags",
                    "ec2:DescribeRouteTables",
                    "ec2:GetCoipPoolUsage",
                    "ec2:DescribeCoipPools",
                    "ec2:GetSecurityGroupsForVpc",
                    "ec2:DescribeIpamPools",
                    "elasticloadbalancing:Describe*",
                ],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: [
                    "cognito-idp:DescribeUserPoolClient",
                    "acm:ListCertificates",
                    "acm:DescribeCertificate",
                    "iam:ListServerCertificates",
                    "iam:GetServerCertificate",
                    "waf-regional:GetWebACL",
                    "waf-regional:GetWebACLForResource",
                    "waf-regional:AssociateWebACL",
                    "waf-regional:DisassociateWebACL",
                    "wafv2:GetWebACL",
                    "wafv2:GetWebACLForResource",
                    "wafv2:AssociateWebACL",
                    "wafv2:DisassociateWebACL",
                    "shield:GetSubscriptionState",
                    "shield:DescribeProtection",
                    "shield:CreateProtection",
                    "shield:DeleteProtection",
                ],
                Resource: "*",
            },
            { Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:CreateSecurityGroup"], Resource: "*" },
            {
                Effect: "Allow",
                Action: "ec2:CreateTags",
                Resource: "arn:aws:ec2:*:*:security-group/*",
                Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" }, ...requestTagged },
            },
            { Effect: "Allow", Action: ["ec2:CreateTags", "ec2:DeleteTags"], Resource: "arn:aws:ec2:*:*:security-group/*", Condition: onlyResourceTagged },
            {
                Effect: "Allow",
                Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
                Resource: "*",
                Condition: resourceTagged,
            },
            {
                Effect: "Allow",
                Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
                Resource: "*",
                Condition: requestTagged,
            },
            {
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteRule",
                ],
                Resource: "*",
            },
            { Effect: "Allow", Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], Resource: ELB_TAGGABLE, Condition: onlyResourceTagged },
            {
                Effect: "Allow",
                Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
                Resource: [
                    "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
                    "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
                    "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
                    "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
                ],
            },
            {
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:ModifyCapacityReservation",
                    "elasticloadbalancing:ModifyIpPools",
                ],
                Resource: "*",
                Condition: resourceTagged,
            },
            {
                Effect: "Allow",
                Action: "elasticloadbalancing:AddTags",
                Resource: ELB_TAGGABLE,
                Condition: { StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] }, ...requestTagged },
            },
            {
                Effect: "Allow",
                Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
            },
            {
                Effect: "Allow",
                Action: [
                    "elasticloadbalancing:SetWebAcl",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:SetRulePriorities",
                ],
                Resource: "*",
            },
        ],
    };
}

/**
 * The cluster-autoscaler's IAM policy (upstream least privilege for autodiscovery): it reads every
 * group but resizes and terminates only in Auto Scaling groups tagged as owned by this cluster.
 */
export function clusterAutoscalerPolicy(clusterName: string): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: "*",
                Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
            },
        ],
    };
}
