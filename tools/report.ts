// Renders a plan or an audit for people (text) and for machines (JSON).
import { ROLE_LABEL, ROLES } from "../conventions";
import type { Diagnostic } from "../offline/analyzer";
import type { CheckResult } from "../offline/policyCheck";
import { isSecret, UNKNOWN } from "../offline/wire";
import type { ViolationSource } from "./exportChecks";

/** What the report shows of a resource: its place in the tree and the properties it ends up with. */
export interface ShownResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent?: string;
    properties: Record<string, unknown>;
}

export interface Report {
    title: string;
    resources: ShownResource[];
    stackOutputs?: Record<string, unknown>;
    notes: string[];
    check: CheckResult;
    policyConfigFile: string;
    /** The comparison with a stack export (`plan --against`): the diff's text lines. */
    changes?: { against: string; lines: string[] };
}

const KNOWN_AFTER_APPLY = "(known after apply)";

export function renderText(report: Report): string {
    const sections = [
        report.title,
        report.changes ? section(`Changes against ${report.changes.against}`, report.changes.lines) : "",
        section("Resources", renderTree(report.resources)),
        section("Resources by type", renderCounts(report.resources)),
        section("Live color per service", renderLiveColors(report.resources)),
        report.stackOutputs ? section("Stack outputs", renderOutputs(report.stackOutputs)) : "",
        report.notes.length
            ? section(
                  "Notes",
                  report.notes.map((n) => `  ${n}`),
              )
            : "",
        section(`Policy verdicts (${packLabel(report.check)}, config ${report.policyConfigFile})`, renderVerdicts(report.check.violations)),
        renderLogs(report.check),
        summaryLine(report),
    ];
    return sections.filter((s) => s !== "").join("\n\n") + "\n";
}

/** A heading and its indented lines, or `(none)` under it. */
export function section(heading: string, lines: string[]): string {
    return [heading, ...(lines.length ? lines : ["  (none)"])].join("\n");
}

function packLabel(check: CheckResult): string {
    return `pack ${check.pack.name}@${check.pack.version}, ${check.pack.policies.length} policies`;
}

// ---- Tree ---------------------------------------------------------------------------------------

function renderTree(resources: ShownResource[]): string[] {
    const urns = new Set(resources.map((r) => r.urn));
    const children = new Map<string | undefined, ShownResource[]>();
    for (const r of resources) {
        const parent = r.parent && urns.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string | undefined, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            lines.push(`${"  ".repeat(depth + 1)}${r.type}  ${r.name}${unknownNote(r)}`);
            walk(r.urn, depth + 1);
        }
    };
    walk(undefined, 0);
    return lines;
}

function unknownNote(r: ShownResource): string {
    if (!r.custom) return "";
    const unknown = Object.entries(r.properties)
        .filter(([, v]) => containsUnknown(v))
        .map(([k]) => k);
    return unknown.length ? `  [${unknown.join(", ")}: ${KNOWN_AFTER_APPLY}]` : "";
}

function containsUnknown(v: unknown): boolean {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(containsUnknown);
    if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
    return false;
}

function renderCounts(resources: ShownResource[]): string[] {
    return countsByType(resources).map(([type, n]) => `${String(n).padStart(5)}  ${type}`);
}

/** [type, number of resources of that type], by type name. */
export function countsByType(resources: ShownResource[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
}

// ---- Live colors --------------------------------------------------------------------------------

/** Service → color the live Service selects (`maintenance` when it routes to the maintenance page). */
export function liveColors(resources: ShownResource[]): Record<string, string> {
    const result: Record<string, string> = {};
    for (const r of resources) {
        if (r.type !== "kubernetes:core/v1:Service") continue;
        const props = unwrap(r.properties);
        if (props?.metadata?.labels?.[ROLE_LABEL] !== ROLES.live) continue;
        const selector = props?.spec?.selector ?? {};
        const service = typeof props.metadata.name === "string" && props.metadata.name !== UNKNOWN ? props.metadata.name : r.name;
        result[service] = selector.color === UNKNOWN ? KNOWN_AFTER_APPLY : (selector.color ?? "(no color selector)");
    }
    return result;
}

function renderLiveColors(resources: ShownResource[]): string[] {
    return Object.entries(liveColors(resources))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([service, color]) => `  ${service} → ${color}`);
}

/** Secret envelopes opened (values were redacted or never decrypted where needed). */
function unwrap(v: any): any {
    if (isSecret(v)) return "value" in v ? unwrap(v.value) : "[secret]";
    if (Array.isArray(v)) return v.map(unwrap);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    return v;
}

function renderOutputs(outputs: Record<string, unknown>): string[] {
    return Object.entries(outputs).map(([k, v]) => `  ${k}: ${showValue(v)}`);
}

function showValue(v: unknown): string {
    if (isSecret(v)) return "[secret]";
    if (containsUnknown(v)) return KNOWN_AFTER_APPLY;
    return JSON.stringify(v);
}

// ---- Verdicts -----------------------------------------------------------------------------------

function renderVerdicts(violations: Diagnostic[]): string[] {
    const byUrn = new Map<string, Diagnostic[]>();
    for (const v of violations) byUrn.set(v.urn, [...(byUrn.get(v.urn) ?? []), v]);
    const lines: string[] = [];
    for (const [urn, list] of byUrn) {
        lines.push(`  ${urn}`);
        for (const v of sortByLevel(list)) {
            const [first, ...rest] = v.message.split("\n");
            lines.push(`    ${v.enforcementLevel.padEnd(9)} ${v.policyName}${fromExport(v) ? " (from the stack export)" : ""}: ${first}`);
            for (const line of rest) lines.push(`              ${line}`);
        }
    }
    return lines;
}

/** Whether a violation was found in the stack export itself rather than by the policy pack. */
function fromExport(v: Diagnostic): boolean {
    return (v as Diagnostic & { source?: ViolationSource }).source === "stack-export";
}

function sortByLevel(list: Diagnostic[]): Diagnostic[] {
    const rank = (d: Diagnostic) => (d.enforcementLevel === "mandatory" ? 0 : 1);
    return [...list].sort((a, b) => rank(a) - rank(b));
}

function renderLogs(check: CheckResult): string {
    const lines = [
        ...check.warnings.map((w) => `  warning: ${w}`),
        ...check.logs.filter((l) => l.severity !== "debug").map((l) => `  ${l.severity}: ${l.message}`),
    ];
    return lines.length ? section("Policy pack messages", lines) : "";
}

export function countByLevel(violations: Diagnostic[]): { mandatory: number; advisory: number } {
    return {
        mandatory: violations.filter((v) => v.enforcementLevel === "mandatory").length,
        advisory: violations.filter((v) => v.enforcementLevel === "advisory").length,
    };
}

function summaryLine(report: Report): string {
    const { mandatory, advisory } = countByLevel(report.check.violations);
    const verdict = mandatory ? "FAILED: mandatory policy violations" : "passed";
    return `${report.title.split(":")[0]}: ${report.resources.length} resources, ${mandatory} mandatory and ${advisory} advisory violations — ${verdict}`;
}

// ---- JSON ---------------------------------------------------------------------------------------

export function renderJson(report: Report, resources: unknown[], extra: Record<string, unknown>): string {
    const { mandatory, advisory } = countByLevel(report.check.violations);
    return (
        JSON.stringify(
            {
                ...extra,
                policyPack: { name: report.check.pack.name, version: report.check.pack.version, config: report.policyConfigFile },
                resources,
                liveColors: liveColors(report.resources),
                violations: report.check.violations.map((v) => ({
                    policyName: v.policyName,
                    enforcementLevel: v.enforcementLevel,
                    urn: v.urn,
                    message: v.message,
                    ...(fromExport(v) ? { source: "stack-export" } : {}),
                })),
                notes: report.notes,
                summary: { resources: report.resources.length, mandatory, advisory, passed: mandatory === 0 },
            },
            null,
            2,
        ) + "\n"
    );
}
