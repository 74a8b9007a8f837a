// `plan --markdown` and `audit --markdown`: the pull-request comment's format. Read back with a
// GFM parser: the content (verdict, counts, live colors, verdicts, changes) and a structure that
// renders on GitHub (well-formed tables, balanced <details>, nothing else raw).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execute } from "../tools/cli";
import { parsePlanArgs, plan } from "../tools/plan";
import { audit, parseAuditArgs } from "../tools/audit";
import { renderMarkdown } from "../tools/markdown";
import type { Report } from "../tools/report";
import { markdownStructure, Structure, Table } from "./markdownStructure";

const ROOT = path.resolve(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "markdown-test-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(command: () => Promise<{ code: number; output: string }>): Promise<{ code: number; markdown: string }> {
    const result = await execute(command);
    assert.equal(result.error, undefined, result.error);
    return { code: result.code, markdown: result.output };
}

function tableWith(structure: Structure, column: string): Table {
    const found = structure.tables.find((t) => t.header.includes(column));
    assert.ok(found, `no table with a "${column}" column`);
    return found;
}

/** The counts table's single row as column → number. */
function counts(structure: Structure): Record<string, number> {
    const t = tableWith(structure, "resources");
    return Object.fromEntries(t.header.map((h, i) => [h, Number(t.rows[0][i])]));
}

function assertRendersOnGitHub(structure: Structure): void {
    assert.deepEqual(structure.problems, []);
}

describe("markdown (plan --markdown, audit --markdown)", function () {
    describe("escaping", () => {
        const hostile = "bad | value <details><script>x</script>\nsecond line with `code`";
        const report: Report = {
            title: "Plan x",
            resources: [
                {
                    urn: "urn:pulumi:x::p::kubernetes:core/v1:Service::svc|one",
                    type: "kubernetes:core/v1:Service",
                    name: "svc|one",
                    custom: true,
                    properties: {},
                },
            ],
            notes: ["a note with <b>html</b> | and a pipe"],
            check: {
                pack: { name: "pack", version: "1.0.0", policies: [] } as any,
                violations: [
                    {
                        policyName: "some-policy",
                        policyPackName: "pack",
                        policyPackVersion: "1.0.0",
                        enforcementLevel: "mandatory",
                        urn: "urn:pulumi:x::p::kubernetes:core/v1:Service::svc|one",
                        message: hostile,
                        description: "",
                    },
                ],
                logs: [],
                warnings: [],
            },
            policyConfigFile: "policies/config/x.json",
        };

        it("keeps tables and <details> intact whatever a message or a name contains", async () => {
            const structure = await markdownStructure(renderMarkdown(report, { kind: "Plan", stack: "x", source: "Pulumi.x.yaml" }));
            assertRendersOnGitHub(structure);
            const verdicts = tableWith(structure, "message");
            assert.equal(verdicts.rows.length, 1);
            assert.equal(verdicts.rows[0].length, 4);
            assert.match(verdicts.rows[0][3], /^bad \| value &lt;details&gt;/);
            assert.equal(tableWith(structure, "policy").rows[0][2], "svc|one");
            assert.doesNotMatch(structure.html, /<script>|<b>/);
            assert.match(structure.html, /&lt;script&gt;/);
            assert.equal(verdicts.section, "Policy verdicts: 1 mandatory, 0 advisory");
        });

        it("lists every kind of change, collapsed, replacements with the property that forces them", async () => {
            const change = (type: string, name: string, op: any, changes: any[] = [], replaceReasons: string[] = []) => ({
                urn: `urn:pulumi:x::p::${type}::${name}`,
                type,
                name,
                op,
                changes,
                replaceReasons,
            });
            const many = Array.from({ length: 12 }, (_, i) => ({ path: `data.key${i}`, kind: "update", before: "a", after: "b", replaces: false }));
            const diff = {
                added: [change("aws:rds/snapshot:Snapshot", "db-snapshot-1-2-4", "create")],
                changed: [change("kubernetes:core/v1:ConfigMap", "settings", "update", many)],
                replaced: [
                    change(
                        "aws:rds/instance:Instance",
                        "database",
                        "replace",
                        [{ path: "identifier", kind: "update", before: "a|b", after: "c", replaces: true }],
                        ["identifier"],
                    ),
                ],
                removed: [change("kubernetes:batch/v1:Job", "migrate-1-2-2", "delete")],
                unchanged: 7,
                outputs: [],
            };
            const structure = await markdownStructure(
                renderMarkdown(report, {
                    kind: "Plan",
                    stack: "x",
                    source: "Pulumi.x.yaml",
                    comparison: { against: "base.json", diff: diff as any, liveColorsBefore: {} },
                }),
            );
            assertRendersOnGitHub(structure);
            assert.deepEqual(counts(structure), { resources: 1, added: 1, changed: 1, replaced: 1, removed: 1, unchanged: 7, mandatory: 1, advisory: 0 });
            const rows = tableWith(structure, "change");
            assert.equal(rows.section, "Resource changes (4)");
            assert.deepEqual(
                rows.rows.map((r) => r[0]),
                ["➕ added", "✏️ changed", "♻️ replaced", "🗑️ removed"],
            );
            assert.match(rows.rows[1][3], /data\.key7: "a" → "b"<br>… 4 more$/);
            assert.equal(rows.rows[2][3], 'identifier: "a|b" → "c" (forces replacement)');
        });

        it("catches what would break on GitHub (the checker itself)", async () => {
            const broken = await markdownStructure("| a | b |\n| --- | --- |\n| 1 | 2 | 3 |\n\n<details>\n<summary>x</summary>\n\n<script>y</script>\n");
            assert.ok(
                broken.problems.some((p) => /3 cells, the header 2/.test(p)),
                broken.problems.join("\n"),
            );
            assert.ok(
                broken.problems.some((p) => /never closed/.test(p)),
                broken.problems.join("\n"),
            );
            assert.ok(
                broken.problems.some((p) => /<script>/.test(p)),
                broken.problems.join("\n"),
            );
        });
    });

    describe("plan --against: unusable input", () => {
        it("a missing or malformed export is exit 2 with one line naming the file, before the program runs", async () => {
            const missing = await execute(() => plan(parsePlanArgs(["--stack", "prod", "--against", path.join(tmp, "nope.json")])));
            assert.equal(missing.code, 2);
            assert.match(missing.error ?? "", /nope\.json/);
            const notAnExport = path.join(tmp, "not-an-export.json");
            fs.writeFileSync(notAnExport, JSON.stringify({ hello: "world" }));
            const malformed = await execute(() => plan(parsePlanArgs(["--stack", "prod", "--against", notAnExport, "--markdown"])));
            assert.equal(malformed.code, 2);
            assert.match(malformed.error ?? "", /not-an-export\.json is not a pulumi stack export/);
            assert.equal(malformed.output, "");
        });
        it("--json and --markdown exclude each other", async () => {
            const both = await execute(async () => plan(parsePlanArgs(["--stack", "prod", "--json", "--markdown"])));
            assert.equal(both.code, 2);
            assert.match(both.error ?? "", /--json and --markdown can't be combined/);
        });
    });

    describe("real plans and an audit", function () {
        this.timeout(600_000);
        const prodExport = path.join(tmp, "prod.json");
        let prod: Structure;
        let prodCode: number;
        let stagingUnderProdRules: Structure;
        let audited: Structure;
        let promoted: Structure;
        let promotedText: string;
        let exported: { deployment: { resources: unknown[] } };

        before(async () => {
            // In-process runs share the Pulumi runtime, so they go one after the other.
            const prodRun = await run(() => plan(parsePlanArgs(["--stack", "prod", "--markdown", "--out", prodExport])));
            prodCode = prodRun.code;
            prod = await markdownStructure(prodRun.markdown);
            const staging = await run(() =>
                plan(parsePlanArgs(["--stack", "staging", "--markdown", "--policy-config", path.join(ROOT, "policies", "config", "prod.json")])),
            );
            assert.equal(staging.code, 1);
            stagingUnderProdRules = await markdownStructure(staging.markdown);
            audited = await markdownStructure((await run(() => audit(parseAuditArgs([prodExport, "--markdown"])))).markdown);
            // A promote: auth-service's live color goes from blue to green, compared with prod as shipped.
            const prodYaml = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
            const promotedYaml = prodYaml.replace("path: /v1/auth\n      live: blue", "path: /v1/auth\n      live: green");
            assert.notEqual(promotedYaml, prodYaml);
            const promotedConfig = path.join(tmp, "Pulumi.promoted.yaml");
            fs.writeFileSync(promotedConfig, promotedYaml);
            promoted = await markdownStructure(
                (await run(() => plan(parsePlanArgs(["--stack", "prod", "--config", promotedConfig, "--against", prodExport, "--markdown"])))).markdown,
            );
            promotedText = (await run(() => plan(parsePlanArgs(["--stack", "prod", "--config", promotedConfig, "--against", prodExport])))).markdown;
            exported = JSON.parse(fs.readFileSync(prodExport, "utf8"));
        });

        it("prod: the verdict first, then the counts, the live colors; renders on GitHub", () => {
            assertRendersOnGitHub(prod);
            assert.equal(prodCode, 0);
            assert.deepEqual(prod.headings, ["Plan prod: ✅ policies passed"]);
            assert.deepEqual(counts(prod), { resources: exported.deployment.resources.length, mandatory: 0, advisory: 0 });
            assert.deepEqual(tableWith(prod, "live color").rows, [
                ["auth-service", "blue"],
                ["org-service", "blue"],
                ["user-service", "blue"],
            ]);
            assert.ok(
                prod.paragraphs.some((p) =>
                    /From Pulumi\.prod\.yaml, policy pack release-platform@\S+ \(\d+ policies, config policies\/config\/prod\.json\)/.test(p),
                ),
            );
            assert.ok(prod.paragraphs.includes("No policy violations."));
        });

        it("prod: resources by type collapsed, adding up to the resource count", () => {
            const byType = tableWith(prod, "count");
            assert.match(byType.section ?? "", /^Resources by type \(\d+ resources, \d+ types\)$/);
            const sum = byType.rows.reduce((n, [, c]) => n + Number(c), 0);
            assert.equal(sum, counts(prod).resources);
            assert.ok(byType.rows.some(([type, n]) => type === "kubernetes:apps/v1:Deployment" && n === "6"));
        });

        it("staging under prod's rules: the failure in the headline and counts, each verdict in a collapsed table", () => {
            assertRendersOnGitHub(stagingUnderProdRules);
            const [headline] = stagingUnderProdRules.headings;
            assert.match(headline, /^Plan staging: ❌ \d+ mandatory policy violations$/);
            const { mandatory } = counts(stagingUnderProdRules);
            assert.ok(mandatory >= 7, `${mandatory} mandatory`);
            assert.ok(headline.includes(`${mandatory} mandatory`));
            const verdicts = tableWith(stagingUnderProdRules, "policy");
            assert.equal(verdicts.section, `Policy verdicts: ${mandatory} mandatory, 0 advisory`);
            assert.equal(verdicts.rows.length, mandatory);
            assert.ok(
                verdicts.rows.some(([level, policy, resource]) => level === "❌ mandatory" && policy === "rds-multi-az" && resource === "database-primary"),
            );
            assert.ok(verdicts.rows.some(([, policy]) => policy === "release-change-window"));
            assert.deepEqual(
                tableWith(stagingUnderProdRules, "live color").rows.find(([s]) => s === "auth-service"),
                ["auth-service", "green"],
            );
        });

        it("a promote against the plan before it: only the two Services' selectors change, the live color table says so", () => {
            assertRendersOnGitHub(promoted);
            assert.deepEqual(promoted.headings, ["Plan prod: ✅ policies passed"]);
            const total = exported.deployment.resources.length;
            assert.deepEqual(counts(promoted), {
                resources: total,
                added: 0,
                changed: 2,
                replaced: 0,
                removed: 0,
                unchanged: total - 2,
                mandatory: 0,
                advisory: 0,
            });
            const changes = tableWith(promoted, "change");
            assert.equal(changes.section, "Resource changes (2)");
            assert.deepEqual(changes.rows.map(([change, type, name, properties]) => [change, type, name, properties]).sort(), [
                ["✏️ changed", "kubernetes:core/v1:Service", "auth-service", 'spec.selector.color: "blue" → "green"'],
                ["✏️ changed", "kubernetes:core/v1:Service", "auth-service-preview", 'spec.selector.color: "green" → "blue"'],
            ]);
            assert.deepEqual(tableWith(promoted, "before").rows, [
                ["auth-service", "green", "was blue"],
                ["org-service", "blue", "unchanged"],
                ["user-service", "blue", "unchanged"],
            ]);
            assert.ok(promoted.paragraphs.some((p) => p.includes(`compared with ${prodExport}`)));
        });

        it("a promote in text: the same diff, counted, before the resource tree", () => {
            const [, changesHeading] = promotedText.split("\n\n");
            assert.match(changesHeading, new RegExp(`^Changes against ${prodExport.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\n`));
            assert.match(changesHeading, /^ {2}~ {2}kubernetes:core\/v1:Service {2}auth-service$/m);
            assert.match(changesHeading, /^ {7}spec\.selector\.color: "blue" → "green"$/m);
            assert.match(changesHeading, /^ {2}stack outputs changed: liveColors$/m);
            assert.match(changesHeading, /0 to add, 2 to change, 0 to replace, 0 to remove, \d+ unchanged$/);
        });

        it("audit --markdown of the prod export: same format, from the export", () => {
            assertRendersOnGitHub(audited);
            assert.deepEqual(audited.headings, ["Audit prod: ✅ policies passed"]);
            assert.equal(counts(audited).resources, exported.deployment.resources.length);
            assert.ok(audited.paragraphs.some((p) => p.includes(prodExport)));
        });
    });
});
