// What the platform tests share: the shipped stacks' recorded runs (evaluated once per test
// process) and the queries over them.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { computedOutputs } from "../../offline/fakeOutputs";
import { startRecording } from "../../offline/program";
import { ROLES, ROLE_LABEL } from "../../conventions";
import { byName, byType, byUrn, configValue, inputs, isSecretValue, ProgramRun, readStackConfig, RecordedResource, ROOT, runProgram } from "../harness";

export const RESTORE_FROM = "prod-db-snapshot-1-2-3";
export const REDIS_URL = "rediss://default:redis-pass-123@cache.example.com:6379";
/** The alert receivers' credentials of the `restoring` run, set as secrets. */
export const CHAT_WEBHOOK_URL = "https://hooks.slack.com/services/T0EXAMPLE/B0EXAMPLE/chatwebhooktoken456";
export const PAGING_ROUTING_KEY = "pagingroutingkey0123456789abcdef";

export interface Stack {
    name: "staging" | "prod";
    run: ProgramRun;
}

export interface PlatformRuns {
    staging: ProgramRun;
    prod: ProgramRun;
    /** prod as `pulumi up` would run it: provider outputs are known, so secrecy and values can be read. */
    prodLive: ProgramRun;
    /** prod rolling back: restoring the pre-migration snapshot, with a Redis URL and known alert receivers configured. */
    restoring: ProgramRun;
    stacks: Stack[];
}

let runs: Promise<PlatformRuns> | undefined;

/** The runs every platform test file reads, evaluated once (runs are serialized: the Pulumi runtime is global). */
export function platformRuns(): Promise<PlatformRuns> {
    runs ??= evaluate();
    return runs;
}

/**
 * The platform runs for a spec file: registers a `before` hook that fills the returned object,
 * so tests read `runs.prod`, `runs.stacks`, … once the hook has run.
 */
export function recordedPlatform(): PlatformRuns {
    const recorded = {} as PlatformRuns;
    before(async function () {
        this.timeout(300_000);
        Object.assign(recorded, await platformRuns());
    });
    return recorded;
}

async function evaluate(): Promise<PlatformRuns> {
    const staging = await runProgram({ stack: "staging" });
    const prod = await runProgram({ stack: "prod" });
    const prodLive = await runProgram({ stack: "prod", preview: false });
    const prodDatabase = configValue(readStackConfig("prod"), "database");
    const restoring = await runProgram({
        stack: "prod",
        preview: false,
        overrides: { database: { ...prodDatabase, restoreFromSnapshot: RESTORE_FROM }, migrations: [] },
        secrets: { redisUrl: REDIS_URL, alertChatWebhookUrl: CHAT_WEBHOOK_URL, alertPagingRoutingKey: PAGING_ROUTING_KEY },
    });
    return {
        staging,
        prod,
        prodLive,
        restoring,
        stacks: [
            { name: "staging", run: staging },
            { name: "prod", run: prod },
        ],
    };
}

export const T = {
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
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
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
    alertmanagerConfig: "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    podMonitor: "kubernetes:monitoring.coreos.com/v1:PodMonitor",
    deployment: "kubernetes:apps/v1:Deployment",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    job: "kubernetes:batch/v1:Job",
};

export const ZONES = { staging: 2, prod: 3 };
export const STANDARD_TAG_KEYS = ["project", "environment", "owner", "managed-by"];

export function only(run: ProgramRun, type: string): RecordedResource {
    const found = byType(run, type);
    assert.equal(found.length, 1, `expected exactly one ${type}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

/** The app namespace's Secret (the monitoring namespace has the alert receivers' Secret too). */
export function appSecret(run: ProgramRun): RecordedResource {
    return byName(run, T.k8sSecret, "app-secrets");
}

/** The Helm release of a chart. */
export function chartRelease(run: ProgramRun, chart: string): RecordedResource {
    const found = byType(run, T.helm).filter((r) => inputs(r).chart === chart);
    assert.equal(found.length, 1, `expected one ${chart} release`);
    return found[0];
}

/** Asserts that exactly one service account may assume `role`, through the cluster's OIDC provider. */
export function assertIrsaTrust(run: ProgramRun, role: RecordedResource, serviceAccount: string): void {
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

export interface Registration {
    type: string;
    name: string;
    customTimeouts: { create: string; update: string; delete: string } | undefined;
}

/**
 * Builds components directly under mocks, as `pulumi up` would (provider outputs known), for
 * members and resource options the program's recorded run doesn't show. Returns what was built and
 * what it registered.
 */
export async function construct<T>(build: () => T): Promise<{ built: T; registered: Registration[] }> {
    const registered: Registration[] = [];
    const recording = await startRecording({
        stack: "unit",
        preview: false,
        onRegister: (req, r) => {
            const timeouts = req.getCustomtimeouts();
            registered.push({
                type: r.type,
                name: r.name,
                customTimeouts: timeouts ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : undefined,
            });
        },
    });
    const built = build();
    await recording.settled();
    return { built, registered };
}

export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => resolve(value)));
}

/** Resources a property of `r` was computed from. */
export function sources(run: ProgramRun, r: RecordedResource, property: string): RecordedResource[] {
    return (r.propertyDependencies[property] ?? []).map((urn) => byUrn(run, urn));
}

/** Migration Jobs only: other components run Jobs too (smoke tests). */
export function migrationJobs(run: ProgramRun): RecordedResource[] {
    return byType(run, T.job).filter((j) => inputs(j).metadata?.labels?.[ROLE_LABEL] === ROLES.migration);
}

export function migrationJob(run: ProgramRun): RecordedResource {
    const jobs = migrationJobs(run);
    assert.equal(jobs.length, 1, `expected one migration Job, got ${jobs.map((j) => j.name).join(", ")}`);
    return jobs[0];
}

export function primaryOf(run: ProgramRun): RecordedResource {
    return byName(run, T.rds, "database-primary");
}

export function replicasOf(run: ProgramRun): RecordedResource[] {
    return byType(run, T.rds).filter((r) => inputs(r).replicateSourceDb !== undefined);
}

/** Whether the value at `keys` is a secret, or sits inside one. */
export function isSecretAt(value: unknown, keys: string[]): boolean {
    if (isSecretValue(value)) return true;
    if (keys.length === 0 || !value || typeof value !== "object") return false;
    return isSecretAt((value as Record<string, unknown>)[keys[0]], keys.slice(1));
}

/** The recorded values with every secret replaced, i.e. what anyone without the key can read. */
export function redacted(value: unknown): unknown {
    if (isSecretValue(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(redacted);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redacted(v)]));
    return value;
}

export function visibleText(run: ProgramRun): string {
    return JSON.stringify(redacted({ inputs: run.resources.map((r) => r.inputs), outputs: run.outputs }));
}

const argsAcceptTags = new Map<string, boolean>();

/** Whether the SDK typings (the ground truth) give the resource a `tags` input. */
export function acceptsTags(type: string): boolean {
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
