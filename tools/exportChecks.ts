// Checks of what a `pulumi stack export` carries and the analyzer protocol does not: resource
// options such as retainOnDelete. `audit` reports each finding like a policy violation, with its own
// policy name, marked as coming from the export.
import { ROLES, ROLE_LABEL } from "../conventions";
import type { Diagnostic, EnforcementLevel } from "../offline/analyzer";
import type { ExportResource, StackExport } from "../offline/stackExport";

/** Where a violation comes from: the policy pack over the analyzer protocol, or the export itself. */
export type ViolationSource = "policy-pack" | "stack-export";

export interface ExportViolation extends Diagnostic {
    source: "stack-export";
}

export interface ExportCheck {
    name: string;
    description: string;
    /** `[urn, message]` per finding. */
    check: (resources: ExportResource[]) => [string, string][];
}

const RDS_SNAPSHOT = "aws:rds/snapshot:Snapshot";

function labelsOf(r: ExportResource): Record<string, string> {
    const metadata = (r.inputs?.metadata ?? r.outputs?.metadata) as { labels?: Record<string, string> } | undefined;
    return metadata?.labels ?? {};
}

/** Snapshots a migration Job waits for: the program's pre-migration snapshots. */
function preMigrationSnapshots(resources: ExportResource[]): ExportResource[] {
    const awaited = new Set(resources.filter((r) => labelsOf(r)[ROLE_LABEL] === ROLES.migration).flatMap((r) => r.dependencies ?? []));
    return resources.filter((r) => r.type === RDS_SNAPSHOT && !r.delete && awaited.has(r.urn));
}

export const snapshotRetainOnDelete: ExportCheck = {
    name: "rds-snapshot-retain-on-delete",
    description:
        "Every pre-migration RDS snapshot (one a migration Job depends on) is retainOnDelete, so dropping its release from the config or destroying the stack keeps the backup a rollback restores from.",
    check: (resources) =>
        preMigrationSnapshots(resources)
            .filter((s) => s.retainOnDelete !== true)
            .map((s) => [
                s.urn,
                `pre-migration snapshot ${s.urn.split("::").pop()} is not retainOnDelete; create it with the resource option retainOnDelete: true`,
            ]),
};

export const EXPORT_CHECKS: readonly ExportCheck[] = [snapshotRetainOnDelete];

/** The export-only violations, at the config's `all` level (mandatory when unset, none when disabled). */
export function exportViolations(data: StackExport, pack: { name: string; version: string }, allLevel: EnforcementLevel | undefined): ExportViolation[] {
    const level = allLevel ?? "mandatory";
    if (level === "disabled") return [];
    const enforcementLevel = level === "remediate" ? "mandatory" : level;
    return EXPORT_CHECKS.flatMap((c) =>
        c.check(data.deployment.resources).map(([urn, message]) => ({
            policyName: c.name,
            policyPackName: pack.name,
            policyPackVersion: pack.version,
            enforcementLevel,
            urn,
            message,
            description: c.description,
            source: "stack-export" as const,
        })),
    );
}
