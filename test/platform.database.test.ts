// The database (RDS primary, replicas, snapshots, alarms) and its members,
// checked on the resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import { byName, byType, configValue, inputs, plain, ProgramRun, readStackConfig, UNKNOWN } from "./harness";
import { Database } from "../components/database";
import { parseStackConfig, PROJECT } from "../config";
import { appSecret, construct, migrationJobs, only, primaryOf, replicasOf, resolved, RESTORE_FROM, sources, T, recordedPlatform } from "./support/platform";

const runs = recordedPlatform();

describe("platform: database", () => {
    it("runs an encrypted, protected, private primary with backups and a final snapshot", () => {
        for (const { name, run } of runs.stacks) {
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
        for (const { run } of runs.stacks) {
            const group = inputs(only(run, T.parameterGroup));
            assert.equal(group.family, "postgres16");
            assert.ok(group.parameters.some((p: any) => p.name === "rds.force_ssl" && p.value === "1"));
        }
    });

    it("has read replicas only in prod, protected, replicating the primary", () => {
        assert.equal(replicasOf(runs.staging).length, 0);
        assert.equal(byType(runs.staging, T.rds).length, 1);
        const replicas = replicasOf(runs.prodLive);
        assert.equal(replicas.length, 2);
        const config = configValue(runs.prodLive.source, "database");
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
        for (const { run } of [...runs.stacks, { run: runs.prodLive }]) {
            const group = byName(run, T.securityGroup, "database-sg");
            assert.equal(inputs(group).ingress, undefined, "no inline ingress");
            const rules = byType(run, T.ingressRule).filter((r) => sources(run, r, "securityGroupId").some((g) => g.urn === group.urn));
            assert.equal(rules.length, 1);
            const rule = inputs(rules[0]);
            assert.equal(rule.cidrIpv4, undefined);
            assert.equal(rule.cidrIpv6, undefined);
            assert.equal(rule.prefixListId, undefined);
            assert.deepEqual([rule.ipProtocol, rule.fromPort, rule.toPort], ["tcp", 5432, 5432]);
            assert.deepEqual(
                sources(run, rules[0], "referencedSecurityGroupId").map((g) => g.name),
                ["cluster-nodes"],
            );
            assert.equal(byType(run, T.legacyRule).length, 0);
        }
        const nodeSgOnNodes = inputs(only(runs.prodLive, T.launchTemplate)).vpcSecurityGroupIds[0];
        const dbRule = byType(runs.prodLive, T.ingressRule).find((r) => r.name.startsWith("database-"))!;
        assert.notEqual(nodeSgOnNodes, UNKNOWN);
        assert.equal(inputs(dbRule).referencedSecurityGroupId, nodeSgOnNodes);
    });

    it("encrypts with KMS keys that all rotate", () => {
        for (const { run } of runs.stacks) {
            const keys = byType(run, T.kmsKey);
            assert.ok(keys.length >= 2);
            for (const key of keys) assert.equal(inputs(key).enableKeyRotation, true, key.name);
            assert.equal(byName(run, T.kmsKey, "database-storage").protect, true, "the database's key is protected");
        }
    });

    it("snapshots the primary before each release's migration and keeps the snapshot when the release leaves the config", () => {
        for (const { name, run } of [...runs.stacks, { name: "prod", run: runs.prodLive }]) {
            const snapshot = only(run, T.snapshot);
            assert.equal(inputs(snapshot).dbSnapshotIdentifier, `${name}-db-snapshot-1-2-3`);
            assert.equal(snapshot.retainOnDelete, true);
            assert.deepEqual(
                sources(run, snapshot, "dbInstanceIdentifier").map((r) => r.urn),
                [primaryOf(run).urn],
            );
        }
        assert.equal(inputs(only(runs.prodLive, T.snapshot)).dbInstanceIdentifier, "prod-db");
        assert.deepEqual(plain(runs.prodLive.outputs.preMigrationSnapshotIds), { "1.2.3": "prod-db-snapshot-1-2-3" });
    });

    it("alarms on CPU, free storage and each replica's lag", () => {
        const alarms = (run: ProgramRun) => byType(run, T.alarm).map(inputs);
        for (const { run } of runs.stacks) {
            const cpu = alarms(run).find((a) => a.metricName === "CPUUtilization")!;
            assert.deepEqual([cpu.comparisonOperator, cpu.threshold], ["GreaterThanThreshold", 80]);
            const storage = alarms(run).find((a) => a.metricName === "FreeStorageSpace")!;
            const allocatedBytes = configValue(run.source, "database").allocatedStorage * 1024 ** 3;
            assert.deepEqual([storage.comparisonOperator, storage.threshold], ["LessThanThreshold", allocatedBytes / 10]);
        }
        assert.equal(alarms(runs.staging).filter((a) => a.metricName === "ReplicaLag").length, 0);
        const lag = alarms(runs.prodLive).filter((a) => a.metricName === "ReplicaLag");
        assert.deepEqual(lag.map((a) => a.dimensions.DBInstanceIdentifier).sort(), ["prod-db-replica-1", "prod-db-replica-2"]);
        assert.ok(lag.every((a) => a.threshold === 30));
        const topicArn = plain(runs.prodLive.outputs.databaseAlarmTopicArn);
        assert.match(topicArn, /^arn:aws:/);
        for (const alarm of alarms(runs.prodLive)) {
            assert.deepEqual(alarm.alarmActions, [topicArn], `${alarm.metricName} notifies the alarm topic`);
            assert.deepEqual(alarm.okActions, [topicArn]);
        }
    });

    it("restores the configured snapshot into a new protected instance, keeps the original, and points the services at the copy", () => {
        const restored = byName(runs.restoring, T.rds, "database-restore");
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
        assert.equal(db.maxAllocatedStorage, configValue(runs.restoring.source, "database").maxAllocatedStorage);
        assert.equal(inputs(only(runs.restoring, T.parameterGroup)).family, "postgres16");
        assert.equal(inputs(primaryOf(runs.restoring)).engineVersion, "16");
        assert.equal(inputs(primaryOf(runs.restoring)).identifier, "prod-db");
        assert.equal(primaryOf(runs.restoring).protect, true);
        assert.equal(byType(runs.restoring, T.snapshot).length, 0);
        assert.equal(migrationJobs(runs.restoring).length, 0);

        const secret = inputs(appSecret(runs.restoring));
        assert.match(secret.stringData.DATABASE_URL, /@prod-db-restore\.[a-z0-9.-]+:5432\/api_platform\?sslmode=require$/);
        assert.match(plain(runs.restoring.outputs.databaseEndpoint), /^prod-db-restore\./);
        assert.doesNotMatch(inputs(appSecret(runs.prodLive)).stringData.DATABASE_URL, /prod-db-restore/);
    });

    it("gives the restored instance read replicas of its own and keeps the original's", () => {
        const sourceOf = (run: ProgramRun) =>
            byType(run, T.rds)
                .map(inputs)
                .filter((db) => db.replicateSourceDb)
                .map((db) => `${db.identifier} <- ${db.replicateSourceDb}`)
                .sort();
        const replicas = configValue(runs.restoring.source, "database").readReplicas;
        const expected = (source: string) => Array.from({ length: replicas }, (_, i) => `${source}-replica-${i + 1} <- ${source}`);
        assert.deepEqual(sourceOf(runs.restoring), [...expected("prod-db"), ...expected("prod-db-restore")].sort());
        for (const r of byType(runs.restoring, T.rds).filter((x) => inputs(x).replicateSourceDb)) assert.equal(r.protect, true, r.name);
        const endpoints = plain<string[]>(runs.restoring.outputs.databaseReplicaEndpoints);
        assert.equal(endpoints.length, replicas);
        for (const endpoint of endpoints) assert.match(endpoint, /^prod-db-restore-replica-\d\./);
        const lagAlarms = byType(runs.restoring, T.alarm)
            .map(inputs)
            .filter((a) => a.metricName === "ReplicaLag");
        assert.deepEqual(
            lagAlarms.map((a) => a.dimensions.DBInstanceIdentifier).sort(),
            expected("prod-db-restore").map((s) => s.split(" ")[0]),
        );
    });
});

// ---- app namespace and migrations ------------------------------------------------------------------

describe("platform: database members", () => {
    function databaseFor(name: string, restoreFromSnapshot?: string): Database {
        const source = readStackConfig("prod");
        const database = { ...configValue(source, "database"), ...(restoreFromSnapshot ? { restoreFromSnapshot } : {}) };
        const raw = { ...source.config, [`${PROJECT}:database`]: JSON.stringify(database), [`${PROJECT}:migrations`]: "[]" };
        const config = parseStackConfig(raw, "prod", source.file, source.secretKeys);
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
