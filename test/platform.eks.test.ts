// The EKS cluster, its node groups, add-ons, platform charts and IAM roles,
// checked on the resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import { byName, byType, configValue, dependsOn, inputs, providerUrn } from "./harness";
import { computedOutputs, fakePassword } from "../offline/fakeOutputs";
import { assertIrsaTrust, chartRelease, only, sources, T, visibleText, ZONES, recordedPlatform } from "./support/platform";

const runs = recordedPlatform();

describe("platform: EKS cluster", () => {
    it("pins the version, logs every control-plane log type and encrypts secrets with a rotating key", () => {
        for (const { run } of runs.stacks) {
            const cluster = only(run, T.eks);
            const c = inputs(cluster);
            assert.equal(c.version, configValue(run.source, "cluster").kubernetesVersion);
            assert.deepEqual([...c.enabledClusterLogTypes].sort(), ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
            assert.deepEqual(c.encryptionConfig.resources, ["secrets"]);
            const keys = sources(run, cluster, "encryptionConfig");
            assert.deepEqual(
                keys.map((k) => k.type),
                [T.kmsKey],
            );
            assert.equal(inputs(keys[0]).enableKeyRotation, true);
        }
    });

    it("opens the public endpoint only to the configured CIDRs, never 0.0.0.0/0", () => {
        for (const { run } of runs.stacks) {
            const vpc = inputs(only(run, T.eks)).vpcConfig;
            assert.equal(vpc.endpointPrivateAccess, true);
            assert.equal(vpc.endpointPublicAccess, true);
            assert.deepEqual(vpc.publicAccessCidrs, configValue(run.source, "cluster").publicAccessCidrs);
            assert.ok(vpc.publicAccessCidrs.length > 0);
            assert.ok(!vpc.publicAccessCidrs.includes("0.0.0.0/0"));
        }
    });

    for (const name of ["staging", "prod"] as const) {
        it(`${name}: the managed node group spans the private subnets of all ${ZONES[name]} zones and scales from config`, () => {
            const run = name === "staging" ? runs.staging : runs.prod;
            const nodeGroup = only(run, T.nodeGroup);
            const subnets = sources(run, nodeGroup, "subnetIds").map(inputs);
            const zones: string[] = configValue(run.source, "availabilityZones");
            assert.deepEqual(subnets.map((s) => s.availabilityZone).sort(), zones);
            assert.ok(
                subnets.every((s) => s.tags["kubernetes.io/role/internal-elb"] === "1"),
                "nodes run in private subnets only",
            );
            const cluster = configValue(run.source, "cluster");
            assert.deepEqual(inputs(nodeGroup).scalingConfig, {
                minSize: cluster.nodeMinSize,
                desiredSize: cluster.nodeDesiredSize,
                maxSize: cluster.nodeMaxSize,
            });
            assert.deepEqual(inputs(nodeGroup).instanceTypes, cluster.nodeInstanceTypes);
        });
    }

    it("attaches the node security group to the nodes through the launch template", () => {
        for (const { run } of runs.stacks) {
            const nodeGroup = only(run, T.nodeGroup);
            const [template] = sources(run, nodeGroup, "launchTemplate");
            assert.equal(template.type, T.launchTemplate);
            const groups = sources(run, template, "vpcSecurityGroupIds");
            assert.ok(groups.some((g) => g.name === "cluster-nodes" && g.type === T.securityGroup));
            assert.ok(
                groups.some((g) => g.type === T.eks),
                "the cluster security group stays on the nodes",
            );
        }
    });

    it("gives the node role the worker, CNI and ECR policies", () => {
        for (const { run } of runs.stacks) {
            const attached = byType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                .filter((a) => a.name.startsWith("cluster-nodes-"))
                .map((a) => inputs(a).policyArn)
                .sort();
            assert.deepEqual(attached, [
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
            ]);
        }
    });

    it("installs the core add-ons and the pinned platform charts after the nodes", () => {
        for (const { run } of runs.stacks) {
            assert.deepEqual(
                byType(run, T.addon)
                    .map((a) => inputs(a).addonName)
                    .sort(),
                ["coredns", "kube-proxy", "vpc-cni"],
            );
            const charts = Object.fromEntries(byType(run, T.helm).map((r) => [inputs(r).chart, inputs(r).version]));
            assert.deepEqual(Object.keys(charts).sort(), ["aws-load-balancer-controller", "cluster-autoscaler", "kube-prometheus-stack", "metrics-server"]);
            for (const version of Object.values(charts)) assert.match(String(version), /^\d+\.\d+\.\d+$/);
            for (const release of byType(run, T.helm)) {
                assert.equal(inputs(release).name, inputs(release).chart);
                assert.ok(dependsOn(run, release, only(run, T.nodeGroup)), `${release.name} waits for the nodes`);
            }
        }
    });

    it("installs every other chart after the load balancer controller, whose Service webhook admits them", () => {
        for (const { run } of runs.stacks) {
            const controller = chartRelease(run, "aws-load-balancer-controller");
            for (const release of byType(run, T.helm).filter((r) => r !== controller)) {
                assert.ok(dependsOn(run, release, controller), release.name);
            }
        }
    });

    it("turns on NetworkPolicy enforcement in the VPC CNI", () => {
        for (const { run } of runs.stacks) {
            const cni = byType(run, T.addon).find((a) => inputs(a).addonName === "vpc-cni")!;
            assert.deepEqual(JSON.parse(inputs(cni).configurationValues), { enableNetworkPolicy: "true" });
        }
    });

    it("lets only the controller's service account assume its role through the cluster's OIDC provider", () => {
        const oidc = only(runs.prodLive, T.oidc);
        assert.match(inputs(oidc).url, /^https:\/\/oidc\.eks\./);
        assert.deepEqual(inputs(oidc).clientIdLists, ["sts.amazonaws.com"]);
        const role = byName(runs.prodLive, T.role, "cluster-lb-controller");
        assertIrsaTrust(runs.prodLive, role, "kube-system:aws-load-balancer-controller");
        const release = chartRelease(runs.prodLive, "aws-load-balancer-controller");
        assert.equal(inputs(release).values.serviceAccount.name, "aws-load-balancer-controller");
        assert.ok(dependsOn(runs.prodLive, release, role));
    });

    it("installs kube-prometheus-stack so Prometheus evaluates PrometheusRules from every namespace", () => {
        for (const { run } of [...runs.stacks, { run: runs.prodLive }]) {
            const release = chartRelease(run, "kube-prometheus-stack");
            const r = inputs(release);
            assert.equal(r.repositoryOpts.repo, "https://prometheus-community.github.io/helm-charts");
            assert.match(r.version, /^\d+\.\d+\.\d+$/);
            assert.equal(r.namespace, "monitoring");
            assert.equal(r.createNamespace, true);
            assert.deepEqual(r.values.prometheus.prometheusSpec, { ruleSelectorNilUsesHelmValues: false, ruleSelector: {}, ruleNamespaceSelector: {} });
            assert.equal(r.values.grafana.enabled, true);
            assert.equal(r.values.alertmanager.enabled, true);
        }
        const grafana = inputs(chartRelease(runs.prodLive, "kube-prometheus-stack")).values.grafana;
        assert.equal(grafana.adminPassword, fakePassword("cluster-grafana-admin", 32), "not the chart's public default");
        assert.ok(!visibleText(runs.prodLive).includes(grafana.adminPassword), "the Grafana password leaks in plaintext");
    });

    it("runs the cluster autoscaler with its own IRSA role, and leaves the node group's desired size to it", () => {
        for (const { name, run } of runs.stacks) {
            const cluster = configValue(run.source, "cluster");
            const values = inputs(chartRelease(run, "cluster-autoscaler")).values;
            assert.equal(inputs(chartRelease(run, "cluster-autoscaler")).repositoryOpts.repo, "https://kubernetes.github.io/autoscaler");
            assert.equal(values.autoDiscovery.clusterName, `release-platform-${name}`);
            assert.equal(values.awsRegion, configValue(run.source, "aws:region"));
            assert.match(
                values.image.tag,
                new RegExp(`^v${cluster.kubernetesVersion.replace(".", "\\.")}\\.\\d+$`),
                "the autoscaler's minor version matches the cluster's",
            );
            assert.equal(values.rbac.serviceAccount.name, "cluster-autoscaler");
            assert.equal(values.extraArgs["skip-nodes-with-local-storage"], false, "pods with emptyDir volumes don't pin nodes");
            assert.deepEqual(only(run, T.nodeGroup).ignoreChanges, ["scalingConfig.desiredSize"]);
        }
        const release = chartRelease(runs.prodLive, "cluster-autoscaler");
        const role = byName(runs.prodLive, T.role, "cluster-cluster-autoscaler");
        assertIrsaTrust(runs.prodLive, role, "kube-system:cluster-autoscaler");
        assert.equal(inputs(release).values.rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"], computedOutputs(T.role, role.name, {}).arn);
        const policy = byName(runs.prodLive, T.iamPolicy, "cluster-cluster-autoscaler");
        assert.ok(dependsOn(runs.prodLive, release, policy), "the role has its policy before the autoscaler runs");
        const statements: any[] = JSON.parse(inputs(policy).policy).Statement;
        const actions = statements.flatMap((st) => [st.Action].flat());
        for (const action of ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeLaunchTemplateVersions", "eks:DescribeNodegroup"]) {
            assert.ok(actions.includes(action), action);
        }
        assert.ok(!actions.some((a) => a === "*" || a.endsWith(":*")), "no wildcard actions");
        const mutating = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"];
        for (const st of statements.filter((x) => [x.Action].flat().some((a: string) => mutating.includes(a)))) {
            assert.deepEqual(st.Condition, { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/release-platform-prod": "owned" } });
        }
        assert.ok(actions.includes("autoscaling:SetDesiredCapacity"));
    });

    it("grants cluster-admin to the configured roles through EKS access entries", () => {
        for (const { run } of [...runs.stacks, { run: runs.prodLive }]) {
            const admins: string[] = configValue(run.source, "cluster").adminRoleArns;
            assert.ok(admins.length > 0, "the shipped runs.stacks name an admin role");
            const eks = only(run, T.eks);
            assert.ok(["API", "API_AND_CONFIG_MAP"].includes(inputs(eks).accessConfig.authenticationMode));
            const entries = byType(run, T.accessEntry);
            assert.deepEqual(entries.map((e) => inputs(e).principalArn).sort(), [...admins].sort());
            const associations = byType(run, T.accessPolicy);
            assert.equal(associations.length, admins.length);
            for (const entry of entries) {
                assert.deepEqual(
                    sources(run, entry, "clusterName").map((r) => r.urn),
                    [eks.urn],
                );
                const association = associations.find((a) => dependsOn(run, a, entry));
                assert.ok(association, `no policy association for ${entry.name}`);
                assert.equal(inputs(association).policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
                assert.deepEqual(inputs(association).accessScope, { type: "cluster" });
            }
        }
        const association = byType(runs.prodLive, T.accessPolicy)[0];
        assert.equal(inputs(association).principalArn, "arn:aws:iam::123456789012:role/platform-admin");
    });

    it("sends every Kubernetes resource through the cluster's provider", () => {
        for (const { run } of [...runs.stacks, { run: runs.restoring }]) {
            const provider = only(run, T.k8sProvider);
            const kubernetesResources = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.ok(kubernetesResources.length >= 5);
            for (const r of kubernetesResources) assert.equal(providerUrn(r.provider), provider.urn, `${r.type} ${r.name}`);
            assert.ok(
                sources(run, provider, "kubeconfig").some((r) => r.type === T.eks),
                "the kubeconfig comes from the cluster",
            );
        }
    });
});
