import * as assert from "node:assert/strict";
import { Policies, ResourceValidationPolicy } from "@pulumi/policy";
import * as k from "../policies/kubernetes";
import { PolicyConfigFile, TestResource, analyze, analyzeStack, fireAndQuiet, messagesOf } from "./policyArgs";
import { NS, UNKNOWN, container, deployment, edit, job, k8s, releaseGraph, service, withProps } from "./policyFixtures";
import { ROLES, ROLE_LABEL } from "../conventions";

type Mutate = (r: any) => void;

const firstContainer = (props: any) => props.spec.template.spec.containers[0];

async function violations(policy: ResourceValidationPolicy, r: TestResource, config: PolicyConfigFile = {}): Promise<string[]> {
    return messagesOf(await analyze([policy], r, config));
}

async function expectViolation(policy: ResourceValidationPolicy, r: TestResource, pattern: RegExp, config: PolicyConfigFile = {}) {
    const found = await violations(policy, r, config);
    assert.ok(
        found.some((m) => pattern.test(m)),
        `${policy.name}: expected a violation matching ${pattern}, got ${JSON.stringify(found)}`,
    );
}

async function expectQuiet(policy: ResourceValidationPolicy, r: TestResource, config: PolicyConfigFile = {}) {
    assert.deepEqual(await violations(policy, r, config), [], `${policy.name} should stay quiet on ${r.name}`);
}

const good = deployment("auth-service", "blue");

describe("kubernetes workload policies", () => {
    const cases: { policy: ResourceValidationPolicy; bad: Mutate; expect: RegExp }[] = [
        { policy: k.resourceRequestsAndLimits, bad: (p) => delete firstContainer(p).resources.limits, expect: /set resources limits\.cpu, limits\.memory/ },
        { policy: k.healthProbes, bad: (p) => delete firstContainer(p).readinessProbe, expect: /add readinessProbe/ },
        { policy: k.imagePinned, bad: (p) => (firstContainer(p).image = "nginx:latest"), expect: /uses "latest"; pin a version tag/ },
        {
            policy: k.imagePinned,
            bad: (p) => (firstContainer(p).image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/x"),
            expect: /is untagged; pin a version tag/,
        },
        {
            policy: k.imageAllowedRegistry,
            bad: (p) => (firstContainer(p).image = "evil.example.com/x:1.0"),
            expect: /not from an allowed registry; push it to one of/,
        },
        {
            policy: k.imageAllowedRegistry,
            bad: (p) => (firstContainer(p).image = "nginx:1.27"),
            expect: /\(docker\.io\/library\/nginx\) is not from an allowed registry/,
        },
        {
            policy: k.rollingUpdateZeroUnavailable,
            bad: (p) => (p.spec.strategy.rollingUpdate.maxUnavailable = "25%"),
            expect: /maxUnavailable is "25%"; set it to 0/,
        },
        { policy: k.rollingUpdateZeroUnavailable, bad: (p) => delete p.spec.strategy, expect: /unset \(defaults to 25%\); set it to 0/ },
        {
            policy: k.rollingUpdateZeroUnavailable,
            bad: (p) => (p.spec.strategy = { type: "Recreate" }),
            expect: /strategy.type is "Recreate"; use RollingUpdate/,
        },
        { policy: k.restrictedPodSecurity, bad: (p) => (p.spec.template.spec.hostNetwork = true), expect: /pod sets hostNetwork: true; remove it/ },
        { policy: k.restrictedPodSecurity, bad: (p) => (p.spec.template.spec.hostPID = true), expect: /pod sets hostPID: true; remove it/ },
        { policy: k.restrictedPodSecurity, bad: (p) => (p.spec.template.spec.hostIPC = true), expect: /pod sets hostIPC: true; remove it/ },
        {
            policy: k.restrictedPodSecurity,
            bad: (p) => (p.spec.template.spec.volumes = [{ name: "docker", hostPath: { path: "/var/run" } }]),
            expect: /hostPath volumes "docker"/,
        },
        { policy: k.restrictedPodSecurity, bad: (p) => (firstContainer(p).securityContext.privileged = true), expect: /privileged: false/ },
        { policy: k.restrictedPodSecurity, bad: (p) => (firstContainer(p).securityContext.capabilities = {}), expect: /capabilities\.drop: \["ALL"\]/ },
        {
            policy: k.restrictedPodSecurity,
            bad: (p) => delete firstContainer(p).securityContext.allowPrivilegeEscalation,
            expect: /allowPrivilegeEscalation: false/,
        },
        {
            policy: k.restrictedPodSecurity,
            bad: (p) => (firstContainer(p).securityContext.readOnlyRootFilesystem = false),
            expect: /readOnlyRootFilesystem: true/,
        },
        {
            policy: k.restrictedPodSecurity,
            bad: (p) => {
                delete p.spec.template.spec.securityContext.runAsNonRoot;
                delete firstContainer(p).securityContext.runAsNonRoot;
            },
            expect: /runAsNonRoot: true/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => firstContainer(p).env.push({ name: "JWT_SECRET", value: "s3cr3t" }),
            expect: /env "JWT_SECRET" set as a literal value; use valueFrom\.secretKeyRef/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => (firstContainer(p).env[2] = { name: "DATABASE_URL", value: "postgresql://app:pw@db:5432/app" }),
            expect: /env "DATABASE_URL" set as a literal/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => firstContainer(p).env.push({ name: "API_TOKEN", value: UNKNOWN }),
            expect: /env "API_TOKEN" set as a literal/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => firstContainer(p).env.push({ name: "DB_PASSWORD", value: "hunter2" }),
            expect: /env "DB_PASSWORD" set as a literal value/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => firstContainer(p).env.push({ name: "API_KEY", value: "ak-123" }),
            expect: /env "API_KEY" set as a literal value/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => firstContainer(p).env.push({ name: "APIKEY", value: "ak-123" }),
            expect: /env "APIKEY" set as a literal value/,
        },
        {
            policy: k.noLiteralSecretsInEnv,
            bad: (p) => firstContainer(p).env.push({ name: "CACHE_URL", value: "redis://user:pass@cache:6379/0" }),
            expect: /env "CACHE_URL" set as a literal value/,
        },
        { policy: k.noDebugInProd, bad: (p) => (firstContainer(p).env[1].value = "debug"), expect: /LOG_LEVEL is "debug"; use "info"/ },
        { policy: k.noDebugInProd, bad: (p) => (firstContainer(p).env[0].value = "development"), expect: /NODE_ENV is "development"; set it to "production"/ },
        { policy: k.noDefaultNamespace, bad: (p) => (p.metadata.namespace = "default"), expect: /"default"; use the app namespace/ },
        { policy: k.noDefaultNamespace, bad: (p) => delete p.metadata.namespace, expect: /metadata\.namespace is not set/ },
    ];

    for (const { policy, bad, expect } of cases) {
        fireAndQuiet(`${policy.name} fires on ${expect.source.slice(0, 50)}`, { policy, quiet: good, fire: withProps(good, bad), expect });
    }

    it("k8s-no-literal-secrets-in-env stays quiet on ordinary literals and on secrets from secretKeyRef", async () => {
        const ordinary = [
            { name: "LOG_LEVEL", value: "info" },
            // KEY counts only as a word of the name (API_KEY, STRIPE_KEY) or glued to API/PRIVATE (APIKEY).
            { name: "KEYCLOAK_REALM", value: "platform" },
            { name: "KEYSPACE", value: "sessions" },
            { name: "USER_SERVICE_URL", value: "http://user-service.api-platform-prod.svc:80" },
            { name: "PUBLIC_DOCS_URL", value: "https://docs.example.com/a:b@c" },
            { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "app-secrets", key: "DB_PASSWORD" } } },
            { name: "API_KEY", value: "" },
        ];
        await expectQuiet(
            k.noLiteralSecretsInEnv,
            withProps(good, (p) => firstContainer(p).env.push(...ordinary)),
        );
        assert.ok(!new RegExp(k.SENSITIVE_ENV_NAME, "i").test("keycloak_realm"), "case-insensitive too");
        assert.ok(new RegExp(k.SENSITIVE_ENV_NAME, "i").test("stripe_key"));
    });

    it("applies to every pod-template shape: StatefulSet, DaemonSet, Job, CronJob, Pod", async () => {
        const c = container("x", "nginx:latest");
        const template = { metadata: { labels: {} }, spec: { containers: [c] } };
        const shapes: TestResource[] = [
            k8s("kubernetes:apps/v1:StatefulSet", "s", { spec: { template } }),
            k8s("kubernetes:apps/v1:DaemonSet", "d", { spec: { template } }),
            k8s("kubernetes:batch/v1:Job", "j", { spec: { template } }),
            k8s("kubernetes:batch/v1:CronJob", "c", { spec: { schedule: "* * * * *", jobTemplate: { spec: { template } } } }),
            k8s("kubernetes:core/v1:Pod", "p", { spec: { containers: [c] } }),
        ];
        for (const shape of shapes) await expectViolation(k.imagePinned, shape, /uses "latest"/);
    });

    it("checks init containers too", async () => {
        const bad = withProps(good, (p) => (p.spec.template.spec.initContainers = [{ ...container("init", "busybox") }]));
        await expectViolation(k.imagePinned, bad, /initContainer "init": image "busybox" is untagged/);
    });

    it("k8s-health-probes exempts Jobs", async () => {
        await expectQuiet(k.healthProbes, job("migrate-1-2-3", { [ROLE_LABEL]: ROLES.migration }));
    });

    it("k8s-image-pinned accepts a digest", async () => {
        await expectQuiet(
            k.imagePinned,
            withProps(good, (p) => (firstContainer(p).image = `nginx@sha256:${"a".repeat(64)}`)),
        );
    });

    it("k8s-image-allowed-registry reads its prefixes from config", async () => {
        const hub = withProps(good, (p) => (firstContainer(p).image = "nginxinc/nginx-unprivileged:1.27.3-alpine"));
        await expectViolation(k.imageAllowedRegistry, hub, /not from an allowed registry/);
        await expectQuiet(k.imageAllowedRegistry, hub, { "k8s-image-allowed-registry": { allowedRegistries: ["docker.io/nginxinc/"] } });
    });

    it("k8s-no-literal-secrets-in-env can only decide an unknown *_URL literal at up", async () => {
        const bad = withProps(good, (p) => firstContainer(p).env.push({ name: "SERVICE_URL", value: UNKNOWN }));
        const result = await analyze([k.noLiteralSecretsInEnv], bad);
        assert.equal(result.diagnostics.length, 1);
        assert.equal(result.diagnostics[0].enforcementLevel, "advisory");
        assert.match(result.diagnostics[0].message, /can't run policy 'k8s-no-literal-secrets-in-env' .* during preview/);
    });

    it("k8s-no-default-namespace ignores cluster-scoped objects", async () => {
        await expectQuiet(k.noDefaultNamespace, { type: "kubernetes:core/v1:Namespace", name: NS, props: { metadata: { name: NS } } });
        await expectQuiet(k.noDefaultNamespace, { type: "pulumi:providers:kubernetes", name: "k8s", props: {} });
    });
});

describe("kubernetes traffic policies", () => {
    const ingress = k8s("kubernetes:networking.k8s.io/v1:Ingress", "api", {
        spec: { tls: [{ hosts: ["api.example.com"], secretName: "api-tls-cert" }], rules: [{ host: "api.example.com" }] },
    });

    fireAndQuiet("k8s-ingress-tls fires on an Ingress without TLS", {
        policy: k.ingressTls,
        quiet: ingress,
        fire: withProps(ingress, (p) => delete p.spec.tls),
        expect: /no TLS; add spec\.tls/,
    });

    it("k8s-ingress-tls wants every host in spec.tls", async () => {
        await expectViolation(
            k.ingressTls,
            withProps(ingress, (p) => p.spec.rules.push({ host: "admin.example.com" })),
            /"admin\.example\.com" are not listed in spec\.tls/,
        );
    });

    const ip = { "alb.ingress.kubernetes.io/target-type": "ip" };
    fireAndQuiet("k8s-alb-no-ip-target-type fires on an Ingress with ip targets", {
        policy: k.albInstanceTargetType,
        quiet: ingress,
        fire: withProps(ingress, (p) => (p.metadata.annotations = ip)),
        expect: /target-type: ip routes to pod IPs/,
    });

    it("k8s-alb-no-ip-target-type checks blue/green Services", async () => {
        const live = service("auth-service", { app: "auth-service", color: "blue" });
        await expectQuiet(k.albInstanceTargetType, live);
        await expectViolation(
            k.albInstanceTargetType,
            withProps(live, (p) => (p.metadata.annotations = ip)),
            /blue\/green Service sets .*target-type: ip; use "instance"/,
        );
    });

    const hpa = k8s("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "h", { spec: { minReplicas: 2, maxReplicas: 6 } });
    fireAndQuiet("k8s-hpa-bounds fires when minReplicas is not below maxReplicas", {
        policy: k.hpaBounds,
        quiet: hpa,
        fire: withProps(hpa, (p) => (p.spec.maxReplicas = 2)),
        expect: /minReplicas 2 is not below maxReplicas 2/,
        config: { "k8s-hpa-bounds": { minReplicas: 2 } },
    });

    it("k8s-hpa-bounds uses the configured replica minimum", async () => {
        await expectViolation(k.hpaBounds, hpa, /minReplicas is 2; raise it to at least 5/);
        await expectQuiet(k.hpaBounds, hpa, { "k8s-hpa-bounds": { minReplicas: 2 } });
    });
});

describe("kubernetes stack policies", () => {
    async function stackMessages(policy: Policies[number], graph: TestResource[], config: PolicyConfigFile = {}) {
        return messagesOf(await analyzeStack([policy], graph, config));
    }

    it("are quiet on a compliant release", async () => {
        for (const p of [k.liveMinReplicas, k.livePodDisruptionBudget, k.namespaceNetworkPolicies]) {
            assert.deepEqual(await stackMessages(p, releaseGraph()), [], p.name);
        }
    });

    fireAndQuiet("k8s-live-min-replicas fires on a live color below the minimum", {
        policy: k.liveMinReplicas,
        quiet: releaseGraph(),
        fire: edit(releaseGraph(), "auth-service-blue", (r) => withProps(r, (p) => (p.spec.replicas = 2))),
        expect: /auth-service-blue serves live Service auth-service with 2 replicas; set at least 5/,
    });

    fireAndQuiet("k8s-live-pdb fires on a live Deployment without a PDB", {
        policy: k.livePodDisruptionBudget,
        quiet: releaseGraph(),
        fire: releaseGraph().filter((r) => r.type !== "kubernetes:policy/v1:PodDisruptionBudget"),
        expect: /live Deployment auth-service-blue has no PodDisruptionBudget/,
    });

    fireAndQuiet("k8s-namespace-network-policies fires on a namespace without NetworkPolicy", {
        policy: k.namespaceNetworkPolicies,
        quiet: releaseGraph(),
        fire: releaseGraph().filter((r) => r.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
        expect: /namespace api-platform-prod runs workloads .* without a NetworkPolicy/,
    });

    it("k8s-live-min-replicas counts only Deployments behind a live Service, with the configured minimum", async () => {
        const graph = edit(releaseGraph(), "auth-service-blue", (r) => withProps(r, (p) => (p.spec.replicas = 2)));
        assert.match((await stackMessages(k.liveMinReplicas, graph))[0], /auth-service-blue serves live Service auth-service with 2 replicas; set at least 5/);
        assert.deepEqual(await stackMessages(k.liveMinReplicas, graph, { "k8s-live-min-replicas": { minReplicas: 2 } }), []);
        const idle = edit(releaseGraph(), "auth-service-green", (r) => withProps(r, (p) => (p.spec.replicas = 0)));
        assert.deepEqual(await stackMessages(k.liveMinReplicas, idle), []);
    });

    it("k8s-live-pdb matches a budget by every label of its selector, in the Deployment's namespace, and reports in stack order", async () => {
        const strict = (name: string, matchLabels: Record<string, string>, namespace?: string) =>
            k8s("kubernetes:policy/v1:PodDisruptionBudget", name, {
                ...(namespace ? { metadata: { namespace } } : {}),
                spec: { minAvailable: "100%", selector: { matchLabels } },
            });
        const graph = [
            ...releaseGraph(),
            strict("by-pod-name", { "app.kubernetes.io/name": "auth-service" }),
            strict("other-namespace", { app: "auth-service", color: "blue" }, "elsewhere"),
            strict("green-only", { app: "auth-service", color: "green" }),
            strict("by-color-then-app", { color: "blue", app: "auth-service" }),
            strict("empty", {}),
        ];
        const messages = await stackMessages(k.livePodDisruptionBudget, graph);
        const blocking = messages.map((m) => /PodDisruptionBudget (\S+) allows no eviction of auth-service-blue/.exec(m)?.[1]).filter(Boolean);
        assert.deepEqual(blocking, ["by-pod-name", "by-color-then-app"]);
    });

    it("k8s-live-pdb wants a PDB that allows an eviction", async () => {
        const none = releaseGraph().filter((r) => r.type !== "kubernetes:policy/v1:PodDisruptionBudget");
        assert.match((await stackMessages(k.livePodDisruptionBudget, none))[0], /live Deployment auth-service-blue has no PodDisruptionBudget/);
        const pdbOnly = releaseGraph().map((r) =>
            r.type.endsWith("PodDisruptionBudget") ? withProps(r, (p) => (p.spec = { minAvailable: "100%", selector: p.spec.selector })) : r,
        );
        assert.match((await stackMessages(k.livePodDisruptionBudget, pdbOnly)).join(), /allows no eviction of auth-service-blue \(5 replicas\)/);
        assert.equal(k.allowedEvictions({ maxUnavailable: 0 }, 5), 0);
        assert.equal(k.allowedEvictions({ minAvailable: 4 }, 5), 1);
        assert.equal(k.allowedEvictions({ maxUnavailable: "10%" }, 5), 1);
    });

    it("k8s-live-hpa finds a live Deployment's HPA by target name, or by the Deployment its spec is computed from, in the Deployment's namespace", async () => {
        const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
        const missing = /live Deployment auth-service-blue \(behind Service auth-service\) has no HorizontalPodAutoscaler/;
        const blue = releaseGraph().find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "auth-service-blue")!;
        const withoutHpa = releaseGraph().filter((r) => r.type !== HPA);
        const withHpa = (props: Record<string, any>, more: Partial<TestResource> = {}) => [...withoutHpa, { ...k8s(HPA, "autoscaler", props), ...more }];
        const target = (kind: string, name: unknown) => ({ spec: { minReplicas: 5, maxReplicas: 50, scaleTargetRef: { apiVersion: "apps/v1", kind, name } } });
        const messages = (graph: TestResource[]) => stackMessages(k.liveHorizontalPodAutoscaler, graph);

        assert.deepEqual(await messages(releaseGraph()), []);
        assert.match((await messages(withoutHpa)).join(), missing);
        assert.match((await messages(withHpa({ ...target("Deployment", "auth-service-blue"), metadata: { namespace: "elsewhere" } }))).join(), missing);
        assert.match((await messages(withHpa(target("StatefulSet", "auth-service-blue")))).join(), missing);
        const computedFromBlue = { propertyDependencies: { spec: [blue.urn!] } };
        assert.deepEqual(await messages(withHpa(target("Deployment", UNKNOWN), computedFromBlue)), []);
        assert.match((await messages(withHpa({ ...target("Deployment", UNKNOWN), metadata: { namespace: "elsewhere" } }, computedFromBlue))).join(), missing);
    });

    it("k8s-namespace-network-policies", async () => {
        const graph = releaseGraph().filter((r) => r.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        assert.match((await stackMessages(k.namespaceNetworkPolicies, graph))[0], /namespace api-platform-prod runs workloads .* without a NetworkPolicy/);
    });

    it("k8s-namespace-network-policies follows a namespace that is unknown during preview to its Namespace resource", async () => {
        const graph = releaseGraph();
        const ns = graph.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        const unknownNs = graph.map((r) =>
            r.type.startsWith("kubernetes:") && r !== ns
                ? withProps({ ...r, propertyDependencies: { metadata: [ns.urn] } }, (p) => (p.metadata.namespace = UNKNOWN))
                : r,
        );
        assert.deepEqual(await stackMessages(k.namespaceNetworkPolicies, unknownNs), []);
    });
});
