// The offline plan and audit commands, run as the CLI runs them (subprocesses), against the real
// program and the real policy pack. Runs that don't depend on each other run in parallel.
import * as assert from "node:assert/strict";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramRun, ROOT, runProgram, SECRET_SIG, SIG_KEY, UNKNOWN } from "./harness";
import { analysisForExport, ExportResource, StackExport, toStackExport } from "../offline/stackExport";
import { execute } from "../tools/cli";
import { parsePlanArgs, plan } from "../tools/plan";
import { audit, parseAuditArgs } from "../tools/audit";

interface ToolRun {
    code: number;
    stdout: string;
    stderr: string;
}

type Tool = "plan" | "audit";

/** Runs the CLI as `npm run plan|audit` does, in a subprocess: the real exit code. */
function runTool(tool: Tool, args: string[]): Promise<ToolRun> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ["-r", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "tools", `${tool}.ts`), ...args],
            { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? -1) : 0, stdout, stderr }),
        );
    });
}

/** The same command in this process (what the CLI's entry point runs, minus process start-up), to keep the suite fast. */
async function runInProcess(tool: Tool, args: string[]): Promise<ToolRun> {
    const command = tool === "plan" ? () => plan(parsePlanArgs(args)) : () => audit(parseAuditArgs(args));
    const run = await execute(command);
    return { code: run.code, stdout: run.output, stderr: run.error ?? "" };
}

/** Hooks that run whole plans and audits as subprocesses: bounded, but generously, since CPUs are shared. */
const HOOK_TIMEOUT_MS = 300_000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-test-"));
const prodExport = path.join(tmp, "prod.json");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function resources(data: StackExport): ExportResource[] {
    return data.deployment.resources;
}

function find(data: StackExport, type: string, name: string): ExportResource {
    const found = resources(data).find((r) => r.type === type && r.urn.endsWith(`::${name}`));
    assert.ok(found, `no ${type} ${name} in the export`);
    return found;
}

function assertNoStackTrace(run: ToolRun): void {
    assert.doesNotMatch(run.stderr, /\n\s+at /, `stack trace in stderr:\n${run.stderr}`);
}

describe("offline plan", function () {
    let prod: ToolRun;
    let staging: ToolRun;
    let stagingJson: ToolRun;
    let withSecureValue: ToolRun;
    let restoring: ToolRun;
    let exported: StackExport;
    let recorded: ProgramRun;

    before(async function () {
        this.timeout(HOOK_TIMEOUT_MS);
        const subprocesses = Promise.all([
            runTool("plan", ["--stack", "prod", "--out", prodExport]),
            runTool("plan", ["--stack", "staging"]),
            runTool("plan", ["--stack", "staging", "--json", "--policy-config", path.join(ROOT, "policies", "config", "prod.json")]),
        ]);
        // In-process runs share the Pulumi runtime, so they go one after the other.
        const secureConfig = path.join(tmp, "Pulumi.secure.yaml");
        const stagingYaml = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");
        fs.writeFileSync(secureConfig, `${stagingYaml}  release-platform:redisUrl:\n    secure: v1:c2VjcmV0LXRoYXQtbmV2ZXItZGVjcnlwdHM=\n`);
        withSecureValue = await runInProcess("plan", ["--stack", "staging", "--config", secureConfig]);
        const restoreConfig = path.join(tmp, "Pulumi.restore.yaml");
        const prodYaml = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
        const restoreYaml = prodYaml
            .replace("    username: app_admin\n", "    username: app_admin\n    restoreFromSnapshot: prod-db-snapshot-1-2-3\n")
            .replace(/ {2}release-platform:migrations:\n(?: {4}.*\n)+/, "  release-platform:migrations: []\n");
        assert.notEqual(restoreYaml, prodYaml);
        fs.writeFileSync(restoreConfig, restoreYaml);
        restoring = await runInProcess("plan", ["--stack", "prod", "--config", restoreConfig]);
        recorded = await runProgram({ stack: "prod" });
        [prod, staging, stagingJson] = await subprocesses;
        exported = JSON.parse(fs.readFileSync(prodExport, "utf8"));
    });

    for (const [stack, get] of [
        ["prod", () => prod],
        ["staging", () => staging],
    ] as const) {
        it(`plans ${stack}: exit 0, the component tree, counts, live colors, verdicts, summary last`, () => {
            const run = get();
            assert.equal(run.code, 0, run.stderr || run.stdout);
            const out = run.stdout;
            assert.match(out, new RegExp(`^  pulumi:pulumi:Stack  release-platform-${stack}$`, "m"));
            // Children are indented under their component.
            assert.match(
                out,
                /^ {4}release-platform:kubernetes:BlueGreenService {2}auth-service\n(?: {6}.*\n)*? {6}kubernetes:apps\/v1:Deployment {2}auth-service-blue$/m,
            );
            assert.match(out, /^Resources by type\n(?: +\d+ {2}\S+\n)+/m);
            // Per service: live, preview and one per color.
            assert.match(out, /^ +12 {2}kubernetes:core\/v1:Service$/m);
            assert.match(out, /^Live color per service\n {2}auth-service → (blue|green)$/m);
            assert.match(out, /\(known after apply\)/);
            assert.match(out, /^Policy verdicts \(pack release-platform@\S+, \d+ policies, config policies\/config\/\w+\.json\)$/m);
            const lines = out.trimEnd().split("\n");
            assert.match(lines[lines.length - 1], new RegExp(`^Plan ${stack}: \\d+ resources, 0 mandatory and \\d+ advisory violations — passed$`));
        });
    }

    it("shows the live color each live Service selects", () => {
        assert.match(prod.stdout, /^ {2}org-service → blue$/m);
        assert.match(staging.stdout, /^ {2}auth-service → green$/m);
    });

    it("groups verdicts by resource with enforcement level and message", () => {
        // Staging checked against prod's policy config: its single-AZ database is a mandatory violation.
        const doc = JSON.parse(stagingJson.stdout);
        assert.ok(
            doc.violations.some((v: any) => v.enforcementLevel === "mandatory" && v.policyName === "rds-multi-az" && v.urn.endsWith("::database-primary")),
        );
    });

    it("plans a database rollback (restore from the pre-migration snapshot) in prod without a violation", () => {
        assert.equal(restoring.code, 0, restoring.stderr || restoring.stdout);
        assert.match(restoring.stdout, /aws:rds\/instance:Instance {2}database-restore\b/);
        assert.match(restoring.stdout, /^Plan prod: \d+ resources, 0 mandatory and 0 advisory violations — passed$/m);
    });

    it("says when a secure: value could not be decrypted and plans with a placeholder", () => {
        assert.equal(withSecureValue.code, 0, withSecureValue.stderr || withSecureValue.stdout);
        assert.match(withSecureValue.stdout, /release-platform:redisUrl is a secure value that can't be decrypted offline/);
        assert.doesNotMatch(withSecureValue.stdout, /c2VjcmV0/);
    });

    it("--json prints one JSON document: staging under prod's rules fails exactly the prod-only rules", () => {
        assert.equal(stagingJson.code, 1, stagingJson.stderr);
        const doc = JSON.parse(stagingJson.stdout);
        const verdicts = new Set(doc.violations.map((v: any) => `${v.enforcementLevel} ${v.policyName}`));
        assert.deepEqual([...verdicts].sort(), [
            "mandatory eks-node-groups-span-zones",
            "mandatory k8s-hpa-bounds",
            "mandatory k8s-live-min-replicas",
            "mandatory rds-backup-retention",
            "mandatory rds-multi-az",
            "mandatory rds-read-replicas",
            "mandatory release-change-window",
        ]);
        assert.equal(doc.stack, "staging");
        assert.ok(doc.resources.length > 100);
        assert.ok(doc.violations.length > 0);
        for (const v of doc.violations) {
            assert.deepEqual(Object.keys(v).sort(), ["enforcementLevel", "message", "policyName", "urn"]);
            assert.ok(["advisory", "mandatory"].includes(v.enforcementLevel));
        }
        assert.equal(doc.summary.passed, false);
    });

    it("staging passes its own policy config without any violation", () => {
        assert.match(staging.stdout, /^Plan staging: \d+ resources, 0 mandatory and 0 advisory violations — passed$/m);
    });

    it("--out writes a pulumi stack export with the fields of every resource", () => {
        assert.equal(exported.version, 3);
        assert.ok(exported.deployment.manifest.time && exported.deployment.manifest.magic && exported.deployment.manifest.version);
        for (const r of resources(exported)) {
            for (const field of ["urn", "custom", "type", "inputs", "outputs", "dependencies", "propertyDependencies", "protect", "retainOnDelete"]) {
                assert.ok(field in r, `${r.urn} has no ${field}`);
            }
            assert.equal(r.id, undefined, "ids are only known after apply");
            if (r.custom && !r.type.startsWith("pulumi:providers:")) {
                assert.ok(r.provider, `${r.urn} has no provider`);
                const providerUrn = r.provider.split("::").slice(0, -1).join("::");
                assert.ok(
                    resources(exported).some((p) => p.urn === providerUrn),
                    `${r.urn}'s provider ${providerUrn} is not in the export`,
                );
            }
            assert.ok(!JSON.stringify(r.outputs).includes(UNKNOWN), `${r.urn}: outputs hold only known values`);
        }
    });

    it("--out keeps the program's resources, parents, dependencies and providers", () => {
        const byUrn = new Map(resources(exported).map((r) => [r.urn, r]));
        assert.equal(byUrn.size, recorded.resources.length);
        for (const r of recorded.resources) {
            const e = byUrn.get(r.urn);
            assert.ok(e, `missing ${r.urn}`);
            assert.equal(e.type, r.type);
            assert.equal(e.custom, r.custom);
            assert.equal(e.parent, r.parent);
            assert.deepEqual(e.dependencies, r.dependencies);
            assert.deepEqual(e.propertyDependencies, r.propertyDependencies);
            assert.equal(e.provider, r.provider);
            assert.equal(e.protect, r.protect);
            assert.equal(e.retainOnDelete, r.retainOnDelete);
        }
    });

    it("--out keeps secrets as secret envelopes without their values", () => {
        const secret = { [SIG_KEY]: SECRET_SIG, value: "postgres://app:hunter2@db:5432/app" };
        const stack = recorded.resources[0];
        const run: ProgramRun = {
            ...recorded,
            resources: [stack, { ...stack, urn: `${stack.urn}-x`, type: "test:index:Thing", inputs: { url: secret, host: UNKNOWN } }],
        };
        const thing = toStackExport(run).deployment.resources[1];
        assert.deepEqual(thing.inputs, { url: { [SIG_KEY]: SECRET_SIG, ciphertext: "" }, host: UNKNOWN });
        assert.deepEqual(thing.outputs, { url: { [SIG_KEY]: SECRET_SIG, ciphertext: "" } });
    });
});

describe("offline audit", function () {
    // The first runs as a subprocess (the real exit code), the others in-process, in parallel.
    const mutations: Record<string, { type: string; name: string; mutate: (r: ExportResource) => void; policy: RegExp }> = {
        "a probe removed": {
            type: "kubernetes:apps/v1:Deployment",
            name: "auth-service-blue",
            mutate: (r) => forEachState(r, (s) => delete s.spec.template.spec.containers[0].readinessProbe),
            policy: /k8s-health-probes/,
        },
        "an image set to latest": {
            type: "kubernetes:apps/v1:Deployment",
            name: "user-service-green",
            mutate: (r) =>
                forEachState(r, (s) => {
                    const c = s.spec.template.spec.containers[0];
                    c.image = c.image.replace(/:[^:/]+$/, ":latest");
                }),
            policy: /k8s-image-pinned/,
        },
        "the RDS instance made public": {
            type: "aws:rds/instance:Instance",
            name: "database-primary",
            mutate: (r) => forEachState(r, (s) => (s.publiclyAccessible = true)),
            policy: /rds-not-publicly-accessible/,
        },
        "the live Service pointed at a color with 0 replicas": {
            type: "kubernetes:core/v1:Service",
            name: "org-service",
            mutate: (r) => forEachState(r, (s) => (s.spec.selector.color = "green")),
            policy: /release-live-service-routes-to-running-pods/,
        },
    };
    const audits: Record<string, ToolRun> = {};
    let clean: ToolRun;

    before(async function () {
        this.timeout(HOOK_TIMEOUT_MS);
        if (!fs.existsSync(prodExport)) await runInProcess("plan", ["--stack", "prod", "--out", prodExport]);
        const original: StackExport = JSON.parse(fs.readFileSync(prodExport, "utf8"));
        const runs = Object.entries(mutations).map(async ([label, m], i) => {
            const data: StackExport = structuredClone(original);
            m.mutate(find(data, m.type, m.name));
            const file = path.join(tmp, `mutated-${i}.json`);
            fs.writeFileSync(file, JSON.stringify(data));
            audits[label] = await (i === 0 ? runTool : runInProcess)("audit", [file]);
        });
        [clean] = await Promise.all([runTool("audit", [prodExport]), ...runs]);
    });

    it("passes the export plan --out wrote for prod", () => {
        assert.equal(clean.code, 0, clean.stderr || clean.stdout);
        assert.match(clean.stdout, /^Audit prod: \d+ resources, 0 mandatory and \d+ advisory violations — passed$/m);
        assert.match(clean.stdout, /^ {2}auth-service → blue$/m);
    });

    for (const [label, m] of Object.entries(mutations)) {
        it(`fails with exit 1 naming the resource when ${label}`, () => {
            const run = audits[label];
            assert.equal(run.code, 1, run.stderr || run.stdout);
            const urn = new RegExp(
                `^ {2}urn:pulumi:prod::release-platform::\\S*${escape(m.type)}::${m.name}\\n(?: {4}.*\\n| {14}.*\\n)*? {4}mandatory ${m.policy.source}`,
                "m",
            );
            assert.match(run.stdout, urn);
        });
    }
});

describe("audit of secrets", () => {
    it("sends undecryptable secrets as unknown and --show-secrets plaintext as secret values", () => {
        const resource = (inputs: Record<string, unknown>): ExportResource => ({
            urn: "urn:pulumi:prod::p::t:index:T::a",
            custom: true,
            id: "a-1",
            type: "t:index:T",
            inputs,
            outputs: inputs,
        });
        const data: StackExport = {
            version: 3,
            deployment: {
                manifest: { time: "", magic: "", version: "" },
                resources: [resource({ encrypted: { [SIG_KEY]: SECRET_SIG, ciphertext: "AAAB" }, shown: { [SIG_KEY]: SECRET_SIG, plaintext: '"s3cr3t"' } })],
            },
        };
        const analysis = analysisForExport(data);
        assert.deepEqual(analysis.perResource[0].properties, { encrypted: UNKNOWN, shown: { [SIG_KEY]: SECRET_SIG, value: "s3cr3t" } });
        assert.equal(analysis.undecryptedSecrets, 1);
    });

    it("decodes secrets deep in lists and objects, copies only their path, and leaves the export as it was", () => {
        const untouched = { labels: { app: "a" }, ports: [80, 443] };
        const inputs = {
            spec: untouched,
            env: [{ name: "PLAIN", value: "x" }, { name: "KEY", value: { [SIG_KEY]: SECRET_SIG, ciphertext: "AAAB" } }, { name: "Z" }],
            nested: { shown: { [SIG_KEY]: SECRET_SIG, plaintext: '{"k":[1,{"v":"s"}]}' }, after: true },
        };
        const exported = structuredClone(inputs);
        const data: StackExport = {
            version: 3,
            deployment: {
                manifest: { time: "", magic: "", version: "" },
                resources: [{ urn: "urn:pulumi:prod::p::t:index:T::a", custom: true, type: "t:index:T", inputs }],
            },
        };
        const analysis = analysisForExport(data);
        const properties = analysis.perResource[0].properties as any;
        assert.deepEqual(properties, {
            spec: untouched,
            env: [{ name: "PLAIN", value: "x" }, { name: "KEY", value: UNKNOWN }, { name: "Z" }],
            nested: { shown: { [SIG_KEY]: SECRET_SIG, value: { k: [1, { v: "s" }] } }, after: true },
        });
        assert.deepEqual(inputs, exported);
        assert.equal(properties.spec, untouched);
        assert.equal(properties.env[0], inputs.env[0]);
        assert.notEqual(properties.env, inputs.env);
        // Never created: its inputs stand in for its state, and both requests get the same properties.
        assert.equal(analysis.stack[0].properties.spec, untouched);
        assert.equal(analysis.undecryptedSecrets, 1);
    });
});

describe("a check that fails once the program has run", function () {
    it("exits 3 with the pack's error and writes no export", async function () {
        this.timeout(HOOK_TIMEOUT_MS);
        const out = path.join(tmp, "after-failed-check.json");
        const noConfig = path.join(tmp, "no-policy-config.json");
        fs.writeFileSync(noConfig, "{}\n");
        const run = await runTool("plan", [
            "--stack",
            "staging",
            "--out",
            out,
            "--policy-pack",
            path.join(ROOT, "test", "fixtures", "failing-pack"),
            "--policy-config",
            noConfig,
        ]);
        assert.equal(run.code, 3, run.stderr || run.stdout);
        assert.match(run.stderr, /policy pack analyzeStack failed: [\s\S]*the stack policy broke/);
        // The pack's own report names the policy's source line, as `pulumi preview` shows it.
        assert.match(run.stderr, /at Object\.validateStack \(\S*failing-pack\/index\.ts:\d+/);
        assert.equal(fs.existsSync(out), false, "the export of a plan whose check failed was written");
    });
});

describe("unusable input (exit 2, one message, no stack trace)", function () {
    const badConfig = path.join(tmp, "Pulumi.bad.yaml");
    const brokenYaml = path.join(tmp, "Pulumi.broken.yaml");
    const notJson = path.join(tmp, "not-json.json");
    const notExport = path.join(tmp, "not-export.json");
    const badLevel = path.join(tmp, "bad-level.json");
    // Cases marked `subprocess` check the real exit code; the others run in-process to keep the suite fast.
    const cases: Record<string, { tool: Tool; args: () => string[]; message: RegExp; subprocess?: true }> = {
        "an unknown stack": { tool: "plan", args: () => ["--stack", "qa"], message: /unknown stack "qa".*stacks: prod, staging/, subprocess: true },
        "a stack config the program rejects": {
            tool: "plan",
            args: () => ["--stack", "prod", "--config", badConfig],
            message: /Invalid stack configuration \(\S*Pulumi\.bad\.yaml\)[\s\S]*environment[\s\S]*availabilityZones/,
        },
        "a stack config file that does not exist": {
            tool: "plan",
            args: () => ["--stack", "prod", "--config", path.join(tmp, "Pulumi.none.yaml")],
            message: /Pulumi\.none\.yaml does not exist/,
        },
        "a stack config that is not YAML": { tool: "plan", args: () => ["--stack", "prod", "--config", brokenYaml], message: /not valid YAML/ },
        "a missing policy config (plan)": {
            tool: "plan",
            args: () => ["--stack", "prod", "--policy-config", path.join(tmp, "none.json")],
            message: /none\.json does not exist/,
        },
        "a missing --stack": { tool: "plan", args: () => [], message: /--stack is required/ },
        "a file that is not JSON": { tool: "audit", args: () => [notJson], message: /is not JSON/, subprocess: true },
        "JSON that is not a stack export": { tool: "audit", args: () => [notExport], message: /is not a pulumi stack export/ },
        "a missing export file": { tool: "audit", args: () => [path.join(tmp, "missing.json")], message: /no such file/ },
        "a missing policy config (audit)": {
            tool: "audit",
            args: () => [prodExport, "--policy-config", path.join(tmp, "none.json")],
            message: /none\.json does not exist/,
        },
        "an invalid enforcement level": {
            tool: "audit",
            args: () => [prodExport, "--policy-config", badLevel],
            message: /invalid enforcement level "blocking"/,
        },
    };
    const results: Record<string, ToolRun> = {};

    before(async function () {
        this.timeout(HOOK_TIMEOUT_MS);
        const prodYaml = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
        fs.writeFileSync(
            badConfig,
            prodYaml.replace("release-platform:environment: prod", "release-platform:environment: qa").replace(/ {4}- us-east-1[bc]\n/g, ""),
        );
        fs.writeFileSync(brokenYaml, "config:\n  a: [unclosed\n");
        fs.writeFileSync(notJson, "version: 3\n");
        fs.writeFileSync(notExport, JSON.stringify({ version: 3, checkpoint: {} }));
        fs.writeFileSync(badLevel, JSON.stringify({ all: "blocking" }));
        const subprocesses = Object.entries(cases)
            .filter(([, c]) => c.subprocess)
            .map(async ([label, c]) => (results[label] = await runTool(c.tool, c.args())));
        for (const [label, c] of Object.entries(cases)) {
            if (!c.subprocess) results[label] = await runInProcess(c.tool, c.args());
        }
        await Promise.all(subprocesses);
    });

    for (const [label, c] of Object.entries(cases)) {
        it(`${c.tool}: ${label}`, () => {
            const run = results[label];
            assert.equal(run.code, 2, `exit ${run.code}\n${run.stderr}${run.stdout}`);
            assert.match(run.stderr, /^error: /);
            assert.match(run.stderr, c.message);
            assertNoStackTrace(run);
        });
    }
});

function forEachState(r: ExportResource, edit: (state: any) => void): void {
    for (const state of [r.inputs, r.outputs]) if (state && Object.keys(state).length) edit(state);
}

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
