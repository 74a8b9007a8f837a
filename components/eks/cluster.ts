// The EKS cluster: control plane (encrypted secrets, control-plane logs), OIDC provider for IRSA,
// managed nodes with their security group, the core add-ons, admin access entries, the platform
// charts (./charts.ts) and the Kubernetes provider every Kubernetes resource in the program uses.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { ClusterConfig, Environment } from "../../config";
import { LOG_RETENTION_DAYS } from "../../thresholds";
import { eksClusterName, Tags, withName } from "../tags";
import { installPlatformCharts } from "./charts";
import { serviceRole } from "./serviceRole";

export interface EksClusterArgs {
    /** `staging` or `prod`: names the cluster (`release-platform-<environment>`) and sets log retention (prod 365 days, else 90). */
    environment: Environment;
    /** Kubernetes version, node sizes and counts, API access CIDRs and admin roles, from stack config. */
    cluster: ClusterConfig;
    /** The AWS region (config `aws:region`): the kubeconfig's `aws eks get-token` and the charts need it. */
    region: string;
    /** The VPC the cluster, its nodes and its load balancers live in. */
    vpcId: pulumi.Input<string>;
    /** Subnets for internet-facing load balancers; the control plane also gets interfaces here. */
    publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Nodes run here, across every zone. */
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Tags of every AWS resource the component creates (a `Name` is added per resource). */
    tags: Tags;
}

export const CLUSTER_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
export const CORE_ADDONS = ["vpc-cni", "coredns", "kube-proxy"] as const;
/** The VPC CNI enforces NetworkPolicies only with its network policy agent turned on. */
export const VPC_CNI_CONFIGURATION = JSON.stringify({ enableNetworkPolicy: "true" });
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
        const retentionInDays = LOG_RETENTION_DAYS[args.environment];

        const cluster = this.controlPlane(name, args, retentionInDays);
        const oidc = this.oidcProvider(name, cluster);
        const nodeSecurityGroup = this.nodeSecurityGroup(name, args.vpcId);
        const nodeGroup = this.nodeGroup(name, args, cluster, nodeSecurityGroup);
        const addons = this.coreAddons(name, cluster, nodeGroup);

        this.clusterName = cluster.name;
        this.kubeconfig = pulumi.secret(kubeconfigFor(cluster, args.region));
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, { parent: this });
        this.nodeSecurityGroupId = nodeSecurityGroup.id;
        this.oidcProviderArn = oidc.arn;

        const charts = installPlatformCharts(
            name,
            {
                clusterName: this.clusterName,
                knownClusterName: this.baseName,
                kubernetesVersion: args.cluster.kubernetesVersion,
                region: args.region,
                vpcId: args.vpcId,
                oidc,
                ready: [nodeGroup, ...addons],
                provider: this.provider,
                tags: (suffix) => this.named(suffix),
            },
            this,
        );
        this.monitoringStack = charts.monitoringStack;
        this.workloadDependencies = charts.workloadDependencies;
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

    private controlPlane(name: string, args: EksClusterArgs, retentionInDays: number): aws.eks.Cluster {
        const { role, attachments } = serviceRole(
            `${name}-control-plane`,
            "eks.amazonaws.com",
            ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
            this.named(`${name}-control-plane`),
            {
                parent: this,
            },
        );
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
            {
                securityGroupId: group.id,
                referencedSecurityGroupId: group.id,
                ipProtocol: "-1",
                description: "node to node",
                tags: this.named("nodes-from-nodes"),
            },
            { parent: this },
        );
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-nodes-egress`,
            {
                securityGroupId: group.id,
                cidrIpv4: "0.0.0.0/0",
                ipProtocol: "-1",
                description: "nodes reach AWS APIs, registries and the database",
                tags: this.named("nodes-egress"),
            },
            { parent: this },
        );
        return group;
    }

    private nodeGroup(name: string, args: EksClusterArgs, cluster: aws.eks.Cluster, securityGroup: aws.ec2.SecurityGroup): aws.eks.NodeGroup {
        const { role, attachments } = serviceRole(`${name}-nodes`, "ec2.amazonaws.com", NODE_POLICIES, this.named(`${name}-nodes`), { parent: this });
        const launchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-nodes`,
            {
                // A custom launch template replaces the security groups EKS would attach, so the
                // cluster security group (control plane ↔ nodes) must be listed next to ours.
                vpcSecurityGroupIds: [securityGroup.id, cluster.vpcConfig.clusterSecurityGroupId],
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: { volumeSize: args.cluster.nodeDiskSize, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
                    },
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

function oidcIssuer(cluster: aws.eks.Cluster): pulumi.Output<string> {
    return cluster.identities.apply((ids) => {
        const issuer = ids?.[0]?.oidcs?.[0]?.issuer;
        if (!issuer) throw new Error("the EKS cluster reports no OIDC issuer");
        return issuer;
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
