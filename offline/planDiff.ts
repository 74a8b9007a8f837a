// The resource diff between two states of a stack, by URN: what `pulumi preview` would list as
// create / update / replace / delete. Either side is an evaluated program (the offline plan) or a
// `pulumi stack export`.
//
// Pulumi asks each resource's provider whether a change is an update or a replacement. Offline
// there is no provider, so the replace decision is made from what can be known:
// - the resource's `replaceOnChanges` option (exactly as the engine applies it);
// - the properties each provider marks replace-on-change for the resource types this program
//   uses (`REPLACE_ON_CHANGE` below, from the providers' schemas and the Kubernetes API's
//   immutable fields);
// - a changed provider reference.
// Other types' replace-on-change properties are not known here: their changes show as updates.
// A value the preview can't know (a provider output, a secret that can't be decrypted) is assumed
// unchanged; the resource it comes from shows its own change.
import { SECRET_SIG, SIG_KEY, UNKNOWN } from "./wire";

/** What the diff needs of a resource, from a program run or a stack export. */
export interface DiffResource {
    urn: string;
    type: string;
    custom: boolean;
    /** Inputs in Pulumi's wire format (secret envelopes, unknown sentinels). */
    inputs: Record<string, unknown>;
    provider?: string;
    replaceOnChanges?: string[];
    protect?: boolean;
}

export type DiffOp = "create" | "update" | "replace" | "delete";

export interface PropertyChange {
    /** Dotted path, list items as `[i]`: `spec.selector.color`, `spec.template.spec.containers[0].image`. */
    path: string;
    kind: "add" | "update" | "delete";
    before?: unknown;
    after?: unknown;
    /** The change makes the provider replace the resource. */
    replaces: boolean;
}

export interface ResourceDiff {
    urn: string;
    type: string;
    name: string;
    op: DiffOp;
    /** Changed input properties (empty for create and delete). */
    changes: PropertyChange[];
    /** Why a replace is a replace: the properties or the provider change that force it. */
    replaceReasons: string[];
}

export interface PlanDiff {
    added: ResourceDiff[];
    changed: ResourceDiff[];
    replaced: ResourceDiff[];
    removed: ResourceDiff[];
    /** Resources in both states with equal inputs. */
    unchanged: number;
    /** Stack outputs whose value changed, was added or removed. */
    outputs: string[];
}

/**
 * Replace-on-change input properties per resource type: a change at or below one of these paths
 * replaces the resource. Kubernetes: names and the API's immutable fields (a Deployment's
 * selector, a Job's template, a ConfigMap's data, which the provider treats as immutable); AWS:
 * the `forceNew` properties of the types whose replacement matters (stateful or named).
 */
export const REPLACE_ON_CHANGE: Record<string, string[]> = {
    "kubernetes:apps/v1:Deployment": ["metadata.name", "metadata.namespace", "spec.selector"],
    "kubernetes:batch/v1:Job": ["metadata.name", "metadata.namespace", "spec.template", "spec.selector", "spec.completions"],
    "kubernetes:core/v1:ConfigMap": ["metadata.name", "metadata.namespace", "data", "binaryData"],
    "kubernetes:core/v1:Secret": ["metadata.name", "metadata.namespace", "type"],
    "kubernetes:core/v1:Service": ["metadata.name", "metadata.namespace", "spec.clusterIP"],
    "kubernetes:core/v1:Namespace": ["metadata.name"],
    "kubernetes:policy/v1:PodDisruptionBudget": ["metadata.name", "metadata.namespace"],
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ["metadata.name", "metadata.namespace"],
    "kubernetes:networking.k8s.io/v1:Ingress": ["metadata.name", "metadata.namespace"],
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": ["metadata.name", "metadata.namespace"],
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": ["metadata.name", "metadata.namespace"],
    "aws:rds/instance:Instance": [
        "identifier",
        "engine",
        "dbName",
        "username",
        "storageEncrypted",
        "kmsKeyId",
        "availabilityZone",
        "snapshotIdentifier",
        "replicateSourceDb",
        "characterSetName",
        "timezone",
    ],
    "aws:rds/snapshot:Snapshot": ["dbInstanceIdentifier", "dbSnapshotIdentifier"],
    "aws:rds/subnetGroup:SubnetGroup": ["name"],
    "aws:rds/parameterGroup:ParameterGroup": ["name", "family"],
    "aws:eks/cluster:Cluster": ["name", "roleArn", "encryptionConfig", "kubernetesNetworkConfig"],
    "aws:eks/nodeGroup:NodeGroup": ["clusterName", "nodeGroupName", "nodeRoleArn", "subnetIds", "amiType", "capacityType", "diskSize", "instanceTypes"],
    "aws:ec2/vpc:Vpc": ["cidrBlock", "instanceTenancy"],
    "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone"],
    "aws:ec2/securityGroup:SecurityGroup": ["name", "vpcId", "description"],
    "aws:ec2/natGateway:NatGateway": ["subnetId", "allocationId", "connectivityType"],
    "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage"],
    "aws:iam/role:Role": ["name", "path"],
    "aws:secretsmanager/secret:Secret": ["name"],
    "aws:sns/topic:Topic": ["name", "fifoTopic"],
};

/** The diff from `before` to `after`, resources matched by URN, in `after`'s order (removals last). */
export function diffResources(
    before: DiffResource[],
    after: DiffResource[],
    outputs?: { before: Record<string, unknown>; after: Record<string, unknown> },
): PlanDiff {
    const old = new Map(before.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const diff: PlanDiff = { added: [], changed: [], replaced: [], removed: [], unchanged: 0, outputs: [] };
    for (const r of after) {
        seen.add(r.urn);
        const previous = old.get(r.urn);
        if (!previous) {
            diff.added.push(entry(r, "create"));
            continue;
        }
        const compared = compareResource(previous, r);
        if (compared.op === "replace") diff.replaced.push(compared);
        else if (compared.op === "update") diff.changed.push(compared);
        else diff.unchanged++;
    }
    for (const r of before) if (!seen.has(r.urn)) diff.removed.push(entry(r, "delete"));
    if (outputs) diff.outputs = changedPaths(outputs.before, outputs.after, "");
    return diff;
}

function entry(r: DiffResource, op: DiffOp, changes: PropertyChange[] = [], replaceReasons: string[] = []): ResourceDiff {
    return { urn: r.urn, type: r.type, name: urnName(r.urn), op, changes, replaceReasons };
}

function compareResource(before: DiffResource, after: DiffResource): ResourceDiff | { op: "same" } {
    const replacePaths = [...(REPLACE_ON_CHANGE[after.type] ?? []), ...(after.replaceOnChanges ?? [])];
    const changes = propertyChanges(before.inputs, after.inputs, "").map((c) => ({ ...c, replaces: replacePaths.some((p) => covers(p, c.path)) }));
    const reasons = changes.filter((c) => c.replaces).map((c) => c.path);
    if (after.custom && before.provider && after.provider && providerChanged(before.provider, after.provider)) reasons.push("provider");
    if (reasons.length) return entry(after, "replace", changes, reasons);
    return changes.length ? entry(after, "update", changes) : { op: "same" };
}

/** A provider reference is `urn::id`; an unknown id (a preview) matches any id of the same provider. */
function providerChanged(a: string, b: string): boolean {
    const split = (ref: string) => {
        const i = ref.lastIndexOf("::");
        return { urn: ref.slice(0, i), id: ref.slice(i + 2) };
    };
    const [x, y] = [split(a), split(b)];
    return x.urn !== y.urn || (x.id !== y.id && x.id !== UNKNOWN && y.id !== UNKNOWN);
}

/** `spec.selector` covers `spec.selector.color` and `spec.selector` itself; `*` in Pulumi paths matches any key. */
function covers(pattern: string, path: string): boolean {
    const norm = (p: string) => p.replace(/\[(\d+|\*)\]/g, ".$1").split(".");
    const [pat, segs] = [norm(pattern), norm(path)];
    if (pat.length > segs.length) return pat.slice(0, segs.length).every((p, i) => p === "*" || p === segs[i]);
    return pat.every((p, i) => p === "*" || p === segs[i]);
}

function isSecretEnvelope(v: unknown): v is Record<string, unknown> {
    return !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** A secret's value when it is known here; `UNKNOWN` for redacted or encrypted secrets. */
function comparable(v: unknown): unknown {
    if (isSecretEnvelope(v)) return "value" in v ? comparable(v.value) : UNKNOWN;
    return v;
}

/** Shown instead of a secret's value in a change. */
export const SECRET_SHOWN = "[secret]";

function propertyChanges(before: unknown, after: unknown, path: string, secret = false): Omit<PropertyChange, "replaces">[] {
    const inSecret = secret || isSecretEnvelope(before) || isSecretEnvelope(after);
    const [a, b] = [comparable(before), comparable(after)];
    if (a === UNKNOWN || b === UNKNOWN) return [];
    const shown = (v: unknown) => (inSecret ? SECRET_SHOWN : v);
    if (isPlainObject(a) && isPlainObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
        return keys.flatMap((k) => {
            const p = path ? `${path}.${k}` : k;
            if (!(k in a) || a[k] === undefined) return b[k] === undefined ? [] : [{ path: p, kind: "add" as const, after: shown(b[k]) }];
            if (!(k in b) || b[k] === undefined) return [{ path: p, kind: "delete" as const, before: shown(a[k]) }];
            return propertyChanges(a[k], b[k], p, inSecret);
        });
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
        return a.flatMap((x, i) => propertyChanges(x, b[i], `${path}[${i}]`, inSecret));
    }
    return sameValue(a, b) ? [] : [{ path, kind: "update", before: shown(a), after: shown(b) }];
}

function changedPaths(before: Record<string, unknown>, after: Record<string, unknown>, path: string): string[] {
    return [...new Set(propertyChanges(before, after, path).map((c) => c.path.split(/[.[]/)[0]))];
}

function sameValue(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return !!v && typeof v === "object" && !Array.isArray(v);
}

function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

// ---- Sources ------------------------------------------------------------------------------------

/** Resources of an evaluated program run (the harness's recorded registrations). */
export function diffResourcesOfRun(run: { resources: DiffResource[] }): DiffResource[] {
    return run.resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        custom: r.custom,
        inputs: r.inputs,
        provider: r.provider,
        replaceOnChanges: r.replaceOnChanges,
        protect: r.protect,
    }));
}

/** Resources of a `pulumi stack export` (pending deletes left out, as the engine does). */
export function diffResourcesOfExport(data: {
    deployment: {
        resources: {
            urn: string;
            type: string;
            custom: boolean;
            inputs?: Record<string, unknown>;
            provider?: string;
            replaceOnChanges?: string[];
            protect?: boolean;
            delete?: boolean;
        }[];
    };
}): DiffResource[] {
    return data.deployment.resources
        .filter((r) => !r.delete)
        .map((r) => ({
            urn: r.urn,
            type: r.type,
            custom: r.custom,
            inputs: r.inputs ?? {},
            provider: r.provider,
            replaceOnChanges: r.replaceOnChanges,
            protect: r.protect,
        }));
}

// ---- Queries and rendering ----------------------------------------------------------------------

/** Every entry of the diff, in the order added, changed, replaced, removed. */
export function allChanges(diff: PlanDiff): ResourceDiff[] {
    return [...diff.added, ...diff.changed, ...diff.replaced, ...diff.removed];
}

export function isEmptyDiff(diff: PlanDiff): boolean {
    return allChanges(diff).length === 0;
}

export function summarizeDiff(diff: PlanDiff): string {
    return `${diff.added.length} to add, ${diff.changed.length} to change, ${diff.replaced.length} to replace, ${diff.removed.length} to remove, ${diff.unchanged} unchanged`;
}

const OP_SYMBOL: Record<DiffOp, string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** Text lines: one per resource (`~ kubernetes:core/v1:Service  auth-service`), its changed paths below. */
export function renderDiff(diff: PlanDiff): string[] {
    const lines: string[] = [];
    for (const r of allChanges(diff)) {
        lines.push(`  ${OP_SYMBOL[r.op].padEnd(2)} ${r.type}  ${r.name}${r.op === "replace" ? `  (replace: ${r.replaceReasons.join(", ")} changed)` : ""}`);
        for (const c of r.changes) lines.push(`       ${c.path}: ${showValue(c.before)} → ${showValue(c.after)}`);
    }
    if (diff.outputs.length) lines.push(`  stack outputs changed: ${diff.outputs.join(", ")}`);
    lines.push(`  ${summarizeDiff(diff)}`);
    return lines;
}

function showValue(v: unknown): string {
    if (v === undefined) return "(none)";
    if (isSecretEnvelope(v)) return SECRET_SHOWN;
    const text = JSON.stringify(v);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
