// Kubernetes workload and traffic policies.
import { PolicyResource, ReportViolation } from "@pulumi/policy";
import { ALB_ANNOTATION_PREFIX, LABELS, MAINTENANCE_NAME, ZONE_TOPOLOGY_KEY } from "../conventions";
import { CONTAINER_RESOURCES, PROD_MIN_LIVE_REPLICAS } from "../thresholds";
import {
    Container,
    Graph,
    HPA_TYPES,
    K8S,
    LONG_RUNNING_TYPES,
    OPEN_CIDRS,
    Props,
    ROLES,
    ROLE_LABEL,
    WORKLOAD_TYPES,
    annotationsOf,
    containersOf,
    describeContainer,
    groupBy,
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
            const { requests, limits } = CONTAINER_RESOURCES;
            const runbook = `requests cpu ${requests.cpu}/memory ${requests.memory}, limits cpu ${limits.cpu}/memory ${limits.memory}`;
            return missing.length ? `set resources ${missing.join(", ")} (runbook: ${runbook})` : undefined;
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
            report(
                `rollingUpdate.maxUnavailable is ${maxUnavailable === undefined ? "unset (defaults to 25%)" : JSON.stringify(maxUnavailable)}; set it to 0 (and maxSurge ≥ 1)`,
            );
        }
    },
});

interface TokenConfig {
    allowedServiceAccounts: string[];
}

export const noServiceAccountTokenAutomount = resourcePolicy<TokenConfig>({
    name: "k8s-no-service-account-token-automount",
    description:
        "App pods set automountServiceAccountToken: false: they never call the Kubernetes API, and a mounted token lets whoever takes over a container act as its service account.",
    types: WORKLOAD_TYPES,
    configSchema: {
        properties: {
            allowedServiceAccounts: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: "Service accounts whose pods call the API and may mount a token.",
            },
        },
    },
    check: ({ type, name, props, config, report }) => {
        const spec = podSpecOf(type, props) ?? {};
        if (spec.automountServiceAccountToken === false || config.allowedServiceAccounts.includes(spec.serviceAccountName)) return;
        report(`${objectName({ name, props })} mounts its service-account token into every pod; set automountServiceAccountToken: false on the pod spec`);
    },
});

interface SpreadConfig {
    topologyKey: string;
    minReplicas: number;
}

/** Whether a pod spec spreads its pods over `topologyKey`, by a topology spread constraint or a pod anti-affinity. */
function spreadsOver(spec: Props, topologyKey: string): boolean {
    const constraints: Props[] = spec.topologySpreadConstraints ?? [];
    const antiAffinity = spec.affinity?.podAntiAffinity ?? {};
    const terms: Props[] = [
        ...(antiAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(antiAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: Props) => t.podAffinityTerm ?? {}),
    ];
    return [...constraints, ...terms].some((t) => t.topologyKey === topologyKey);
}

export const spreadReplicasAcrossZones = resourcePolicy<SpreadConfig>({
    name: "k8s-spread-replicas-across-zones",
    description:
        "Deployments and StatefulSets with several replicas spread their pods across availability zones (a topologySpreadConstraint or pod anti-affinity on the zone key), so losing one zone leaves the service running.",
    types: [K8S.deployment, K8S.statefulSet],
    configSchema: {
        properties: {
            topologyKey: { type: "string", default: ZONE_TOPOLOGY_KEY },
            minReplicas: { type: "integer", minimum: 2, default: 2, description: "Workloads with at least this many replicas must spread." },
        },
    },
    check: ({ type, name, props, config, report }) => {
        const replicas = replicasOf(props);
        if (!isKnown(replicas) || replicas < config.minReplicas) return;
        if (!spreadsOver(podSpecOf(type, props) ?? {}, config.topologyKey)) {
            report(
                `${objectName({ name, props })} runs ${replicas} replicas with no spread over ${config.topologyKey}; add a topologySpreadConstraint with that topologyKey (maxSkew: 1)`,
            );
        }
    },
});

const PROBE_HANDLERS = ["httpGet", "tcpSocket", "exec", "grpc"];

/** The part of a probe that decides what it asks the container (not its timing). */
function probeHandler(probe: Props): string {
    return JSON.stringify(PROBE_HANDLERS.map((h) => probe[h] ?? null));
}

export const livenessDiffersFromReadiness = resourcePolicy({
    name: "k8s-liveness-differs-from-readiness",
    description:
        "A container's liveness probe asks something other than its readiness probe (e.g. /health/live vs /health/ready): with the same check, a slow dependency fails liveness too and the kubelet restarts every pod at once.",
    types: LONG_RUNNING_TYPES,
    check: ({ type, name, props, report }) =>
        eachContainer(type, props, report, (c) => {
            const { livenessProbe, readinessProbe } = c.spec;
            if (!livenessProbe || !readinessProbe || probeHandler(livenessProbe) !== probeHandler(readinessProbe)) return undefined;
            return `the liveness and readiness probes of ${objectName({ name, props })} are the same check; point liveness at a process-only endpoint such as /health/live`;
        }),
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
    description:
        "Sensitive environment variables (names with SECRET/PASSWORD/TOKEN/CREDENTIAL or the word KEY, URLs with credentials) come from valueFrom.secretKeyRef, never a literal value.",
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

export const noSecretsInConfigMap = resourcePolicy<SecretEnvConfig>({
    name: "k8s-no-secrets-in-configmap",
    description:
        "ConfigMaps hold no credentials (keys named like secrets, URLs with a user and password): ConfigMaps are not encrypted at rest and any pod or user who reads the namespace's config reads them.",
    types: [K8S.configMap],
    configSchema: {
        properties: {
            sensitiveNamePattern: { type: "string", default: SENSITIVE_ENV_NAME, description: "Case-insensitive regular expression for sensitive key names." },
        },
    },
    check: ({ name, props, config, report }) => {
        const sensitiveName = new RegExp(config.sensitiveNamePattern, "i");
        // Values are read one at a time (getters), so one value unknown during preview spoils nothing else.
        const entries = (field: "data" | "binaryData") =>
            Object.keys(props[field] ?? {}).map((key) => ({
                name: key,
                get value() {
                    return props[field][key];
                },
            }));
        const leaked = [...entries("data"), ...entries("binaryData")].filter((e) => isLiteralSecret(e, sensitiveName)).map((e) => e.name);
        if (leaked.length)
            report(`ConfigMap ${objectName({ name, props })} holds credentials in ${list(leaked)}; move them to a Secret and read them through secretKeyRef`);
    },
});

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
        if (ns === undefined || ns === "")
            report("metadata.namespace is not set, so the object lands in the provider's default namespace; set it to the app namespace");
        else if (ns === "default") report('metadata.namespace is "default"; use the app namespace from config `namespace`');
    },
});

// ---- Traffic ------------------------------------------------------------------------------------

export const ingressTls = resourcePolicy({
    name: "k8s-ingress-tls",
    description: "Every Ingress host is served over TLS (spec.tls lists it, or an ALB certificate-arn annotation is set).",
    types: [K8S.ingress],
    check: ({ props, report }) => {
        const hasAlbCertificate = !!annotationsOf(props)[`${ALB_ANNOTATION_PREFIX}/certificate-arn`];
        const tlsHosts = new Set<string>((props.spec?.tls ?? []).flatMap((t: Props) => t.hosts ?? []));
        const hosts: string[] = (props.spec?.rules ?? []).map((r: Props) => r.host ?? "*");
        const uncovered = hosts.filter((h) => !tlsHosts.has(h));
        if (tlsHosts.size === 0 && !hasAlbCertificate)
            report("the Ingress has no TLS; add spec.tls with the host and certificate secret (or alb.ingress.kubernetes.io/certificate-arn)");
        else if (uncovered.length && !hasAlbCertificate) report(`hosts ${list(uncovered)} are not listed in spec.tls; add them`);
    },
});

const ALB_TARGET_TYPE = `${ALB_ANNOTATION_PREFIX}/target-type`;
const NLB_TARGET_TYPE = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type";

export const albInstanceTargetType = resourcePolicy({
    name: "k8s-alb-no-ip-target-type",
    description:
        "Blue/green Services behind the AWS Load Balancer Controller use `instance` targets, not `ip`, so a selector switch takes effect at once instead of waiting for target re-registration.",
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
    properties: {
        minReplicas: {
            type: "integer" as const,
            minimum: 1,
            default: PROD_MIN_LIVE_REPLICAS,
            description: `Replicas a live color needs (${PROD_MIN_LIVE_REPLICAS} in prod).`,
        },
    },
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

const workloadsOfGraph = new WeakMap<Graph, Workload[]>();
/** Per graph: the Deployments by namespace and one pod label, `namespace\0label\0value`. */
const workloadsByLabel = new WeakMap<Graph, Map<string, Workload[]>>();

export function deploymentsOf(graph: Graph): Workload[] {
    let workloads = workloadsOfGraph.get(graph);
    if (!workloads) {
        workloads = graph.ofType(K8S.deployment).map((resource) => {
            const podLabels = peek(() => ({ ...podLabelsOf(K8S.deployment, resource.props) }));
            return { resource, namespace: namespaceKey(resource), podLabels: isKnown(podLabels) ? podLabels : {} };
        });
        workloadsOfGraph.set(graph, workloads);
    }
    return [...workloads];
}

/**
 * The Deployments in `namespace` whose pods carry `label: value`, from an index built once per
 * graph, so that a check per Service or Job stays linear in the stack's size.
 */
export function deploymentsLabelled(graph: Graph, namespace: string | undefined, label: string, value: string): Workload[] {
    let index = workloadsByLabel.get(graph);
    if (!index) {
        index = new Map();
        for (const w of deploymentsOf(graph)) {
            for (const [k, v] of Object.entries(w.podLabels)) {
                const key = labelKey(w.namespace, k, v);
                const labelled = index.get(key);
                if (labelled) labelled.push(w);
                else index.set(key, [w]);
            }
        }
        workloadsByLabel.set(graph, index);
    }
    return [...(index.get(labelKey(namespace, label, value)) ?? [])];
}

/** No namespace (the default one) is a key of its own, distinct from any name. */
function labelKey(namespace: string | undefined, label: string, value: string): string {
    return `${namespace === undefined ? "\u0001" : `=${namespace}`}\0${label}\0${value}`;
}

const servicesByName = new WeakMap<Graph, Map<string, PolicyResource[]>>();

/** The Services named `name` (`objectName`) in `namespace`, in stack order, from an index built once per graph. */
export function servicesNamed(graph: Graph, namespace: string | undefined, name: string): PolicyResource[] {
    let index = servicesByName.get(graph);
    if (!index) {
        index = groupBy(graph.ofType(K8S.service), (s) => labelKey(namespaceKey(s), "name", objectName(s)));
        servicesByName.set(graph, index);
    }
    return [...(index.get(labelKey(namespace, "name", name)) ?? [])];
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
    const selector = selectorOf(service);
    const first = Object.entries(selector)[0];
    // An empty selector selects nothing; otherwise every match carries the selector's first label.
    if (!first) return [];
    return deploymentsLabelled(graph, namespaceKey(service), first[0], first[1]).filter((d) => selects(selector, d.podLabels));
}

/** Deployments behind live Services that carry a blue/green color (not the maintenance page). */
function liveColorDeployments(graph: Graph): { service: PolicyResource; deployment: Workload }[] {
    return liveServicesOf(graph).flatMap((service) =>
        selectedDeployments(graph, service)
            .filter((d) => d.podLabels[LABELS.app] !== MAINTENANCE_NAME)
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
                report(
                    `${objectName(deployment.resource)} serves live Service ${objectName(service)} with ${replicas} replicas; set at least ${config.minReplicas}`,
                    deployment.resource.urn,
                );
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

/**
 * The PodDisruptionBudgets of a stack by namespace and by the first label of their selector, so
 * that finding a Deployment's budgets stays linear in the stack's size. A namespace's budgets
 * have their selectors read when a Deployment there is first looked up, in their order.
 */
class BudgetIndex {
    private readonly byNamespace: Map<string | undefined, PolicyResource[]>;
    private readonly bySelectorLabel = new Map<string, { pdb: PolicyResource; order: number; matchLabels: Record<string, string> }[]>();
    private readonly indexed = new Set<string | undefined>();

    constructor(graph: Graph) {
        this.byNamespace = groupBy(graph.ofType(K8S.pdb), namespaceKey);
    }

    /** The budgets in the Deployment's namespace whose selector's labels its pods all carry, in stack order. */
    selecting(deployment: Workload): PolicyResource[] {
        const { namespace, podLabels } = deployment;
        this.index(namespace);
        return Object.entries(podLabels)
            .flatMap(([k, v]) => this.bySelectorLabel.get(labelKey(namespace, k, v)) ?? [])
            .filter((b) => selects(b.matchLabels, podLabels))
            .sort((a, b) => a.order - b.order)
            .map((b) => b.pdb);
    }

    private index(namespace: string | undefined): void {
        if (this.indexed.has(namespace)) return;
        this.indexed.add(namespace);
        const budgets = (this.byNamespace.get(namespace) ?? []).map((pdb, order) => {
            const matchLabels = pdb.props.spec?.selector?.matchLabels;
            return { pdb, order, matchLabels, first: Object.entries(matchLabels ?? {})[0] };
        });
        // An empty selector selects nothing here (see `selects`).
        const selecting = budgets.filter((b) => b.first);
        for (const [key, group] of groupBy(selecting, (b) => labelKey(namespace, b.first[0], String(b.first[1])))) this.bySelectorLabel.set(key, group);
    }
}

export const livePodDisruptionBudget = stackPolicy({
    name: "k8s-live-pdb",
    description: "Every live Deployment has a PodDisruptionBudget that covers its pods and still allows at least one eviction (so node drains proceed).",
    check: ({ graph, report }) => {
        const budgets = new BudgetIndex(graph);
        for (const { deployment } of liveColorDeployments(graph)) {
            const name = objectName(deployment.resource);
            const matching = budgets.selecting(deployment);
            if (matching.length === 0) {
                report(`live Deployment ${name} has no PodDisruptionBudget; add one selecting its pods with maxUnavailable: 1`, deployment.resource.urn);
                continue;
            }
            const replicas = replicasOf(deployment.resource.props);
            if (!isKnown(replicas) || replicas === 0) continue;
            for (const pdb of matching) {
                if (allowedEvictions(pdb.props.spec ?? {}, replicas) < 1) {
                    report(
                        `PodDisruptionBudget ${objectName(pdb)} allows no eviction of ${name} (${replicas} replicas); use maxUnavailable: 1 or a lower minAvailable`,
                        pdb.urn,
                    );
                }
            }
        }
    },
});

/** Each namespace that runs workloads but is not in `covered`, with its first workload as the example. */
function workloadNamespacesOutside(graph: Graph, covered: ReadonlySet<string | undefined>): { ns: string | undefined; w: PolicyResource }[] {
    const found = new Map<string | undefined, PolicyResource>();
    for (const w of graph.ofType(...WORKLOAD_TYPES)) {
        const ns = namespaceKey(w);
        if (!covered.has(ns) && !found.has(ns)) found.set(ns, w);
    }
    return [...found].map(([ns, w]) => ({ ns, w }));
}

export const namespaceNetworkPolicies = stackPolicy({
    name: "k8s-namespace-network-policies",
    description: "Every namespace that runs workloads has at least one NetworkPolicy.",
    check: ({ graph, report }) => {
        const covered = new Set(graph.ofType(K8S.networkPolicy).map(namespaceKey));
        for (const { ns, w } of workloadNamespacesOutside(graph, covered)) {
            report(
                `namespace ${ns ?? "(none)"} runs workloads (e.g. ${objectName(w)}) without a NetworkPolicy; add a default-deny policy and explicit allows`,
                w.urn,
            );
        }
    },
});

/** The Service names an Ingress routes to (default backend and every path), by name or, when unknown, by property dependency. */
function ingressBackends(graph: Graph, ingress: PolicyResource): Set<string> {
    const names = new Set<string>();
    const spec = peek(() => ingress.props.spec ?? {});
    if (isKnown(spec)) {
        const backends: Props[] = [spec.defaultBackend, ...(spec.rules ?? []).flatMap((r: Props) => (r.http?.paths ?? []).map((p: Props) => p.backend))];
        for (const b of backends) {
            const name = peek(() => b?.service?.name);
            if (isKnown(name) && typeof name === "string") names.add(name);
        }
    }
    for (const service of graph.sourcesOf(ingress, "spec", K8S.service)) names.add(objectName(service));
    return names;
}

export const servicesOnlyThroughIngress = stackPolicy({
    name: "k8s-services-only-through-ingress",
    description:
        "No Service is of type LoadBalancer, and a NodePort Service is a backend of an Ingress in its namespace: traffic then always enters through the Ingress, its TLS and its security groups, never around them.",
    check: ({ graph, report }) => {
        const ingresses = groupBy(graph.ofType(K8S.ingress), namespaceKey);
        const backends = new Map<PolicyResource, Set<string>>();
        const backendsOf = (ingress: PolicyResource) => backends.get(ingress) ?? backends.set(ingress, ingressBackends(graph, ingress)).get(ingress)!;
        for (const service of graph.ofType(K8S.service)) {
            const type = peek(() => service.props.spec?.type);
            const name = objectName(service);
            if (type === "LoadBalancer") {
                report(
                    `Service ${name} is of type LoadBalancer, a load balancer outside the Ingress; make it NodePort (ALB instance targets) or ClusterIP and route to it from the Ingress`,
                    service.urn,
                );
            } else if (type === "NodePort") {
                const routed = (ingresses.get(namespaceKey(service)) ?? []).some((i) => backendsOf(i).has(name));
                if (!routed)
                    report(
                        `Service ${name} opens a NodePort on every node but no Ingress routes to it; make it ClusterIP or add it as an Ingress backend`,
                        service.urn,
                    );
            }
        }
    },
});

/** A label selector with no requirement (`{}`), which selects everything. */
function isEmptySelector(selector: Props): boolean {
    return !(selector.matchLabels && Object.keys(selector.matchLabels).length) && !(selector.matchExpressions ?? []).length;
}

/** Why a rule's peers admit every pod from everywhere, if they do. */
function admitsEverything(peers: Props[] | undefined): string | undefined {
    if (!peers || peers.length === 0) return "has no peers, so it admits every source";
    for (const peer of peers) {
        if (peer.namespaceSelector && isEmptySelector(peer.namespaceSelector) && (!peer.podSelector || isEmptySelector(peer.podSelector)))
            return "selects every pod of every namespace (namespaceSelector: {})";
        if (peer.ipBlock && OPEN_CIDRS.includes(peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).length) return `admits ${peer.ipBlock.cidr}`;
    }
    return undefined;
}

export const networkPolicyNoAllowAll = resourcePolicy({
    name: "k8s-network-policy-no-allow-all",
    description:
        "No NetworkPolicy rule admits every pod from everywhere (no peers, namespaceSelector: {}, or 0.0.0.0/0): such a rule cancels the namespace's default deny for the pods it selects.",
    types: [K8S.networkPolicy],
    check: ({ name, props, report }) => {
        const policy = objectName({ name, props });
        (props.spec?.ingress ?? []).forEach((rule: Props, i: number) => {
            const why = admitsEverything(rule.from);
            if (why) report(`NetworkPolicy ${policy}: ingress rule ${i + 1} ${why}; list the pods, namespaces or CIDRs that need access in from`);
        });
        (props.spec?.egress ?? []).forEach((rule: Props, i: number) => {
            const why = admitsEverything(rule.to);
            if (why) report(`NetworkPolicy ${policy}: egress rule ${i + 1} ${why}; list the destinations the pods need in to`);
        });
    },
});

interface DefaultDenyConfig {
    policyTypes: string[];
}

/** A NetworkPolicy that selects every pod and, for each of `types`, allows nothing. */
function isDefaultDeny(policy: PolicyResource, types: string[]): boolean {
    const spec = peek(() => policy.props.spec ?? {});
    if (!isKnown(spec)) return false;
    const selectsAll = isEmptySelector(spec.podSelector ?? {});
    const declared: string[] = spec.policyTypes ?? ["Ingress"];
    const rules = (t: string) => (t === "Ingress" ? spec.ingress : spec.egress) ?? [];
    return selectsAll && types.every((t) => declared.includes(t) && rules(t).length === 0);
}

export const namespaceDefaultDeny = stackPolicy<DefaultDenyConfig>({
    name: "k8s-namespace-default-deny",
    description:
        "Every namespace that runs workloads has a default-deny NetworkPolicy (podSelector: {}, the configured policyTypes, no rules): without it, a pod no allow-policy selects accepts and sends any traffic.",
    configSchema: {
        properties: { policyTypes: { type: "array", items: { type: "string", enum: ["Ingress", "Egress"] }, default: ["Ingress", "Egress"] } },
    },
    check: ({ graph, config, report }) => {
        const denied = new Set(
            graph
                .ofType(K8S.networkPolicy)
                .filter((p) => isDefaultDeny(p, config.policyTypes))
                .map(namespaceKey),
        );
        for (const { ns, w } of workloadNamespacesOutside(graph, denied)) {
            report(
                `namespace ${ns ?? "(none)"} (e.g. ${objectName(w)}) has no default-deny NetworkPolicy; add one with podSelector: {}, policyTypes ${list(config.policyTypes)} and no rules`,
                w.urn,
            );
        }
    },
});

/**
 * The stack's HPAs by the Deployment they scale: by namespace and target name, or, when the name
 * is unknown during preview, by the resources their spec is computed from. Built once, so that
 * checking every live Deployment stays linear in the stack's size.
 */
class AutoscalerIndex {
    private readonly byTarget = new Set<string>();
    private readonly bySource = new Map<PolicyResource, PolicyResource[]>();

    constructor(graph: Graph) {
        for (const hpa of graph.ofType(...HPA_TYPES)) {
            const target = peek(() => ({ ...(hpa.props.spec?.scaleTargetRef ?? {}) }));
            if (isKnown(target) && target.kind === "Deployment" && typeof target.name === "string")
                this.byTarget.add(labelKey(namespaceKey(hpa), "name", target.name));
            for (const source of graph.sourcesOf(hpa, "spec")) {
                const scaling = this.bySource.get(source);
                if (scaling) scaling.push(hpa);
                else this.bySource.set(source, [hpa]);
            }
        }
    }

    /** Whether an HPA in the Deployment's namespace targets it by name or computes its spec from it. */
    scales(deployment: Workload): boolean {
        if (this.byTarget.has(labelKey(deployment.namespace, "name", objectName(deployment.resource)))) return true;
        return (this.bySource.get(deployment.resource) ?? []).some((hpa) => namespaceKey(hpa) === deployment.namespace);
    }
}

export const liveHorizontalPodAutoscaler = stackPolicy({
    name: "k8s-live-hpa",
    description: "Every live Deployment has a HorizontalPodAutoscaler targeting it, so the color that serves traffic scales with load instead of saturating.",
    check: ({ graph, report }) => {
        const autoscalers = new AutoscalerIndex(graph);
        for (const { service, deployment } of liveColorDeployments(graph)) {
            if (!autoscalers.scales(deployment)) {
                const name = objectName(deployment.resource);
                report(
                    `live Deployment ${name} (behind Service ${objectName(service)}) has no HorizontalPodAutoscaler; add one with scaleTargetRef Deployment ${name}`,
                    deployment.resource.urn,
                );
            }
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
    noServiceAccountTokenAutomount,
    spreadReplicasAcrossZones,
    livenessDiffersFromReadiness,
    noSecretsInConfigMap,
];

export const kubernetesTrafficPolicies = [
    ingressTls,
    albInstanceTargetType,
    hpaBounds,
    livePodDisruptionBudget,
    namespaceNetworkPolicies,
    servicesOnlyThroughIngress,
    networkPolicyNoAllowAll,
    namespaceDefaultDeny,
    liveHorizontalPodAutoscaler,
];

export const kubernetesPolicies = [...kubernetesWorkloadPolicies, ...kubernetesTrafficPolicies];
