// A real Prometheus server on a free loopback port over a temporary TSDB filled from OpenMetrics
// history (`promtool tsdb create-blocks-from openmetrics`). It scrapes nothing: it answers queries
// over the history it was given. For the tests and the bench; `stop()` removes everything it made.
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface LocalPrometheus {
    url: string;
    /** Stops the server (SIGTERM, then SIGKILL after a bound) and deletes its data. Idempotent. */
    stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const PROMTOOL_TIMEOUT_MS = 60_000;

/** Whether `prometheus` and `promtool` are on PATH. */
export function prometheusInstalled(): boolean {
    const dirs = (process.env.PATH ?? "").split(path.delimiter);
    return ["prometheus", "promtool"].every((bin) => dirs.some((d) => fs.existsSync(path.join(d, bin))));
}

export function freeLoopbackPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Runs promtool with a time bound; rejects with its output on a non-zero exit. */
export function promtool(args: string[], cwd?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("promtool", args, { cwd, timeout: PROMTOOL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`promtool ${args.join(" ")} failed: ${(stdout + stderr).trim() || err.message}`));
            else resolve(stdout + stderr);
        });
    });
}

/** Starts Prometheus over the given OpenMetrics history; the caller must `stop()` it. */
export async function startPrometheus(openMetrics: string): Promise<LocalPrometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-analysis-prometheus-"));
    let child: ChildProcess | undefined;
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= stopChild(child).finally(() => fs.rmSync(dir, { recursive: true, force: true })));
    try {
        const data = path.join(dir, "data");
        fs.writeFileSync(path.join(dir, "history.om"), openMetrics);
        await promtool(["tsdb", "create-blocks-from", "openmetrics", path.join(dir, "history.om"), data]);
        // No scrape jobs: the server only answers queries over the history.
        fs.writeFileSync(path.join(dir, "prometheus.yml"), "global:\n  evaluation_interval: 1m\nscrape_configs: []\n");
        const port = await freeLoopbackPort();
        const url = `http://127.0.0.1:${port}`;
        child = spawn(
            "prometheus",
            [
                `--config.file=${path.join(dir, "prometheus.yml")}`,
                `--storage.tsdb.path=${data}`,
                `--web.listen-address=127.0.0.1:${port}`,
                "--storage.tsdb.retention.time=30d",
                "--log.level=warn",
            ],
            { stdio: ["ignore", "ignore", "pipe"] },
        );
        let log = "";
        child.stderr!.on("data", (chunk) => (log = (log + chunk).slice(-4000)));
        await waitReady(url, child, () => log);
        return { url, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log().trim()}`);
        try {
            const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
            if (res.ok) return;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus at ${url} was not ready within ${START_TIMEOUT_MS / 1000}s: ${log().trim()}`);
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        child.once("exit", () => {
            clearTimeout(kill);
            resolve();
        });
        child.kill("SIGTERM");
    });
}
