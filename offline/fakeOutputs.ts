// Outputs the mocks return when a test runs the program as `pulumi up` would (preview: false).
// Only tests use these: the offline plan runs in preview mode, where provider outputs stay unknown.
const ACCOUNT = "123456789012";
const REGION = "us-east-1";

type Outputs = Record<string, unknown>;

const byType: Record<string, (name: string, inputs: any) => Outputs> = {
    "aws:eks/cluster:Cluster": (name, inputs) => ({
        name: inputs.name ?? name,
        endpoint: `https://${name.toUpperCase()}.gr7.${REGION}.eks.amazonaws.com`,
        certificateAuthority: { data: Buffer.from(`ca-of-${name}`).toString("base64") },
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${REGION}.amazonaws.com/id/${name.toUpperCase()}` }] }],
        vpcConfig: { ...(inputs.vpcConfig ?? {}), clusterSecurityGroupId: `sg-${name}-cluster`, vpcId: "vpc-mock" },
    }),
    "aws:rds/instance:Instance": (name, inputs) => {
        const address = `${inputs.identifier ?? name}.abcdefghijkl.${REGION}.rds.amazonaws.com`;
        return { address, endpoint: `${address}:5432`, port: inputs.port ?? 5432, resourceId: `db-${name}` };
    },
    "aws:rds/snapshot:Snapshot": (name, inputs) => ({ dbSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${inputs.dbSnapshotIdentifier ?? name}` }),
    "aws:ec2/securityGroup:SecurityGroup": (name) => ({ id: `sg-${name}` }),
    "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }),
    "random:index/randomPassword:RandomPassword": (name, inputs) => ({ result: fakePassword(name, inputs.length ?? 16) }),
};

/** Answers of the provider functions the program calls, by token (the offline runs have no cloud to ask). */
const invokeAnswers: Record<string, Outputs> = {
    "aws:index/getCallerIdentity:getCallerIdentity": { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/offline`, userId: "AIDAOFFLINE", id: ACCOUNT },
};

export function invokeAnswer(token: string): Outputs | undefined {
    return invokeAnswers[token];
}

/** The `result` a RandomPassword named `name` gets in non-preview runs: deterministic, so tests can search for it. */
export function fakePassword(name: string, length = 32): string {
    const seed = `Pw0${name.replace(/[^A-Za-z0-9]/g, "")}Zq9`;
    return seed.repeat(Math.ceil(length / seed.length)).slice(0, length);
}

export function computedOutputs(type: string, name: string, inputs: any): Outputs {
    const generic: Outputs = {
        arn: `arn:aws:mock:${REGION}:${ACCOUNT}:${type.split(":").pop()}/${name}`,
    };
    return { ...generic, ...(byType[type]?.(name, inputs) ?? {}) };
}
