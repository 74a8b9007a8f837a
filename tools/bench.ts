// npm run bench [-- --iterations <n>] [--tests] [--scale [--services 3,30,100]]
//
// Times the program's evaluation in-process (index.ts under the mocks, warm, per stack), then the
// commands as users run them (subprocesses, so start-up counts): `plan --stack prod` and `audit`
// of an export ten times larger than prod's (its resources replicated with renamed URNs), and one
// release-analysis interval's queries for every prod service against a Prometheus started for it.
// With `--tests`, also the mocha suite once. Prints each run and the median.
//
// With `--scale`: the bare SDK load and the shipped prod plan side by side, a release step (which
// plans before and after its edit in one process), then plan and audit of the prod stack with its
// services copied to each size of `--services`, as a table with peak memory and the marginal
// cost per resource.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { InputError, parseArgs, runCli, stringFlag } from "./cli";
import { runProgram } from "../offline/program";
import { readStackConfig } from "../offline/stackConfig";
import type { ExportResource, StackExport } from "../offline/stackExport";
import { parseStackConfig } from "../config";
import { timeAnalysisInterval } from "./analysis/bench";
import { Measured, measureCommand, renderScaleTable, scaleSeries, sdkLoadArgs } from "./bench/scale";

const ROOT = path.resolve(__dirname, "..");
const USAGE = "usage: npm run bench [-- --iterations <n>] [--tests] [--scale [--services 3,30,100]]";
const DEFAULT_SCALE = [3, 30, 100];
const REPLICAS = 10;

async function time(label: string, iterations: number, tool: string, args: string[]): Promise<number> {
    return measure(label, iterations, async () => {
        const run = await measureCommand(toolArgs(tool, args));
        if (run.code > 1) throw new Error(`${label} failed (exit ${run.code}): ${run.stderr.trim()}`);
        return run.ms;
    });
}

/** Evaluates the program in this process; the first run (module loading) is not counted. */
async function timeEvaluation(stack: string, iterations: number): Promise<number> {
    await runProgram({ stack });
    return measure(`evaluate index.ts for ${stack} (in-process, warm)`, iterations, async () => {
        const started = process.hrtime.bigint();
        await runProgram({ stack });
        return Number(process.hrtime.bigint() - started) / 1e6;
    });
}

async function measure(label: string, iterations: number, once: () => Promise<number>): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) times.push(await once());
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(`${label.padEnd(44)} median ${(median / 1000).toFixed(2)} s   runs: ${times.map((t) => (t / 1000).toFixed(2)).join(", ")} s`);
    return median;
}

/** Replicates every resource `times` times, renaming each copy's URN (and the references to it) with a suffix. */
export function replicateExport(data: StackExport, times: number): StackExport {
    const resources: ExportResource[] = [];
    for (let copy = 0; copy < times; copy++) {
        const rename = (urn: string) => (copy === 0 ? urn : `${urn}-copy${copy}`);
        const renameRef = (ref: string | undefined) => ref && ref.replace(/^(urn:pulumi:[^:]+::.*?)(::[^:]*)$/, (_m, urn, id) => `${rename(urn)}${id}`);
        for (const r of data.deployment.resources) {
            resources.push({
                ...r,
                urn: rename(r.urn),
                ...(r.parent ? { parent: rename(r.parent) } : {}),
                ...(r.provider ? { provider: renameRef(r.provider) } : {}),
                dependencies: (r.dependencies ?? []).map(rename),
                propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, urns]) => [k, urns.map(rename)])),
            });
        }
    }
    return { ...data, deployment: { ...data.deployment, resources } };
}

async function main(): Promise<{ code: number; output: string }> {
    const args = parseArgs(process.argv.slice(2), { values: ["iterations", "services"], booleans: ["tests", "scale"] }, USAGE);
    const iterations = Number(stringFlag(args, "iterations") ?? 5);
    if (!Number.isInteger(iterations) || iterations < 1) throw new InputError(`--iterations must be a positive integer\n${USAGE}`);
    const sizes = serviceCounts(stringFlag(args, "services"));
    if (sizes && args.flags.scale !== true) throw new InputError(`--services goes with --scale\n${USAGE}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    try {
        console.log(`${os.cpus().length} CPUs, node ${process.version}, ${iterations} iterations each`);
        if (args.flags.scale === true) await scale(dir, iterations, sizes ?? DEFAULT_SCALE);
        else await standard(dir, iterations, args.flags.tests === true);
        return { code: 0, output: "" };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function serviceCounts(flag: string | undefined): number[] | undefined {
    if (flag === undefined) return undefined;
    const sizes = flag.split(",").map((n) => Number(n.trim()));
    if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1))
        throw new InputError(`--services takes positive integers separated by commas, not "${flag}"\n${USAGE}`);
    return sizes;
}

async function standard(dir: string, iterations: number, tests: boolean): Promise<void> {
    const prodExport = path.join(dir, "prod.json");
    for (const stack of ["staging", "prod"]) await timeEvaluation(stack, iterations);
    await time("plan --stack prod --out prod.json", iterations, "plan", ["--stack", "prod", "--out", prodExport]);
    const prod: StackExport = JSON.parse(fs.readFileSync(prodExport, "utf8"));
    const large = replicateExport(prod, REPLICAS);
    const largeExport = path.join(dir, "prod-x10.json");
    fs.writeFileSync(largeExport, JSON.stringify(large));
    await time("audit prod.json", iterations, "audit", [prodExport]);
    await time(`audit prod-x10.json (${large.deployment.resources.length} resources)`, iterations, "audit", [largeExport]);
    const prodSource = readStackConfig("prod");
    const prodConfig = parseStackConfig(prodSource.config, "prod", prodSource.file, prodSource.secretKeys);
    await timeAnalysisInterval(prodConfig, prodConfig.release.analysis, iterations, measure);
    if (tests) {
        await measure("test suite (mocha, without tsc)", 1, async () => {
            const run = await measureCommand([require.resolve("mocha/bin/mocha.js")]);
            if (run.code !== 0) throw new Error(`the test suite failed (exit ${run.code}); run npm test`);
            return run.ms;
        });
    }
}

/** Runs `node <args>` `iterations` times; the median run's time, the highest peaks seen. */
async function medianRun(label: string, iterations: number, args: string[]): Promise<Measured> {
    const runs: Measured[] = [];
    for (let i = 0; i < iterations; i++) {
        const run = await measureCommand(args);
        if (run.code > 1) throw new Error(`${label} failed (exit ${run.code}): ${run.stderr.trim()}`);
        runs.push(run);
    }
    const median = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
    const peak = { own: Math.max(...runs.map((r) => r.peak.own)), child: Math.max(...runs.map((r) => r.peak.child)) };
    console.log(
        `${label.padEnd(44)} median ${(median.ms / 1000).toFixed(2)} s   runs: ${runs.map((r) => (r.ms / 1000).toFixed(2)).join(", ")} s   peak ${(peak.own / 2 ** 20).toFixed(0)} MB (child ${(peak.child / 2 ** 20).toFixed(0)} MB)`,
    );
    return { ...median, peak };
}

function toolArgs(tool: string, args: string[]): string[] {
    return ["-r", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "tools", `${tool}.ts`), ...args];
}

async function scale(dir: string, iterations: number, sizes: number[]): Promise<void> {
    const sdk = await medianRun(`bare SDK load (${"require of the SDK packages"})`, iterations, sdkLoadArgs());
    const plan = await medianRun("plan --stack prod (shipped)", iterations, toolArgs("plan", ["--stack", "prod"]));
    console.log(`plan of the shipped prod stack: ${(plan.ms / sdk.ms).toFixed(2)}× the bare SDK load`);
    const stagingPlan = await medianRun("plan --stack staging", iterations, toolArgs("plan", ["--stack", "staging"]));
    const release = await medianRun(
        "release deploy --stack staging (2 plans)",
        iterations,
        toolArgs("release", ["deploy", "--stack", "staging", "--service", "auth-service", "--version", "9.9.9"]),
    );
    console.log(
        `release deploy evaluates staging twice in one process: ${((release.ms - stagingPlan.ms) / 1000).toFixed(2)} s more than one plan, against ${(sdk.ms / 1000).toFixed(2)} s for a second SDK load`,
    );
    const rows = await scaleSeries({ sizes, iterations, dir, runTool: (tool, args, label) => medianRun(label, iterations, toolArgs(tool, args)) });
    console.log(`\n${renderScaleTable(rows)}`);
}

if (require.main === module) runCli(main);
