// Minimal compliant resources, shaped like docs/conventions.md, for the policy tests. Each test
// breaks one property or edge of these.
import { UNKNOWN } from "../offline/wire";
import { TestResource, urnOf, withUrn } from "./policyArgs";
import { ANNOTATIONS, ROLES, ROLE_LABEL } from "../conventions";

export const NS = "api-platform-prod";
export const ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform";
export const TAGS = { project: "release-platform", environment: "prod", owner: "platform-team", "managed-by": "pulumi" };

type R = TestResource & { urn: string };

export function container(name: string, image: string, extra: Record<string, any> = {}): Record<string, any> {
    return {
        name,
        image,
        resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1Gi" } },
        livenessProbe: { httpGet: { path: "/health/live", port: 3000 } },
        readinessProbe: { httpGet: { path: "/health/ready", port: 3000 } },
        securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        env: [
            { name: "NODE_ENV", value: "production" },
            { name: "LOG_LEVEL", value: "info" },
            { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "app-secrets", key: "DATABASE_URL" } } },
        ],
        ...extra,
    };
}

export function deployment(service: string, color: string, replicas = 5, version = "1.2.3"): R {
    const labels = { app: service, color };
    return withUrn({
        type: "kubernetes:apps/v1:Deployment",
        name: `${service}-${color}`,
        props: {
            metadata: { name: `${service}-${color}`, namespace: NS, labels },
            spec: {
                replicas,
                selector: { matchLabels: labels },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels: { ...labels, "app.kubernetes.io/name": service } },
                    spec: {
                        automountServiceAccountToken: false,
                        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                        topologySpreadConstraints: [
                            {
                                maxSkew: 1,
                                topologyKey: "topology.kubernetes.io/zone",
                                whenUnsatisfiable: "ScheduleAnyway",
                                labelSelector: { matchLabels: labels },
                            },
                        ],
                        containers: [container(service, `${ECR}/${service}:${version}`)],
                    },
                },
            },
        },
    });
}

export function job(name: string, labels: Record<string, string>, annotations: Record<string, string> = {}, dependencies: string[] = []): R {
    const c = container("run", `${ECR}/migrations:1.2.3`);
    delete c.livenessProbe;
    delete c.readinessProbe;
    return withUrn({
        type: "kubernetes:batch/v1:Job",
        name,
        dependencies,
        props: {
            metadata: { name, namespace: NS, labels, annotations },
            spec: {
                template: {
                    metadata: { labels },
                    spec: {
                        restartPolicy: "Never",
                        automountServiceAccountToken: false,
                        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [c],
                    },
                },
            },
        },
    });
}

export function smokeJob(service: string, color: string): R {
    return job(
        `${service}-smoke-${color}-1-2-3`,
        { [ROLE_LABEL]: ROLES.smokeTest, app: service, color },
        { [ANNOTATIONS.targetService]: `${service}-${color}` },
    );
}

export function service(name: string, selector: Record<string, string>, role = "live", dependencies: string[] = []): R {
    return withUrn({
        type: "kubernetes:core/v1:Service",
        name,
        dependencies,
        props: {
            metadata: { name, namespace: NS, labels: { [ROLE_LABEL]: role } },
            spec: { type: role === "live" ? "NodePort" : "ClusterIP", selector, ports: [{ port: 80, targetPort: 3000 }] },
        },
    });
}

export function k8s(type: string, name: string, props: Record<string, any>): R {
    return withUrn({ type, name, props: { ...props, metadata: { name, namespace: NS, ...(props.metadata ?? {}) } } });
}

export function aws(type: string, name: string, props: Record<string, any>, more: Partial<TestResource> = {}): R {
    return withUrn({ type, name, props: { tags: TAGS, ...props }, ...more });
}

export const PARAMETER_GROUP = "prod-db-postgres16";

export const rdsPrimary = () =>
    aws(
        "aws:rds/instance:Instance",
        "prod-db",
        {
            identifier: "prod-db",
            storageEncrypted: true,
            publiclyAccessible: false,
            backupRetentionPeriod: 14,
            deletionProtection: true,
            skipFinalSnapshot: false,
            finalSnapshotIdentifier: "prod-db-final",
            multiAz: true,
            parameterGroupName: PARAMETER_GROUP,
        },
        { protect: true },
    );

/** A whole compliant release: one service live on blue, green idle, a migration behind its snapshot, network and cluster. */
export function releaseGraph(): R[] {
    const db = rdsPrimary();
    const replica = aws(
        "aws:rds/instance:Instance",
        "prod-db-replica-1",
        {
            identifier: "prod-db-replica-1",
            replicateSourceDb: UNKNOWN,
            deletionProtection: true,
            publiclyAccessible: false,
            parameterGroupName: PARAMETER_GROUP,
        },
        { propertyDependencies: { replicateSourceDb: [db.urn] }, dependencies: [db.urn] },
    );
    const snapshot = aws(
        "aws:rds/snapshot:Snapshot",
        "prod-db-snapshot-1-2-3",
        { dbSnapshotIdentifier: "prod-db-snapshot-1-2-3", dbInstanceIdentifier: "prod-db" },
        { propertyDependencies: { dbInstanceIdentifier: [db.urn] }, dependencies: [db.urn] },
    );
    const migration = job("migrate-1-2-3", { [ROLE_LABEL]: ROLES.migration }, { [ANNOTATIONS.database]: "prod-db" }, [snapshot.urn]);
    const blue = deployment("auth-service", "blue", 5, "1.2.2");
    const green = deployment("auth-service", "green", 5, "1.2.3");
    const smokeBlue = smokeJob("auth-service", "blue");
    const live = service("auth-service", { app: "auth-service", color: "blue" }, "live", [smokeBlue.urn]);
    const preview = service("auth-service-preview", { app: "auth-service", color: "green" }, "preview");
    // What each color's smoke test targets: a Service selecting that color alone.
    const colorServices = ["blue", "green"].map((color) => service(`auth-service-${color}`, { app: "auth-service", color }, ROLES.color));
    const vpc = aws("aws:ec2/vpc:Vpc", "network-vpc", { cidrBlock: "10.20.0.0/16" });
    const subnets = ["a", "b", "c"].map((z) =>
        aws(
            "aws:ec2/subnet:Subnet",
            `network-private-${z}`,
            { vpcId: UNKNOWN, availabilityZone: `us-east-1${z}`, cidrBlock: "10.20.0.0/20" },
            { propertyDependencies: { vpcId: [vpc.urn] } },
        ),
    );
    return [
        withUrn({ type: "pulumi:pulumi:Stack", name: "release-platform-prod", custom: false }),
        k8s("kubernetes:core/v1:Namespace", NS, { metadata: { namespace: undefined } }),
        blue,
        green,
        smokeBlue,
        smokeJob("auth-service", "green"),
        live,
        preview,
        ...colorServices,
        k8s("kubernetes:policy/v1:PodDisruptionBudget", "auth-service-blue", {
            spec: { maxUnavailable: 1, selector: { matchLabels: { app: "auth-service", color: "blue" } } },
        }),
        k8s("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny", { spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } }),
        k8s("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "auth-service-alerts", {
            metadata: { labels: { app: "auth-service", [ROLE_LABEL]: ROLES.alerts } },
            spec: {
                groups: [
                    {
                        name: "auth-service-alerts",
                        rules: [
                            { alert: "AuthServiceNoReadyEndpoints", expr: 'sum(kube_endpoint_address{endpoint="auth-service", ready="true"}) == 0', for: "1m" },
                            {
                                alert: "AuthServiceErrorRateHigh",
                                expr: 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05',
                                for: "1m",
                            },
                        ],
                    },
                ],
            },
        }),
        k8s("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "auth-service-blue", {
            spec: { minReplicas: 5, maxReplicas: 50, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "auth-service-blue" } },
        }),
        k8s("kubernetes:networking.k8s.io/v1:Ingress", "api", {
            metadata: { annotations: { "alb.ingress.kubernetes.io/target-type": "instance" } },
            spec: {
                ingressClassName: "alb",
                tls: [{ hosts: ["api.example.com"], secretName: "api-tls-cert" }],
                rules: [
                    {
                        host: "api.example.com",
                        http: { paths: [{ path: "/v1/auth", pathType: "Prefix", backend: { service: { name: "auth-service", port: { number: 80 } } } }] },
                    },
                ],
            },
        }),
        k8s("kubernetes:core/v1:ConfigMap", "release-manifest", {
            metadata: { labels: { [ROLE_LABEL]: ROLES.manifest } },
            data: { environment: "prod", version: "1.2.3", scheduledAt: "2026-11-26T14:30:00-05:00", hotfix: "false" },
        }),
        aws("aws:rds/parameterGroup:ParameterGroup", PARAMETER_GROUP, {
            name: PARAMETER_GROUP,
            family: "postgres16",
            parameters: [{ name: "rds.force_ssl", value: "1" }],
        }),
        db,
        replica,
        snapshot,
        migration,
        vpc,
        aws("aws:ec2/flowLog:FlowLog", "network-flow-log", { vpcId: UNKNOWN, trafficType: "ALL" }, { propertyDependencies: { vpcId: [vpc.urn] } }),
        ...subnets,
        aws("aws:kms/key:Key", "cluster-secrets-key", { enableKeyRotation: true }),
        aws("aws:eks/cluster:Cluster", "cluster", {
            version: "1.34",
            encryptionConfig: { provider: { keyArn: UNKNOWN }, resources: ["secrets"] },
            enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
            vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"], subnetIds: [UNKNOWN, UNKNOWN, UNKNOWN] },
        }),
        aws(
            "aws:eks/nodeGroup:NodeGroup",
            "cluster-nodes",
            { subnetIds: [UNKNOWN, UNKNOWN, UNKNOWN], scalingConfig: { minSize: 3, desiredSize: 6, maxSize: 30 } },
            { propertyDependencies: { subnetIds: subnets.map((s) => s.urn) } },
        ),
        aws("aws:ec2/securityGroup:SecurityGroup", "database-sg", {
            vpcId: UNKNOWN,
            ingress: [{ fromPort: 5432, toPort: 5432, protocol: "tcp", cidrBlocks: ["10.20.0.0/16"] }],
        }),
    ];
}

/** A copy of `r` with `change` applied to its props (and, for options such as `protect`, to the copy itself). */
export function withProps<T extends TestResource>(r: T, change: (props: any, r: T) => void): T {
    const copy = structuredClone(r);
    change(copy.props, copy);
    return copy;
}

/** Replaces the resource named `name` with `change(resource)`. */
export function edit(graph: R[], name: string, change: (r: R) => R): R[] {
    const found = graph.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name} in the graph`);
    return graph.map((r) => (r === found ? change(structuredClone(r)) : r));
}

export function find(graph: R[], name: string): R {
    const found = graph.find((r) => r.name === name);
    if (!found) throw new Error(`no resource ${name}`);
    return found;
}

export { UNKNOWN, urnOf };
