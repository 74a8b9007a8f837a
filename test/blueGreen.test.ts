// Blue/green services, the gated switch, maintenance mode and traffic, on the real
// program under mocks.
import * as assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { fakePassword } from "../offline/fakeOutputs";
import {
    byName,
    byType,
    configValue,
    dependsOn,
    inputs,
    isSecretValue,
    plain,
    ProgramError,
    ProgramRun,
    readStackConfig,
    RecordedResource,
    runProgram,
    STACK_TYPE,
} from "./harness";
import { ANNOTATIONS, ROLES, ROLE_LABEL } from "../conventions";
import { idleColor } from "../config";

const T = {
    deployment: "kubernetes:apps/v1:Deployment",
    job: "kubernetes:batch/v1:Job",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    rdsInstance: "aws:rds/instance:Instance",
    secret: "kubernetes:core/v1:Secret",
    provider: "pulumi:providers:kubernetes",
};
const DATABASE_INSTANCE_ANNOTATION = ANNOTATIONS.databaseInstance;
const REDIS_URL = "rediss://:offline-test-token@redis.internal.example:6379/0";
const STACKS = ["staging", "prod"] as const;
type Stack = (typeof STACKS)[number];
type Services = Record<string, any>;

const runs = new Map<string, ProgramRun>();

/** Runs a stack once per distinct set of overrides (runs are serialized and take about a second). */
async function run(stack: Stack, overrides?: Record<string, unknown>, preview = false, secrets?: Record<string, string>): Promise<ProgramRun> {
    const key = JSON.stringify({ stack, overrides, preview, secrets });
    if (!runs.has(key)) runs.set(key, await runProgram({ stack, overrides, preview, secrets }));
    return runs.get(key)!;
}

function services(stack: Stack): Services {
    return structuredClone(configValue<Services>(readStackConfig(stack), "services"));
}

/** The color the preview Service must select: the idle one while it runs, else the live one. */
function expectedPreviewColor(svc: any): string {
    return svc[idleColor(svc.live)].replicas > 0 ? idleColor(svc.live) : svc.live;
}

/** The stack's services with every service switched whose idle color can go live. */
function promoted(stack: Stack): { services: Services; switched: string[] } {
    const s = services(stack);
    const switched = Object.keys(s).filter((name) => s[name][idleColor(s[name].live)].replicas >= s[name].autoscaling.minReplicas);
    for (const name of switched) s[name].live = idleColor(s[name].live);
    return { services: s, switched };
}

function containersOf(r: RecordedResource): any[] {
    return inputs(r).spec.template.spec.containers;
}

function appDeployments(run: ProgramRun): RecordedResource[] {
    return byType(run, T.deployment).filter((d) => d.name !== "maintenance");
}

function liveService(run: ProgramRun, service: string): RecordedResource {
    return byName(run, T.service, service);
}

function smokeJobs(run: ProgramRun): RecordedResource[] {
    return byType(run, T.job).filter((j) => inputs(j).metadata.labels[ROLE_LABEL] === ROLES.smokeTest);
}

function smokeJobOf(run: ProgramRun, service: string, color: string): RecordedResource {
    const found = smokeJobs(run).filter((j) => inputs(j).metadata.labels.app === service && inputs(j).metadata.labels.color === color);
    assert.equal(found.length, 1, `expected one smoke-test Job for ${service}/${color}`);
    return found[0];
}

/**
 * A color's smoke-test Job names (annotation) and calls (TARGET_URL) a Service in its namespace that
 * selects that color's pods and no other Deployment's, and runs after that Service and the color's
 * rollout.
 */
function assertTestsOwnColor(r: ProgramRun, service: string, color: string, step = ""): void {
    const job = smokeJobOf(r, service, color);
    const spec = inputs(job);
    const targetName = spec.metadata.annotations[ANNOTATIONS.targetService];
    const target = byName(r, T.service, targetName);
    const where = `${step} ${service}/${color}: target ${targetName}`;
    assert.equal(inputs(target).metadata.namespace, spec.metadata.namespace, where);
    const selector = inputs(target).spec.selector;
    const selected = appDeployments(r).filter((d) => Object.entries(selector).every(([k, v]) => inputs(d).spec.template.metadata.labels[k] === v));
    assert.deepEqual(
        selected.map((d) => d.name),
        [`${service}-${color}`],
        where,
    );
    const url = spec.spec.template.spec.containers[0].env.find((e: any) => e.name === "TARGET_URL").value;
    assert.match(url, new RegExp(`^http://${targetName}\\.${spec.metadata.namespace}\\.svc:`), where);
    assert.ok(dependsOn(r, job, target), `${where}: the Job runs after its target exists`);
    assert.ok(dependsOn(r, job, byName(r, T.deployment, `${service}-${color}`)), `${where}: the Job runs after its color rolled out`);
}

/** Every string inside a secret envelope anywhere in the run's inputs (connection URLs, passwords…). */
function secretStrings(run: ProgramRun): string[] {
    const found = new Set<string>();
    const walk = (v: unknown, inSecret: boolean): void => {
        if (isSecretValue(v)) return walk(v.value, true);
        if (typeof v === "string" && inSecret && v.length >= 8) found.add(v);
        else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x, inSecret);
    };
    for (const r of run.resources) walk(r.inputs, false);
    return [...found];
}

/**
 * Runs the stack with `base` overrides before and after switching every service that can switch,
 * back to back and uncached (the pair must see the same source files), and lists what changed:
 * `<type>::<name> <field path>` or `<type>::<name> dependencies`. Resource options must not change.
 */
async function switchChanges(stack: Stack, base: Record<string, unknown>, preview: boolean): Promise<{ changed: string[]; expected: string[] }> {
    const { services: switchedServices, switched } = promoted(stack);
    assert.ok(switched.length > 0, "some service can switch");
    const before = await runProgram({ stack, overrides: { ...base, services: services(stack) }, preview });
    const after = await runProgram({ stack, overrides: { ...base, services: switchedServices }, preview });

    assert.deepEqual(after.resources.map((r) => r.urn).sort(), before.resources.map((r) => r.urn).sort(), "same resources");
    const changed: string[] = [];
    for (const b of before.resources) {
        const a = after.resources.find((r) => r.urn === b.urn)!;
        const { inputs: bi, dependencies: bd, propertyDependencies: _bp, ...bOptions } = b;
        const { inputs: ai, dependencies: ad, propertyDependencies: _ap, ...aOptions } = a;
        assert.deepEqual(aOptions, bOptions, `options of ${b.urn}`);
        for (const field of differences(plain(bi), plain(ai))) changed.push(`${b.type}::${b.name} ${field}`);
        if (!isDeepStrictEqual([...bd].sort(), [...ad].sort())) changed.push(`${b.type}::${b.name} dependencies`);
    }
    // Both colors of a switched service run, so its preview Service moves to the new idle color.
    const expected = switched.flatMap((name) => [
        `${T.service}::${name} spec.selector.color`,
        `${T.service}::${name} dependencies`,
        `${T.service}::${name}-preview spec.selector.color`,
    ]);
    return { changed: changed.sort(), expected: expected.sort() };
}

/** Every field path where two values differ. */
function differences(a: unknown, b: unknown, path = ""): string[] {
    if (isDeepStrictEqual(a, b)) return [];
    if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
        const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
        return [...keys].flatMap((k) => differences((a as any)[k], (b as any)[k], path ? `${path}.${k}` : k));
    }
    return [path || "(root)"];
}

describe("blue/green services", function () {
    this.timeout(120_000);

    for (const preview of [true, false]) {
        describe(`promote and rollback (${preview ? "preview" : "up"})`, () => {
            for (const stack of STACKS) {
                it(`${stack}: switching live colors changes only the Services' selectors and the live Services' dependencies`, async () => {
                    const { changed, expected } = await switchChanges(stack, {}, preview);
                    assert.deepEqual(changed, expected);
                });
            }
        });
    }

    describe("the gated switch", () => {
        for (const stack of STACKS) {
            it(`${stack}: each live Service depends on its color's Deployment and smoke-test Job; the Job tests its color's own Service`, async () => {
                const { services: switchedServices, switched } = promoted(stack);
                for (const overrides of [{ services: services(stack) }, { services: switchedServices }]) {
                    const r = await run(stack, overrides);
                    const namespace = inputs(byType(r, "kubernetes:core/v1:Namespace")[0]).metadata.name;
                    for (const [name, svc] of Object.entries<any>(overrides.services)) {
                        const live = liveService(r, name);
                        const preview = byName(r, T.service, `${name}-preview`);
                        assert.deepEqual(inputs(live).spec.selector, { app: name, color: svc.live });
                        assert.deepEqual(inputs(preview).spec.selector, { app: name, color: expectedPreviewColor(svc) });
                        assert.equal(inputs(live).metadata.labels[ROLE_LABEL], ROLES.live);
                        assert.equal(inputs(preview).metadata.labels[ROLE_LABEL], ROLES.preview);
                        assert.equal(inputs(live).spec.type, "NodePort");
                        assert.equal(inputs(preview).spec.type, "ClusterIP");

                        const job = smokeJobOf(r, name, svc.live);
                        assert.equal(job.name, `${name}-smoke-${svc.live}-${svc[svc.live].version.replace(/\./g, "-")}`);
                        assert.ok(live.dependencies.includes(job.urn), `${name} depends on ${job.name} directly`);
                        assert.ok(dependsOn(r, live, byName(r, T.deployment, `${name}-${svc.live}`)));
                        assert.ok(!dependsOn(r, live, byName(r, T.deployment, `${name}-${idleColor(svc.live)}`)), "not on the other color");

                        const spec = inputs(job);
                        const target = byName(r, T.service, `${name}-${svc.live}`);
                        assert.equal(spec.metadata.annotations[ANNOTATIONS.targetService], `${name}-${svc.live}`);
                        const url = spec.spec.template.spec.containers[0].env.find((e: any) => e.name === "TARGET_URL").value;
                        assert.equal(url, `http://${name}-${svc.live}.${namespace}.svc:${svc.port}`);
                        const script = spec.spec.template.spec.containers[0].command.join(" ");
                        assert.match(script, /for path in \/health\/ready \/health;/);
                        assert.match(script, /curl -fsS [\s\S]*"\$\{TARGET_URL\}\$\{path\}"/);
                        assert.ok(dependsOn(r, job, target), "the Job runs after its color's Service exists");
                        assert.ok(dependsOn(r, job, byName(r, T.deployment, `${name}-${svc.live}`)), "the Job runs after its color rolled out");
                        assert.ok(job.deleteBeforeReplace && job.replaceOnChanges.includes("spec"));
                        assert.ok(spec.spec.backoffLimit >= 1 && spec.spec.backoffLimit <= 3);
                        // Its pods must not be picked by the Services.
                        const podLabels = spec.spec.template.metadata.labels;
                        assert.ok(!(podLabels.app === name && podLabels.color), "smoke-test pods don't carry the app's selector");
                    }
                }
                assert.ok(switched.length > 0);
            });
        }

        for (const stack of STACKS) {
            it(`${stack}: the preview Service always selects a running color, preferring the idle one`, async () => {
                const config = services(stack);
                const r = await run(stack, { services: config });
                for (const [name, svc] of Object.entries<any>(config)) {
                    const selected = inputs(byName(r, T.service, `${name}-preview`)).spec.selector;
                    assert.equal(selected.app, name);
                    assert.ok(svc[selected.color].replicas > 0, `${name}-preview selects ${selected.color}, which runs no pods`);
                    assert.equal(selected.color, expectedPreviewColor(svc), `${name}-preview prefers the idle color while it runs`);
                }
            });

            it(`${stack}: deploying to an idle color that ran no pods moves the preview Service to it and smoke-tests it`, async () => {
                const config = services(stack);
                const scaledUp = structuredClone(config);
                const idleAtZero = Object.keys(config).filter((name) => config[name][idleColor(config[name].live)].replicas === 0);
                assert.ok(idleAtZero.length > 0, "some service has an idle color at 0 replicas");
                for (const name of idleAtZero) scaledUp[name][idleColor(config[name].live)].replicas = config[name].autoscaling.minReplicas;
                const before = await run(stack, { services: config });
                const after = await run(stack, { services: scaledUp });
                for (const name of idleAtZero) {
                    const { live } = config[name];
                    const idle = idleColor(live);
                    assert.deepEqual(inputs(byName(before, T.service, `${name}-preview`)).spec.selector, { app: name, color: live });
                    assert.deepEqual(inputs(byName(after, T.service, `${name}-preview`)).spec.selector, { app: name, color: idle });
                    assertTestsOwnColor(after, name, idle);
                    // The live color's Job and Service stay as they were.
                    assert.deepEqual(inputs(smokeJobOf(after, name, live)), inputs(smokeJobOf(before, name, live)));
                    assert.deepEqual(inputs(liveService(after, name)), inputs(liveService(before, name)));
                }
            });

            it(`${stack}: each smoke-test Job's target Service selects exactly its own color's pods through deploy, promote and rollback`, async () => {
                const shipped = services(stack);
                const steps: [string, Services][] = [["shipped", shipped]];
                // Deploy a new version to every idle color (scaled up to serve), promote, then roll back.
                const deployed = structuredClone(shipped);
                for (const svc of Object.values<any>(deployed)) {
                    const idle = idleColor(svc.live);
                    svc[idle] = { ...svc[idle], version: "9.9.9", replicas: Math.max(svc[idle].replicas, svc.autoscaling.minReplicas) };
                }
                steps.push(["deploy", deployed]);
                const promotedStep = structuredClone(deployed);
                for (const svc of Object.values<any>(promotedStep)) svc.live = idleColor(svc.live);
                steps.push(["promote", promotedStep]);
                steps.push(["rollback", structuredClone(deployed)]);
                for (const [step, config] of steps) {
                    const r = await run(stack, { services: config });
                    for (const [name, svc] of Object.entries<any>(config)) {
                        for (const color of ["blue", "green"].filter((c) => svc[c].replicas > 0)) assertTestsOwnColor(r, name, color, step);
                    }
                }
            });
        }

        it("a smoke-test Job exists exactly for each color with replicas; none depends on the live color", async () => {
            for (const stack of STACKS) {
                const r = await run(stack, { services: services(stack) });
                const expected = Object.entries<any>(services(stack)).flatMap(([name, s]) =>
                    ["blue", "green"].filter((c) => s[c].replicas > 0).map((c) => `${name}-smoke-${c}-${s[c].version.replace(/\./g, "-")}`),
                );
                assert.deepEqual(
                    smokeJobs(r)
                        .map((j) => j.name)
                        .sort(),
                    expected.sort(),
                );
            }
        });

        it("a digest version gets a valid, unique Job name and an @sha256 image", async () => {
            const s = services("prod");
            const digest = `sha256:${"ab12".repeat(16)}`;
            s["auth-service"].green.version = digest;
            const r = await run("prod", { services: s });
            const job = smokeJobOf(r, "auth-service", "green");
            assert.match(job.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
            assert.ok(job.name.length <= 63);
            const deployment = byName(r, T.deployment, "auth-service-green");
            assert.equal(containersOf(deployment)[0].image, `${s["auth-service"].image}@${digest}`);
            assert.match(inputs(deployment).spec.template.metadata.labels["app.kubernetes.io/version"], /^[A-Za-z0-9_.-]{1,63}$/);
        });
    });

    describe("workloads", () => {
        for (const stack of STACKS) {
            it(`${stack}: Deployments per color with fixed selectors, the runbook pod spec, and secrets only by reference`, async () => {
                const r = await run(stack, { services: services(stack) });
                const config = services(stack);
                const databaseIdentifier = configValue<any>(readStackConfig(stack), "database").identifier;
                const secret = byName(r, T.secret, "app-secrets");
                for (const [name, svc] of Object.entries<any>(config)) {
                    for (const color of ["blue", "green"]) {
                        const d = inputs(byName(r, T.deployment, `${name}-${color}`));
                        assert.equal(d.metadata.name, `${name}-${color}`);
                        assert.deepEqual(d.spec.selector.matchLabels, { app: name, color });
                        assert.equal(d.spec.replicas, svc[color].replicas);
                        const labels = d.spec.template.metadata.labels;
                        assert.equal(labels["app.kubernetes.io/version"], svc[color].version);
                        assert.equal(labels["app.kubernetes.io/instance"], `${name}-${color}`);
                        for (const key of ["name", "component", "part-of", "managed-by"]) assert.ok(labels[`app.kubernetes.io/${key}`]);
                        assert.deepEqual(d.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
                        const pod = d.spec.template.spec;
                        assert.equal(pod.automountServiceAccountToken, false);
                        assert.ok(pod.terminationGracePeriodSeconds > 15);
                        assert.ok(pod.topologySpreadConstraints.some((t: any) => t.topologyKey === "topology.kubernetes.io/zone"));
                        const [c] = pod.containers;
                        assert.equal(c.image, `${svc.image}:${svc[color].version}`);
                        assert.deepEqual(c.livenessProbe, {
                            httpGet: { path: "/health/live", port: svc.port },
                            initialDelaySeconds: 30,
                            periodSeconds: 10,
                            timeoutSeconds: 5,
                            failureThreshold: 3,
                        });
                        assert.deepEqual(c.readinessProbe, {
                            httpGet: { path: "/health/ready", port: svc.port },
                            initialDelaySeconds: 10,
                            periodSeconds: 5,
                            timeoutSeconds: 3,
                            failureThreshold: 2,
                        });
                        assert.deepEqual(c.resources, { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1Gi" } });
                        assert.ok(c.lifecycle.preStop.exec.command.join(" ").startsWith("sleep"));
                        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
                        assert.equal(env.NODE_ENV.value, "production");
                        assert.equal(env.LOG_LEVEL.value, "info");
                        assert.equal(env.PORT.value, String(svc.port));
                        for (const key of ["DATABASE_URL", "JWT_SECRET"]) {
                            assert.deepEqual(env[key].valueFrom, { secretKeyRef: { name: "app-secrets", key } });
                            assert.equal(env[key].value, undefined);
                        }
                        assert.equal(env.REDIS_URL, undefined, "no REDIS_URL without redisUrl");
                        // The database the pods connect to, so a switch of database rolls them.
                        assert.deepEqual(d.spec.template.metadata.annotations, { [DATABASE_INSTANCE_ANNOTATION]: databaseIdentifier });
                        assert.ok(dependsOn(r, byName(r, T.deployment, `${name}-${color}`), secret), "pods start after the Secret is written");
                    }
                }
            });

            it(`${stack}: every container (Deployments and Jobs) has resources, the restricted security context and no secret in a literal env value`, async () => {
                const r = await run(stack, { services: services(stack), maintenance: true });
                const secrets = [fakePassword("app-jwt-secret", 64), ...secretStrings(r)];
                assert.ok(secrets.length > 1);
                const workloads = [...byType(r, T.deployment), ...byType(r, T.job)];
                assert.ok(workloads.some((w) => w.name === "maintenance"));
                for (const w of workloads) {
                    const pod = inputs(w).spec.template.spec;
                    assert.equal(pod.securityContext.runAsNonRoot, true, w.name);
                    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault", w.name);
                    for (const c of pod.containers) {
                        const where = `${w.name}/${c.name}`;
                        for (const kind of ["requests", "limits"])
                            for (const res of ["cpu", "memory"]) assert.ok(c.resources?.[kind]?.[res], `${where} ${kind}.${res}`);
                        assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
                        assert.equal(c.securityContext.readOnlyRootFilesystem, true, where);
                        assert.ok(c.securityContext.capabilities.drop.includes("ALL"), where);
                        assert.notEqual(c.securityContext.privileged, true, where);
                        for (const e of c.env ?? []) {
                            const raw = w.inputs.spec.template.spec.containers.find((x: any) => x.name === c.name).env.find((x: any) => x.name === e.name);
                            assert.ok(!isSecretValue(raw.value), `${where} ${e.name} is a secret literal`);
                            if (typeof e.value === "string") for (const s of secrets) assert.ok(!e.value.includes(s), `${where} ${e.name}`);
                        }
                    }
                    if (w.type === T.deployment) {
                        assert.equal(inputs(w).spec.strategy.rollingUpdate.maxUnavailable, 0, w.name);
                        for (const c of pod.containers) assert.ok(c.livenessProbe && c.readinessProbe, `${w.name}/${c.name} probes`);
                    }
                }
            });

            it(`${stack}: autoscalers and disruption budgets per running color, consistent with the Deployment's replicas`, async () => {
                const r = await run(stack, { services: services(stack) });
                for (const [name, svc] of Object.entries<any>(services(stack))) {
                    for (const color of ["blue", "green"]) {
                        const { replicas } = svc[color];
                        const hpa = byType(r, T.hpa).find((h) => h.name === `${name}-${color}`);
                        const pdb = byType(r, T.pdb).find((p) => p.name === `${name}-${color}`);
                        assert.equal(!!pdb, replicas > 0, `${name}-${color} PDB`);
                        assert.equal(!!hpa, replicas >= svc.autoscaling.minReplicas, `${name}-${color} HPA`);
                        if (pdb) {
                            assert.equal(inputs(pdb).spec.maxUnavailable, 1);
                            assert.deepEqual(inputs(pdb).spec.selector.matchLabels, { app: name, color });
                        }
                        if (hpa) {
                            const spec = inputs(hpa).spec;
                            assert.equal(spec.minReplicas, replicas);
                            assert.equal(spec.maxReplicas, Math.max(svc.autoscaling.maxReplicas, replicas));
                            assert.deepEqual(spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: `${name}-${color}` });
                            assert.equal(spec.metrics[0].resource.target.averageUtilization, svc.autoscaling.targetCpuUtilization);
                        }
                    }
                }
            });

            it(`${stack}: every Kubernetes resource uses the cluster provider and the app namespace`, async () => {
                const r = await run(stack, { services: services(stack) });
                const [provider] = byType(r, T.provider);
                const namespace = inputs(byType(r, "kubernetes:core/v1:Namespace")[0]).metadata.name;
                const mine = r.resources.filter(
                    (x) => x.custom && x.type.startsWith("kubernetes:") && /BlueGreenService|MaintenancePage|ReleaseTraffic|AlertRules/.test(x.urn),
                );
                assert.ok(mine.length > 20);
                for (const x of mine) {
                    assert.ok(x.provider?.startsWith(provider.urn + "::"), `${x.name} uses the cluster provider`);
                    assert.equal(inputs(x).metadata.namespace, namespace, `${x.name} namespace`);
                }
            });
        }

        it("prod: a color running a release's version starts only after that release's migration Job", async () => {
            const r = await run("prod", { services: services("prod") });
            const migration = byType(r, T.job).find((j) => inputs(j).metadata.labels[ROLE_LABEL] === ROLES.migration);
            assert.ok(migration, "the 1.2.3 migration Job");
            for (const [name, svc] of Object.entries<any>(services("prod"))) {
                for (const color of ["blue", "green"]) {
                    const d = byName(r, T.deployment, `${name}-${color}`);
                    assert.equal(d.dependencies.includes(migration.urn), svc[color].version === "1.2.3", d.name);
                }
            }
        });
    });

    describe("restore from a snapshot", () => {
        const restoring = () => ({
            migrations: [],
            database: { ...configValue<any>(readStackConfig("prod"), "database"), restoreFromSnapshot: "prod-db-snapshot-1-2-3" },
        });

        it("prod: rolls every app Deployment onto the restored instance, changing only the database annotation", async () => {
            const normal = await run("prod", { services: services("prod"), migrations: [] });
            const restored = await run("prod", { services: services("prod"), ...restoring() });
            const instance = byType(restored, T.rdsInstance).find((i) => inputs(i).identifier === "prod-db-restore");
            assert.ok(instance, "the restored instance prod-db-restore");
            const deployments = appDeployments(normal);
            assert.equal(deployments.length, Object.keys(services("prod")).length * 2);
            for (const d of deployments) {
                const after = byName(restored, T.deployment, d.name);
                assert.equal(inputs(d).spec.template.metadata.annotations[DATABASE_INSTANCE_ANNOTATION], "prod-db", d.name);
                assert.equal(inputs(after).spec.template.metadata.annotations[DATABASE_INSTANCE_ANNOTATION], "prod-db-restore", d.name);
                // A pod-template change is what makes the Deployment roll its pods.
                assert.deepEqual(differences(inputs(d), inputs(after)), [`spec.template.metadata.annotations.${DATABASE_INSTANCE_ANNOTATION}`], d.name);
                assert.ok(dependsOn(restored, after, instance), `${d.name} rolls after the restored instance exists`);
                assert.ok(dependsOn(restored, after, byName(restored, T.secret, "app-secrets")), `${d.name} rolls after the Secret points at it`);
            }
            // The smoke-test Jobs don't re-run for a database switch.
            for (const j of smokeJobs(normal)) assert.deepEqual(inputs(byName(restored, T.job, j.name)), inputs(j));
        });

        it("prod: while restoring, a promote still changes only the Services' selectors and the live Services' dependencies", async () => {
            const { changed, expected } = await switchChanges("prod", restoring(), false);
            assert.deepEqual(changed, expected);
        });
    });

    describe("rejected config", () => {
        for (const stack of STACKS) {
            it(`${stack}: routing to a color with 0 replicas, or scaling the live color to 0, registers nothing`, async () => {
                const cases: [string, (s: Services) => void][] = [
                    ["live color scaled to 0", (s) => (Object.values<any>(s)[0][Object.values<any>(s)[0].live].replicas = 0)],
                    [
                        "live switched to a color with 0 replicas",
                        (s) => {
                            const svc = Object.values<any>(s)[0];
                            svc[idleColor(svc.live)].replicas = 0;
                            svc.live = idleColor(svc.live);
                        },
                    ],
                ];
                for (const [label, patch] of cases) {
                    const s = services(stack);
                    patch(s);
                    await assert.rejects(runProgram({ stack, overrides: { services: s } }), (e: unknown) => {
                        assert.ok(e instanceof ProgramError, `${label}: ${e}`);
                        assert.match(e.message, /services\.[\w-]+\.(blue|green)\.replicas/, label);
                        assert.deepEqual(
                            e.resources.map((x) => x.type),
                            [STACK_TYPE],
                            label,
                        );
                        return true;
                    });
                }
            });
        }
    });

    describe("maintenance mode", () => {
        for (const stack of STACKS) {
            it(`${stack}: switches every live Service to the maintenance pods and back`, async () => {
                const normal = await run(stack, { services: services(stack), maintenance: false });
                const maintenance = await run(stack, { services: services(stack), maintenance: true });
                const page = byName(maintenance, T.deployment, "maintenance");
                const pageSpec = inputs(page);
                assert.deepEqual(pageSpec.spec.selector.matchLabels, { app: "maintenance", color: "maintenance" });
                const [nginx] = pageSpec.spec.template.spec.containers;
                assert.equal(nginx.ports[0].containerPort, 8080);
                assert.equal(nginx.ports[0].name, "http");
                assert.ok(nginx.readinessProbe && nginx.livenessProbe);
                const conf = inputs(byName(maintenance, T.configMap, "maintenance-nginx")).data["nginx.conf"];
                assert.match(conf, /location \/ \{[\s\S]*return 503/);

                for (const [name, svc] of Object.entries<any>(services(stack))) {
                    const onLive = liveService(maintenance, name);
                    assert.deepEqual(inputs(onLive).spec.selector, { app: "maintenance", color: "maintenance" });
                    assert.equal(inputs(onLive).spec.ports[0].targetPort, "http", "the named port reaches 8080 on the page");
                    assert.ok(dependsOn(maintenance, onLive, page));
                    assert.deepEqual(inputs(byName(maintenance, T.service, `${name}-preview`)).spec.selector, { app: name, color: expectedPreviewColor(svc) });
                    assert.deepEqual(inputs(liveService(normal, name)).spec.selector, { app: name, color: svc.live });
                }
                assert.equal(byType(normal, T.deployment).filter((d) => d.name === "maintenance").length, 0, "no maintenance pods when off");
                assert.deepEqual(plain(maintenance.outputs.liveColors), Object.fromEntries(Object.keys(services(stack)).map((n) => [n, "maintenance"])));
                // Turning it on or off touches no app workload.
                for (const d of appDeployments(normal)) assert.deepEqual(inputs(byName(maintenance, T.deployment, d.name)), inputs(d));
                for (const j of smokeJobs(normal)) assert.deepEqual(inputs(byName(maintenance, T.job, j.name)), inputs(j));
            });
        }
    });

    describe("traffic", () => {
        for (const stack of STACKS) {
            it(`${stack}: one TLS Ingress on ALB instance targets with a path per service to its live Service`, async () => {
                const r = await run(stack, { services: services(stack) });
                const config = readStackConfig(stack);
                const ingressConfig = configValue<any>(config, "ingress");
                const [ingress] = byType(r, T.ingress);
                const spec = inputs(ingress);
                const a = spec.metadata.annotations;
                assert.equal(spec.spec.ingressClassName, "alb");
                assert.equal(a["alb.ingress.kubernetes.io/target-type"], "instance");
                assert.equal(a["alb.ingress.kubernetes.io/scheme"], "internet-facing");
                assert.deepEqual(JSON.parse(a["alb.ingress.kubernetes.io/listen-ports"]), [{ HTTP: 80 }, { HTTPS: 443 }]);
                assert.equal(a["alb.ingress.kubernetes.io/ssl-redirect"], "443");
                assert.equal(a["alb.ingress.kubernetes.io/healthcheck-path"], "/health/ready");
                assert.ok(a["alb.ingress.kubernetes.io/ssl-policy"]);
                assert.equal(a["alb.ingress.kubernetes.io/certificate-arn"], ingressConfig.certificateArn);
                assert.deepEqual(spec.spec.tls, [{ hosts: [ingressConfig.host] }], "hosts for ACM discovery; the ALB reads no Secret");
                const paths = spec.spec.rules[0].http.paths;
                assert.equal(spec.spec.rules[0].host, ingressConfig.host);
                for (const [name, svc] of Object.entries<any>(services(stack))) {
                    const path = paths.find((p: any) => p.path === svc.path);
                    assert.deepEqual(path?.backend, { service: { name, port: { number: svc.port } } });
                    assert.ok(dependsOn(r, ingress, liveService(r, name)));
                }
                assert.equal(plain(r.outputs.publicUrl), `https://${ingressConfig.host}`);
                assert.deepEqual(plain(r.outputs.liveColors), Object.fromEntries(Object.entries<any>(services(stack)).map(([n, s]) => [n, s.live])));
            });

            it(`${stack}: network policies deny by default and allow the VPC in, the database and DNS out, and smoke tests to the apps`, async () => {
                const r = await run(stack, { services: services(stack) });
                const vpcCidr = configValue<string>(readStackConfig(stack), "vpcCidr");
                const policies = new Map(byType(r, T.networkPolicy).map((p) => [p.name, inputs(p).spec]));
                assert.deepEqual(policies.get("default-deny"), { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
                const dnsPorts = policies.get("allow-dns").egress[0].ports;
                assert.deepEqual(dnsPorts.map((p: any) => `${p.protocol}/${p.port}`).sort(), ["TCP/53", "UDP/53"]);
                const db = policies.get("allow-database-egress").egress[0];
                assert.deepEqual(db.to, [{ ipBlock: { cidr: vpcCidr } }]);
                assert.equal(db.ports[0].port, 5432);
                for (const [name, svc] of Object.entries<any>(services(stack))) {
                    const ingress = policies.get(`${name}-allow-ingress`);
                    assert.deepEqual(ingress.podSelector, { matchLabels: { app: name } });
                    assert.ok(ingress.ingress[0].from.some((f: any) => f.ipBlock?.cidr === vpcCidr));
                    assert.equal(ingress.ingress[0].ports[0].port, svc.port);
                    const smokeEgress = policies.get(`${name}-smoke-test-egress`);
                    const smokePodLabels = inputs(smokeJobOf(r, name, svc.live)).spec.template.metadata.labels;
                    for (const [k, v] of Object.entries(smokeEgress.podSelector.matchLabels)) assert.equal(smokePodLabels[k], v);
                    assert.deepEqual(smokeEgress.egress[0].to, [{ podSelector: { matchLabels: { app: name } } }]);
                }
            });

            it(`${stack}: with redisUrl the apps (only) may reach Redis on 6379 in the VPC; without it nothing opens 6379`, async () => {
                const vpcCidr = configValue<string>(readStackConfig(stack), "vpcCidr");
                const names = Object.keys(services(stack));
                const withRedis = await run(stack, { services: services(stack) }, false, { redisUrl: REDIS_URL });
                const without = await run(stack, { services: services(stack) });

                const redis = inputs(byName(withRedis, T.networkPolicy, "allow-redis-egress")).spec;
                assert.deepEqual(redis.podSelector, { matchExpressions: [{ key: "app", operator: "In", values: names }] });
                assert.deepEqual(redis.policyTypes, ["Egress"]);
                assert.deepEqual(redis.egress, [{ to: [{ ipBlock: { cidr: vpcCidr } }], ports: [{ protocol: "TCP", port: 6379 }] }]);
                // The apps read REDIS_URL then.
                for (const d of appDeployments(withRedis)) {
                    const env = containersOf(d)[0].env.find((e: any) => e.name === "REDIS_URL");
                    assert.deepEqual(env?.valueFrom, { secretKeyRef: { name: "app-secrets", key: "REDIS_URL" } }, d.name);
                }

                assert.equal(byType(without, T.networkPolicy).filter((p) => p.name === "allow-redis-egress").length, 0);
                const opens6379 = (p: RecordedResource) => JSON.stringify(inputs(p).spec).includes('"port":6379');
                assert.deepEqual(
                    byType(without, T.networkPolicy)
                        .filter(opens6379)
                        .map((p) => p.name),
                    [],
                );
                assert.deepEqual(
                    byType(withRedis, T.networkPolicy)
                        .filter(opens6379)
                        .map((p) => p.name),
                    ["allow-redis-egress"],
                );
                // Nothing else changes.
                const others = (r: ProgramRun) =>
                    byType(r, T.networkPolicy)
                        .filter((p) => p.name !== "allow-redis-egress")
                        .map((p) => [p.name, inputs(p)]);
                assert.deepEqual(others(withRedis), others(without));
            });

            it(`${stack}: each PrometheusRule depends on the kube-prometheus-stack release that installs its CRD`, async () => {
                const r = await run(stack, { services: services(stack) });
                const stacks = byType(r, T.helmRelease).filter((h) => /kube-prometheus-stack/.test(String(inputs(h).chart)));
                assert.equal(stacks.length, 1, "one kube-prometheus-stack release");
                const rules = byType(r, T.prometheusRule);
                assert.equal(rules.length, Object.keys(services(stack)).length);
                for (const rule of rules) assert.ok(rule.dependencies.includes(stacks[0].urn), `${rule.name} dependsOn the monitoring stack`);
            });

            it(`${stack}: the release manifest and a PrometheusRule per service`, async () => {
                const r = await run(stack, { services: services(stack) });
                const release = configValue<any>(readStackConfig(stack), "release");
                const manifest = inputs(byName(r, T.configMap, "release-manifest"));
                assert.equal(manifest.metadata.labels[ROLE_LABEL], ROLES.manifest);
                assert.deepEqual(manifest.data, {
                    environment: stack,
                    version: release.version,
                    scheduledAt: release.scheduledAt ?? "",
                    hotfix: String(release.hotfix ?? false),
                });
                for (const name of Object.keys(services(stack))) {
                    const rule = inputs(byName(r, T.prometheusRule, `${name}-alerts`));
                    assert.deepEqual(rule.metadata.labels.app, name);
                    assert.equal(rule.metadata.labels[ROLE_LABEL], ROLES.alerts);
                    const rules = rule.spec.groups.flatMap((g: any) => g.rules);
                    const byAlert = (suffix: string) => rules.find((x: any) => x.alert.endsWith(suffix));
                    assert.match(byAlert("ErrorRateAboveOnePercent").expr, /> 0\.01$/);
                    assert.equal(byAlert("ErrorRateAboveOnePercent").for, "0m");
                    assert.equal(byAlert("ErrorRateAboveOnePercent").labels.action, "rollback");
                    assert.match(byAlert("ErrorRateAboveFivePercent").expr, /> 0\.05$/);
                    assert.match(byAlert("LatencyP95AboveHalfSecond").expr, /> 0\.5$/);
                    assert.match(byAlert("LatencyP95AboveTwoSeconds").expr, /> 2$/);
                    assert.match(byAlert("PodRestarting").expr, /\[5m\]\)\) > 3$/);
                    assert.match(byAlert("CpuAboveEightyPercentOfLimit").expr, /> 0\.8$/);
                    assert.match(byAlert("MemoryAboveNinetyPercentOfLimit").expr, /> 0\.9$/);
                    for (const x of rules)
                        assert.ok(x.expr.includes(`pod=~"${name}-(blue|green)-[a-z0-9]+-[a-z0-9]+"`) || x.expr.includes(`endpoint="${name}"`), x.alert);
                }
            });
        }
    });
});
