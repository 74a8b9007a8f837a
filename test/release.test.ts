// `npm run release` on copies of the shipped stack files (never the real ones): what each step
// writes, what its offline plan changes, the policy verdict, every refusal leaving the file
// byte-identical, the blue/green sequence on prod, and --apply without the Pulumi CLI.
// Evaluated programs are shared between steps in this process (a step's "after" is the next
// step's "before"), so each distinct config is evaluated once.
import * as assert from "node:assert/strict";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "./harness";
import { execute } from "../tools/cli";
import { parseReleaseArgs, release } from "../tools/release";

interface Run {
    code: number;
    out: string;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-test-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let copies = 0;
/** A fresh copy of a shipped stack file (optionally edited by hand first). */
function copyOf(stack: "prod" | "staging", edit: (text: string) => string = (t) => t): string {
    const file = path.join(tmp, `${++copies}`, `Pulumi.${stack}.yaml`);
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, edit(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")));
    return file;
}

async function step(file: string, stack: string, args: string[], at: string): Promise<Run> {
    const opts = parseReleaseArgs([...args, "--stack", stack, "--config", file], { now: () => new Date(at), progress: () => undefined });
    const run = await execute(() => release(opts));
    return { code: run.code, out: run.output + (run.error ?? "") };
}

/** Lines of `after` that are not in `before` and vice versa (files are short: an LCS over lines). */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
    const [a, b] = [before.split("\n"), after.split("\n")];
    const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--)
        for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    const removed: string[] = [];
    const added: string[] = [];
    let [i, j] = [0, 0];
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) [i, j] = [i + 1, j + 1];
        else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) added.push(b[j++]);
        else removed.push(a[i++]);
    }
    return { removed, added };
}

/** Leaf paths whose values differ between two parsed configs: `services.auth-service.live`. */
function changedKeys(before: unknown, after: unknown, prefix = ""): string[] {
    if (before && after && typeof before === "object" && typeof after === "object" && !Array.isArray(before) && !Array.isArray(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
        return keys.flatMap((k) => changedKeys((before as any)[k], (after as any)[k], `${prefix}${prefix ? "." : ""}${k.replace("release-platform:", "")}`));
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

function config(text: string): any {
    return parse(text).config;
}

function comments(text: string): string[] {
    return text.split("\n").filter((l) => l.trimStart().startsWith("#"));
}

/** Resource changes the run printed: `~ kubernetes:core/v1:Service  auth-service`. */
function resourceChanges(out: string): string[] {
    const section = out.split("\n\n").find((s) => s.startsWith("Resource changes")) ?? "";
    return section
        .split("\n")
        .filter((l) => /^ {2}(\+-|[+~-]) /.test(l))
        .map((l) => l.trim().replace(/\s+/g, " "));
}

function assertOnlySelectorChanges(out: string, services: string[]): void {
    const section = out.split("\n\n").find((s) => s.startsWith("Resource changes")) ?? "";
    const expected = services.flatMap((s) => [`~ kubernetes:core/v1:Service ${s}`, `~ kubernetes:core/v1:Service ${s}-preview`]).sort();
    assert.deepEqual(resourceChanges(out).sort(), expected, section);
    const paths = section
        .split("\n")
        .filter((l) => /^ {7}\S/.test(l))
        .map((l) => l.trim().split(":")[0]);
    assert.ok(paths.length >= expected.length && paths.every((p) => p === "spec.selector.color"), section);
}

function assertWrittenOnly(before: string, after: string, keys: string[]): void {
    assert.deepEqual(changedKeys(config(before), config(after)).sort(), [...keys].sort());
    assert.deepEqual(comments(after), comments(before));
    // Every line that changed is one of the changed keys' lines (or a list item added under one).
    const { removed, added } = lineDiff(before, after);
    const leafNames = new Set(
        keys.map((k) =>
            k
                .split(".")
                .pop()!
                .replace(/\[\d+\]$/, ""),
        ),
    );
    for (const line of [...removed, ...added]) {
        const name = /^\s*(?:- )?([\w-]+):/.exec(line)?.[1] ?? "";
        const inFlowMap = /^\s*(blue|green): \{/.test(line);
        assert.ok(leafNames.has(name) || inFlowMap || keys.some((k) => k.startsWith("migrations")), `unexpected change: ${line}`);
    }
}

function assertPassesPolicies(run: Run): void {
    assert.match(run.out, /^Policy verdicts of the new config \(pack release-platform@\S+, config \S+\): 0 mandatory, 0 advisory$/m, run.out);
}

function assertRefused(run: Run, file: string, original: string, rule: RegExp): void {
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /^Refused; nothing written$/m);
    assert.match(run.out, rule, run.out);
    assert.equal(fs.readFileSync(file, "utf8"), original, "the file must stay byte-identical");
}

// Thursday 2026-12-03, inside prod's change window (14:00–16:00 America/New_York, EST = UTC-5).
const THURSDAY = "2026-12-03T19:30:00Z";
const later = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();

describe("release: the blue/green sequence on prod (deploy → promote → finish, deploy → promote → rollback)", function () {
    this.timeout(900_000);
    const file = copyOf("prod");
    const texts: string[] = [fs.readFileSync(file, "utf8")];
    const runs: Run[] = [];
    const services = ["auth-service", "user-service", "org-service"];
    const MIGRATION = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform/migrations:1.2.4";
    let refusedRollback: Run;
    let refusedFinish: Run;
    let textAfterFinish: string;
    let textAfterRefusedRollback: string;

    before(async () => {
        const steps: [string[], string][] = [
            [["deploy", "--all", "--version", "1.2.4", "--migration-image", MIGRATION, "--write"], THURSDAY],
            [["promote", "--all", "--write"], later(THURSDAY, 10)],
            [["finish", "--all", "--write"], later(THURSDAY, 25 * 60)],
            [["deploy", "--all", "--version", "1.2.5", "--write"], later(THURSDAY, 7 * 24 * 60)],
            [["promote", "--all", "--write"], later(THURSDAY, 7 * 24 * 60 + 10)],
            // Friday 03:00 New York: outside the change window; a rollback is never blocked.
            [["rollback", "--all", "--write"], later(THURSDAY, 7 * 24 * 60 + 13 * 60)],
        ];
        for (const [i, [args, at]] of steps.entries()) {
            if (i === 2) refusedFinish = await step(file, "prod", ["finish", "--all", "--write"], later(THURSDAY, 60));
            runs.push(await step(file, "prod", args, at));
            texts.push(fs.readFileSync(file, "utf8"));
            if (i === 2) {
                textAfterFinish = texts[3];
                refusedRollback = await step(file, "prod", ["rollback", "--service", "auth-service", "--write"], later(THURSDAY, 26 * 60));
                textAfterRefusedRollback = fs.readFileSync(file, "utf8");
            }
        }
    });

    it("deploy puts 1.2.4 on the idle color with the live replicas, adds its migration, records the time", () => {
        assert.equal(runs[0].code, 0, runs[0].out);
        const c = config(texts[1]);
        for (const s of services) {
            assert.equal(c["release-platform:services"][s].live, "blue");
            assert.deepEqual(c["release-platform:services"][s].green, { version: "1.2.4", replicas: 5 });
        }
        assert.deepEqual(releaseWithoutAnalysis(c), { version: "1.2.4", scheduledAt: "2026-12-03T14:30:00-05:00", hotfix: false });
        assert.deepEqual(c["release-platform:migrations"][1], { release: "1.2.4", image: MIGRATION });
        assertWrittenOnly(texts[0], texts[1], [
            "services.auth-service.green.version",
            "services.user-service.green.version",
            "services.org-service.green.version",
            "services.org-service.green.replicas",
            "migrations",
            "release.version",
            "release.scheduledAt",
        ]);
        assertPassesPolicies(runs[0]);
        assert.ok(resourceChanges(runs[0].out).includes("+ aws:rds/snapshot:Snapshot database-snapshot-1-2-4"), runs[0].out);
    });

    it("promote switches every service to green; the plan changes only Service selectors", () => {
        assert.equal(runs[1].code, 0, runs[1].out);
        const c = config(texts[2]);
        for (const s of services) {
            assert.equal(c["release-platform:services"][s].live, "green");
            assert.equal(c["release-platform:services"][s].promotedAt, "2026-12-03T14:40:00-05:00");
        }
        assertWrittenOnly(
            texts[1],
            texts[2],
            services.flatMap((s) => [`services.${s}.live`, `services.${s}.promotedAt`]),
        );
        assertOnlySelectorChanges(runs[1].out, services);
        assertPassesPolicies(runs[1]);
    });

    it("finish is refused inside the rollback window, then scales blue to 0 after it", () => {
        assert.equal(refusedFinish.code, 1, refusedFinish.out);
        assert.match(
            refusedFinish.out,
            /auth-service: the rollback window \(24h after the promote at 2026-12-03T14:40:00-05:00\) is open until .*, 23 h 10 min from now.* \[finish-after-rollback-window\]/,
        );
        assert.equal(runs[2].code, 0, runs[2].out);
        const c = config(texts[3]);
        for (const s of services) assert.deepEqual(c["release-platform:services"][s].blue, { version: "1.2.2", replicas: 0 });
        assertWrittenOnly(
            texts[2],
            texts[3],
            services.map((s) => `services.${s}.blue.replicas`),
        );
        assertPassesPolicies(runs[2]);
    });

    it("rollback after finish is refused without --to, and says to use it", () => {
        assert.equal(textAfterRefusedRollback, textAfterFinish, "the file must stay byte-identical");
        assertRefused(
            refusedRollback,
            file,
            fs.readFileSync(file, "utf8"),
            /auth-service: the previous color blue is scaled down \(finished\); roll back with --to <version>.*\[rollback-previous-color-running\]/,
        );
    });

    it("the second release: deploy 1.2.5 to blue, promote it", () => {
        assert.equal(runs[3].code, 0, runs[3].out);
        assert.equal(runs[4].code, 0, runs[4].out);
        const c = config(texts[5]);
        for (const s of services) {
            assert.equal(c["release-platform:services"][s].live, "blue");
            assert.deepEqual(c["release-platform:services"][s].blue, { version: "1.2.5", replicas: 5 });
            assert.deepEqual(c["release-platform:services"][s].green, { version: "1.2.4", replicas: 5 });
        }
        assertOnlySelectorChanges(runs[4].out, services);
    });

    it("rollback outside the change window switches back to green; the plan changes only Service selectors", () => {
        assert.equal(runs[5].code, 0, runs[5].out);
        const c = config(texts[6]);
        for (const s of services) {
            assert.equal(c["release-platform:services"][s].live, "green");
            assert.equal(c["release-platform:services"][s].promotedAt, "2026-12-11T03:30:00-05:00");
        }
        assertWrittenOnly(
            texts[5],
            texts[6],
            services.flatMap((s) => [`services.${s}.live`, `services.${s}.promotedAt`]),
        );
        assertOnlySelectorChanges(runs[5].out, services);
        assertPassesPolicies(runs[5]);
    });
});

describe("release: each command on a copy of the staging file", function () {
    this.timeout(600_000);
    // Staging has no enforced change window: any time will do.
    const AT = "2026-12-01T10:00:00Z";
    const cases: { args: string[]; keys: string[]; selectorsOnly?: string[]; at?: string }[] = [
        { args: ["deploy", "--service", "auth-service", "--version", "1.2.4"], keys: ["services.auth-service.blue.version", "release.version"] },
        {
            args: ["promote", "--service", "org-service"],
            keys: ["services.org-service.live", "services.org-service.promotedAt"],
            selectorsOnly: ["org-service"],
        },
        {
            args: ["rollback", "--service", "auth-service"],
            keys: ["services.auth-service.live", "services.auth-service.promotedAt"],
            selectorsOnly: ["auth-service"],
        },
        // The shipped file records auth-service's promote; staging's rollback window is 15 minutes.
        { args: ["finish", "--service", "auth-service"], keys: ["services.auth-service.blue.replicas"] },
    ];
    const results: { file: string; before: string; run: Run }[] = [];

    before(async () => {
        for (const c of cases) {
            const file = copyOf("staging");
            const before = fs.readFileSync(file, "utf8");
            results.push({ file, before, run: await step(file, "staging", [...c.args, "--write"], c.at ?? AT) });
        }
    });

    cases.forEach((c, i) => {
        it(`${c.args.join(" ")}: writes only ${c.keys.join(", ")}, comments kept; the plan passes the pack${c.selectorsOnly ? " and changes only Service selectors" : ""}`, () => {
            const { file, before, run } = results[i];
            assert.equal(run.code, 0, run.out);
            assertWrittenOnly(before, fs.readFileSync(file, "utf8"), c.keys);
            assertPassesPolicies(run);
            if (c.selectorsOnly) assertOnlySelectorChanges(run.out, c.selectorsOnly);
        });
    });

    it("without --write shows the step and writes nothing", async () => {
        const file = copyOf("staging");
        const before = fs.readFileSync(file, "utf8");
        const run = await step(file, "staging", ["promote", "--service", "org-service"], AT);
        assert.equal(run.code, 0, run.out);
        assert.match(
            run.out,
            /^Config changes\n {2}services\.org-service\.live: "blue" → "green"\n {2}services\.org-service\.promotedAt: \(not set\) → "2026-12-01T05:00:00-05:00"$/m,
        );
        assert.match(run.out, /^Shown only; nothing written\./m);
        assert.equal(fs.readFileSync(file, "utf8"), before);
    });
});

describe("release: refusals leave the file byte-identical", function () {
    this.timeout(600_000);

    async function refusal(stack: "prod" | "staging", args: string[], at: string, rule: RegExp, edit?: (t: string) => string): Promise<void> {
        const file = copyOf(stack, edit);
        const original = fs.readFileSync(file, "utf8");
        assertRefused(await step(file, stack, [...args, "--write"], at), file, original, rule);
    }

    it("deploy onto the live color", () =>
        refusal(
            "prod",
            ["deploy", "--service", "auth-service", "--version", "1.2.4", "--color", "blue"],
            THURSDAY,
            /auth-service: blue is the live color; .*\[deploy-to-idle-color\]/,
        ));

    it("deploy of a version that is already live", () =>
        refusal(
            "staging",
            ["deploy", "--service", "auth-service", "--version", "1.2.3"],
            THURSDAY,
            /auth-service: 1\.2\.3 is already live on green \[deploy-new-version\]/,
        ));

    it("deploy with a migration image that is not pinned", () =>
        refusal(
            "prod",
            ["deploy", "--all", "--version", "1.2.4", "--migration-image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform/migrations:latest"],
            THURSDAY,
            /is not pinned.*\[pinned-image\]/,
        ));

    it("promote to a color with 0 replicas", () =>
        refusal(
            "prod",
            ["promote", "--service", "org-service"],
            THURSDAY,
            /org-service: the idle color green runs 0 replicas, below the live minimum 5.*\[promote-min-replicas\]/,
        ));

    it("promote to a color running another version than the release's", () =>
        refusal(
            "prod",
            ["promote", "--service", "auth-service"],
            THURSDAY,
            /auth-service: the idle color green runs 1\.2\.3, not the release's version 1\.2\.4.*\[promote-release-version\]/,
            (t) => t.replace("    version: 1.2.3\n    scheduledAt", "    version: 1.2.4\n    scheduledAt"),
        ));

    it("rollback of a release that was never promoted", () =>
        refusal("prod", ["rollback", "--service", "auth-service"], THURSDAY, /\[rollback-after-promote\]/));

    it("rollback after finish without --to", () =>
        refusal(
            "staging",
            ["rollback", "--service", "user-service"],
            THURSDAY,
            /user-service: the previous color blue is scaled down.*--to <version>.*\[rollback-previous-color-running\]/,
        ));

    it("finish inside the rollback window", () =>
        refusal(
            "staging",
            ["finish", "--service", "auth-service"],
            "2026-11-30T15:05:00Z",
            /auth-service: the rollback window \(15m after the promote at .*\) is open until .*\[finish-after-rollback-window\]/,
        ));

    // 2026-11-01 ends daylight saving time in New York: 18:30 UTC is 14:30 EDT on Oct 29 (inside), 13:30 EST on Nov 5 (outside).
    for (const at of ["2026-11-05T18:30:00Z", "2026-10-29T20:30:00Z"]) {
        it(`prod deploy outside the change window (${at}, ${at.startsWith("2026-11") ? "after" : "before"} the DST change)`, () =>
            refusal(
                "prod",
                ["deploy", "--all", "--version", "1.2.4"],
                at,
                /deploy in prod runs only inside the change window \(Thursday 14:00–16:00 America\/New_York\); it is .*, next opening 2026-11-(05|12)T14:00:00-05:00\. Use --hotfix for a hotfix \[change-window\]/,
            ));
    }

    it("an unknown service, and a step without --service or --all, are unusable input (exit 2)", async () => {
        const file = copyOf("prod");
        const original = fs.readFileSync(file, "utf8");
        const unknown = await step(file, "prod", ["promote", "--service", "nope", "--write"], THURSDAY);
        assert.equal(unknown.code, 2, unknown.out);
        assert.match(unknown.out, /no such service in stack prod: nope \(services: auth-service, user-service, org-service\)/);
        const neither = await step(file, "prod", ["promote", "--write"], THURSDAY);
        assert.equal(neither.code, 2, neither.out);
        assert.match(neither.out, /promote needs --service <name> or --all/);
        assert.equal(fs.readFileSync(file, "utf8"), original);
    });
});

describe("release: prod deploy with --hotfix outside the change window", function () {
    this.timeout(600_000);

    it("passes the rules and the pack, recording the hotfix and the actual time", async () => {
        const file = copyOf("prod");
        const before = fs.readFileSync(file, "utf8");
        const run = await step(file, "prod", ["deploy", "--service", "auth-service", "--version", "1.2.4", "--hotfix", "--write"], "2026-11-05T18:30:00Z");
        assert.equal(run.code, 0, run.out);
        const c = config(fs.readFileSync(file, "utf8"));
        assert.deepEqual(releaseWithoutAnalysis(c), { version: "1.2.4", scheduledAt: "2026-11-05T13:30:00-05:00", hotfix: true });
        assertWrittenOnly(before, fs.readFileSync(file, "utf8"), [
            "services.auth-service.green.version",
            "release.version",
            "release.scheduledAt",
            "release.hotfix",
        ]);
        assertPassesPolicies(run);
    });
});

describe("release status", () => {
    it("shows per service the colors, the last promote, the rollback window, allowed steps; the change window; pending migrations", async () => {
        const file = copyOf("staging");
        const run = await step(file, "staging", ["status"], "2026-11-30T15:05:00Z");
        assert.equal(run.code, 0, run.out);
        assert.match(
            run.out,
            /^auth-service: live green\n {2}blue: 1\.2\.2 × 2; green: 1\.2\.3 × 2 \(live\)\n {2}last promote: 2026-11-30T10:00:00-05:00; rollback window: 10 min of 15m left\n {2}allowed now: deploy, rollback$/m,
        );
        assert.match(run.out, /^ {2}not finish: auth-service: the rollback window/m);
        assert.match(run.out, /^user-service: live green\n.*\n.*\n {2}allowed now: deploy$/m);
        assert.match(run.out, /^ {2}not rollback: user-service: the previous color blue is scaled down/m);
        assert.match(
            run.out,
            /^Change window\n {2}Thursday 14:00–16:00 America\/New_York \(not enforced in this stack\)\n {2}open now: no; next opening: 2026-12-03T14:00:00-05:00$/m,
        );
        assert.match(run.out, /^Pending migrations \(listed, not yet live on any service\)\n {2}\(none\)$/m);
    });
});

describe("release --apply without the Pulumi CLI", function () {
    this.timeout(300_000);

    it("exits 2 with a message saying what it needs, and leaves the file unchanged", async () => {
        const file = copyOf("prod");
        const original = fs.readFileSync(file, "utf8");
        // Only node's own directory on PATH: no `pulumi` there.
        const env = { ...process.env, PATH: path.dirname(process.execPath) };
        assert.ok(!fs.existsSync(path.join(path.dirname(process.execPath), "pulumi")));
        const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
            execFile(
                process.execPath,
                [
                    "-r",
                    path.join(ROOT, "tools", "register.js"),
                    path.join(ROOT, "tools", "release.ts"),
                    "promote",
                    "--stack",
                    "prod",
                    "--config",
                    file,
                    "--service",
                    "auth-service",
                    "--apply",
                ],
                { cwd: ROOT, env },
                (err, _stdout, stderr) => resolve({ code: err ? ((err as any).code ?? -1) : 0, stderr }),
            ),
        );
        assert.equal(run.code, 2, run.stderr);
        assert.match(
            run.stderr,
            /^error: --apply needs the Pulumi CLI \(`pulumi` on PATH.*\), a backend it is logged in to \(`pulumi login`\) and cloud credentials for the stack; nothing was written\n$/,
        );
        assert.equal(fs.readFileSync(file, "utf8"), original);
    });
});

/** The release key without its analysis settings, which no step edits (assertWrittenOnly checks that). */
function releaseWithoutAnalysis(c: Record<string, unknown>): Record<string, unknown> {
    const { analysis: _analysis, ...release } = c["release-platform:release"] as Record<string, unknown>;
    return release;
}
