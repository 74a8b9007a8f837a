// Kubernetes workload and traffic policies.
import { PolicyResource, ReportViolation } from "@pulumi/policy";
import { MAINTENANCE_NAME } from "../conventions";
import {
    Container,
    Graph,
    HPA_TYPES,
    K8S,
    LONG_RUNNING_TYPES,
    Props,
    ROLES,
    ROLE_LABEL,
    WORKLOAD_TYPES,
    annotationsOf,
    containersOf,
    describeContainer,
    hasRole,
    isKnown,
    labelsOf,
    list,
    namespaceKey,
    objectName,
    peek,
    podLabelsOf,
    podSpecOf,
    replicasOf,
    resourcePolicy,
    selects,
    stackPolicy,
} from "./util";
import { restrictedPodSecurity } from "./podSecurity";

export { restrictedPodSecurity };

/** Runs `check` on every container of a workload's pod template and reports what it returns. */
function eachContainer(type: string, props: Props, report: ReportViolation, check: (c: Container) => string | undefined): void {
    for (const c of containersOf(podSpecOf(type, props))) {
        const problem = check(c);
        if (problem) report(`${describeContainer(c)}: ${problem}`);
    }
}

// ---- Workloads ----------------------------------------------------------------------------------

export const resourceRequestsAndLimits = resourcePolicy({
    name: "k8s-resource-requests-limits",
    description: "Every container of a workload sets cpu and memory requests and limits.",
    types: WORKLOAD_TYPES,
    check: ({ type, props, report }) =>
        eachContainer(type, props, report, (c) => {
            const missing = ["requests", "limits"].flatMap((kind) =>
                ["cpu", "memory"].filter((r) => c.spec.resources?.[kind]?.[r] === undefined).map((r) => `${kind}.${r}`),
            );
            return missing.length ? `set resources ${missing.join(", ")} (runbook: requests cpu 500m/memory 512Mi, limits cpu 1000m/memory 1Gi)` : undefined;
        }),
});

export const healthProbes = resourcePolicy({
    name: "k8s-health-probes",
    description: "Every container of a long-running workload has liveness and readiness probes (Jobs and CronJobs are exempt).",
    types: LONG_RUNNING_TYPES,
    check: ({ type, props, report }) =>
        eachContainer(type, props, report, (c) => {
            if (c.kind !== "container") return undefined;
            const missing = ["livenessProbe", "readinessProbe"].filter((p) => !c.spec[p]);
            return missing.length ? `add ${missing.join(" and ")} (e.g. httpGet /health)` : undefined;
        }),
});

/** Splits an image reference into registry-qualified repository, tag and digest (`nginx` → `docker.io/library/nginx`). */
export function parseImage(image: string): { repository: string; tag?: string; digest?: string } {
    let rest = image;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
    let tag: string | undefined;
    const colon = rest.lastIndexOf(":");
    if (colon > rest.lastIndexOf("/")) [rest, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
    const first = rest.split("/")[0];
    const hasRegistry = rest.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
    const repository = hasRegistry ? rest : `docker.io/${rest.includes("/") ? rest : `library/${rest}`}`;
    return { repository, tag, digest };
}

export const imagePinned = resourcePolicy({
    name: "k8s-image-pinned",
    description: "Container images are pinned to a version tag or a digest, never `latest` or untagged.",
    types: WORKLOAD_TYPES,
    check: ({ type, props, report }) =>
        eachContainer(type, props, report, (c) => {
            const image = String(c.spec.image ?? "");
            const { tag, digest } = parseImage(image);
            if (digest) return /^sha256:[a-f0-9]{64}$/.test(digest) ? undefined : `image "${image}" has a malformed digest; use "@sha256:<64 hex>"`;
            if (!tag) return `image "${image}" is untagged; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`;
            if (tag.toLowerCase() === "latest") return `image "${image}" uses "latest"; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`;
            return undefined;
        }),
});

interface RegistryConfig {
    allowedRegistries: string[];
}

export const imageAllowedRegistry = resourcePolicy<RegistryConfig>({
    name: "k8s-image-allowed-registry",
    description: "Container images come from an allowed registry (config `allowedRegistries`: prefixes of the fully-qualified image).",
    types: WORKLOAD_TYPES,
    configSchema: {
        properties: {
            allowedRegistries: {
                type: "array",
                items: { type: "string" },
                default: ["123456789012.dkr.ecr.us-east-1.amazonaws.com/"],
                description: "Allowed prefixes of `registry/repository`; Docker Hub images are matched as `docker.io/<org>/<name>`.",
            },
        },
    },
    check: ({ type, props, config, report }) =>
        eachContainer(type, props, report, (c) => {
            const image = String(c.spec.image ?? "");
            const { repository } = parseImage(image);
            return config.allowedRegistries.some((prefix) => repository.startsWith(prefix))
                ? undefined
                : `image "${image}" (${repository}) is not from an allowed registry; push it to one of ${list(config.allowedRegistries)}`;
        }),
});

export const rollingUpdateZeroUnavailable = resourcePolicy({
    name: "k8s-rolling-update-zero-unavailable",
    description: "Deployments roll out with strategy RollingUpdate and maxUnavailable 0, so capacity never drops during a rollout.",
    types: [K8S.deployment],
    check: ({ props, report }) => {
        const strategy = props.spec?.strategy ?? {};
        if ((strategy.type ?? "RollingUpdate") !== "RollingUpdate") {
            report(`strategy.type is "${strategy.type}"; use RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge ≥ 1`);
            return;
        }
        const maxUnavailable = strategy.rollingUpdate?.maxUnavailable;
        if (maxUnavailable !== 0 && maxUnavailable !== "0" && maxUnavailable !== "0%") {
            report(`rollingUpdate.maxUnavailable is ${maxUnavailable === undefined ? "unset (defaults to 25%)" : JSON.stringify(maxUnavailable)}; set it to 0 (and maxSurge ≥ 1)`);
        }
    },
});

interface SecretEnvConfig {
    sensitiveNamePattern: string;
}

/**
 * Sensitive variable names. SECRET, PASSWORD, PASSWD, TOKEN and CREDENTIAL count anywhere in the
 * name; KEY only as a whole `_`-separated word (API_KEY, STRIPE_KEY, SIGNING_KEY_PEM) or glued to
 * API/PRIVATE (APIKEY), so names that merely start with the letters (KEYCLOAK_REALM, KEYSPACE) stay quiet.
 */
export const SENSITIVE_ENV_NAME = "SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|(^|_|API|PRIVATE)KEYS?(_|$)";

const CREDENTIALS_IN_URL = /:\/\/[^/\s:@]+:[^/\s@]+@/;
const URL_NAME = /_(URL|URI|DSN)$/i;

/**
 * A sensitive name with any literal value (even one unknown during preview) is a violation; other
 * literals only when they embed credentials. An unknown `*_URL` literal is read through the proxy so
 * the analyzer reports that it can only be decided at `up`.
 */
function isLiteralSecret(e: Props, sensitiveName: RegExp): boolean {
    const value = peek(() => e.value);
    if (value === undefined || value === "") return false;
    if (sensitiveName.test(e.name)) return true;
    if (isKnown(value)) return CREDENTIALS_IN_URL.test(String(value));
    return URL_NAME.test(e.name) ? CREDENTIALS_IN_URL.test(String(e.value)) : false;
}

export const noLiteralSecretsInEnv = resourcePolicy<SecretEnvConfig>({
    name: "k8s-no-literal-secrets-in-env",
    description: "Sensitive environment variables (names with SECRET/PASSWORD/TOKEN/CREDENTIAL or the word KEY, URLs with credentials) come from valueFrom.secretKeyRef, never a literal value.",
    types: WORKLOAD_TYPES,
    configSchema: {
        properties: {
            sensitiveNamePattern: {
                type: "string",
                default: SENSITIVE_ENV_NAME,
                description: "Case-insensitive regular expression for sensitive variable names.",
            },
        },
    },
    check: ({ type, props, config, report }) => {
        const sensitiveName = new RegExp(config.sensitiveNamePattern, "i");
        eachContainer(type, props, report, (c) => {
            const literal = (c.spec.env ?? []).filter((e: Props) => isLiteralSecret(e, sensitiveName)).map((e: Props) => e.name);
            return literal.length ? `env ${list(literal)} set as a literal value; use valueFrom.secretKeyRef (e.g. the app-secrets Secret)` : undefined;
        });
    },
});

interface DebugConfig {
    nodeEnv: string;
    forbiddenLogLevels: string[];
}

export const noDebugInProd = resourcePolicy<DebugConfig>({
    name: "k8s-no-debug-in-prod",
    description: "Workloads do not run in debug mode: NODE_ENV, when set, is production and LOG_LEVEL is not debug or trace.",
    types: WORKLOAD_TYPES,
    configSchema: {
        properties: {
            nodeEnv: { type: "string", default: "production" },
            forbiddenLogLevels: { type: "array", items: { type: "string" }, default: ["debug", "trace", "silly", "verbose"] },
        },
    },
    check: ({ type, props, config, report }) =>
        eachContainer(type, props, report, (c) => {
            // Reads only the two values it judges, so other env values unknown in preview don't matter.
            const env = { get: (name: string): unknown => (c.spec.env ?? []).find((e: Props) => e.name === name)?.value };
            const problems: string[] = [];
            const nodeEnv = env.get("NODE_ENV");
            if (typeof nodeEnv === "string" && nodeEnv !== config.nodeEnv) problems.push(`NODE_ENV is "${nodeEnv}"; set it to "${config.nodeEnv}"`);
            const logLevel = env.get("LOG_LEVEL");
            if (typeof logLevel === "string" && config.forbiddenLogLevels.includes(logLevel.toLowerCase())) {
                problems.push(`LOG_LEVEL is "${logLevel}"; use "info" (or warn/error)`);
            }
            return problems.length ? problems.join("; ") : undefined;
        }),
});

/** Kubernetes kinds that are not namespaced. */
const CLUSTER_SCOPED_KINDS = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
];

/** `kubernetes:<group>/<version>:<Kind>` for namespaced objects (not providers, Helm or YAML components). */
export function isNamespacedKubernetesType(type: string): boolean {
    const m = /^kubernetes:([^:]+)\/v[^:]*:([A-Za-z]+)$/.exec(type);
    if (!m || m[1] === "helm.sh" || m[1] === "yaml") return false;
    return !CLUSTER_SCOPED_KINDS.includes(m[2]) && !m[2].endsWith("List") && !m[2].endsWith("Patch");
}

export const noDefaultNamespace = resourcePolicy({
    name: "k8s-no-default-namespace",
    description: "Namespaced Kubernetes objects set metadata.namespace and never use `default`.",
    types: isNamespacedKubernetesType,
    check: ({ props, report }) => {
        const ns = props.metadata?.namespace;
        if (ns === undefined || ns === "") report("metadata.namespace is not set, so the object lands in the provider's default namespace; set it to the app namespace");
        else if (ns === "default") report('metadata.namespace is "default"; use the app namespace from config `namespace`');
    },
});

// ---- Traffic ------------------------------------------------------------------------------------

export const ingressTls = resourcePolicy({
    name: "k8s-ingress-tls",
    description: "Every Ingress host is served over TLS (spec.tls lists it, or an ALB certificate-arn annotation is set).",
    types: [K8S.ingress],
    check: ({ props, report }) => {
        const hasAlbCertificate = !!annotationsOf(props)["alb.ingress.kubernetes.io/certificate-arn"];
        const tlsHosts = new Set<string>((props.spec?.tls ?? []).flatMap((t: Props) => t.hosts ?? []));
        const hosts: string[] = (props.spec?.rules ?? []).map((r: Props) => r.host ?? "*");
        const uncovered = hosts.filter((h) => !tlsHosts.has(h));
        if (tlsHosts.size === 0 && !hasAlbCertificate) report("the Ingress has no TLS; add spec.tls with the host and certificate secret (or alb.ingress.kubernetes.io/certificate-arn)");
        else if (uncovered.length && !hasAlbCertificate) report(`hosts ${list(uncovered)} are not listed in spec.tls; add them`);
    },
});

const ALB_TARGET_TYPE = "alb.ingress.kubernetes.io/target-type";
const NLB_TARGET_TYPE = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type";

export const albInstanceTargetType = resourcePolicy({
    name: "k8s-alb-no-ip-target-type",
    description: "Blue/green Services behind the AWS Load Balancer Controller use `instance` targets, not `ip`, so a selector switch takes effect at once instead of waiting for target re-registration.",
    types: [K8S.ingress, K8S.service],
    check: ({ type, props, report }) => {
        const annotations = annotationsOf(props);
        for (const key of [ALB_TARGET_TYPE, NLB_TARGET_TYPE]) {
            if (annotations[key] !== "ip") continue;
            if (type === K8S.ingress) report(`annotation ${key}: ip routes to pod IPs of one color; use "instance"`);
            else if (labelsOf(props)[ROLE_LABEL]) report(`the blue/green Service sets ${key}: ip; use "instance" (or remove the annotation)`);
        }
    },
});

interface ReplicaConfig {
    minReplicas: number;
}

const MIN_REPLICAS_SCHEMA = {
    properties: { minReplicas: { type: "integer" as const, minimum: 1, default: 5, description: "Replicas a live color needs (runbook 001: 5 in prod)." } },
};

export const hpaBounds = resourcePolicy<ReplicaConfig>({
    name: "k8s-hpa-bounds",
    description: "A HorizontalPodAutoscaler's minReplicas is at least the configured replica minimum and below its maxReplicas.",
    types: HPA_TYPES,
    configSchema: MIN_REPLICAS_SCHEMA,
    check: ({ props, config, report }) => {
        const min = props.spec?.minReplicas ?? 1;
        const max = props.spec?.maxReplicas;
        if (min < config.minReplicas) report(`minReplicas is ${min}; raise it to at least ${config.minReplicas}`);
        if (max !== undefined && min >= max) report(`minReplicas ${min} is not below maxReplicas ${max}; raise maxReplicas so the HPA can scale`);
    },
});

// ---- Stack policies over live traffic -------------------------------------------------------------

/** A Deployment with its pod labels, replicas and namespace. */
export interface Workload {
    resource: PolicyResource;
    namespace: string | undefined;
    podLabels: Record<string, string>;
}

export function deploymentsOf(graph: Graph): Workload[] {
    return graph.ofType(K8S.deployment).map((resource) => {
        const podLabels = peek(() => ({ ...podLabelsOf(K8S.deployment, resource.props) }));
        return { resource, namespace: namespaceKey(resource), podLabels: isKnown(podLabels) ? podLabels : {} };
    });
}

export function liveServicesOf(graph: Graph): PolicyResource[] {
    return graph.ofType(K8S.service).filter((s) => hasRole(s.props, ROLES.live));
}

export function selectorOf(service: PolicyResource): Record<string, string> {
    const selector = peek(() => ({ ...(service.props.spec?.selector ?? {}) }));
    return isKnown(selector) ? selector : {};
}

/** The Deployments a Service's selector picks in its namespace. */
export function selectedDeployments(graph: Graph, service: PolicyResource): Workload[] {
    const ns = namespaceKey(service);
    const selector = selectorOf(service);
    return deploymentsOf(graph).filter((d) => d.namespace === ns && selects(selector, d.podLabels));
}

/** Deployments behind live Services that carry a blue/green color (not the maintenance page). */
function liveColorDeployments(graph: Graph): { service: PolicyResource; deployment: Workload }[] {
    return liveServicesOf(graph).flatMap((service) =>
        selectedDeployments(graph, service)
            .filter((d) => d.podLabels.app !== MAINTENANCE_NAME)
            .map((deployment) => ({ service, deployment })),
    );
}

export const liveMinReplicas = stackPolicy<ReplicaConfig>({
    name: "k8s-live-min-replicas",
    description: "A Deployment selected by a live Service (release-platform/role: live) runs at least the configured minimum of replicas.",
    configSchema: MIN_REPLICAS_SCHEMA,
    check: ({ graph, config, report }) => {
        for (const { service, deployment } of liveColorDeployments(graph)) {
            const replicas = replicasOf(deployment.resource.props);
            if (isKnown(replicas) && replicas < config.minReplicas) {
                report(`${objectName(deployment.resource)} serves live Service ${objectName(service)} with ${replicas} replicas; set at least ${config.minReplicas}`, deployment.resource.urn);
            }
        }
    },
});

/** Pods a PDB lets the cluster evict from a Deployment with `replicas` replicas (percentages round up, as in Kubernetes). */
export function allowedEvictions(pdbSpec: Props, replicas: number): number {
    const scaled = (v: unknown) => (typeof v === "string" && v.endsWith("%") ? Math.ceil((replicas * Number(v.slice(0, -1))) / 100) : Number(v));
    if (pdbSpec.maxUnavailable !== undefined) return Math.min(replicas, scaled(pdbSpec.maxUnavailable));
    if (pdbSpec.minAvailable !== undefined) return Math.max(0, replicas - scaled(pdbSpec.minAvailable));
    return 0;
}

export const livePodDisruptionBudget = stackPolicy({
    name: "k8s-live-pdb",
    description: "Every live Deployment has a PodDisruptionBudget that covers its pods and still allows at least one eviction (so node drains proceed).",
    check: ({ graph, report }) => {
        const pdbs = graph.ofType(K8S.pdb);
        for (const { deployment } of liveColorDeployments(graph)) {
            const name = objectName(deployment.resource);
            const matching = pdbs.filter((p) => namespaceKey(p) === deployment.namespace && selects(p.props.spec?.selector?.matchLabels, deployment.podLabels));
            if (matching.length === 0) {
                report(`live Deployment ${name} has no PodDisruptionBudget; add one selecting its pods with maxUnavailable: 1`, deployment.resource.urn);
                continue;
            }
            const replicas = replicasOf(deployment.resource.props);
            if (!isKnown(replicas) || replicas === 0) continue;
            for (const pdb of matching) {
                if (allowedEvictions(pdb.props.spec ?? {}, replicas) < 1) {
                    report(`PodDisruptionBudget ${objectName(pdb)} allows no eviction of ${name} (${replicas} replicas); use maxUnavailable: 1 or a lower minAvailable`, pdb.urn);
                }
            }
        }
    },
});

export const namespaceNetworkPolicies = stackPolicy({
    name: "k8s-namespace-network-policies",
    description: "Every namespace that runs workloads has at least one NetworkPolicy.",
    check: ({ graph, report }) => {
        const covered = new Set(graph.ofType(K8S.networkPolicy).map(namespaceKey));
        const reported = new Set<string | undefined>();
        for (const w of graph.ofType(...WORKLOAD_TYPES)) {
            const ns = namespaceKey(w);
            if (covered.has(ns) || reported.has(ns)) continue;
            reported.add(ns);
            report(`namespace ${ns ?? "(none)"} runs workloads (e.g. ${objectName(w)}) without a NetworkPolicy; add a default-deny policy and explicit allows`, w.urn);
        }
    },
});

export const kubernetesWorkloadPolicies = [
    resourceRequestsAndLimits,
    healthProbes,
    imagePinned,
    imageAllowedRegistry,
    rollingUpdateZeroUnavailable,
    restrictedPodSecurity,
    noLiteralSecretsInEnv,
    noDebugInProd,
    noDefaultNamespace,
    liveMinReplicas,
];

export const kubernetesTrafficPolicies = [ingressTls, albInstanceTargetType, hpaBounds, livePodDisruptionBudget, namespaceNetworkPolicies];

export const kubernetesPolicies = [...kubernetesWorkloadPolicies, ...kubernetesTrafficPolicies];
