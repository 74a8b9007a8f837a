// AWS policies: RDS, EKS, KMS, security groups, VPC flow logs and tags.
import { PolicyResource } from "@pulumi/policy";
import {
    EKS_SUPPORTED_VERSIONS,
    MAX_BACKUP_RETENTION_DAYS,
    MIN_AVAILABILITY_ZONES,
    PROD_MIN_BACKUP_RETENTION_DAYS,
    PROD_MIN_READ_REPLICAS,
} from "../thresholds";
import { TAG_KEYS } from "../conventions";
import { Graph, OPEN_CIDRS, Props, isKnown, list, peek, resourcePolicy, stackPolicy } from "./util";

export const AWS = {
    rdsInstance: "aws:rds/instance:Instance",
    rdsSnapshot: "aws:rds/snapshot:Snapshot",
    eksCluster: "aws:eks/cluster:Cluster",
    eksNodeGroup: "aws:eks/nodeGroup:NodeGroup",
    subnet: "aws:ec2/subnet:Subnet",
    vpc: "aws:ec2/vpc:Vpc",
    flowLog: "aws:ec2/flowLog:FlowLog",
    kmsKey: "aws:kms/key:Key",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    parameterGroup: "aws:rds/parameterGroup:ParameterGroup",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
} as const;

/** A read replica: created from another instance, whose encryption, backups and final snapshot it does not own. */
export function isReadReplica(props: Props): boolean {
    const source = peek(() => props.replicateSourceDb);
    return !isKnown(source) || (source !== undefined && source !== "");
}

// ---- RDS ----------------------------------------------------------------------------------------

export const rdsStorageEncrypted = resourcePolicy({
    name: "rds-storage-encrypted",
    description: "RDS instances encrypt their storage (read replicas inherit the source's encryption).",
    types: [AWS.rdsInstance],
    check: ({ props, report }) => {
        if (isReadReplica(props)) {
            if (props.storageEncrypted === false) report("the read replica sets storageEncrypted: false; remove it so it inherits the source's encryption");
            return;
        }
        if (props.storageEncrypted !== true) report("set storageEncrypted: true (with a customer-managed kmsKeyId)");
    },
});

export const rdsNotPublic = resourcePolicy({
    name: "rds-not-publicly-accessible",
    description: "RDS instances are not publicly accessible.",
    types: [AWS.rdsInstance],
    check: ({ props, report }) => {
        if (props.publiclyAccessible === true) report("set publiclyAccessible: false; reach the database from the VPC only");
    },
});

interface BackupConfig {
    minBackupRetentionDays: number;
}

export const rdsBackupRetention = resourcePolicy<BackupConfig>({
    name: "rds-backup-retention",
    description: "Primary RDS instances keep automated backups for at least the configured number of days.",
    types: [AWS.rdsInstance],
    configSchema: {
        properties: { minBackupRetentionDays: { type: "integer", minimum: 1, maximum: MAX_BACKUP_RETENTION_DAYS, default: PROD_MIN_BACKUP_RETENTION_DAYS } },
    },
    check: ({ props, config, report }) => {
        if (isReadReplica(props)) return;
        const days = props.backupRetentionPeriod ?? 0;
        if (days < config.minBackupRetentionDays) report(`backupRetentionPeriod is ${days}; set it to at least ${config.minBackupRetentionDays} days`);
    },
});

export const rdsDeletionSafeguards = resourcePolicy({
    name: "rds-deletion-safeguards",
    description: "RDS instances have deletionProtection; primaries also take a final snapshot (skipFinalSnapshot false and a finalSnapshotIdentifier).",
    types: [AWS.rdsInstance],
    check: ({ props, report }) => {
        if (props.deletionProtection !== true) report("set deletionProtection: true");
        if (isReadReplica(props)) return;
        if (props.skipFinalSnapshot !== false) report("set skipFinalSnapshot: false so deleting the instance keeps a final snapshot");
        if (!props.finalSnapshotIdentifier) report("set finalSnapshotIdentifier (e.g. `<identifier>-final`)");
    },
});

interface MultiAzConfig {
    /** False for stacks whose baseline is a single-AZ database (staging). */
    required: boolean;
}

export const rdsMultiAz = resourcePolicy<MultiAzConfig>({
    name: "rds-multi-az",
    description: "Primary RDS instances run Multi-AZ where the stack's baseline requires it (the production database is multi-AZ).",
    types: [AWS.rdsInstance],
    configSchema: { properties: { required: { type: "boolean", default: true } } },
    check: ({ props, config, report }) => {
        if (config.required && !isReadReplica(props) && props.multiAz !== true) report("set multiAz: true (config database.multiAz)");
    },
});

export const rdsProtected = resourcePolicy({
    name: "rds-protected",
    description: "Primary RDS instances carry the Pulumi `protect` option so no `pulumi up`/`destroy` can delete them.",
    types: [AWS.rdsInstance],
    check: ({ props, args, report }) => {
        // Replicas are rebuilt from the primary; protecting them would only block scaling them in.
        if (!isReadReplica(props) && !args.opts.protect) report("add the resource option `protect: true` to the database instance");
    },
});

interface ReadReplicaConfig {
    minReadReplicas: number;
}

/** The primary instances a replica's replicateSourceDb points at: by identifier/ARN when known, else by property dependency. */
function replicaSources(graph: Graph, replica: PolicyResource, primaries: PolicyResource[]): PolicyResource[] {
    const fromGraph = graph.sourcesOf(replica, "replicateSourceDb", AWS.rdsInstance);
    if (fromGraph.length) return fromGraph;
    const source = peek(() => replica.props.replicateSourceDb);
    return primaries.filter((p) => [peek(() => p.props.identifier), peek(() => p.props.arn)].some((id) => isKnown(id) && id !== undefined && id === source));
}

export const rdsReadReplicas = stackPolicy<ReadReplicaConfig>({
    name: "rds-read-replicas",
    description: "Every primary RDS instance has at least the configured number of read replicas (production runs its database with read replicas).",
    configSchema: { properties: { minReadReplicas: { type: "integer", minimum: 0, default: PROD_MIN_READ_REPLICAS } } },
    check: ({ graph, config, report }) => {
        const instances = graph.ofType(AWS.rdsInstance);
        const primaries = instances.filter((i) => !isReadReplica(i.props));
        const replicas = instances.filter((i) => isReadReplica(i.props));
        for (const primary of primaries) {
            const count = replicas.filter((r) => replicaSources(graph, r, primaries).includes(primary)).length;
            if (count < config.minReadReplicas) {
                report(`${primary.name} has ${count} read replica(s); add ${config.minReadReplicas - count} (config database.readReplicas)`, primary.urn);
            }
        }
    },
});

/** The parameter groups an instance's parameterGroupName points at: by property dependency in preview, by name after `up`. */
function parameterGroupsOf(graph: Graph, instance: PolicyResource): PolicyResource[] {
    const fromGraph = graph.sourcesOf(instance, "parameterGroupName", AWS.parameterGroup);
    if (fromGraph.length) return fromGraph;
    const name = peek(() => instance.props.parameterGroupName);
    return graph.ofType(AWS.parameterGroup).filter((g) => {
        const own = peek(() => g.props.name);
        return isKnown(own) && isKnown(name) && own !== undefined && own === name;
    });
}

function forcesSsl(group: PolicyResource): boolean {
    const parameters = peek(() => [...(group.props.parameters ?? [])].map((p: Props) => ({ name: p.name, value: String(p.value) })));
    return isKnown(parameters) && parameters.some((p) => p.name === "rds.force_ssl" && p.value === "1");
}

export const rdsForceSsl = stackPolicy({
    name: "rds-force-ssl",
    description:
        "Every PostgreSQL RDS instance uses a parameter group of the stack that sets rds.force_ssl = 1, so the database refuses unencrypted connections and credentials never cross the VPC in clear text.",
    check: ({ graph, report }) => {
        for (const instance of graph.ofType(AWS.rdsInstance)) {
            const engine = peek(() => instance.props.engine);
            if (isKnown(engine) && engine !== undefined && !String(engine).startsWith("postgres")) continue;
            const groups = parameterGroupsOf(graph, instance);
            if (!groups.some(forcesSsl)) {
                const which = groups.length ? `parameter group ${groups.map((g) => g.name).join(", ")} does not set` : "no parameter group of the stack sets";
                report(
                    `RDS instance ${instance.name}: ${which} rds.force_ssl; add { name: "rds.force_ssl", value: "1" } to an aws.rds.ParameterGroup and set parameterGroupName`,
                    instance.urn,
                );
            }
        }
    },
});

export const rdsSnapshotNotPublic = resourcePolicy({
    name: "rds-snapshot-not-public",
    description: 'RDS snapshots are never shared publicly (sharedAccounts without "all"): a public snapshot lets any AWS account restore the whole database.',
    types: [AWS.rdsSnapshot, "aws:rds/snapshotCopy:SnapshotCopy"],
    check: ({ name, props, report }) => {
        const accounts: string[] = props.sharedAccounts ?? [];
        if (accounts.includes("all"))
            report(
                `snapshot ${props.dbSnapshotIdentifier ?? props.targetDbSnapshotIdentifier ?? name} is shared with "all"; remove "all" from sharedAccounts and list only the account IDs that need it`,
            );
    },
});

// ---- EKS ----------------------------------------------------------------------------------------

export const eksSecretsEncryption = resourcePolicy({
    name: "eks-secrets-encryption",
    description: 'EKS clusters envelope-encrypt Kubernetes secrets with KMS (encryptionConfig.resources includes "secrets").',
    types: [AWS.eksCluster],
    check: ({ props, report }) => {
        const resources: string[] = props.encryptionConfig?.resources ?? [];
        if (!resources.includes("secrets")) report('set encryptionConfig { provider.keyArn: <KMS key>, resources: ["secrets"] }');
    },
});

const CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

export const eksControlPlaneLogging = resourcePolicy({
    name: "eks-control-plane-logging",
    description: `EKS clusters enable all control-plane log types (${CONTROL_PLANE_LOGS.join(", ")}).`,
    types: [AWS.eksCluster],
    check: ({ props, report }) => {
        const enabled: string[] = props.enabledClusterLogTypes ?? [];
        const missing = CONTROL_PLANE_LOGS.filter((l) => !enabled.includes(l));
        if (missing.length) report(`add ${list(missing)} to enabledClusterLogTypes`);
    },
});

export const eksEndpointRestricted = resourcePolicy({
    name: "eks-endpoint-restricted",
    description: "A public EKS API endpoint is restricted to known CIDRs (publicAccessCidrs set and without 0.0.0.0/0).",
    types: [AWS.eksCluster],
    check: ({ props, report }) => {
        const vpc = props.vpcConfig ?? {};
        if (vpc.endpointPublicAccess === false) return;
        const cidrs: string[] = vpc.publicAccessCidrs ?? [];
        if (cidrs.length === 0)
            report(
                "the public endpoint is open to 0.0.0.0/0 (publicAccessCidrs unset); set vpcConfig.publicAccessCidrs to office/VPN CIDRs or endpointPublicAccess: false",
            );
        else if (cidrs.some((c) => OPEN_CIDRS.includes(c))) report("vpcConfig.publicAccessCidrs contains 0.0.0.0/0; list only office/VPN CIDRs");
    },
});

interface VersionConfig {
    allowedVersions: string[];
}

/** The Kubernetes minor versions an EKS cluster may pin by default (the stack config accepts the same). */
export const EKS_ALLOWED_VERSIONS = EKS_SUPPORTED_VERSIONS;

export const eksSupportedVersion = resourcePolicy<VersionConfig>({
    name: "eks-supported-version",
    description: "EKS clusters pin a supported Kubernetes version (config `allowedVersions`).",
    types: [AWS.eksCluster],
    configSchema: {
        properties: {
            allowedVersions: { type: "array", items: { type: "string" }, default: [...EKS_ALLOWED_VERSIONS] },
        },
    },
    check: ({ props, config, report }) => {
        const version = props.version;
        if (version === undefined) report(`pin version to one of ${list(config.allowedVersions)} (unset means whatever EKS defaults to)`);
        else if (!config.allowedVersions.includes(String(version))) report(`version "${version}" is not supported; use one of ${list(config.allowedVersions)}`);
    },
});

interface ZoneConfig {
    minZones: number;
}

/** Availability zones of a node group's subnets, resolved from the graph (IDs are unknown during preview). */
function nodeGroupZones(graph: Graph, nodeGroup: PolicyResource): Set<string> {
    let subnets = graph.sourcesOf(nodeGroup, "subnetIds", AWS.subnet);
    if (!subnets.length) {
        const ids = peek(() => [...(nodeGroup.props.subnetIds ?? [])]);
        subnets = isKnown(ids) ? ids.flatMap((id) => graph.byId(AWS.subnet, id)) : [];
    }
    const zones = subnets.map((s) => peek(() => s.props.availabilityZone ?? s.props.availabilityZoneId));
    return new Set(zones.filter((z): z is string => isKnown(z) && typeof z === "string"));
}

export const eksNodeGroupsSpanZones = stackPolicy<ZoneConfig>({
    name: "eks-node-groups-span-zones",
    description: "The EKS node groups' subnets together cover at least the configured number of availability zones.",
    configSchema: { properties: { minZones: { type: "integer", minimum: 1, default: MIN_AVAILABILITY_ZONES.prod } } },
    check: ({ graph, config, report, args }) => {
        const nodeGroups = graph.ofType(AWS.eksNodeGroup);
        if (!nodeGroups.length) args.notApplicable("no EKS node groups in the stack");
        const zones = new Set(nodeGroups.flatMap((ng) => [...nodeGroupZones(graph, ng)]));
        if (zones.size < config.minZones) {
            report(
                `node groups run in ${zones.size} zone(s) (${list([...zones].sort())}); spread their subnetIds over at least ${config.minZones} availability zones`,
                nodeGroups[0].urn,
            );
        }
    },
});

// ---- KMS, security groups, VPC ------------------------------------------------------------------

export const kmsKeyRotation = resourcePolicy({
    name: "kms-key-rotation",
    description: "KMS keys rotate automatically (enableKeyRotation true).",
    types: [AWS.kmsKey],
    check: ({ props, report }) => {
        if (props.enableKeyRotation !== true) report("set enableKeyRotation: true");
    },
});

interface DbPortConfig {
    databasePorts: number[];
}

/** An ingress rule: its CIDRs, and where to read ports and protocol (read only when a CIDR is open). */
interface IngressRule {
    cidrs: string[];
    ports: Props;
    protocolKey: "protocol" | "ipProtocol";
}

/** Ingress rules of the three shapes AWS resources use, normalized. */
function ingressRulesOf(type: string, props: Props): IngressRule[] {
    if (type === AWS.securityGroup) {
        return (props.ingress ?? []).map((r: Props) => ({ cidrs: [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])], ports: r, protocolKey: "protocol" }));
    }
    if (type === AWS.securityGroupRule) {
        if (props.type !== "ingress") return [];
        return [{ cidrs: [...(props.cidrBlocks ?? []), ...(props.ipv6CidrBlocks ?? [])], ports: props, protocolKey: "protocol" }];
    }
    return [{ cidrs: [props.cidrIpv4, props.cidrIpv6].filter(Boolean), ports: props, protocolKey: "ipProtocol" }];
}

function portsAdmitted(rule: IngressRule, ports: number[]): number[] {
    const protocol = String(rule.ports[rule.protocolKey] ?? "");
    if (protocol === "-1" || protocol === "all") return ports;
    const from = Number(rule.ports.fromPort ?? 0);
    const to = Number(rule.ports.toPort ?? from);
    return ports.filter((p) => p >= from && p <= to);
}

/** The open CIDRs and which of `ports` each ingress rule admits from them (rules admitting none are left out). */
function publicPorts(type: string, props: Props, ports: number[]): { open: string[]; ports: number[] }[] {
    return ingressRulesOf(type, props).flatMap((rule) => {
        const open = rule.cidrs.filter((c) => OPEN_CIDRS.includes(c));
        const admitted = open.length ? portsAdmitted(rule, ports) : [];
        return admitted.length ? [{ open, ports: admitted }] : [];
    });
}

export const noPublicDatabasePorts = resourcePolicy<DbPortConfig>({
    name: "sg-no-public-database-ports",
    description: "Security groups never admit 0.0.0.0/0 or ::/0 on a database port.",
    types: [AWS.securityGroup, AWS.securityGroupRule, AWS.ingressRule],
    configSchema: {
        properties: { databasePorts: { type: "array", items: { type: "integer" }, default: [5432, 3306, 1433, 27017, 6379] } },
    },
    check: ({ type, props, config, report }) => {
        for (const { open, ports } of publicPorts(type, props, config.databasePorts)) {
            report(`ingress from ${list(open)} admits database port(s) ${ports.join(", ")}; allow only the cluster's node security group or VPC CIDRs`);
        }
    },
});

interface AdminPortConfig {
    adminPorts: number[];
}

export const noPublicAdminPorts = resourcePolicy<AdminPortConfig>({
    name: "sg-no-public-admin-ports",
    description:
        "Security groups never admit 0.0.0.0/0 or ::/0 on SSH or another admin port (config `adminPorts`): those are the first ports scanned and brute-forced.",
    types: [AWS.securityGroup, AWS.securityGroupRule, AWS.ingressRule],
    configSchema: {
        properties: {
            adminPorts: {
                type: "array",
                items: { type: "integer" },
                default: [22, 23, 3389, 5900, 5985, 5986, 2375, 2376, 10250],
                description: "SSH, Telnet, RDP, VNC, WinRM, the Docker daemon and the kubelet.",
            },
        },
    },
    check: ({ type, name, props, config, report }) => {
        for (const { open, ports } of publicPorts(type, props, config.adminPorts)) {
            report(`${name}: ingress from ${list(open)} admits admin port(s) ${ports.join(", ")}; use SSM Session Manager or allow only the operators' CIDRs`);
        }
    },
});

export const launchTemplateImdsv2 = resourcePolicy({
    name: "ec2-launch-template-imdsv2",
    description:
        "Launch templates require IMDSv2 (metadataOptions.httpTokens: required): with IMDSv1 any request forgery on a node reads its IAM role's credentials.",
    types: [AWS.launchTemplate],
    check: ({ name, props, report }) => {
        const options = props.metadataOptions ?? {};
        if (options.httpEndpoint === "disabled") return;
        if (options.httpTokens !== "required")
            report(
                `launch template ${name} allows IMDSv1 (httpTokens ${JSON.stringify(options.httpTokens ?? "unset")}); set metadataOptions.httpTokens: "required"`,
            );
    },
});

/** Whether a flow log's vpcId points at `vpc`: by property dependency in preview, by ID after `up`. */
function flowLogCovers(graph: Graph, flowLog: PolicyResource, vpc: PolicyResource): boolean {
    if (graph.sourcesOf(flowLog, "vpcId").includes(vpc)) return true;
    const vpcId = peek(() => flowLog.props.vpcId);
    const id = peek(() => vpc.props.id);
    return isKnown(vpcId) && isKnown(id) && vpcId !== undefined && vpcId === id;
}

export const vpcFlowLogs = stackPolicy({
    name: "vpc-flow-logs",
    description: "Every VPC has a flow log (an aws:ec2/flowLog:FlowLog whose vpcId is that VPC).",
    check: ({ graph, report }) => {
        const flowLogs = graph.ofType(AWS.flowLog);
        for (const vpc of graph.ofType(AWS.vpc)) {
            if (!flowLogs.some((f) => flowLogCovers(graph, f, vpc))) {
                report(`VPC ${vpc.name} has no flow log; add an aws.ec2.FlowLog with vpcId: vpc.id and trafficType ALL`, vpc.urn);
            }
        }
    },
});

interface TagConfig {
    requiredTags: string[];
}

/** AWS types that take `tags` and are checked for the required tags. */
export const TAGGABLE_TYPES = [
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:eks/accessEntry:AccessEntry",
    "aws:rds/instance:Instance",
    "aws:rds/snapshot:Snapshot",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:kms/key:Key",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sns/topic:Topic",
    "aws:secretsmanager/secret:Secret",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:acm/certificate:Certificate",
    "aws:lb/loadBalancer:LoadBalancer",
];

export const requiredTags = resourcePolicy<TagConfig>({
    name: "aws-required-tags",
    description: "Taggable AWS resources carry the required tags (config `requiredTags`), from `tags` or the provider's defaultTags.",
    types: TAGGABLE_TYPES,
    configSchema: {
        properties: { requiredTags: { type: "array", items: { type: "string" }, default: Object.values(TAG_KEYS) } },
    },
    check: ({ props, args, config, report }) => {
        const tags = { ...(args.provider?.props.defaultTags?.tags ?? {}), ...(props.tags ?? {}) };
        const missing = config.requiredTags.filter((t) => tags[t] === undefined || tags[t] === "");
        if (missing.length) report(`add tags ${list(missing)} (the program's standardTags)`);
    },
});

export const rdsPolicies = [
    rdsStorageEncrypted,
    rdsNotPublic,
    rdsBackupRetention,
    rdsDeletionSafeguards,
    rdsMultiAz,
    rdsProtected,
    rdsReadReplicas,
    rdsForceSsl,
    rdsSnapshotNotPublic,
];
export const eksPolicies = [
    eksSecretsEncryption,
    eksControlPlaneLogging,
    eksEndpointRestricted,
    eksSupportedVersion,
    eksNodeGroupsSpanZones,
    launchTemplateImdsv2,
];
export const networkPolicies = [kmsKeyRotation, noPublicDatabasePorts, noPublicAdminPorts, vpcFlowLogs, requiredTags];

export const awsPolicies = [...rdsPolicies, ...eksPolicies, ...networkPolicies];
