import * as assert from "node:assert/strict";
import { Policies } from "@pulumi/policy";
import * as a from "../policies/aws";
import { FireAndQuietCase, PolicyConfigFile, TestResource, analyze, analyzeStack, fireAndQuiet, messagesOf, readPolicyConfig } from "./policyArgs";
import { UNKNOWN, aws, edit, rdsPrimary, releaseGraph, withProps } from "./policyFixtures";

async function check(policy: Policies[number], good: TestResource, bad: TestResource, expect: RegExp, config: PolicyConfigFile = {}) {
    assert.deepEqual(messagesOf(await analyze([policy], good, config)), [], `${policy.name} should stay quiet on ${good.name}`);
    const found = messagesOf(await analyze([policy], bad, config));
    assert.ok(
        found.some((m) => expect.test(m)),
        `${policy.name}: expected ${expect}, got ${JSON.stringify(found)}`,
    );
}

const replica = aws("aws:rds/instance:Instance", "prod-db-replica-1", { replicateSourceDb: UNKNOWN, deletionProtection: true });

describe("aws policies: each fires on one broken property and stays quiet on the compliant resource", () => {
    const db = rdsPrimary();
    const graph = releaseGraph();
    const cluster = graph.find((r) => r.type === a.AWS.eksCluster)!;
    const key = aws("aws:kms/key:Key", "k", { enableKeyRotation: true });
    const sg = aws("aws:ec2/securityGroup:SecurityGroup", "db", { ingress: [{ fromPort: 5432, toPort: 5432, protocol: "tcp", cidrBlocks: ["10.0.0.0/16"] }] });
    const vpc = aws("aws:ec2/vpc:Vpc", "v", {});
    const cases: FireAndQuietCase[] = [
        { policy: a.rdsStorageEncrypted, quiet: db, fire: withProps(db, (p) => delete p.storageEncrypted), expect: /set storageEncrypted: true/ },
        { policy: a.rdsNotPublic, quiet: db, fire: withProps(db, (p) => (p.publiclyAccessible = true)), expect: /set publiclyAccessible: false/ },
        {
            policy: a.rdsBackupRetention,
            quiet: db,
            fire: withProps(db, (p) => (p.backupRetentionPeriod = 3)),
            expect: /backupRetentionPeriod is 3; set it to at least 7 days/,
        },
        { policy: a.rdsDeletionSafeguards, quiet: db, fire: withProps(db, (p) => (p.deletionProtection = false)), expect: /set deletionProtection: true/ },
        { policy: a.rdsMultiAz, quiet: db, fire: withProps(db, (p) => (p.multiAz = false)), expect: /set multiAz: true/ },
        { policy: a.rdsProtected, quiet: db, fire: withProps(db, (_p, r) => (r.protect = false)), expect: /add the resource option `protect: true`/ },
        {
            policy: a.rdsReadReplicas,
            quiet: graph,
            fire: edit(graph, "prod-db-replica-1", (r) => ({ ...r, propertyDependencies: {} })),
            expect: /prod-db has 0 read replica/,
        },
        { policy: a.eksSecretsEncryption, quiet: cluster, fire: withProps(cluster, (p) => delete p.encryptionConfig), expect: /resources: \["secrets"\]/ },
        {
            policy: a.eksControlPlaneLogging,
            quiet: cluster,
            fire: withProps(cluster, (p) => (p.enabledClusterLogTypes = ["api"])),
            expect: /add "audit", "authenticator", "controllerManager", "scheduler"/,
        },
        {
            policy: a.eksEndpointRestricted,
            quiet: cluster,
            fire: withProps(cluster, (p) => (p.vpcConfig.publicAccessCidrs = ["0.0.0.0/0"])),
            expect: /contains 0\.0\.0\.0\/0/,
        },
        { policy: a.eksSupportedVersion, quiet: cluster, fire: withProps(cluster, (p) => (p.version = "1.31")), expect: /version "1\.31" is not supported/ },
        {
            policy: a.eksNodeGroupsSpanZones,
            quiet: graph,
            fire: edit(graph, "cluster-nodes", (r) => ({ ...r, propertyDependencies: { subnetIds: r.propertyDependencies!.subnetIds.slice(0, 2) } })),
            expect: /run in 2 zone\(s\) \("us-east-1a", "us-east-1b"\); spread .* at least 3/,
        },
        { policy: a.kmsKeyRotation, quiet: key, fire: withProps(key, (p) => delete p.enableKeyRotation), expect: /set enableKeyRotation: true/ },
        {
            policy: a.noPublicDatabasePorts,
            quiet: sg,
            fire: withProps(sg, (p) => (p.ingress[0].cidrBlocks = ["0.0.0.0/0"])),
            expect: /ingress from "0\.0\.0\.0\/0" admits database port\(s\) 5432/,
        },
        {
            policy: a.vpcFlowLogs,
            quiet: graph,
            fire: edit(graph, "network-flow-log", (r) => ({ ...r, propertyDependencies: {} })),
            expect: /VPC network-vpc has no flow log; add an aws\.ec2\.FlowLog/,
        },
        { policy: a.requiredTags, quiet: vpc, fire: withProps(vpc, (p) => delete p.tags.owner), expect: /add tags "owner"/ },
    ];
    for (const c of cases) fireAndQuiet(`${c.policy.name} fires on ${c.expect.source.slice(0, 50)}`, c);
});

describe("aws policies: RDS", () => {
    const db = rdsPrimary();

    it("rds-storage-encrypted (replicas inherit)", async () => {
        await check(
            a.rdsStorageEncrypted,
            db,
            withProps(db, (p) => delete p.storageEncrypted),
            /set storageEncrypted: true/,
        );
        await check(
            a.rdsStorageEncrypted,
            replica,
            withProps(replica, (p) => (p.storageEncrypted = false)),
            /read replica sets storageEncrypted: false/,
        );
    });

    it("rds-backup-retention uses the configured minimum and skips replicas", async () => {
        await check(
            a.rdsBackupRetention,
            db,
            withProps(db, (p) => (p.backupRetentionPeriod = 3)),
            /backupRetentionPeriod is 3; set it to at least 7 days/,
        );
        await check(
            a.rdsBackupRetention,
            replica,
            withProps(db, (p) => (p.backupRetentionPeriod = 3)),
            /at least 14 days/,
            { "rds-backup-retention": { minBackupRetentionDays: 14 } },
        );
    });

    it("rds-deletion-safeguards", async () => {
        await check(
            a.rdsDeletionSafeguards,
            db,
            withProps(db, (p) => (p.deletionProtection = false)),
            /set deletionProtection: true/,
        );
        await check(
            a.rdsDeletionSafeguards,
            db,
            withProps(db, (p) => (p.skipFinalSnapshot = true)),
            /set skipFinalSnapshot: false/,
        );
        await check(
            a.rdsDeletionSafeguards,
            db,
            withProps(db, (p) => delete p.finalSnapshotIdentifier),
            /set finalSnapshotIdentifier/,
        );
        await check(
            a.rdsDeletionSafeguards,
            replica,
            withProps(replica, (p) => delete p.deletionProtection),
            /set deletionProtection: true/,
        );
    });

    it("rds-multi-az applies to primaries", async () => {
        await check(
            a.rdsMultiAz,
            db,
            withProps(db, (p) => (p.multiAz = false)),
            /set multiAz: true/,
        );
        assert.deepEqual(messagesOf(await analyze([a.rdsMultiAz], replica)), []);
    });

    it("rds-multi-az is quiet where the stack's baseline is single-AZ (required: false)", async () => {
        const singleAz = withProps(db, (p) => (p.multiAz = false));
        assert.deepEqual(messagesOf(await analyze([a.rdsMultiAz], singleAz, { "rds-multi-az": { required: false } })), []);
    });

    it("rds-read-replicas counts replicas through replicateSourceDb's property dependency (unknown during preview)", async () => {
        const graph = releaseGraph();
        const config = { "rds-read-replicas": { minReadReplicas: 2 } };
        assert.deepEqual(messagesOf(await analyzeStack([a.rdsReadReplicas], graph)), []);
        assert.match(messagesOf(await analyzeStack([a.rdsReadReplicas], graph, config))[0], /prod-db has 1 read replica\(s\); add 1/);
        const detached = edit(graph, "prod-db-replica-1", (r) => ({ ...r, propertyDependencies: {} }));
        assert.match(messagesOf(await analyzeStack([a.rdsReadReplicas], detached))[0], /prod-db has 0 read replica/);
    });
});

describe("aws policies: EKS", () => {
    const cluster = releaseGraph().find((r) => r.type === a.AWS.eksCluster)!;

    it("eks-endpoint-restricted", async () => {
        await check(
            a.eksEndpointRestricted,
            cluster,
            withProps(cluster, (p) => delete p.vpcConfig.publicAccessCidrs),
            /open to 0\.0\.0\.0\/0 \(publicAccessCidrs unset\)/,
        );
        await check(
            a.eksEndpointRestricted,
            cluster,
            withProps(cluster, (p) => (p.vpcConfig.publicAccessCidrs = ["0.0.0.0/0"])),
            /contains 0\.0\.0\.0\/0/,
        );
        const privateOnly = withProps(cluster, (p) => (p.vpcConfig = { endpointPublicAccess: false, endpointPrivateAccess: true }));
        assert.deepEqual(messagesOf(await analyze([a.eksEndpointRestricted], privateOnly)), []);
    });

    it("eks-supported-version allows EKS_ALLOWED_VERSIONS by default, and both stacks' config repeats that list", async () => {
        assert.deepEqual([...a.EKS_ALLOWED_VERSIONS], ["1.32", "1.33", "1.34", "1.35"]);
        for (const version of a.EKS_ALLOWED_VERSIONS)
            assert.deepEqual(
                messagesOf(
                    await analyze(
                        [a.eksSupportedVersion],
                        withProps(cluster, (p) => (p.version = version)),
                    ),
                ),
                [],
                version,
            );
        for (const version of ["1.27", "1.31", "1.36", "1.34.0"]) {
            assert.match(
                messagesOf(
                    await analyze(
                        [a.eksSupportedVersion],
                        withProps(cluster, (p) => (p.version = version)),
                    ),
                )[0],
                /is not supported; use one of "1\.32", "1\.33", "1\.34", "1\.35"/,
                version,
            );
        }
        await check(
            a.eksSupportedVersion,
            cluster,
            withProps(cluster, (p) => delete p.version),
            /pin version/,
        );
        for (const stack of ["prod", "staging"]) {
            const entry = readPolicyConfig(stack)["eks-supported-version"] as { allowedVersions?: string[] };
            assert.deepEqual(entry.allowedVersions, [...a.EKS_ALLOWED_VERSIONS], `policies/config/${stack}.json`);
        }
    });

    it("eks-node-groups-span-zones resolves subnets through the graph and uses minZones", async () => {
        const graph = releaseGraph();
        assert.deepEqual(messagesOf(await analyzeStack([a.eksNodeGroupsSpanZones], graph)), []);
        const twoZones = edit(graph, "cluster-nodes", (r) => ({ ...r, propertyDependencies: { subnetIds: r.propertyDependencies!.subnetIds.slice(0, 2) } }));
        assert.match(
            messagesOf(await analyzeStack([a.eksNodeGroupsSpanZones], twoZones))[0],
            /run in 2 zone\(s\) \("us-east-1a", "us-east-1b"\); spread .* at least 3/,
        );
        assert.deepEqual(messagesOf(await analyzeStack([a.eksNodeGroupsSpanZones], twoZones, { "eks-node-groups-span-zones": { minZones: 2 } })), []);
    });
});

describe("aws policies: KMS, security groups, VPC, tags", () => {
    it("sg-no-public-database-ports covers inline ingress, SecurityGroupRule and SecurityGroupIngressRule", async () => {
        const sg = aws("aws:ec2/securityGroup:SecurityGroup", "db", {
            ingress: [{ fromPort: 5432, toPort: 5432, protocol: "tcp", cidrBlocks: ["10.0.0.0/16"] }],
        });
        await check(
            a.noPublicDatabasePorts,
            sg,
            withProps(sg, (p) => (p.ingress[0].cidrBlocks = ["0.0.0.0/0"])),
            /ingress from "0\.0\.0\.0\/0" admits database port\(s\) 5432/,
        );
        const rule = aws("aws:ec2/securityGroupRule:SecurityGroupRule", "r", {
            type: "ingress",
            fromPort: 443,
            toPort: 443,
            protocol: "tcp",
            cidrBlocks: ["0.0.0.0/0"],
        });
        await check(
            a.noPublicDatabasePorts,
            rule,
            withProps(rule, (p) => Object.assign(p, { fromPort: 0, toPort: 65535 })),
            /admits database port\(s\) 5432, 3306, 1433, 27017, 6379/,
        );
        const v = aws("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "v", {
            ipProtocol: "tcp",
            fromPort: 6379,
            toPort: 6379,
            cidrIpv4: "10.0.0.0/8",
        });
        await check(
            a.noPublicDatabasePorts,
            v,
            withProps(v, (p) => Object.assign(p, { cidrIpv4: undefined, cidrIpv6: "::/0" })),
            /from "::\/0" admits database port\(s\) 6379/,
        );
        await check(
            a.noPublicDatabasePorts,
            v,
            withProps(v, (p) => Object.assign(p, { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" })),
            /admits database port/,
        );
    });

    it("sg-no-public-database-ports needs the port only when the CIDR is open (ports from outputs stay unknown in preview)", async () => {
        const v = aws("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "v", {
            ipProtocol: "tcp",
            fromPort: UNKNOWN,
            toPort: UNKNOWN,
            cidrIpv4: "10.0.0.0/8",
        });
        assert.deepEqual((await analyze([a.noPublicDatabasePorts], v)).diagnostics, []);
        const open = withProps(v, (p) => (p.cidrIpv4 = "0.0.0.0/0"));
        const [d] = (await analyze([a.noPublicDatabasePorts], open)).diagnostics;
        assert.equal(d.enforcementLevel, "advisory");
        assert.match(d.message, /can't run policy 'sg-no-public-database-ports' .* during preview: .*fromPort/);
    });

    it("vpc-flow-logs follows the flow log's vpcId dependency in preview and its ID after up", async () => {
        const graph = releaseGraph();
        assert.deepEqual(messagesOf(await analyzeStack([a.vpcFlowLogs], graph)), []);
        const unlinked = edit(graph, "network-flow-log", (r) => ({ ...r, propertyDependencies: {} }));
        assert.match(messagesOf(await analyzeStack([a.vpcFlowLogs], unlinked))[0], /VPC network-vpc has no flow log; add an aws\.ec2\.FlowLog/);
        const afterUp = edit(
            edit(unlinked, "network-vpc", (r) => withProps(r, (p) => (p.id = "vpc-123"))),
            "network-flow-log",
            (r) => withProps(r, (p) => (p.vpcId = "vpc-123")),
        );
        assert.deepEqual(messagesOf(await analyzeStack([a.vpcFlowLogs], afterUp)), []);
    });

    it("aws-required-tags, with provider defaultTags counting", async () => {
        const vpc = aws("aws:ec2/vpc:Vpc", "v", {});
        await check(
            a.requiredTags,
            vpc,
            withProps(vpc, (p) => delete p.tags.owner),
            /add tags "owner"/,
        );
        const provider = { type: "pulumi:providers:aws", name: "aws", props: { defaultTags: { tags: { owner: "platform-team" } } } };
        const untagged = { ...withProps(vpc, (p) => delete p.tags.owner), provider: "urn:pulumi:prod::release-platform::pulumi:providers:aws::aws::id-1" };
        assert.deepEqual(messagesOf(await analyze([a.requiredTags], untagged, {}, [provider])), []);
        assert.deepEqual(messagesOf(await analyze([a.requiredTags], aws("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "x", { tags: undefined }))), []);
    });
});
