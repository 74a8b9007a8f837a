// VPC with a public and a private subnet per availability zone, NAT, and flow logs.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Environment } from "../config";
import { LOG_RETENTION_DAYS, MAX_AVAILABILITY_ZONES } from "../thresholds";
import { clusterSharedTag, eksClusterName, Tags, withName } from "./tags";

export interface NetworkArgs {
    /** `staging` or `prod`: names the VPC; prod defaults to a NAT gateway per zone and 365 days of flow logs (else 90). */
    environment: Environment;
    /** Zones to spread over: a public and a private subnet and a NAT gateway in each. */
    availabilityZones: string[];
    /** The AWS region (config `aws:region`): the flow logs' role trusts only this region's flow logs. */
    region: string;
    /** VPC CIDR, /16 to /20 (validated with the stack config). */
    cidrBlock: string;
    /** Tags of every AWS resource the component creates (a `Name` is added per resource). */
    tags: Tags;
    /** One NAT gateway per zone (survives a zone outage) or one shared; defaults to per zone in prod. */
    natGatewayPerZone?: boolean;
    /** Days to keep VPC flow logs; defaults to 365 in prod, 90 elsewhere. */
    flowLogRetentionDays?: number;
}

/** The deterministic subnet layout: large private subnets for pods, small public ones for load balancers. */
export interface SubnetPlan {
    zone: string;
    publicCidr: string;
    privateCidr: string;
}

/** Up to 6 zones (the stack config allows no more): private blocks take the first 6 eighths, public blocks sit in the last eighth. */
export function planSubnets(vpcCidr: string, zones: string[]): SubnetPlan[] {
    if (zones.length > MAX_AVAILABILITY_ZONES) throw new Error(`at most ${MAX_AVAILABILITY_ZONES} availability zones fit the subnet plan, got ${zones.length}`);
    return zones.map((zone, i) => ({
        zone,
        privateCidr: cidrSubnet(vpcCidr, 3, i),
        publicCidr: cidrSubnet(vpcCidr, 6, 56 + i),
    }));
}

/** Like Terraform's cidrsubnet(): the `netnum`-th block of `prefix + newBits` bits inside `cidr`. */
export function cidrSubnet(cidr: string, newBits: number, netnum: number): string {
    const [address, bitsText] = cidr.split("/");
    const prefix = Number(bitsText) + newBits;
    if (prefix > 32 || netnum >= 2 ** newBits) throw new Error(`${cidr} has no subnet #${netnum} of /${prefix}`);
    const base = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const start = base + netnum * 2 ** (32 - prefix);
    const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
    return `${octets.join(".")}/${prefix}`;
}

export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly privateSubnetIds: pulumi.Output<string[]>;

    private readonly tags: Tags;
    private readonly prefix: string;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:aws:Network", name, {}, opts);
        this.tags = args.tags;
        this.prefix = `release-platform-${args.environment}`;
        const clusterTag = clusterSharedTag(eksClusterName(args.environment));
        const plan = planSubnets(args.cidrBlock, args.availabilityZones);

        const vpc = new aws.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: args.cidrBlock,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: { ...this.named("vpc"), ...clusterTag },
            },
            { parent: this },
        );
        const publicSubnets = plan.map(
            (p) =>
                new aws.ec2.Subnet(
                    `${name}-public-${p.zone}`,
                    {
                        vpcId: vpc.id,
                        availabilityZone: p.zone,
                        cidrBlock: p.publicCidr,
                        mapPublicIpOnLaunch: false,
                        tags: { ...this.named(`public-${p.zone}`), ...clusterTag, "kubernetes.io/role/elb": "1" },
                    },
                    { parent: this },
                ),
        );
        const privateSubnets = plan.map(
            (p) =>
                new aws.ec2.Subnet(
                    `${name}-private-${p.zone}`,
                    {
                        vpcId: vpc.id,
                        availabilityZone: p.zone,
                        cidrBlock: p.privateCidr,
                        tags: { ...this.named(`private-${p.zone}`), ...clusterTag, "kubernetes.io/role/internal-elb": "1" },
                    },
                    { parent: this },
                ),
        );

        this.routePublicSubnets(name, vpc, publicSubnets);
        const natPerZone = args.natGatewayPerZone ?? args.environment === "prod";
        const natGateways = this.natGateways(name, plan, publicSubnets, natPerZone);
        this.routePrivateSubnets(name, vpc, plan, privateSubnets, natGateways);
        this.flowLogs(name, vpc, args.region, args.flowLogRetentionDays ?? LOG_RETENTION_DAYS[args.environment]);

        this.vpcId = vpc.id;
        this.publicSubnetIds = pulumi.output(publicSubnets.map((s) => s.id));
        this.privateSubnetIds = pulumi.output(privateSubnets.map((s) => s.id));
        this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
    }

    private named(suffix: string): Tags {
        return withName(this.tags, `${this.prefix}-${suffix}`);
    }

    private routePublicSubnets(name: string, vpc: aws.ec2.Vpc, subnets: aws.ec2.Subnet[]): void {
        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: this.named("igw") }, { parent: this });
        const table = new aws.ec2.RouteTable(
            `${name}-public`,
            { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: this.named("public") },
            { parent: this },
        );
        subnets.forEach(
            (subnet, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: table.id }, { parent: this }),
        );
    }

    /** One NAT gateway per zone, or a single one in the first zone. */
    private natGateways(name: string, plan: SubnetPlan[], publicSubnets: aws.ec2.Subnet[], perZone: boolean): aws.ec2.NatGateway[] {
        const zones = perZone ? plan : plan.slice(0, 1);
        return zones.map((p, i) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${p.zone}`, { domain: "vpc", tags: this.named(`nat-${p.zone}`) }, { parent: this });
            return new aws.ec2.NatGateway(
                `${name}-nat-${p.zone}`,
                { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: this.named(`nat-${p.zone}`) },
                { parent: this },
            );
        });
    }

    private routePrivateSubnets(name: string, vpc: aws.ec2.Vpc, plan: SubnetPlan[], subnets: aws.ec2.Subnet[], natGateways: aws.ec2.NatGateway[]): void {
        plan.forEach((p, i) => {
            const nat = natGateways[Math.min(i, natGateways.length - 1)];
            const table = new aws.ec2.RouteTable(
                `${name}-private-${p.zone}`,
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: this.named(`private-${p.zone}`) },
                { parent: this },
            );
            new aws.ec2.RouteTableAssociation(`${name}-private-${p.zone}`, { subnetId: subnets[i].id, routeTableId: table.id }, { parent: this });
        });
    }

    private flowLogs(name: string, vpc: aws.ec2.Vpc, region: string, retentionInDays: number): void {
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-flow-logs`,
            { name: `/release-platform/${this.prefix}/vpc-flow-logs`, retentionInDays, tags: this.named("vpc-flow-logs") },
            { parent: this },
        );
        const role = new aws.iam.Role(
            `${name}-flow-logs`,
            { assumeRolePolicy: flowLogsTrustPolicy(region), tags: this.named("vpc-flow-logs") },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-flow-logs`,
            {
                role: role.id,
                policy: logGroup.arn.apply((arn) => JSON.stringify(flowLogsPermissions(arn))),
            },
            { parent: this },
        );
        new aws.ec2.FlowLog(
            `${name}-flow-log`,
            {
                vpcId: vpc.id,
                trafficType: "ALL",
                logDestinationType: "cloud-watch-logs",
                logDestination: logGroup.arn,
                iamRoleArn: role.arn,
                tags: this.named("vpc-flow-log"),
            },
            { parent: this },
        );
    }
}

/**
 * Lets only VPC Flow Logs of this account and region assume the role (the confused-deputy guard
 * AWS advises for service principals): `aws:SourceAccount` and `aws:SourceArn` from the caller's
 * identity at run time.
 */
export function flowLogsTrustPolicy(region: string): pulumi.Output<string> {
    return aws.getCallerIdentityOutput().accountId.apply((accountId) =>
        JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: {
                        StringEquals: { "aws:SourceAccount": accountId },
                        ArnLike: { "aws:SourceArn": `arn:aws:ec2:${region}:${accountId}:vpc-flow-log/*` },
                    },
                },
            ],
        }),
    );
}

/** What VPC Flow Logs needs to deliver to the log group `logGroupArn`. */
export function flowLogsPermissions(logGroupArn: string): object {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [logGroupArn, `${logGroupArn}:*`],
            },
            // DescribeLogGroups supports no resource-level permission: scoped to an ARN it grants
            // nothing, so it gets "*" (it only lists log groups' names and settings).
            { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        ],
    };
}
