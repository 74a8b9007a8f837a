// Renders a plan or an audit as GitHub-flavoured Markdown, for a pull-request comment or a job
// summary: readable at a glance (verdict and counts first), details collapsed in <details>.
//
// Everything that comes from the stack (names, messages, values) is escaped, so a policy message
// with `|`, `<` or a newline cannot break a table or close a <details> early.
import type { PlanDiff, ResourceDiff } from "../offline/planDiff";
import type { Diagnostic } from "../offline/analyzer";
import { countByLevel, countsByType, liveColors, Report, ShownResource } from "./report";

export interface MarkdownOptions {
    /** "Plan" or "Audit". */
    kind: string;
    stack: string;
    /** What the run read: the stack config file or the export. */
    source: string;
    /** The comparison: the diff against `against` (an export file), and the live colors it had. */
    comparison?: { against: string; diff: PlanDiff; liveColorsBefore: Record<string, string> };
}

/** Changed properties listed per resource before the rest is summarized as "… N more". */
const MAX_PROPERTIES_SHOWN = 8;
/** Changed resources listed before the rest is counted (a comment holds at most 65536 characters). */
const MAX_CHANGE_ROWS = 100;
/** A value longer than this is cut in a table cell. */
const MAX_VALUE_CHARS = 60;

const CHANGE_KINDS = [
    ["added", "➕ added"],
    ["changed", "✏️ changed"],
    ["replaced", "♻️ replaced"],
    ["removed", "🗑️ removed"],
] as const;

export function renderMarkdown(report: Report, opts: MarkdownOptions): string {
    const blocks = [
        headline(report, opts),
        countsTable(report, opts),
        provenance(report, opts),
        liveColorTable(report.resources, opts.comparison?.liveColorsBefore),
        opts.comparison ? changesDetails(opts.comparison.diff) : "",
        verdictDetails(report.check.violations),
        messagesDetails(report),
        resourcesDetails(report.resources),
    ];
    return blocks.filter((b) => b !== "").join("\n\n") + "\n";
}

// ---- At a glance --------------------------------------------------------------------------------

function headline(report: Report, opts: MarkdownOptions): string {
    const { mandatory } = countByLevel(report.check.violations);
    const verdict = mandatory ? `❌ ${mandatory} mandatory policy violation${mandatory === 1 ? "" : "s"}` : "✅ policies passed";
    return `### ${opts.kind} ${inlineCode(opts.stack)}: ${verdict}`;
}

function countsTable(report: Report, opts: MarkdownOptions): string {
    const { mandatory, advisory } = countByLevel(report.check.violations);
    const columns: [string, number][] = [["resources", report.resources.length]];
    const diff = opts.comparison?.diff;
    if (diff) {
        for (const [key] of CHANGE_KINDS) columns.push([key, diff[key].length]);
        columns.push(["unchanged", diff.unchanged]);
    }
    columns.push(["mandatory", mandatory], ["advisory", advisory]);
    return table(
        columns.map(([name]) => name),
        [columns.map(([, n]) => String(n))],
        columns.map(() => "right"),
    );
}

function provenance(report: Report, opts: MarkdownOptions): string {
    const pack = report.check.pack;
    const parts = [
        `From ${inlineCode(opts.source)}`,
        opts.comparison ? `compared with ${inlineCode(opts.comparison.against)}` : "",
        `policy pack ${inlineCode(`${pack.name}@${pack.version}`)} (${pack.policies.length} policies, config ${inlineCode(report.policyConfigFile)})`,
    ];
    return parts.filter((p) => p !== "").join(", ") + ".";
}

function liveColorTable(resources: ShownResource[], before?: Record<string, string>): string {
    const now = liveColors(resources);
    const services = [...new Set([...Object.keys(now), ...Object.keys(before ?? {})])].sort();
    if (!services.length) return "";
    const shown = (color: string | undefined) => (color === undefined ? "—" : escapeCell(color));
    const rows = services.map((s) => {
        const row = [code(s), shown(now[s])];
        if (before) row.push(now[s] === before[s] ? "unchanged" : `was ${shown(before[s])}`);
        return row;
    });
    return table(before ? ["service", "live color", "before"] : ["service", "live color"], rows);
}

// ---- Details ------------------------------------------------------------------------------------

function changesDetails(diff: PlanDiff): string {
    const rows: string[][] = [];
    for (const [key, label] of CHANGE_KINDS) {
        for (const r of diff[key]) rows.push([label, code(r.type), code(r.name), propertiesCell(r, key)]);
    }
    const total = rows.length;
    const outputs = diff.outputs.length ? `\n\nStack outputs that change: ${diff.outputs.map(code).join(", ")}.` : "";
    if (!total) return `No resource changes.${outputs}`;
    const shown = rows.slice(0, MAX_CHANGE_ROWS);
    if (total > MAX_CHANGE_ROWS) shown.push([`… ${total - MAX_CHANGE_ROWS} more`, "", "", "the plan's text output lists every change"]);
    return details(`Resource changes (${total})`, table(["change", "type", "name", "properties"], shown) + outputs);
}

function propertiesCell(r: ResourceDiff, kind: string): string {
    if (kind === "added" || kind === "removed") return "";
    const shown = r.changes.slice(0, MAX_PROPERTIES_SHOWN).map((c) => {
        const forced = c.replaces ? " (forces replacement)" : "";
        return `${code(c.path)}: ${value(c.before)} → ${value(c.after)}${forced}`;
    });
    if (r.changes.length > MAX_PROPERTIES_SHOWN) shown.push(`… ${r.changes.length - MAX_PROPERTIES_SHOWN} more`);
    if (kind === "replaced" && !r.changes.some((c) => c.replaces)) shown.push(`replaced: ${r.replaceReasons.map(code).join(", ")} changed`);
    return shown.join("<br>");
}

function value(v: unknown): string {
    if (v === undefined) return "(none)";
    const text = JSON.stringify(v) ?? String(v);
    return code(text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text);
}

function verdictDetails(violations: Diagnostic[]): string {
    if (!violations.length) return "No policy violations.";
    const { mandatory, advisory } = countByLevel(violations);
    const rank = (d: Diagnostic) => (d.enforcementLevel === "mandatory" ? 0 : 1);
    const rows = [...violations]
        .sort((a, b) => rank(a) - rank(b) || a.urn.localeCompare(b.urn))
        .map((v) => [
            v.enforcementLevel === "mandatory" ? "❌ mandatory" : "⚠️ advisory",
            code(v.policyName),
            code(resourceName(v.urn)),
            escapeCell(v.message),
        ]);
    return details(`Policy verdicts: ${mandatory} mandatory, ${advisory} advisory`, table(["level", "policy", "resource", "message"], rows));
}

function messagesDetails(report: Report): string {
    const lines = [
        ...report.notes,
        ...report.check.warnings.map((w) => `warning: ${w}`),
        ...report.check.logs.filter((l) => l.severity !== "debug").map((l) => `${l.severity}: ${l.message}`),
    ];
    if (!lines.length) return "";
    return details(`Notes (${lines.length})`, lines.map((l) => `- ${escapeText(l)}`).join("\n"));
}

function resourcesDetails(resources: ShownResource[]): string {
    const rows = countsByType(resources).map(([type, n]) => [code(type), String(n)]);
    return details(`Resources by type (${resources.length} resources, ${rows.length} types)`, table(["type", "count"], rows, ["left", "right"]));
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → name; a stack-level verdict names the stack. */
function resourceName(urn: string): string {
    return urn.split("::").slice(3).join("::") || urn;
}

// ---- Markdown building blocks -------------------------------------------------------------------

type Align = "left" | "right";

/** A GFM table; cells are already escaped Markdown. */
export function table(header: string[], rows: string[][], align: Align[] = []): string {
    const rule = header.map((_, i) => (align[i] === "right" ? "---:" : "---"));
    const line = (cells: string[]) => `| ${cells.map((c) => c || " ").join(" | ")} |`;
    return [line(header), line(rule), ...rows.map(line)].join("\n");
}

/**
 * A collapsed section. The blank lines after <summary> and before </details> make GitHub parse
 * the body as Markdown (an HTML block ends at the first blank line).
 */
export function details(summary: string, body: string): string {
    return `<details>\n<summary>${escapeText(summary)}</summary>\n\n${body}\n\n</details>`;
}

/** Text for a table cell: HTML special characters and pipes escaped, newlines as <br>. */
export function escapeCell(text: string): string {
    return escapeHtml(text).replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

/** One line of text outside tables: HTML special characters escaped, newlines as spaces. */
export function escapeText(text: string): string {
    return escapeHtml(text).replace(/\r?\n/g, " ");
}

function escapeHtml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A code span in a table cell (pipes escaped, as GFM requires even inside code). */
export function code(text: string): string {
    return inlineCode(text).replace(/\|/g, "\\|");
}

/** A code span outside tables. Backticks can't be escaped inside one, so they become quotes. */
function inlineCode(text: string): string {
    return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, " ")}\``;
}
