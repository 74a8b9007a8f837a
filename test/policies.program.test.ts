// The pack against the resources the real program registers (recorded by the harness in preview
// mode, so provider outputs are unknown as in `pulumi preview`), with each stack's policy config.
import * as assert from "node:assert/strict";
import { Policies, StackValidationPolicy } from "@pulumi/policy";
import { awsPolicies } from "../policies/aws";
import { POD_SECURITY_CONTROLS } from "../policies/podSecurity";
import { kubernetesPolicies } from "../policies/kubernetes";
import { releasePolicies } from "../policies/release";
import { runProgram } from "./harness";
import { Diagnostic, PolicyConfigFile, TestResource, analyzeProgram, coverage, fromRecorded, messagesOf, readPolicyConfig } from "./policyArgs";
import { ROLES, ROLE_LABEL } from "../conventions";

const ALL: Policies = [...kubernetesPolicies, ...awsPolicies, ...releasePolicies];
type R = TestResource & { urn: string };

function summary(ds: Diagnostic[]): string[] {
    return ds.map((d) => `${d.enforcementLevel} ${d.policyName} ${d.urn?.split("::").pop() ?? "(stack)"}`);
}

function named(graph: R[], type: string, name: string): R {
    const r = graph.find((x) => x.type === type && x.name === name);
    if (!r)
        throw new Error(
            `no ${type} ${name}: have ${graph
                .filter((x) => x.type === type)
                .map((x) => x.name)
                .join(", ")}`,
        );
    return r;
}

function replace(graph: R[], target: R, change: (copy: R) => void): R[] {
    return graph.map((r) => {
        if (r !== target) return r;
        const copy = structuredClone(r);
        change(copy);
        return copy;
    });
}

/** Removes every direct edge (dependency or property dependency) from `from` to `to`. */
function cutEdge(graph: R[], from: R, to: R): R[] {
    return replace(graph, from, (c) => {
        c.dependencies = (c.dependencies ?? []).filter((u) => u !== to.urn);
        for (const k of Object.keys(c.propertyDependencies ?? {})) c.propertyDependencies![k] = c.propertyDependencies![k].filter((u) => u !== to.urn);
    });
}

const K = {
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    job: "kubernetes:batch/v1:Job",
    configMap: "kubernetes:core/v1:ConfigMap",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
};

describe("policy pack on the shipped program", function () {
    this.timeout(120000);
    const graphs: Record<string, R[]> = {};
    const configs: Record<string, PolicyConfigFile> = {};

    // No skip when the program is missing: these tests must fail then, not go pending.
    before(async () => {
        for (const stack of ["prod", "staging"]) {
            graphs[stack] = (await runProgram({ stack })).resources.map(fromRecorded);
            configs[stack] = readPolicyConfig(stack);
        }
    });

    it("prod passes with prod.json: no violation of any level", async () => {
        assert.deepEqual(summary(await analyzeProgram(ALL, graphs.prod, configs.prod)), []);
    });

    it("staging passes with staging.json: no violation of any level", async () => {
        // Staging is single-AZ without read replicas and deploys daily; staging.json
        // keeps those rules advisory with staging's own baseline, so the shipped stack raises no alarm.
        assert.deepEqual(summary(await analyzeProgram(ALL, graphs.staging, configs.staging)), []);
    });

    it("prod would fail staging's thresholds the other way round: prod.json is stricter", async () => {
        const found = summary(await analyzeProgram(ALL, graphs.staging, configs.prod));
        for (const p of [
            "rds-multi-az",
            "rds-read-replicas",
            "release-change-window",
            "k8s-live-min-replicas",
            "eks-node-groups-span-zones",
            "k8s-hpa-bounds",
        ]) {
            assert.ok(
                found.some((f) => f.startsWith(`mandatory ${p} `)),
                `${p} is mandatory for prod: ${found.join("; ")}`,
            );
        }
    });

    it("the pre-migration snapshot is retainOnDelete (recorded by the harness: CrossGuard can't see this option)", () => {
        const snapshots = graphs.prod.filter((r) => r.type === "aws:rds/snapshot:Snapshot");
        assert.ok(snapshots.length > 0);
        // fromRecorded drops it because the analyzer protocol has no such field; read the raw run instead.
        return runProgram({ stack: "prod" }).then((run) => {
            for (const s of run.resources.filter((r) => r.type === "aws:rds/snapshot:Snapshot")) assert.equal(s.retainOnDelete, true, s.name);
        });
    });

    /**
     * Registers a test: `policyName` passes the recorded prod graph (every resource through Analyze,
     * then AnalyzeStack, as `pulumi preview` runs it) and blocks `mutate(graph)` with a mandatory
     * violation matching `pattern` on the resource named `resourceName` (by URN or in the message).
     */
    function programCase(policyName: string, change: string, mutate: (g: R[]) => R[], pattern: RegExp, resourceName?: string) {
        const policy = ALL.find((p) => p.name === policyName);
        // Quiet on the program's resources and firing on the changed ones: a fire-and-quiet case too.
        coverage.fireAndQuiet.add(policyName);
        if (policy && typeof (policy as StackValidationPolicy).validateStack === "function") coverage.mutatedProgramGraph.add(policyName);
        it(`${policyName}: ${change}`, async () => {
            assert.ok(policy, `no policy ${policyName} in the pack`);
            assert.deepEqual(messagesOf(await analyzeProgram([policy], graphs.prod, configs.prod)), [], `${policyName} passes the unchanged graph`);
            const found = (await analyzeProgram([policy], mutate(graphs.prod), configs.prod)).filter(
                (d) => d.enforcementLevel === "mandatory" && pattern.test(messagesOf([d])[0]),
            );
            assert.ok(found.length > 0, `${policyName}: expected a mandatory violation matching ${pattern}`);
            if (resourceName) {
                assert.ok(
                    found.some((d) => d.urn?.endsWith(`::${resourceName}`) || messagesOf([d])[0].includes(resourceName)),
                    `${policyName} names ${resourceName}: ${JSON.stringify(found)}`,
                );
            }
        });
    }

    describe("the restricted Pod Security Standard, control by control, on auth-service-blue", () => {
        /** Every control of the restricted profile (all baseline controls plus the restricted ones), as kubernetes.io lists them. */
        const RESTRICTED_PROFILE = [
            "HostProcess",
            "Host Namespaces",
            "Privileged Containers",
            "Capabilities",
            "HostPath Volumes",
            "Host Ports",
            "AppArmor",
            "SELinux",
            "/proc Mount Type",
            "Seccomp",
            "Sysctls",
            "Volume Types",
            "Privilege Escalation",
            "Running as Non-root",
            "Running as Non-root user",
        ];
        const pod = (c: R) => c.props!.spec.template.spec;
        const app = (c: R) => pod(c).containers[0];
        const breaks: Record<string, ((c: R) => void)[]> = {
            HostProcess: [(c) => (app(c).securityContext.windowsOptions = { hostProcess: true })],
            "Host Namespaces": [(c) => (pod(c).hostNetwork = true), (c) => (pod(c).hostPID = true), (c) => (pod(c).hostIPC = true)],
            "Privileged Containers": [(c) => (app(c).securityContext.privileged = true)],
            Capabilities: [
                (c) => (app(c).securityContext.capabilities = { drop: ["NET_RAW"] }),
                (c) => (app(c).securityContext.capabilities.add = ["SYS_ADMIN"]),
                (c) => (app(c).securityContext.capabilities.add = ["CHOWN"]),
            ],
            "HostPath Volumes": [(c) => pod(c).volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } })],
            "Host Ports": [(c) => (app(c).ports[0].hostPort = 3000)],
            AppArmor: [
                (c) => (app(c).securityContext.appArmorProfile = { type: "Unconfined" }),
                (c) => (c.props!.spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/auth-service"] = "unconfined"),
            ],
            SELinux: [
                (c) => (pod(c).securityContext.seLinuxOptions = { type: "spc_t" }),
                (c) => (app(c).securityContext.seLinuxOptions = { user: "system_u" }),
            ],
            "/proc Mount Type": [(c) => (app(c).securityContext.procMount = "Unmasked")],
            Seccomp: [
                (c) => delete pod(c).securityContext.seccompProfile,
                (c) => (pod(c).securityContext.seccompProfile = { type: "Unconfined" }),
                (c) => (app(c).securityContext.seccompProfile = { type: "Unconfined" }),
            ],
            Sysctls: [(c) => (pod(c).securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }])],
            "Volume Types": [(c) => pod(c).volumes.push({ name: "shared", nfs: { server: "10.0.0.5", path: "/exports" } })],
            "Privilege Escalation": [(c) => delete app(c).securityContext.allowPrivilegeEscalation],
            "Running as Non-root": [
                (c) => {
                    delete pod(c).securityContext.runAsNonRoot;
                    delete app(c).securityContext.runAsNonRoot;
                },
                (c) => (app(c).securityContext.runAsNonRoot = false),
            ],
            "Running as Non-root user": [(c) => (pod(c).securityContext.runAsUser = 0), (c) => (app(c).securityContext.runAsUser = 0)],
        };

        it("the pack checks every control of the profile", () => {
            const checked = POD_SECURITY_CONTROLS.map((c) => c.control);
            for (const control of RESTRICTED_PROFILE) assert.ok(checked.includes(control), `${control} is checked`);
            assert.deepEqual(Object.keys(breaks).sort(), [...RESTRICTED_PROFILE].sort(), "each control has a breaking change below");
        });

        for (const control of RESTRICTED_PROFILE) {
            breaks[control].forEach((change, i) => {
                const escaped = control.replace(/[/]/g, "\\/");
                programCase(
                    "k8s-restricted-pod-security",
                    `[${control}] #${i + 1} blocked`,
                    (g) => replace(g, named(g, K.deployment, "auth-service-blue"), change),
                    new RegExp(`^\\[${escaped}\\] Deployment auth-service-blue: `),
                    "auth-service-blue",
                );
            });
        }
    });

    describe("each rule blocks the prod graph with one edge or property changed", () => {
        const mutatedGraphCase = programCase;

        mutatedGraphCase(
            "release-migration-after-snapshot",
            "the migration Job's dependency on its snapshot removed",
            (g) => {
                const migration = g.find((r) => r.type === K.job && r.props?.metadata?.labels?.[ROLE_LABEL] === ROLES.migration)!;
                const snapshot = g.find((r) => r.type === "aws:rds/snapshot:Snapshot")!;
                return cutEdge(g, migration, snapshot);
            },
            /does not depend on a snapshot of prod-db/,
        );

        mutatedGraphCase(
            "release-live-service-smoke-tested",
            "the live Service's dependency on its smoke test removed",
            (g) => cutEdge(g, named(g, K.service, "auth-service"), named(g, K.job, "auth-service-smoke-blue-1-2-2")),
            /auth-service does not depend on smoke-test Job auth-service-smoke-blue-1-2-2/,
        );

        mutatedGraphCase(
            "release-live-service-routes-to-running-pods",
            "org-service switched to its scaled-down green",
            (g) => replace(g, named(g, K.service, "org-service"), (c) => (c.props!.spec.selector.color = "green")),
            /routes to org-service-green, scaled to 0/,
        );

        mutatedGraphCase(
            "release-live-color-not-scaled-to-zero",
            "the live blue of auth-service scaled to 0",
            (g) => replace(g, named(g, K.deployment, "auth-service-blue"), (c) => (c.props!.spec.replicas = 0)),
            /auth-service's live color blue is scaled to 0/,
        );

        mutatedGraphCase(
            "release-live-service-alerts",
            "a PrometheusRule removed",
            (g) => g.filter((r) => !(r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule" && r.name === "user-service-alerts")),
            /live Service user-service has no alert rules/,
        );

        mutatedGraphCase(
            "release-alerts-reach-a-receiver",
            "the AlertmanagerConfig removed",
            (g) => g.filter((r) => r.type !== "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig"),
            /names AlertmanagerConfig alert-routing as Alertmanager's configuration, but the stack has none/,
        );

        mutatedGraphCase(
            "release-change-window",
            "the release rescheduled to Friday",
            (g) => replace(g, named(g, K.configMap, "release-manifest"), (c) => (c.props!.data.scheduledAt = "2026-11-27T14:30:00-05:00")),
            /is Friday 14:30 in America\/New_York, outside the change window/,
        );

        mutatedGraphCase(
            "k8s-live-min-replicas",
            "a live color below 5 replicas",
            (g) => replace(g, named(g, K.deployment, "user-service-blue"), (c) => (c.props!.spec.replicas = 3)),
            /user-service-blue serves live Service user-service with 3 replicas; set at least 5/,
        );

        mutatedGraphCase(
            "k8s-live-pdb",
            "a live Deployment's PDB removed",
            (g) => g.filter((r) => !(r.type === "kubernetes:policy/v1:PodDisruptionBudget" && r.name === "org-service-blue")),
            /live Deployment org-service-blue has no PodDisruptionBudget/,
        );

        mutatedGraphCase(
            "k8s-namespace-network-policies",
            "the NetworkPolicies removed",
            (g) => g.filter((r) => r.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
            /runs workloads .* without a NetworkPolicy/,
        );

        mutatedGraphCase(
            "vpc-flow-logs",
            "the flow log's edge to its VPC removed",
            (g) =>
                cutEdge(
                    g,
                    g.find((r) => r.type === "aws:ec2/flowLog:FlowLog")!,
                    g.find((r) => r.type === "aws:ec2/vpc:Vpc")!,
                ),
            /VPC network-vpc has no flow log/,
        );

        mutatedGraphCase(
            "eks-node-groups-span-zones",
            "the node group's subnets cut to one zone",
            (g) => {
                const nodeGroup = g.find((r) => r.type === "aws:eks/nodeGroup:NodeGroup")!;
                const subnets = nodeGroup.propertyDependencies!.subnetIds;
                return replace(g, nodeGroup, (c) => (c.propertyDependencies!.subnetIds = subnets.slice(0, 1)));
            },
            /run in 1 zone\(s\)/,
        );

        mutatedGraphCase(
            "rds-read-replicas",
            "one replica removed",
            (g) => g.filter((r) => r.name !== "database-replica-2"),
            /database-primary has 1 read replica\(s\); add 1/,
        );

        const podSpec = (c: R) => c.props!.spec.template.spec;
        const appContainer = (c: R) => podSpec(c).containers[0];
        const onDeployment = (name: string, change: (c: R) => void) => (g: R[]) => replace(g, named(g, K.deployment, name), change);

        mutatedGraphCase(
            "k8s-no-service-account-token-automount",
            "auth-service-blue's pods mount the service-account token",
            onDeployment("auth-service-blue", (c) => delete podSpec(c).automountServiceAccountToken),
            /auth-service-blue mounts its service-account token into every pod; set automountServiceAccountToken: false/,
            "auth-service-blue",
        );

        mutatedGraphCase(
            "k8s-spread-replicas-across-zones",
            "user-service-blue's zone spread removed",
            onDeployment(
                "user-service-blue",
                (c) =>
                    (podSpec(c).topologySpreadConstraints = podSpec(c).topologySpreadConstraints.filter(
                        (t: any) => t.topologyKey !== "topology.kubernetes.io/zone",
                    )),
            ),
            /user-service-blue runs 5 replicas with no spread over topology\.kubernetes\.io\/zone/,
            "user-service-blue",
        );

        mutatedGraphCase(
            "k8s-liveness-differs-from-readiness",
            "org-service-blue's liveness probe made the readiness check",
            onDeployment("org-service-blue", (c) => (appContainer(c).livenessProbe.httpGet = { ...appContainer(c).readinessProbe.httpGet })),
            /the liveness and readiness probes of org-service-blue are the same check/,
            "org-service-blue",
        );

        mutatedGraphCase(
            "k8s-no-secrets-in-configmap",
            "a database password written into the release manifest",
            (g) => replace(g, named(g, K.configMap, "release-manifest"), (c) => (c.props!.data.DATABASE_PASSWORD = "hunter2")),
            /ConfigMap release-manifest holds credentials in "DATABASE_PASSWORD"; move them to a Secret/,
            "release-manifest",
        );

        mutatedGraphCase(
            "k8s-no-secrets-in-configmap",
            "a URL with credentials written into the release manifest",
            (g) => replace(g, named(g, K.configMap, "release-manifest"), (c) => (c.props!.data.cache = "redis://app:s3cret@cache.internal:6379")),
            /ConfigMap release-manifest holds credentials in "cache"/,
            "release-manifest",
        );

        mutatedGraphCase(
            "k8s-services-only-through-ingress",
            "the live auth-service turned into a LoadBalancer",
            (g) => replace(g, named(g, K.service, "auth-service"), (c) => (c.props!.spec.type = "LoadBalancer")),
            /Service auth-service is of type LoadBalancer/,
            "auth-service",
        );

        mutatedGraphCase(
            "k8s-services-only-through-ingress",
            "the preview Service made a NodePort no Ingress routes to",
            (g) => replace(g, named(g, K.service, "user-service-preview"), (c) => (c.props!.spec.type = "NodePort")),
            /Service user-service-preview opens a NodePort on every node but no Ingress routes to it/,
            "user-service-preview",
        );

        mutatedGraphCase(
            "k8s-network-policy-no-allow-all",
            "auth-service's ingress policy admits every pod from everywhere",
            (g) => replace(g, named(g, K.networkPolicy, "auth-service-allow-ingress"), (c) => delete c.props!.spec.ingress[0].from),
            /NetworkPolicy auth-service-allow-ingress: ingress rule 1 has no peers, so it admits every source/,
            "auth-service-allow-ingress",
        );

        mutatedGraphCase(
            "k8s-network-policy-no-allow-all",
            "auth-service's ingress policy admits every namespace",
            (g) => replace(g, named(g, K.networkPolicy, "auth-service-allow-ingress"), (c) => (c.props!.spec.ingress[0].from = [{ namespaceSelector: {} }])),
            /ingress rule 1 selects every pod of every namespace/,
            "auth-service-allow-ingress",
        );

        mutatedGraphCase(
            "k8s-namespace-default-deny",
            "the namespace's default-deny policy removed",
            (g) => g.filter((r) => !(r.type === K.networkPolicy && r.name === "default-deny")),
            /namespace api-platform-prod .* has no default-deny NetworkPolicy/,
        );

        mutatedGraphCase(
            "k8s-namespace-default-deny",
            "the default-deny policy no longer denies egress",
            (g) => replace(g, named(g, K.networkPolicy, "default-deny"), (c) => (c.props!.spec.policyTypes = ["Ingress"])),
            /has no default-deny NetworkPolicy; add one with podSelector: \{\}, policyTypes "Ingress", "Egress"/,
        );

        mutatedGraphCase(
            "k8s-live-hpa",
            "the live color's HPA removed",
            (g) => g.filter((r) => !(r.type === K.hpa && r.name === "user-service-blue")),
            /live Deployment user-service-blue \(behind Service user-service\) has no HorizontalPodAutoscaler/,
            "user-service-blue",
        );

        mutatedGraphCase(
            "release-pods-after-migration",
            "auth-service-green (release 1.2.3) no longer waits for the 1.2.3 migration",
            (g) => cutEdge(g, named(g, K.deployment, "auth-service-green"), named(g, K.job, "migrate-1.2.3-job")),
            /Deployment auth-service-green runs release 1\.2\.3 but does not wait for its migration Job migrate-1-2-3/,
            "auth-service-green",
        );

        mutatedGraphCase(
            "release-smoke-test-targets-its-color",
            "the green smoke test pointed at the live Service",
            (g) =>
                replace(
                    g,
                    named(g, K.job, "auth-service-smoke-green-1-2-3"),
                    (c) => (c.props!.metadata.annotations["release-platform/target-service"] = "auth-service"),
                ),
            /smoke-test Job auth-service-smoke-green-1-2-3 gates auth-service\/green but tests Service auth-service, which reaches auth-service-blue/,
            "auth-service-smoke-green-1-2-3",
        );

        mutatedGraphCase(
            "release-smoke-test-matches-color-version",
            "a smoke test left over from version 1.2.1",
            (g) => replace(g, named(g, K.job, "user-service-smoke-green-1-2-3"), (c) => (c.props!.metadata.labels["app.kubernetes.io/version"] = "1.2.1")),
            /smoke-test Job user-service-smoke-green-1-2-3 is for version 1\.2\.1 but user-service-green runs 1\.2\.3/,
            "user-service-smoke-green-1-2-3",
        );

        const alertRules = (c: R) => c.props!.spec.groups[0].rules as { alert: string; expr: string; for: string }[];
        const onAlert = (name: string, change: (rule: { alert: string; expr: string; for: string }) => void) => (g: R[]) =>
            replace(g, named(g, K.prometheusRule, "org-service-alerts"), (c) => change(alertRules(c).find((r) => r.alert === name)!));

        mutatedGraphCase(
            "release-alert-thresholds-within-runbook",
            "the 5% error-rate alert loosened to 50%",
            onAlert("OrgServiceErrorRateAboveFivePercent", (r) => (r.expr = r.expr.replace(/> 0\.05$/, "> 0.5"))),
            /PrometheusRule org-service-alerts: OrgServiceErrorRateAboveFivePercent fires above 0\.5, looser than 0\.1/,
            "org-service-alerts",
        );

        mutatedGraphCase(
            "release-alert-thresholds-within-runbook",
            "the downtime alert's for: loosened to 30m",
            onAlert("OrgServiceNoReadyEndpoints", (r) => (r.for = "30m")),
            /OrgServiceNoReadyEndpoints waits for: 30m, longer than 2 × the runbooks' 1m; set for: 1m/,
            "org-service-alerts",
        );

        mutatedGraphCase(
            "rds-force-ssl",
            "rds.force_ssl dropped from the parameter group",
            (g) =>
                replace(
                    g,
                    g.find((r) => r.type === "aws:rds/parameterGroup:ParameterGroup")!,
                    (c) => (c.props!.parameters = c.props!.parameters.filter((p: any) => p.name !== "rds.force_ssl")),
                ),
            /RDS instance database-primary: parameter group database-postgres16 does not set rds\.force_ssl/,
            "database-primary",
        );

        mutatedGraphCase(
            "rds-snapshot-not-public",
            "the pre-migration snapshot shared with all accounts",
            (g) =>
                replace(
                    g,
                    g.find((r) => r.type === "aws:rds/snapshot:Snapshot")!,
                    (c) => (c.props!.sharedAccounts = ["all"]),
                ),
            /snapshot prod-db-snapshot-1-2-3 is shared with "all"; remove "all" from sharedAccounts/,
            "prod-db-snapshot-1-2-3",
        );

        mutatedGraphCase(
            "ec2-launch-template-imdsv2",
            "the node launch template allows IMDSv1",
            (g) =>
                replace(
                    g,
                    g.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")!,
                    (c) => (c.props!.metadataOptions.httpTokens = "optional"),
                ),
            /launch template .* allows IMDSv1 \(httpTokens "optional"\); set metadataOptions\.httpTokens: "required"/,
        );

        mutatedGraphCase(
            "sg-no-public-admin-ports",
            "SSH opened to 0.0.0.0/0 on the node security group",
            (g) =>
                replace(g, named(g, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cluster-nodes-from-nodes"), (c) => {
                    delete c.props!.referencedSecurityGroupId;
                    Object.assign(c.props!, { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 22, toPort: 22 });
                }),
            /cluster-nodes-from-nodes: ingress from "0\.0\.0\.0\/0" admits admin port\(s\) 22/,
            "cluster-nodes-from-nodes",
        );
    });
});
