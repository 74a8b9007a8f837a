// A plan's check analyzes each resource while the program still runs, as the engine does in a
// preview. Its verdicts must be those of a check of the finished run, through the real pack.
import * as assert from "node:assert/strict";
import * as path from "path";
import { Diagnostic, PolicyPackProcess } from "../offline/analyzer";
import { checkWhilePreparing, checkWith } from "../offline/policyCheck";
import { analysisForRun, RunAnalysis } from "../offline/stackExport";
import { PROJECT } from "../config";
import { ROOT, runProgram } from "./harness";

const PACK_DIR = path.join(ROOT, "policies");
/** Staging under prod's policy config: resource and stack policies both report violations. */
const TARGET = { policyConfigFile: path.join(ROOT, "policies", "config", "prod.json"), stack: "staging", project: PROJECT, dryRun: true };

function verdicts(violations: Diagnostic[]): string[] {
    return violations.map((v) => `${v.enforcementLevel} ${v.policyName} ${v.urn} ${v.message}`).sort();
}

describe("policy check while the program runs", function () {
    this.timeout(120_000);

    it("reports exactly the verdicts of a check after the run, and hands over every resource in recording order", async () => {
        const analysis = new RunAnalysis();
        let handedDuringRun = 0;
        const streamed = await checkWhilePreparing(
            PACK_DIR,
            TARGET,
            (analyze) =>
                runProgram({
                    stack: "staging",
                    onRecord: (recorded) => {
                        const analyzed = analysis.add(recorded);
                        if (analyzed) {
                            handedDuringRun++;
                            analyze(analyzed);
                        }
                    },
                }),
            (run) => analysis.complete(run.outputs),
        );
        const after = await checkWith(
            PACK_DIR,
            TARGET.policyConfigFile,
            () => runProgram({ stack: "staging" }),
            (run) => ({ ...TARGET, input: analysisForRun(run) }),
        );
        assert.equal(handedDuringRun, analysisForRun(streamed.prepared).perResource.length);
        assert.deepEqual(analysis.complete(streamed.prepared.outputs), analysisForRun(streamed.prepared));
        const policies = new Set(streamed.check.violations.map((v) => v.policyName));
        assert.ok(policies.has("rds-multi-az") && policies.has("eks-node-groups-span-zones"), [...policies].join(", "));
        assert.deepEqual(verdicts(streamed.check.violations), verdicts(after.check.violations));
    });

    it("gives the same verdicts with AnalyzeStack in a second pack, while planning and in an audit", async () => {
        const run = await runProgram({ stack: "staging" });
        const input = analysisForRun(run);
        const audit = (secondPackFrom: number) =>
            checkWith(
                PACK_DIR,
                TARGET.policyConfigFile,
                async () => input,
                (i) => ({ ...TARGET, input: i }),
                { secondPackFrom },
            );
        const plan = (secondPackFrom: number) =>
            checkWhilePreparing(
                PACK_DIR,
                TARGET,
                async (analyze) => {
                    input.perResource.forEach(analyze);
                    return input;
                },
                (i) => i,
                { secondPackFrom },
            );
        const packsStarted = async <T>(check: () => Promise<T>): Promise<[T, number]> => {
            const spawn = PolicyPackProcess.spawn;
            let started = 0;
            PolicyPackProcess.spawn = (dir: string) => {
                started++;
                return spawn.call(PolicyPackProcess, dir);
            };
            try {
                return [await check(), started];
            } finally {
                PolicyPackProcess.spawn = spawn;
            }
        };
        const [single, singleStarted] = await packsStarted(() => audit(Infinity));
        const onePack = verdicts(single.check.violations);
        assert.equal(singleStarted, 1);
        assert.ok(
            onePack.some((v) => v.includes("eks-node-groups-span-zones")),
            "a stack policy reports",
        );
        const cases: [() => Promise<{ check: { violations: Diagnostic[] } }>, number][] = [
            [() => audit(1), 2],
            [() => plan(1), 2],
            [() => plan(Infinity), 1],
        ];
        for (const [check, packs] of cases) {
            const [result, started] = await packsStarted(check);
            assert.equal(started, packs);
            assert.deepEqual(verdicts(result.check.violations), onePack);
        }
    });

    it("describes every resource's provider: providers are recorded before the resources that use them", async () => {
        for (const stack of ["staging", "prod"]) {
            const run = await runProgram({ stack });
            for (const r of analysisForRun(run).perResource) {
                const recorded = run.resources.find((x) => x.urn === r.urn)!;
                if (recorded.provider) assert.ok(r.provider, `${stack}: ${r.urn} has provider ${recorded.provider}, not described`);
            }
        }
    });

    it("refuses an input other than the resources it was handed", async () => {
        await assert.rejects(
            checkWhilePreparing(
                PACK_DIR,
                TARGET,
                () => runProgram({ stack: "staging" }),
                (run) => analysisForRun(run),
            ),
            /handed 0 resources while preparing, but the input has \d+ others/,
        );
    });

    it("passes on the failure of the run, whatever was already sent", async () => {
        await assert.rejects(
            checkWhilePreparing(
                PACK_DIR,
                TARGET,
                async (analyze) => {
                    const run = await runProgram({ stack: "staging" });
                    for (const r of analysisForRun(run).perResource.slice(0, 5)) analyze(r);
                    throw new Error("the program failed");
                },
                () => assert.fail("no input is read after a failed run"),
            ),
            /the program failed/,
        );
    });
});
