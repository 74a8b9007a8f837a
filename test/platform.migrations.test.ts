// The app namespace and the migration Jobs,
// checked on the resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { byType, configValue, dependsOn, inputs, readStackConfig } from "./harness";
import { MIGRATION_DEADLINE_SECONDS, MigrationJob } from "../components/migrationJob";
import { parseStackConfig } from "../config";
import { ANNOTATIONS, ROLE_LABEL, ROLES } from "../conventions";
import { appSecret, chartRelease, construct, isSecretAt, migrationJob, only, REDIS_URL, T, recordedPlatform } from "./support/platform";

const runs = recordedPlatform();

describe("platform: app namespace and migrations", () => {
    it("enforces the restricted pod security standard on the app namespace", () => {
        for (const { run } of runs.stacks) {
            const ns = inputs(only(run, T.namespace));
            assert.equal(ns.metadata.name, configValue(run.source, "namespace"));
            assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        }
    });

    it("creates the namespace, and so everything in it, only after the nodes, add-ons and platform charts", () => {
        for (const { run } of [...runs.stacks, { run: runs.prodLive }]) {
            const ns = only(run, T.namespace);
            const controller = chartRelease(run, "aws-load-balancer-controller");
            assert.ok(dependsOn(run, ns, controller), "the controller's webhooks admit Services and Ingresses");
            assert.ok(dependsOn(run, ns, only(run, T.nodeGroup)));
            for (const r of [...byType(run, T.addon), ...byType(run, T.helm)]) assert.ok(dependsOn(run, ns, r), r.name);
        }
        const namespace = configValue(runs.prodLive.source, "namespace");
        const controller = chartRelease(runs.prodLive, "aws-load-balancer-controller");
        const inNamespace = runs.prodLive.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && inputs(r).metadata?.namespace === namespace);
        assert.ok(inNamespace.length >= 10, `only ${inNamespace.length} resources in the namespace`);
        for (const r of inNamespace) assert.ok(dependsOn(runs.prodLive, r, controller), `${r.type} ${r.name}`);
    });

    it("awaits a migration Job as long as its deadline allows, not the provider's default 10 minutes", async () => {
        const source = readStackConfig("prod");
        const [migration] = parseStackConfig(source.config, "prod", source.file, source.secretKeys).migrations;
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
        const withRedis = appSecret(runs.restoring);
        assert.equal(inputs(withRedis).stringData.REDIS_URL, REDIS_URL);
        assert.ok(isSecretAt(withRedis.inputs, ["stringData", "REDIS_URL"]));
        assert.deepEqual(Object.keys(inputs(appSecret(runs.prodLive)).stringData).sort(), ["DATABASE_URL", "JWT_SECRET"]);
    });

    it("runs each release's migration as a restricted, one-shot Job after its snapshot", () => {
        for (const { run } of [...runs.stacks, { run: runs.prodLive }]) {
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
        const live = inputs(migrationJob(runs.prodLive));
        assert.equal(live.metadata.annotations[ANNOTATIONS.database], "prod-db");
        assert.equal(live.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name, "app-secrets");
    });
});
