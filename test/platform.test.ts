// The AWS platform (network, EKS, RDS) and the app namespace and migrations on top of it,
// checked on the resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import {
    byName,
    byType,
    byUrn,
    configValue,
    dependsOn,
    isSecretValue,
    plain,
    providerUrn,
    readStackConfig,
    RecordedResource,
    ROOT,
    ProgramRun,
    runProgram,
    UNKNOWN,
} from "./harness";
import { computedOutputs, fakePassword } from "./fakeOutputs";
import { cidrSubnet, planSubnets } from "../components/network";
import { Database } from "../components/database";
import { MIGRATION_DEADLINE_SECONDS, MigrationJob } from "../components/migrationJob";
import { parseStackConfig, PROJECT } from "../config";
import { ANNOTATIONS, ROLES, ROLE_LABEL } from "../conventions";

const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    nat: "aws:ec2/natGateway:NatGateway",
    routeTable: "aws:ec2/routeTable:RouteTable",
    flowLog: "aws:ec2/flowLog:FlowLog",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    kmsKey: "aws:kms/key:Key",
    eks: "aws:eks/cluster:Cluster",
    nodeGroup: "aws:eks/nodeGroup:NodeGroup",
    addon: "aws:eks/addon:Addon",
    oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    role: "aws:iam/role:Role",
    iamPolicy: "aws:iam/policy:Policy",
    accessEntry: "aws:eks/accessEntry:AccessEntry",
    accessPolicy: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    rds: "aws:rds/instance:Instance",
    parameterGroup: "aws:rds/parameterGroup:ParameterGroup",
    snapshot: "aws:rds/snapshot:Snapshot",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
    k8sProvider: "pulumi:providers:kubernetes",
    helm: "kubernetes:helm.sh/v3:Release",
    namespace: "kubernetes:core/v1:Namespace",
    k8sSecret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
};

const ZONES = { staging: 2, prod: 3 };
const STANDARD_TAG_KEYS = ["project", "environment", "owner", "managed-by"];

interface Stack {
    name: "staging" | "prod";
    run: ProgramRun;
}

let stacks: Stack[];
let staging: ProgramRun;
let prod: ProgramRun;
/** prod as `pulumi up` would run it: provider outputs are known, so secrecy and values can be read. */
let prodLive: ProgramRun;
/** prod rolling back: restoring the pre-migration snapshot, with a Redis URL configured. */
let restoring: ProgramRun;

const RESTORE_FROM = "prod-db-snapshot-1-2-3";
const REDIS_URL = "rediss://default:redis-pass-123@cache.example.com:6379";

before(async () => {
    staging = await runProgram({ stack: "staging" });
    prod = await runProgram({ stack: "prod" });
    prodLive = await runProgram({ stack: "prod", preview: false });
    const prodDatabase = configValue(readStackConfig("prod"), "database");
    restoring = await runProgram({
        stack: "prod",
        preview: false,
        overrides: { database: { ...prodDatabase, restoreFromSnapshot: RESTORE_FROM }, migrations: [] },
        secrets: { redisUrl: REDIS_URL },
    });
    stacks = [
        { name: "staging", run: staging },
        { name: "prod", run: prod },
    ];
});

// ---- helpers -------------------------------------------------------------------------------------

function only(run: ProgramRun, type: string): RecordedResource {
    const found = byType(run, type);
    assert.equal(found.length, 1, `expected exactly one ${type}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

function inputs(r: RecordedResource): any {
    return plain(r.inputs);
}

/** The Helm release of a chart. */
function chartRelease(run: ProgramRun, chart: string): RecordedResource {
    const found = byType(run, T.helm).filter((r) => inputs(r).chart === chart);
    assert.equal(found.length, 1, `expected one ${chart} release`);
    return found[0];
}

/** Asserts that exactly one service account may assume `role`, through the cluster's OIDC provider. */
function assertIrsaTrust(run: ProgramRun, role: RecordedResource, serviceAccount: string): void {
    const oidc = only(run, T.oidc);
    const [statement, ...others] = JSON.parse(inputs(role).assumeRolePolicy).Statement;
    assert.equal(others.length, 0);
    assert.equal(statement.Action, "sts:AssumeRoleWithWebIdentity");
    assert.equal(statement.Principal.Federated, computedOutputs(T.oidc, oidc.name, {}).arn);
    const issuer = inputs(oidc).url.replace("https://", "");
    assert.deepEqual(statement.Condition.StringEquals, {
        [`${issuer}:sub`]: `system:serviceaccount:${serviceAccount}`,
        [`${issuer}:aud`]: "sts.amazonaws.com",
    });
}

interface Registration {
    type: string;
    name: string;
    customTimeouts: { create: string; update: string; delete: string } | undefined;
}

/**
 * Builds components directly under mocks, as `pulumi up` would (provider outputs known), for
 * members and resource options the program's recorded run doesn't show. Returns what was built and
 * what it registered.
 */
async function construct<T>(build: () => T): Promise<{ built: T; registered: Registration[] }> {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs) } }),
            call: (args) => {
                throw new Error(`offline: no answer for ${args.token}`);
            },
        },
        PROJECT,
        "unit",
        false,
    );
    const monitor: any = (pulumi.runtime as any).getMonitor();
    const registered: Registration[] = [];
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
        const timeouts = req.getCustomtimeouts();
        registered.push({
            type: req.getType(),
            name: req.getName(),
            customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : undefined,
        });
        registerResource(req, callback);
    };
    const built = build();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return { built, registered };
}

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Resources a property of `r` was computed from. */
function sources(run: ProgramRun, r: RecordedResource, property: string): RecordedResource[] {
    return (r.propertyDependencies[property] ?? []).map((urn) => byUrn(run, urn));
}

/** Migration Jobs only: other components run Jobs too (smoke tests). */
function migrationJobs(run: ProgramRun): RecordedResource[] {
    return byType(run, T.job).filter((j) => inputs(j).metadata?.labels?.[ROLE_LABEL] === ROLES.migration);
}

function migrationJob(run: ProgramRun): RecordedResource {
    const jobs = migrationJobs(run);
    assert.equal(jobs.length, 1, `expected one migration Job, got ${jobs.map((j) => j.name).join(", ")}`);
    return jobs[0];
}

function primaryOf(run: ProgramRun): RecordedResource {
    return byName(run, T.rds, "database-primary");
}

function replicasOf(run: ProgramRun): RecordedResource[] {
    return byType(run, T.rds).filter((r) => inputs(r).replicateSourceDb !== undefined);
}

/** Whether the value at `keys` is a secret, or sits inside one. */
function isSecretAt(value: unknown, keys: string[]): boolean {
    if (isSecretValue(value)) return true;
    if (keys.length === 0 || !value || typeof value !== "object") return false;
    return isSecretAt((value as Record<string, unknown>)[keys[0]], keys.slice(1));
}

/** The recorded values with every secret replaced, i.e. what anyone without the key can read. */
function redacted(value: unknown): unknown {
    if (isSecretValue(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(redacted);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redacted(v)]));
    return value;
}

function visibleText(run: ProgramRun): string {
    return JSON.stringify(redacted({ inputs: run.resources.map((r) => r.inputs), outputs: run.outputs }));
}

const argsAcceptTags = new Map<string, boolean>();

/** Whether the SDK typings (the ground truth) give the resource a `tags` input. */
function acceptsTags(type: string): boolean {
    const known = argsAcceptTags.get(type);
    if (known !== undefined) return known;
    const [, module, className] = type.split(":");
    const typings = path.join(ROOT, "node_modules/@pulumi/aws", `${module}.d.ts`);
    const text = fs.readFileSync(typings, "utf8");
    const start = text.indexOf(`export interface ${className}Args {`);
    assert.ok(start >= 0, `no ${className}Args in ${typings}`);
    const body = text.slice(start, text.indexOf("\n}", start));
    const accepts = /^\s{4}tags\?:/m.test(body);
    argsAcceptTags.set(type, accepts);
    return accepts;
}

// ---- network --------------------------------------------------------------------------------------

describe("platform: network", () => {
    it("carves disjoint subnets deterministically from the VPC CIDR", () => {
        assert.equal(cidrSubnet("10.20.0.0/16", 3, 1), "10.20.32.0/19");
        assert.equal(cidrSubnet("10.20.0.0/16", 6, 57), "10.20.228.0/22");
        const plan = planSubnets("10.10.0.0/20", ["a", "b", "c", "d", "e", "f"]);
        const all = plan.flatMap((p) => [p.publicCidr, p.privateCidr]);
        assert.equal(new Set(all).size, 12);
        assert.deepEqual(plan[5], { zone: "f", privateCidr: "10.10.10.0/23", publicCidr: "10.10.15.64/26" });
    });

    for (const name of ["staging", "prod"] as const) {
        it(`${name}: a public and a private subnet in each of ${ZONES[name]} zones, tagged for EKS load balancers`, () => {
            const run = name === "staging" ? staging : prod;
            const subnets = byType(run, T.subnet).map(inputs);
            const publicSubnets = subnets.filter((s) => s.tags["kubernetes.io/role/elb"] === "1");
            const privateSubnets = subnets.filter((s) => s.tags["kubernetes.io/role/internal-elb"] === "1");
            const zones: string[] = configValue(run.source, "availabilityZones");
            assert.equal(zones.length, ZONES[name]);
            assert.equal(subnets.length, 2 * ZONES[name]);
            assert.deepEqual(publicSubnets.map((s) => s.availabilityZone).sort(), zones);
            assert.deepEqual(privateSubnets.map((s) => s.availabilityZone).sort(), zones);
            for (const s of subnets) assert.equal(s.tags[`kubernetes.io/cluster/release-platform-${name}`], "shared");
            assert.equal(new Set(subnets.map((s) => s.cidrBlock)).size, subnets.length);
        });
    }

    it("runs one NAT gateway per zone in prod and one shared in staging, and every private subnet routes through one", () => {
        assert.equal(byType(staging, T.nat).length, 1);
        assert.equal(byType(prod, T.nat).length, 3);
        for (const { run } of stacks) {
            const privateTables = byType(run, T.routeTable).filter((t) => t.name.includes("-private-"));
            assert.equal(privateTables.length, configValue<string[]>(run.source, "availabilityZones").length);
            for (const table of privateTables) {
                assert.ok(sources(run, table, "routes").some((r) => r.type === T.nat), `${table.name} has no route to a NAT gateway`);
            }
        }
        const prodNats = byType(prod, T.routeTable)
            .filter((t) => t.name.includes("-private-"))
            .map((t) => sources(prod, t, "routes").find((r) => r.type === T.nat)!.urn);
        assert.equal(new Set(prodNats).size, 3, "each prod zone routes through its own NAT gateway");
    });

    it("sends VPC flow logs of all traffic to CloudWatch through an IAM role", () => {
        for (const { run } of stacks) {
            const flowLog = only(run, T.flowLog);
            assert.equal(inputs(flowLog).trafficType, "ALL");
            assert.equal(inputs(flowLog).logDestinationType, "cloud-watch-logs");
            assert.deepEqual(sources(run, flowLog, "vpcId").map((r) => r.type), [T.vpc]);
            assert.deepEqual(sources(run, flowLog, "iamRoleArn").map((r) => r.type), [T.role]);
        }
    });
});

// ---- EKS -----------------------------------------------------------------------------------------

describe("platform: EKS cluster", () => {
    it("pins the version, logs every control-plane log type and encrypts secrets with a rotating key", () => {
        for (const { run } of stacks) {
            const cluster = only(run, T.eks);
            const c = inputs(cluster);
            assert.equal(c.version, configValue(run.source, "cluster").kubernetesVersion);
            assert.deepEqual([...c.enabledClusterLogTypes].sort(), ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
            assert.deepEqual(c.encryptionConfig.resources, ["secrets"]);
            const keys = sources(run, cluster, "encryptionConfig");
            assert.deepEqual(keys.map((k) => k.type), [T.kmsKey]);
            assert.equal(inputs(keys[0]).enableKeyRotation, true);
        }
    });

    it("opens the public endpoint only to the configured CIDRs, never 0.0.0.0/0", () => {
        for (const { run } of stacks) {
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
            const run = name === "staging" ? staging : prod;
            const nodeGroup = only(run, T.nodeGroup);
            const subnets = sources(run, nodeGroup, "subnetIds").map(inputs);
            const zones: string[] = configValue(run.source, "availabilityZones");
            assert.deepEqual(subnets.map((s) => s.availabilityZone).sort(), zones);
            assert.ok(subnets.every((s) => s.tags["kubernetes.io/role/internal-elb"] === "1"), "nodes run in private subnets only");
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
        for (const { run } of stacks) {
            const nodeGroup = only(run, T.nodeGroup);
            const [template] = sources(run, nodeGroup, "launchTemplate");
            assert.equal(template.type, T.launchTemplate);
            const groups = sources(run, template, "vpcSecurityGroupIds");
            assert.ok(groups.some((g) => g.name === "cluster-nodes" && g.type === T.securityGroup));
            assert.ok(groups.some((g) => g.type === T.eks), "the cluster security group stays on the nodes");
        }
    });

    it("gives the node role the worker, CNI and ECR policies", () => {
        for (const { run } of stacks) {
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
        for (const { run } of stacks) {
            assert.deepEqual(byType(run, T.addon).map((a) => inputs(a).addonName).sort(), ["coredns", "kube-proxy", "vpc-cni"]);
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
        for (const { run } of stacks) {
            const controller = chartRelease(run, "aws-load-balancer-controller");
            for (const release of byType(run, T.helm).filter((r) => r !== controller)) {
                assert.ok(dependsOn(run, release, controller), release.name);
            }
        }
    });

    it("turns on NetworkPolicy enforcement in the VPC CNI", () => {
        for (const { run } of stacks) {
            const cni = byType(run, T.addon).find((a) => inputs(a).addonName === "vpc-cni")!;
            assert.deepEqual(JSON.parse(inputs(cni).configurationValues), { enableNetworkPolicy: "true" });
        }
    });

    it("lets only the controller's service account assume its role through the cluster's OIDC provider", () => {
        const oidc = only(prodLive, T.oidc);
        assert.match(inputs(oidc).url, /^https:\/\/oidc\.eks\./);
        assert.deepEqual(inputs(oidc).clientIdLists, ["sts.amazonaws.com"]);
        const role = byName(prodLive, T.role, "cluster-lb-controller");
        assertIrsaTrust(prodLive, role, "kube-system:aws-load-balancer-controller");
        const release = chartRelease(prodLive, "aws-load-balancer-controller");
        assert.equal(inputs(release).values.serviceAccount.name, "aws-load-balancer-controller");
        assert.ok(dependsOn(prodLive, release, role));
    });

    it("installs kube-prometheus-stack so Prometheus evaluates PrometheusRules from every namespace", () => {
        for (const { run } of [...stacks, { run: prodLive }]) {
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
        const grafana = inputs(chartRelease(prodLive, "kube-prometheus-stack")).values.grafana;
        assert.equal(grafana.adminPassword, fakePassword("cluster-grafana-admin", 32), "not the chart's public default");
        assert.ok(!visibleText(prodLive).includes(grafana.adminPassword), "the Grafana password leaks in plaintext");
    });

    it("runs the cluster autoscaler with its own IRSA role, and leaves the node group's desired size to it", () => {
        for (const { name, run } of stacks) {
            const cluster = configValue(run.source, "cluster");
            const values = inputs(chartRelease(run, "cluster-autoscaler")).values;
            assert.equal(inputs(chartRelease(run, "cluster-autoscaler")).repositoryOpts.repo, "https://kubernetes.github.io/autoscaler");
            assert.equal(values.autoDiscovery.clusterName, `release-platform-${name}`);
            assert.equal(values.awsRegion, configValue(run.source, "aws:region"));
            assert.equal(values.image.tag, `v${cluster.kubernetesVersion}.0`, "the autoscaler's minor version matches the cluster's");
            assert.equal(values.rbac.serviceAccount.name, "cluster-autoscaler");
            assert.equal(values.extraArgs["skip-nodes-with-local-storage"], false, "pods with emptyDir volumes don't pin nodes");
            assert.deepEqual(only(run, T.nodeGroup).ignoreChanges, ["scalingConfig.desiredSize"]);
        }
        const release = chartRelease(prodLive, "cluster-autoscaler");
        const role = byName(prodLive, T.role, "cluster-cluster-autoscaler");
        assertIrsaTrust(prodLive, role, "kube-system:cluster-autoscaler");
        assert.equal(inputs(release).values.rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"], computedOutputs(T.role, role.name, {}).arn);
        const policy = byName(prodLive, T.iamPolicy, "cluster-cluster-autoscaler");
        assert.ok(dependsOn(prodLive, release, policy), "the role has its policy before the autoscaler runs");
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
        for (const { run } of [...stacks, { run: prodLive }]) {
            const admins: string[] = configValue(run.source, "cluster").adminRoleArns;
            assert.ok(admins.length > 0, "the shipped stacks name an admin role");
            const eks = only(run, T.eks);
            assert.ok(["API", "API_AND_CONFIG_MAP"].includes(inputs(eks).accessConfig.authenticationMode));
            const entries = byType(run, T.accessEntry);
            assert.deepEqual(entries.map((e) => inputs(e).principalArn).sort(), [...admins].sort());
            const associations = byType(run, T.accessPolicy);
            assert.equal(associations.length, admins.length);
            for (const entry of entries) {
                assert.deepEqual(sources(run, entry, "clusterName").map((r) => r.urn), [eks.urn]);
                const association = associations.find((a) => dependsOn(run, a, entry));
                assert.ok(association, `no policy association for ${entry.name}`);
                assert.equal(inputs(association).policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
                assert.deepEqual(inputs(association).accessScope, { type: "cluster" });
            }
        }
        const association = byType(prodLive, T.accessPolicy)[0];
        assert.equal(inputs(association).principalArn, "arn:aws:iam::123456789012:role/platform-admin");
    });

    it("sends every Kubernetes resource through the cluster's provider", () => {
        for (const { run } of [...stacks, { run: restoring }]) {
            const provider = only(run, T.k8sProvider);
            const kubernetesResources = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
            assert.ok(kubernetesResources.length >= 5);
            for (const r of kubernetesResources) assert.equal(providerUrn(r.provider), provider.urn, `${r.type} ${r.name}`);
            assert.ok(sources(run, provider, "kubeconfig").some((r) => r.type === T.eks), "the kubeconfig comes from the cluster");
        }
    });
});

// ---- database --------------------------------------------------------------------------------------

describe("platform: database", () => {
    it("runs an encrypted, protected, private primary with backups and a final snapshot", () => {
        for (const { name, run } of stacks) {
            const primary = primaryOf(run);
            const db = inputs(primary);
            const config = configValue(run.source, "database");
            assert.equal(db.identifier, config.identifier);
            assert.equal(db.engine, "postgres");
            assert.equal(db.storageEncrypted, true);
            assert.equal(inputs(sources(run, primary, "kmsKeyId")[0]).enableKeyRotation, true);
            assert.equal(db.publiclyAccessible, false);
            assert.equal(db.deletionProtection, true);
            assert.equal(db.skipFinalSnapshot, false);
            assert.equal(db.finalSnapshotIdentifier, `${config.identifier}-final`);
            assert.equal(db.backupRetentionPeriod, config.backupRetentionDays);
            if (name === "prod") assert.ok(db.backupRetentionPeriod >= 7);
            assert.equal(db.multiAz, name === "prod");
            assert.equal(db.performanceInsightsEnabled, true);
            assert.equal(db.copyTagsToSnapshot, true);
            assert.equal(db.autoMinorVersionUpgrade, true);
            assert.equal(primary.protect, true);
            assert.ok(sources(run, primary, "dbSubnetGroupName").length === 1);
        }
    });

    it("forces SSL through a parameter group of the engine's major version", () => {
        for (const { run } of stacks) {
            const group = inputs(only(run, T.parameterGroup));
            assert.equal(group.family, "postgres16");
            assert.ok(group.parameters.some((p: any) => p.name === "rds.force_ssl" && p.value === "1"));
        }
    });

    it("has read replicas only in prod, protected, replicating the primary", () => {
        assert.equal(replicasOf(staging).length, 0);
        assert.equal(byType(staging, T.rds).length, 1);
        const replicas = replicasOf(prodLive);
        assert.equal(replicas.length, 2);
        const config = configValue(prodLive.source, "database");
        for (const replica of replicas) {
            assert.equal(inputs(replica).replicateSourceDb, "prod-db");
            assert.equal(inputs(replica).maxAllocatedStorage, config.maxAllocatedStorage, "a replica that fills up stops replicating");
            // Same-region replicas use the source's key (AWS asks for no KmsKeyId); storageEncrypted
            // stays set because the provider would otherwise plan `true -> null` and replace them.
            assert.equal(inputs(replica).kmsKeyId, undefined);
            assert.equal(inputs(replica).storageEncrypted, true);
            assert.equal(replica.protect, true);
            assert.equal(inputs(replica).deletionProtection, true);
            assert.equal(inputs(replica).publiclyAccessible, false);
        }
    });

    it("admits only the node security group on 5432, with no CIDR rule", () => {
        for (const { run } of [...stacks, { run: prodLive }]) {
            const group = byName(run, T.securityGroup, "database-sg");
            assert.equal(inputs(group).ingress, undefined, "no inline ingress");
            const rules = byType(run, T.ingressRule).filter((r) => sources(run, r, "securityGroupId").some((g) => g.urn === group.urn));
            assert.equal(rules.length, 1);
            const rule = inputs(rules[0]);
            assert.equal(rule.cidrIpv4, undefined);
            assert.equal(rule.cidrIpv6, undefined);
            assert.equal(rule.prefixListId, undefined);
            assert.deepEqual([rule.ipProtocol, rule.fromPort, rule.toPort], ["tcp", 5432, 5432]);
            assert.deepEqual(sources(run, rules[0], "referencedSecurityGroupId").map((g) => g.name), ["cluster-nodes"]);
            assert.equal(byType(run, T.legacyRule).length, 0);
        }
        const nodeSgOnNodes = inputs(only(prodLive, T.launchTemplate)).vpcSecurityGroupIds[0];
        const dbRule = byType(prodLive, T.ingressRule).find((r) => r.name.startsWith("database-"))!;
        assert.notEqual(nodeSgOnNodes, UNKNOWN);
        assert.equal(inputs(dbRule).referencedSecurityGroupId, nodeSgOnNodes);
    });

    it("encrypts with KMS keys that all rotate", () => {
        for (const { run } of stacks) {
            const keys = byType(run, T.kmsKey);
            assert.ok(keys.length >= 2);
            for (const key of keys) assert.equal(inputs(key).enableKeyRotation, true, key.name);
            assert.equal(byName(run, T.kmsKey, "database-storage").protect, true, "the database's key is protected");
        }
    });

    it("snapshots the primary before each release's migration and keeps the snapshot when the release leaves the config", () => {
        for (const { name, run } of [...stacks, { name: "prod", run: prodLive }]) {
            const snapshot = only(run, T.snapshot);
            assert.equal(inputs(snapshot).dbSnapshotIdentifier, `${name}-db-snapshot-1-2-3`);
            assert.equal(snapshot.retainOnDelete, true);
            assert.deepEqual(sources(run, snapshot, "dbInstanceIdentifier").map((r) => r.urn), [primaryOf(run).urn]);
        }
        assert.equal(inputs(only(prodLive, T.snapshot)).dbInstanceIdentifier, "prod-db");
        assert.deepEqual(plain(prodLive.outputs.preMigrationSnapshotIds), { "1.2.3": "prod-db-snapshot-1-2-3" });
    });

    it("alarms on CPU, free storage and each replica's lag", () => {
        const alarms = (run: ProgramRun) => byType(run, T.alarm).map(inputs);
        for (const { run } of stacks) {
            const cpu = alarms(run).find((a) => a.metricName === "CPUUtilization")!;
            assert.deepEqual([cpu.comparisonOperator, cpu.threshold], ["GreaterThanThreshold", 80]);
            const storage = alarms(run).find((a) => a.metricName === "FreeStorageSpace")!;
            const allocatedBytes = configValue(run.source, "database").allocatedStorage * 1024 ** 3;
            assert.deepEqual([storage.comparisonOperator, storage.threshold], ["LessThanThreshold", allocatedBytes / 10]);
        }
        assert.equal(alarms(staging).filter((a) => a.metricName === "ReplicaLag").length, 0);
        const lag = alarms(prodLive).filter((a) => a.metricName === "ReplicaLag");
        assert.deepEqual(lag.map((a) => a.dimensions.DBInstanceIdentifier).sort(), ["prod-db-replica-1", "prod-db-replica-2"]);
        assert.ok(lag.every((a) => a.threshold === 30));
        const topicArn = plain(prodLive.outputs.databaseAlarmTopicArn);
        assert.match(topicArn, /^arn:aws:/);
        for (const alarm of alarms(prodLive)) {
            assert.deepEqual(alarm.alarmActions, [topicArn], `${alarm.metricName} notifies the alarm topic`);
            assert.deepEqual(alarm.okActions, [topicArn]);
        }
    });

    it("restores the configured snapshot into a new protected instance, keeps the original, and points the services at the copy", () => {
        const restored = byName(restoring, T.rds, "database-restore");
        const db = inputs(restored);
        assert.equal(db.identifier, "prod-db-restore");
        assert.equal(db.snapshotIdentifier, RESTORE_FROM);
        assert.equal(restored.protect, true);
        assert.equal(db.deletionProtection, true);
        assert.equal(db.storageEncrypted, true);
        assert.equal(db.skipFinalSnapshot, false);
        // Engine version and storage come from the snapshot: a follow-up modify to a bare major
        // version or to less storage than autoscaling reached would fail the restore.
        assert.equal(db.engineVersion, undefined);
        assert.equal(db.allocatedStorage, undefined);
        assert.equal(db.maxAllocatedStorage, configValue(restoring.source, "database").maxAllocatedStorage);
        assert.equal(inputs(only(restoring, T.parameterGroup)).family, "postgres16");
        assert.equal(inputs(primaryOf(restoring)).engineVersion, "16");
        assert.equal(inputs(primaryOf(restoring)).identifier, "prod-db");
        assert.equal(primaryOf(restoring).protect, true);
        assert.equal(byType(restoring, T.snapshot).length, 0);
        assert.equal(migrationJobs(restoring).length, 0);

        const appSecret = inputs(only(restoring, T.k8sSecret));
        assert.match(appSecret.stringData.DATABASE_URL, /@prod-db-restore\.[a-z0-9.-]+:5432\/api_platform\?sslmode=require$/);
        assert.match(plain(restoring.outputs.databaseEndpoint), /^prod-db-restore\./);
        assert.doesNotMatch(inputs(only(prodLive, T.k8sSecret)).stringData.DATABASE_URL, /prod-db-restore/);
    });

    it("gives the restored instance read replicas of its own and keeps the original's", () => {
        const sourceOf = (run: ProgramRun) =>
            byType(run, T.rds)
                .map(inputs)
                .filter((db) => db.replicateSourceDb)
                .map((db) => `${db.identifier} <- ${db.replicateSourceDb}`)
                .sort();
        const replicas = configValue(restoring.source, "database").readReplicas;
        const expected = (source: string) => Array.from({ length: replicas }, (_, i) => `${source}-replica-${i + 1} <- ${source}`);
        assert.deepEqual(sourceOf(restoring), [...expected("prod-db"), ...expected("prod-db-restore")].sort());
        for (const r of byType(restoring, T.rds).filter((x) => inputs(x).replicateSourceDb)) assert.equal(r.protect, true, r.name);
        const endpoints = plain<string[]>(restoring.outputs.databaseReplicaEndpoints);
        assert.equal(endpoints.length, replicas);
        for (const endpoint of endpoints) assert.match(endpoint, /^prod-db-restore-replica-\d\./);
        const lagAlarms = byType(restoring, T.alarm).map(inputs).filter((a) => a.metricName === "ReplicaLag");
        assert.deepEqual(lagAlarms.map((a) => a.dimensions.DBInstanceIdentifier).sort(), expected("prod-db-restore").map((s) => s.split(" ")[0]));
    });
});

// ---- app namespace and migrations ------------------------------------------------------------------

describe("platform: database members", () => {
    function databaseFor(name: string, restoreFromSnapshot?: string): Database {
        const source = readStackConfig("prod");
        const database = { ...configValue(source, "database"), ...(restoreFromSnapshot ? { restoreFromSnapshot } : {}) };
        const raw = { ...source.config, [`${PROJECT}:database`]: JSON.stringify(database), [`${PROJECT}:migrations`]: "[]" };
        const config = parseStackConfig(raw, "prod");
        return new Database(name, {
            environment: config.environment,
            database: config.database,
            vpcId: "vpc-1",
            privateSubnetIds: ["subnet-a", "subnet-b"],
            allowedSecurityGroupIds: ["sg-nodes"],
            snapshotReleases: [],
            tags: {},
        });
    }

    it("names the instance the services use as activeIdentifier: the restored one while restoring", async () => {
        const { built: live } = await construct(() => databaseFor("live"));
        assert.equal(await resolved(live.activeIdentifier), "prod-db");
        const { built: restoring } = await construct(() => databaseFor("restoring", RESTORE_FROM));
        assert.equal(await resolved(restoring.activeIdentifier), "prod-db-restore");
        assert.equal(await resolved(restoring.identifier), "prod-db", "snapshots are still taken of the primary");
    });
});

describe("platform: app namespace and migrations", () => {
    it("enforces the restricted pod security standard on the app namespace", () => {
        for (const { run } of stacks) {
            const ns = inputs(only(run, T.namespace));
            assert.equal(ns.metadata.name, configValue(run.source, "namespace"));
            assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        }
    });

    it("creates the namespace, and so everything in it, only after the nodes, add-ons and platform charts", () => {
        for (const { run } of [...stacks, { run: prodLive }]) {
            const ns = only(run, T.namespace);
            const controller = chartRelease(run, "aws-load-balancer-controller");
            assert.ok(dependsOn(run, ns, controller), "the controller's webhooks admit Services and Ingresses");
            assert.ok(dependsOn(run, ns, only(run, T.nodeGroup)));
            for (const r of [...byType(run, T.addon), ...byType(run, T.helm)]) assert.ok(dependsOn(run, ns, r), r.name);
        }
        const namespace = configValue(prodLive.source, "namespace");
        const controller = chartRelease(prodLive, "aws-load-balancer-controller");
        const inNamespace = prodLive.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && inputs(r).metadata?.namespace === namespace);
        assert.ok(inNamespace.length >= 10, `only ${inNamespace.length} resources in the namespace`);
        for (const r of inNamespace) assert.ok(dependsOn(prodLive, r, controller), `${r.type} ${r.name}`);
    });

    it("awaits a migration Job as long as its deadline allows, not the provider's default 10 minutes", async () => {
        const source = readStackConfig("prod");
        const [migration] = parseStackConfig(source.config, "prod").migrations;
        const { registered } = await construct(() => {
            const snapshot = new aws.rds.Snapshot("snap", { dbInstanceIdentifier: "prod-db", dbSnapshotIdentifier: "prod-db-snapshot-1-2-3" });
            const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
            return new MigrationJob("migrate", { migration, databaseIdentifier: "prod-db", snapshot, namespace: "ns", secretName: "app-secrets", provider });
        });
        const job = registered.find((r) => r.type === T.job)!;
        const minutes = (value: string) => Number(/^(\d+)m$/.exec(value)?.[1] ?? NaN);
        assert.ok(minutes(job.customTimeouts!.create) * 60 > MIGRATION_DEADLINE_SECONDS, `create timeout ${job.customTimeouts!.create}`);
        assert.ok(minutes(job.customTimeouts!.update) * 60 > MIGRATION_DEADLINE_SECONDS, `update timeout ${job.customTimeouts!.update}`);
        assert.deepEqual([job.customTimeouts!.create, job.customTimeouts!.update], ["35m", "35m"]);
    });

    it("writes REDIS_URL to app-secrets only when a Redis URL is configured", () => {
        const withRedis = only(restoring, T.k8sSecret);
        assert.equal(inputs(withRedis).stringData.REDIS_URL, REDIS_URL);
        assert.ok(isSecretAt(withRedis.inputs, ["stringData", "REDIS_URL"]));
        assert.deepEqual(Object.keys(inputs(only(prodLive, T.k8sSecret)).stringData).sort(), ["DATABASE_URL", "JWT_SECRET"]);
    });

    it("runs each release's migration as a restricted, one-shot Job after its snapshot", () => {
        for (const { run } of [...stacks, { run: prodLive }]) {
            const job = migrationJob(run);
            const spec = inputs(job);
            assert.equal(spec.metadata.name, "migrate-1-2-3");
            assert.equal(spec.metadata.namespace, configValue(run.source, "namespace"));
            assert.equal(spec.metadata.labels[ROLE_LABEL], ROLES.migration);
            assert.ok(dependsOn(run, job, only(run, T.snapshot)), "the Job waits for the snapshot");
            assert.equal(spec.spec.backoffLimit, 0);
            assert.ok(spec.spec.activeDeadlineSeconds > 0);
            // No TTL: a collected Job would vanish from the state on refresh and run again on the next up.
            assert.equal(spec.spec.ttlSecondsAfterFinished, undefined);
            assert.deepEqual(job.ignoreChanges, ["spec"], "editing the release's image or command does not re-run it");
            assert.ok(!job.replaceOnChanges?.length && !job.deleteBeforeReplace, "nothing forces a replacement");
            const pod = spec.spec.template.spec;
            assert.equal(pod.restartPolicy, "Never");
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
            const [container] = pod.containers;
            assert.equal(container.image, configValue(run.source, "migrations")[0].image);
            assert.deepEqual(container.command, ["npm", "run", "migrate:up"]);
            assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
            assert.equal(container.securityContext.allowPrivilegeEscalation, false);
            assert.equal(container.securityContext.readOnlyRootFilesystem, true);
            assert.deepEqual(container.resources, { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1Gi" } });
            const databaseUrl = container.env.find((e: any) => e.name === "DATABASE_URL");
            assert.equal(databaseUrl.value, undefined);
            assert.equal(databaseUrl.valueFrom.secretKeyRef.key, "DATABASE_URL");
        }
        const live = inputs(migrationJob(prodLive));
        assert.equal(live.metadata.annotations[ANNOTATIONS.database], "prod-db");
        assert.equal(live.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name, "app-secrets");
    });
});

// ---- secrets and tags ------------------------------------------------------------------------------

describe("platform: secrets", () => {
    const password = () => fakePassword("database-master-password", 32);
    const jwt = () => fakePassword("app-jwt-secret", 64);

    it("passes the master password, connection URL, JWT secret and kubeconfig only as Pulumi secrets", () => {
        for (const run of [prodLive, restoring]) {
            for (const instance of byType(run, T.rds).filter((r) => r.inputs.password !== undefined)) {
                assert.ok(isSecretValue(instance.inputs.password), instance.name);
                assert.equal(plain(instance.inputs.password), password());
            }
            assert.ok(isSecretValue(only(run, T.secretVersion).inputs.secretString));
            const appSecret = only(run, T.k8sSecret);
            assert.ok(plain(appSecret.inputs).stringData.DATABASE_URL.includes(`:${password()}@`));
            assert.ok(isSecretAt(appSecret.inputs, ["stringData", "DATABASE_URL"]));
            assert.ok(isSecretAt(appSecret.inputs, ["stringData", "JWT_SECRET"]));
            assert.equal(plain(appSecret.inputs).stringData.JWT_SECRET, jwt());
            assert.ok(isSecretValue(run.outputs.kubeconfig));
            assert.ok(isSecretValue(only(run, T.k8sProvider).inputs.kubeconfig));
        }
    });

    it("never shows the password or the JWT secret in plaintext in any input or output", () => {
        for (const run of [prodLive, restoring]) {
            const everything = JSON.stringify({ inputs: run.resources.map((r) => r.inputs), outputs: run.outputs });
            assert.ok(everything.includes(password()), "the search must be able to find the password");
            const visible = visibleText(run);
            assert.ok(!visible.includes(password()), "the master password leaks in plaintext");
            assert.ok(!visible.includes(jwt()), "the JWT secret leaks in plaintext");
            assert.ok(!visible.includes("redis-pass-123"), "the Redis password leaks in plaintext");
        }
    });
});

describe("platform: tags", () => {
    it("knows from the SDK typings which resources take tags", () => {
        assert.equal(acceptsTags(T.vpc), true);
        assert.equal(acceptsTags(T.rds), true);
        assert.equal(acceptsTags(T.snapshot), true);
        assert.equal(acceptsTags("aws:ec2/routeTableAssociation:RouteTableAssociation"), false);
        assert.equal(acceptsTags(T.secretVersion), false);
    });

    it("tags every taggable AWS resource with the standard tags and a Name", () => {
        for (const { name, run } of stacks) {
            const taggable = run.resources.filter((r) => r.custom && r.type.startsWith("aws:") && acceptsTags(r.type));
            assert.ok(taggable.length >= 40, `only ${taggable.length} taggable resources`);
            for (const r of taggable) {
                const tags = inputs(r).tags ?? {};
                const missing = STANDARD_TAG_KEYS.filter((k) => tags[k] === undefined);
                assert.deepEqual(missing, [], `${r.type} ${r.name} lacks ${missing.join(", ")}`);
                assert.equal(tags.environment, name, `${r.type} ${r.name}`);
                assert.equal(tags.project, "release-platform");
                assert.equal(tags.owner, "platform-team");
                assert.equal(tags["managed-by"], "pulumi");
                assert.ok(tags.Name, `${r.type} ${r.name} has no Name`);
            }
        }
    });
});
