// What a release step may change, computed from the program's resources, and the checks of a
// plan diff (offline) or of Pulumi's engine events (before `up`) against it.
//
// - A switch (promote, rollback to the previous color) may only update the selectors of the
//   switched services' live and preview Services; those Services are its update targets.
// - No step may replace or delete a database, a snapshot or a Deployment.
import type { OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { LABELS, ROLE_LABEL, ROLES } from "../conventions";
import { allChanges, PlanDiff } from "../offline/planDiff";

/** Replacing or deleting one of these loses data or drops serving pods. */
export const STATEFUL_TYPES = ["aws:rds/instance:Instance", "aws:rds/snapshot:Snapshot", "kubernetes:apps/v1:Deployment"] as const;

const SERVICE_TYPE = "kubernetes:core/v1:Service";
const SWITCHED_ROLES: string[] = [ROLES.live, ROLES.preview];
const SELECTOR_PATH = "spec.selector";
const DESTRUCTIVE_OPS: OpType[] = ["delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced"];

export interface AllowedChanges {
    /** The only resources the step may change (URNs), and the Automation API's `target`; absent: any. */
    targets?: string[];
    /** On targets, the only input paths that may change (prefixes). */
    paths?: string[];
    /** Engine operations allowed on targets; absent: any not destructive to a stateful type. */
    ops?: OpType[];
}

interface ProgramResource {
    urn: string;
    type: string;
    inputs: Record<string, any>;
}

/** The live and preview Services of the given services, read from their labels (`app`, role live/preview). */
export function switchChanges(resources: ProgramResource[], services: string[]): AllowedChanges {
    const targets = resources
        .filter((r) => r.type === SERVICE_TYPE)
        .filter((r) => {
            const labels = r.inputs?.metadata?.labels ?? {};
            return services.includes(labels[LABELS.app]) && SWITCHED_ROLES.includes(labels[ROLE_LABEL]);
        })
        .map((r) => r.urn);
    return { targets, paths: [SELECTOR_PATH], ops: ["same", "update"] };
}

/** A step that deploys or scales: anything, except destroying a stateful resource. */
export function anyChanges(): AllowedChanges {
    return {};
}

function underAllowedPath(path: string, allowed: string[]): boolean {
    return allowed.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}

function destroysState(type: string, op: OpType): boolean {
    return (STATEFUL_TYPES as readonly string[]).includes(type) && DESTRUCTIVE_OPS.includes(op);
}

/** Problems of an offline plan diff against what the step may change (empty: it stays inside). */
export function checkDiff(diff: PlanDiff, allowed: AllowedChanges): string[] {
    const problems: string[] = [];
    for (const r of allChanges(diff)) {
        if (destroysState(r.type, r.op)) {
            problems.push(`${r.op} of ${r.type} ${r.name}: a release step never replaces or deletes a database, snapshot or Deployment`);
            continue;
        }
        if (!allowed.targets) continue;
        if (!allowed.targets.includes(r.urn)) {
            problems.push(`${r.op} of ${r.type} ${r.name}, which this step may not change (it may change only ${allowed.targets.length} Service selectors)`);
        } else if (allowed.ops && !allowed.ops.includes(r.op)) {
            problems.push(`${r.op} of ${r.type} ${r.name}: this step may only ${allowed.ops.filter((o) => o !== "same").join(", ")} it`);
        } else if (allowed.paths) {
            const outside = r.changes.map((c) => c.path).filter((p) => !underAllowedPath(p, allowed.paths!));
            if (outside.length) problems.push(`${r.type} ${r.name} changes ${outside.join(", ")}; this step may change only ${allowed.paths.join(", ")}`);
        }
    }
    return problems;
}

/** Problems of a `pulumi preview`'s resource steps (ResourcePreEvent metadata) against what the step may change. */
export function checkEngineSteps(steps: StepEventMetadata[], allowed: AllowedChanges): string[] {
    const problems: string[] = [];
    for (const step of steps) {
        const name = step.urn.split("::").slice(3).join("::");
        if (destroysState(step.type, step.op)) {
            problems.push(`${step.op} of ${step.type} ${name}: a release step never replaces or deletes a database, snapshot or Deployment`);
            continue;
        }
        if (!allowed.targets || step.op === "same" || step.op === "read") continue;
        if (!allowed.targets.includes(step.urn)) {
            problems.push(`${step.op} of ${step.type} ${name}, which this step may not change`);
        } else if (allowed.ops && !allowed.ops.includes(step.op)) {
            problems.push(`${step.op} of ${step.type} ${name}: this step may only ${allowed.ops.filter((o) => o !== "same").join(", ")} it`);
        } else if (allowed.paths) {
            const changed = Object.keys(step.detailedDiff ?? {}).concat(step.detailedDiff ? [] : (step.diffs ?? []));
            const outside = changed.filter((p) => !underAllowedPath(p, allowed.paths!));
            if (outside.length) problems.push(`${step.type} ${name} changes ${outside.join(", ")}; this step may change only ${allowed.paths.join(", ")}`);
        }
    }
    return problems;
}
