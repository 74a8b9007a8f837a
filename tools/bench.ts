// npm run bench [-- --iterations <n>] [--tests]
//
// Times the program's evaluation in-process (index.ts under the mocks, warm, per stack), then the
// commands as users run them (subprocesses, so start-up counts): `plan --stack prod` and `audit`
// of an export ten times larger than prod's (its resources replicated with renamed URNs), and one
// release-analysis interval's queries for every prod service against a Prometheus started for it.
// With `--tests`, also the mocha suite once. Prints each run and the median.
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { InputError, parseArgs, runCli, stringFlag } from "./cli";
import { runProgram } from "../offline/program";
import { readStackConfig } from "../offline/stackConfig";
import type { ExportResource, StackExport } from "../offline/stackExport";
import { parseStackConfig } from "../config";
import { timeAnalysisInterval } from "./analysis/bench";

const ROOT = path.resolve(__dirname, "..");
const USAGE = "usage: npm run bench [-- --iterations <n>] [--tests]";
const REPLICAS = 10;

function runTool(tool: string, args: string[]): Promise<{ ms: number; code: number; stderr: string }> {
    const started = process.hrtime.bigint();
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ["-r", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "tools", `${tool}.ts`), ...args],
            { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 },
            (err, _stdout, stderr) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code: err ? ((err as any).code ?? -1) : 0, stderr }),
        );
    });
}

function runMocha(): Promise<{ ms: number; code: number; stderr: string }> {
    const started = process.hrtime.bigint();
    return new Promise((resolve) => {
        execFile(process.execPath, [require.resolve("mocha/bin/mocha.js")], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 }, (err, _stdout, stderr) =>
            resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code: err ? ((err as any).code ?? -1) : 0, stderr }),
        );
    });
}

async function time(label: string, iterations: number, tool: string, args: string[]): Promise<number> {
    return measure(label, iterations, async () => {
        const run = await runTool(tool, args);
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
    const args = parseArgs(process.argv.slice(2), { values: ["iterations"], booleans: ["tests"] }, USAGE);
    const iterations = Number(stringFlag(args, "iterations") ?? 5);
    if (!Number.isInteger(iterations) || iterations < 1) throw new InputError(`--iterations must be a positive integer\n${USAGE}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    try {
        const prodExport = path.join(dir, "prod.json");
        console.log(`${os.cpus().length} CPUs, node ${process.version}, ${iterations} iterations each`);
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
        if (args.flags.tests === true) {
            await measure("test suite (mocha, without tsc)", 1, async () => {
                const run = await runMocha();
                if (run.code !== 0) throw new Error(`the test suite failed (exit ${run.code}); run npm test`);
                return run.ms;
            });
        }
        return { code: 0, output: "" };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) runCli(main);
