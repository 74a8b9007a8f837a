// The packs' requests travel on a thread of their own: a pack keeps answering while the calling
// thread is busy (as it is while it evaluates a program), and the answers are the pack's.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { AnalyzerMethod, PolicyPackError, PolicyPackProcess } from "../offline/analyzer";
import { configurePack } from "../offline/policyCheck";
import { readPolicyConfigFile } from "../offline/policyConfig";
import { analysisForRun } from "../offline/stackExport";
import { PROJECT } from "../config";
import { ROOT, runProgram } from "./harness";

const PACK_DIR = path.join(ROOT, "policies");
const POLICY_CONFIG = path.join(ROOT, "policies", "config", "prod.json");
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function busyFor(ms: number): void {
    const until = Date.now() + ms;
    while (Date.now() < until) {
        // The calling thread does nothing else, as during a long stretch of program evaluation.
    }
}

describe("policy pack connections on their own thread", function () {
    this.timeout(120_000);

    it("a pack works through requests while the calling thread is busy, and its answers are the ones it gives otherwise", async () => {
        const input = analysisForRun(await runProgram({ stack: "staging" }));
        const pack = await PolicyPackProcess.start(PACK_DIR);
        try {
            await configurePack(pack, readPolicyConfigFile(POLICY_CONFIG), {
                policyConfigFile: POLICY_CONFIG,
                stack: "staging",
                project: PROJECT,
                dryRun: true,
            });
            const expected = await Promise.all(input.perResource.map((r) => pack.analyze(r)));
            const pid = (pack as unknown as { child: { pid: number } }).child.pid;
            const before = cpuSeconds(pid);
            const answers = Promise.all([...input.perResource, ...input.perResource].map((r) => pack.analyze(r)));
            busyFor(1500);
            const workedMeanwhile = cpuSeconds(pid) - before;
            const got = await answers;
            assert.ok(workedMeanwhile >= 0.1, `the pack used ${workedMeanwhile} s of CPU while this thread was busy`);
            assert.deepEqual(got, [...expected, ...expected]);
            assert.ok(expected.flat().length > 0, "the staging stack under prod's config has violations to compare");
        } finally {
            pack.close();
        }
    });

    it("a call the pack fails gets the pack's status and message; a pack that dies fails the calls it had", async () => {
        const input = analysisForRun(await runProgram({ stack: "staging" }));
        const pack = await PolicyPackProcess.start(PACK_DIR);
        const send = (method: AnalyzerMethod, bytes: Uint8Array) =>
            (pack as unknown as { send: (m: AnalyzerMethod, b: Uint8Array) => Promise<unknown> }).send(method, bytes);
        try {
            // A field header with wire type 7 does not exist: the pack's server can't decode the request.
            await assert.rejects(send("analyze", new Uint8Array([0x0f, 0x01])), (e: unknown) => {
                assert.ok(e instanceof PolicyPackError, String(e));
                assert.match(e.message, /^policy pack analyze failed: .*deserializ/i);
                return true;
            });
            await configurePack(pack, readPolicyConfigFile(POLICY_CONFIG), {
                policyConfigFile: POLICY_CONFIG,
                stack: "staging",
                project: PROJECT,
                dryRun: true,
            });
            assert.ok((await pack.analyze(input.perResource[0])) instanceof Array, "the connection still serves calls after a failed one");
            const inFlight = Promise.allSettled([...input.perResource, ...input.perResource, ...input.perResource].map((r) => pack.analyze(r)));
            (pack as unknown as { child: { kill: (s: string) => void } }).child.kill("SIGKILL");
            const settled = await inFlight;
            const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
            assert.ok(failed.length > 0, "some calls were still unanswered when the pack died");
            for (const f of failed) assert.ok(f.reason instanceof PolicyPackError && /policy pack analyze failed: .+/.test(f.reason.message), String(f.reason));
        } finally {
            pack.close();
        }
    });
});
