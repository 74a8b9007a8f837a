// Policy plumbing shared by every rule: config, type filters, safe reads of
// values that may be unknown during preview, Kubernetes pod-spec walking and graph lookups.
import {
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { ROLE_LABEL, ROLES } from "../conventions";

// The analyzer's proxy throws this when a policy touches a value that is unknown during preview.
// `@pulumi/policy` does not export it publicly; the server catches it by class from this module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { UnknownValueError } = require("@pulumi/policy/proxy") as { UnknownValueError: new (...args: any[]) => Error };

export type Props = Record<string, any>;

// ---- Policy builders ----------------------------------------------------------------------------

interface PolicyMeta {
    name: string;
    description: string;
    configSchema?: PolicyConfigSchema;
}

export interface ResourceCheck<C> {
    type: string;
    props: Props;
    urn: string;
    name: string;
    args: ResourceValidationArgs;
    config: C;
    report: ReportViolation;
}

/** A resource policy that runs `check` only on the listed types (all types when `types` is omitted). */
export function resourcePolicy<C extends object = Record<string, never>>(
    meta: PolicyMeta & { types?: readonly string[] | ((type: string) => boolean); check: (c: ResourceCheck<C>) => void },
): ResourceValidationPolicy {
    const types = meta.types;
    const applies = typeof types === "function" ? types : (t: string) => !types || types.includes(t);
    const validateResource: ResourceValidation = (args, report) => {
        if (!applies(args.type)) return;
        // The policy's config as the CLI sent it in `Configure`: its schema defaults overlaid with the policy config file.
        const config = args.getConfig<C>();
        meta.check({ type: args.type, props: args.props, urn: args.urn, name: args.name, args, config, report });
    };
    // A policy of one type is marked the way validateResourceOfType marks it, so the analyzer skips
    // other types before it converts their properties.
    if (Array.isArray(types) && types.length === 1) Object.assign(validateResource, { __pulumiType: types[0] });
    return { name: meta.name, description: meta.description, configSchema: meta.configSchema, validateResource };
}

export interface StackCheck<C> {
    graph: Graph;
    args: StackValidationArgs;
    config: C;
    report: ReportViolation;
}

export function stackPolicy<C extends object = Record<string, never>>(meta: PolicyMeta & { check: (c: StackCheck<C>) => void }): StackValidationPolicy {
    return {
        name: meta.name,
        description: meta.description,
        configSchema: meta.configSchema,
        validateStack: (args, report) => {
            const config = args.getConfig<C>();
            meta.check({ graph: new Graph(args.resources), args, config, report });
        },
    };
}

// ---- Unknown values -----------------------------------------------------------------------------

/** Marks a value that is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Maybe<T> = T | typeof UNKNOWN;

/**
 * Reads a value without letting an unknown abort the whole policy: returns `UNKNOWN` instead, so the
 * caller can decide from the graph. Plain reads (`props.x.y`) keep the analyzer's behaviour: an
 * unknown makes the policy advisory with "can't run policy during preview".
 */
export function peek<T>(read: () => T): Maybe<T> {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return UNKNOWN;
        throw e;
    }
}

export function isKnown<T>(v: Maybe<T>): v is T {
    return v !== UNKNOWN;
}

// ---- Kubernetes ---------------------------------------------------------------------------------

export const K8S = {
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    pod: "kubernetes:core/v1:Pod",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    namespace: "kubernetes:core/v1:Namespace",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    hpaV2: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    hpaV1: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    alertmanagerConfig: "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig",
    helmRelease: "kubernetes:helm.sh/v3:Release",
} as const;

export const WORKLOAD_TYPES: readonly string[] = [K8S.deployment, K8S.statefulSet, K8S.daemonSet, K8S.job, K8S.cronJob, K8S.pod];
/** Workloads that run until stopped, as opposed to Jobs that run to completion. */
export const LONG_RUNNING_TYPES: readonly string[] = [K8S.deployment, K8S.statefulSet, K8S.daemonSet, K8S.pod];
export const HPA_TYPES: readonly string[] = [K8S.hpaV2, K8S.hpaV1];

export { ROLE_LABEL, ROLES };

/** The CIDRs that admit every IPv4 or IPv6 address. */
export const OPEN_CIDRS: readonly string[] = ["0.0.0.0/0", "::/0"];

/** The pod template's spec of a workload (the Pod's own spec for a Pod). */
export function podSpecOf(type: string, props: Props): Props | undefined {
    if (type === K8S.pod) return props.spec;
    if (type === K8S.cronJob) return props.spec?.jobTemplate?.spec?.template?.spec;
    return props.spec?.template?.spec;
}

/** The pod template's metadata of a workload (the Pod's own metadata for a Pod). */
function podMetadataOf(type: string, props: Props): Props | undefined {
    if (type === K8S.pod) return props.metadata;
    if (type === K8S.cronJob) return props.spec?.jobTemplate?.spec?.template?.metadata;
    return props.spec?.template?.metadata;
}

/** The pod template's labels of a workload. */
export function podLabelsOf(type: string, props: Props): Record<string, string> {
    return podMetadataOf(type, props)?.labels ?? {};
}

/** The pod template's annotations of a workload. */
export function podAnnotationsOf(type: string, props: Props): Record<string, string> {
    return podMetadataOf(type, props)?.annotations ?? {};
}

export interface Container {
    kind: "container" | "initContainer" | "ephemeralContainer";
    spec: Props;
}

/** Per pod spec: its containers, listed once for all the workload policies that walk them. */
const containersOfSpec = new WeakMap<Props, readonly Container[]>();

export function containersOf(podSpec: Props | undefined): readonly Container[] {
    if (!podSpec) return [];
    let containers = containersOfSpec.get(podSpec);
    if (!containers) {
        containers = Object.freeze([
            ...(podSpec.initContainers ?? []).map((spec: Props) => Object.freeze({ kind: "initContainer" as const, spec })),
            ...(podSpec.containers ?? []).map((spec: Props) => Object.freeze({ kind: "container" as const, spec })),
            ...(podSpec.ephemeralContainers ?? []).map((spec: Props) => Object.freeze({ kind: "ephemeralContainer" as const, spec })),
        ]);
        containersOfSpec.set(podSpec, containers);
    }
    return containers;
}

export function describeContainer(c: Container): string {
    return `${c.kind} "${c.spec.name ?? "?"}"`;
}

export function labelsOf(props: Props): Record<string, string> {
    return props.metadata?.labels ?? {};
}

export function annotationsOf(props: Props): Record<string, string> {
    return props.metadata?.annotations ?? {};
}

export function hasRole(props: Props, role: string): boolean {
    return labelsOf(props)[ROLE_LABEL] === role;
}

/** Whether every key/value of `selector` is among `labels` (an empty selector selects nothing here). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
    const entries = Object.entries(selector ?? {});
    return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** Per properties object: its `metadata.name` when that is a known string (read once: stack policies look it up per pair of resources). */
const metadataNames = new WeakMap<object, string | undefined>();

/** `metadata.name`, or the Pulumi resource name when the object is auto-named or the name is unknown. */
export function objectName(r: { name: string; props: Props }): string {
    let name = metadataNames.get(r.props);
    if (name === undefined && !metadataNames.has(r.props)) {
        const read = peek(() => r.props.metadata?.name);
        name = isKnown(read) && typeof read === "string" ? read : undefined;
        metadataNames.set(r.props, name);
    }
    return name ?? r.name;
}

const namespaceKeys = new WeakMap<PolicyResource, string | undefined>();

/**
 * The namespace a Kubernetes object lands in: the literal, or, when it comes from a Namespace
 * resource's output that is unknown during preview, that Namespace resource's URN. Computed once
 * per resource.
 */
export function namespaceKey(r: PolicyResource): string | undefined {
    if (namespaceKeys.has(r)) return namespaceKeys.get(r);
    const key = computedNamespaceKey(r);
    namespaceKeys.set(r, key);
    return key;
}

function computedNamespaceKey(r: PolicyResource): string | undefined {
    const ns = peek(() => r.props.metadata?.namespace);
    if (isKnown(ns)) return ns === undefined ? undefined : String(ns);
    const source = (r.propertyDependencies.metadata ?? []).find((d) => d.type === K8S.namespace);
    if (!source) return `unknown:${r.urn}`;
    const name = peek(() => source.props.metadata?.name);
    return isKnown(name) && typeof name === "string" ? name : source.urn;
}

export function replicasOf(props: Props): Maybe<number> {
    const replicas = peek(() => props.spec?.replicas);
    if (!isKnown(replicas)) return UNKNOWN;
    return replicas === undefined || replicas === null ? 1 : Number(replicas);
}

// ---- Stack graph --------------------------------------------------------------------------------

/**
 * Lookups and transitive dependencies over the resources of a stack validation. Indexes are built
 * on first use and live as long as the graph (one stack validation), so a policy that looks
 * something up per resource stays linear in the number of resources.
 */
export class Graph {
    private byType?: Map<string, PolicyResource[]>;
    private children?: Map<PolicyResource, PolicyResource[]>;
    private readonly dependencies = new Map<PolicyResource, ReadonlySet<PolicyResource>>();

    constructor(readonly resources: PolicyResource[]) {}

    ofType(...types: string[]): PolicyResource[] {
        const index = (this.byType ??= groupBy(this.resources, (r) => r.type));
        if (types.length === 1) return [...(index.get(types[0]) ?? [])];
        const wanted = new Set(types);
        return this.resources.filter((r) => wanted.has(r.type));
    }

    childrenOf(r: PolicyResource): PolicyResource[] {
        const index = (this.children ??= groupBy(
            this.resources.filter((x) => x.parent),
            (x) => x.parent!,
        ));
        return [...(index.get(r) ?? [])];
    }

    /** Everything `from` depends on, directly or transitively; a dependency on a component includes its children. */
    dependenciesOf(from: PolicyResource): ReadonlySet<PolicyResource> {
        const known = this.dependencies.get(from);
        if (known) return known;
        const seen = new Set<PolicyResource>();
        const pending = [...from.dependencies, ...Object.values(from.propertyDependencies).flat()];
        while (pending.length) {
            const r = pending.pop()!;
            if (seen.has(r) || r === from) continue;
            seen.add(r);
            pending.push(...r.dependencies, ...Object.values(r.propertyDependencies).flat(), ...this.childrenOf(r));
        }
        this.dependencies.set(from, seen);
        return seen;
    }

    dependsOn(from: PolicyResource, to: PolicyResource): boolean {
        return this.dependenciesOf(from).has(to);
    }

    /** The resources a property's value was computed from (preview: the only way to follow an unknown ID). */
    sourcesOf(r: PolicyResource, prop: string, type?: string): PolicyResource[] {
        return (r.propertyDependencies[prop] ?? []).filter((d) => !type || d.type === type);
    }

    /** Resources of `type` whose output `id` equals `id` (after `up`, when IDs are known). */
    byId(type: string, id: unknown): PolicyResource[] {
        return this.ofType(type).filter((r) => {
            const own = peek(() => r.props.id);
            return isKnown(own) && own !== undefined && own === id;
        });
    }
}

/** `read`'s value, computed on the first call (a throw is not remembered: it aborts the policy). */
export function once<T>(read: () => T): () => T {
    let value: { v: T } | undefined;
    return () => (value ??= { v: read() }).v;
}

export function groupBy<K, T>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
    const groups = new Map<K, T[]>();
    for (const item of items) {
        const k = key(item);
        const group = groups.get(k);
        if (group) group.push(item);
        else groups.set(k, [item]);
    }
    return groups;
}

// ---- Messages -----------------------------------------------------------------------------------

export function list(items: readonly string[]): string {
    return items.map((i) => JSON.stringify(i)).join(", ");
}
