// npm run bench -- --scale: plan and audit of the prod stack with its services copied N times.
//
// The N-service stack files are generated from Pulumi.prod.yaml (each copy renamed, with an
// Ingress path of its own). Each command runs as users run it, a child process; its peak memory
// is the kernel's high-water mark (VmHWM) of each process in its tree, the command's own and the
// policy pack's. Prints the series with the marginal cost per resource between sizes, and the
// plan of the shipped prod stack next to the bare load of the SDK it cannot avoid.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { PROJECT } from "../../config";

const ROOT = path.resolve(__dirname, "..", "..");
const SERVICES_KEY = `${PROJECT}:services`;
const SDK_MODULES = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes", "@pulumi/random"];
/** How often the process tree's memory is read while a command runs. */
const MEMORY_POLL_MS = 20;

export interface Measured {
    ms: number;
    /** Peak resident memory of the command's own process and of the largest of its children, in bytes. */
    peak: { own: number; child: number };
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs `node <args>` in the project and measures its wall time and its process tree's peak memory. */
export function measureCommand(args: string[]): Promise<Measured> {
    const started = process.hrtime.bigint();
    return new Promise((resolve) => {
        const peaks = new Map<number, number>();
        const child = execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
            clearInterval(poll);
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            const own = peaks.get(child.pid!) ?? 0;
            const largestChild = Math.max(0, ...[...peaks].filter(([pid]) => pid !== child.pid).map(([, v]) => v));
            resolve({ ms, peak: { own, child: largestChild }, code: err ? Number((err as any).code ?? -1) : 0, stdout, stderr });
        });
        const poll = setInterval(() => {
            for (const pid of processTree(child.pid!)) {
                const hwm = highWaterMark(pid);
                if (hwm > (peaks.get(pid) ?? 0)) peaks.set(pid, hwm);
            }
        }, MEMORY_POLL_MS);
    });
}

/** A process and its descendants (Linux /proc). */
function processTree(pid: number): number[] {
    const tree = [pid];
    for (let i = 0; i < tree.length; i++) {
        try {
            const children = fs.readFileSync(`/proc/${tree[i]}/task/${tree[i]}/children`, "utf8").trim();
            if (children) tree.push(...children.split(/\s+/).map(Number));
        } catch {
            // The process has exited.
        }
    }
    return tree;
}

/** VmHWM: the process's peak resident set size so far, in bytes (0 once it has exited). */
function highWaterMark(pid: number): number {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
        return kb ? Number(kb) * 1024 : 0;
    } catch {
        return 0;
    }
}

/** The prod stack file with its services copied until there are `count`, each copy renamed and given its own path. */
export function scaledStackFile(prodFile: string, count: number): string {
    const doc = parseDocument(fs.readFileSync(prodFile, "utf8"));
    const services = doc.getIn(["config", SERVICES_KEY]) as any;
    const original = services?.toJSON?.() as Record<string, { path: string }> | undefined;
    if (!original || !Object.keys(original).length) throw new Error(`${prodFile} has no ${SERVICES_KEY}`);
    const names = Object.keys(original);
    const scaled: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
        const base = names[i % names.length];
        const copy = Math.floor(i / names.length);
        scaled[copy ? `${base}-${copy}` : base] = copy ? { ...original[base], path: `${original[base].path}-${copy}` } : original[base];
    }
    doc.setIn(["config", SERVICES_KEY], doc.createNode(scaled));
    return doc.toString();
}

export interface ScaleRow {
    services: number;
    resources: number;
    plan: Measured;
    audit: Measured;
}

export interface ScaleOptions {
    sizes: number[];
    iterations: number;
    dir: string;
    /** Runs one of the project's tools (`plan`, `audit`) with arguments, `iterations` times; returns the median run. */
    runTool: (tool: string, args: string[], label: string) => Promise<Measured>;
}

export async function scaleSeries(opts: ScaleOptions): Promise<ScaleRow[]> {
    const rows: ScaleRow[] = [];
    for (const services of opts.sizes) {
        const config = path.join(opts.dir, `Pulumi.prod-${services}.yaml`);
        fs.writeFileSync(config, scaledStackFile(path.join(ROOT, "Pulumi.prod.yaml"), services));
        const exported = path.join(opts.dir, `prod-${services}.json`);
        const plan = await opts.runTool("plan", ["--stack", "prod", "--config", config, "--out", exported], `plan, ${services} services`);
        const resources = JSON.parse(fs.readFileSync(exported, "utf8")).deployment.resources.length as number;
        const audit = await opts.runTool("audit", [exported], `audit, ${services} services`);
        rows.push({ services, resources, plan, audit });
    }
    return rows;
}

/** Wall time of loading the SDK packages the program imports, in a fresh process. */
export function sdkLoadArgs(): string[] {
    return ["-e", SDK_MODULES.map((m) => `require(${JSON.stringify(m)});`).join("")];
}

const MB = 1024 * 1024;

export function renderScaleTable(rows: ScaleRow[]): string {
    const lines = [
        "| services | resources | plan | plan ms/resource | plan peak (plan / pack) | audit | audit ms/resource | audit peak (audit / pack) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    rows.forEach((row, i) => {
        const previous = rows[i - 1];
        const slope = (pick: (r: ScaleRow) => Measured) =>
            previous ? ((pick(row).ms - pick(previous).ms) / (row.resources - previous.resources)).toFixed(2) : "—";
        const peak = (m: Measured) => `${(m.peak.own / MB).toFixed(0)} / ${(m.peak.child / MB).toFixed(0)} MB`;
        lines.push(
            `| ${row.services} | ${row.resources} | ${(row.plan.ms / 1000).toFixed(2)} s | ${slope((r) => r.plan)} | ${peak(row.plan)} | ${(row.audit.ms / 1000).toFixed(2)} s | ${slope((r) => r.audit)} | ${peak(row.audit)} |`,
        );
    });
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (first && last && last.resources > first.resources) {
        const overall = (pick: (r: ScaleRow) => Measured) => ((pick(last).ms - pick(first).ms) / (last.resources - first.resources)).toFixed(2);
        lines.push(
            "",
            `Marginal cost per resource from ${first.services} to ${last.services} services: plan ${overall((r) => r.plan)} ms, audit ${overall((r) => r.audit)} ms.`,
        );
    }
    return lines.join("\n");
}
