// `release.analysis`: runbook defaults per environment, overrides validated like the rest of the
// stack config, and prod never looser than the runbooks.
import * as assert from "node:assert/strict";
import { parseStackConfig, StackConfigError } from "../config";
import { defaultAnalysis } from "../metrics/analysis";
import { configValue, readStackConfig, StackConfigSource, withOverrides } from "./harness";

const STACKS = ["staging", "prod"] as const;

/** The stack's config with `release.analysis` replaced (`undefined` removes it). */
function withAnalysis(stack: string, analysis: unknown): StackConfigSource {
    const source = readStackConfig(stack);
    const release: any = structuredClone(configValue(source, "release"));
    if (analysis === undefined) delete release.analysis;
    else release.analysis = analysis;
    return withOverrides(source, { release });
}

function problems(source: StackConfigSource, stack: string): { key: string; message: string }[] {
    try {
        parseStackConfig(source.config, stack, source.file, source.secretKeys);
        return [];
    } catch (e) {
        assert.ok(e instanceof StackConfigError, String(e));
        return e.problems;
    }
}

describe("stack config: release.analysis", () => {
    for (const stack of STACKS) {
        it(`${stack}: the shipped stack file carries the runbook defaults`, () => {
            const source = readStackConfig(stack);
            assert.deepEqual(parseStackConfig(source.config, stack, source.file, source.secretKeys).release.analysis, defaultAnalysis(stack));
        });
    }

    it("takes every default when the block is left out: prod watches 30 minutes, staging 15", () => {
        for (const stack of STACKS) {
            const source = withAnalysis(stack, undefined);
            assert.deepEqual(parseStackConfig(source.config, stack, source.file, source.secretKeys).release.analysis, defaultAnalysis(stack));
        }
        assert.equal(defaultAnalysis("prod").window, "30m");
        assert.equal(defaultAnalysis("staging").window, "15m");
        assert.equal(defaultAnalysis("prod").metrics.errorRate.max, 0.01);
        assert.equal(defaultAnalysis("staging").metrics.errorRate.max, 0.1);
    });

    it("merges a partial block over the defaults", () => {
        const source = withAnalysis("staging", { interval: "30s", metrics: { latencyP95: { maxSeconds: 1.5 } } });
        const analysis = parseStackConfig(source.config, "staging", source.file, source.secretKeys).release.analysis;
        assert.equal(analysis.interval, "30s");
        assert.equal(analysis.metrics.latencyP95.maxSeconds, 1.5);
        assert.equal(analysis.metrics.latencyP95.failureLimit, defaultAnalysis("staging").metrics.latencyP95.failureLimit);
        assert.equal(analysis.window, "15m");
    });

    it("names the key and what is allowed for every bad value, all at once", () => {
        const found = problems(
            withAnalysis("staging", {
                window: "30 minutes",
                initialDelay: "soon",
                consecutiveErrorLimit: -1,
                metrics: { errorRate: { max: 2 }, latencyP95: { maxSecond: 1 }, readyEndpoints: { minRatio: "all" } },
            }),
            "staging",
        );
        const byKey = Object.fromEntries(found.map((p) => [p.key, p.message]));
        assert.match(byKey["release.analysis.window"], /"30 minutes" is not valid; allowed: a duration such as 30m/);
        assert.match(byKey["release.analysis.initialDelay"], /"soon" is not valid; allowed: a duration/);
        assert.match(byKey["release.analysis.consecutiveErrorLimit"], /-1 is out of range; allowed: 0 to 100/);
        assert.match(byKey["release.analysis.metrics.errorRate.max"], /2 is out of range; allowed: 0 to 1/);
        assert.match(
            byKey["release.analysis.metrics.latencyP95.maxSecond"],
            /unknown key; did you mean 'release\.analysis\.metrics\.latencyP95\.maxSeconds'\?/,
        );
        assert.match(byKey["release.analysis.metrics.readyEndpoints.minRatio"], /expected a number from 0\.01 to 1, got "all"/);
    });

    it("refuses an interval longer than the window", () => {
        const found = problems(withAnalysis("staging", { window: "10m", interval: "15m" }), "staging");
        assert.deepEqual(
            found.map((p) => p.key),
            ["release.analysis.interval"],
        );
        assert.match(found[0].message, /15m is out of range; allowed: 10s to 600s/);
    });

    it("refuses prod limits looser than the runbooks, which staging may set", () => {
        const loose = { window: "15m", metrics: { errorRate: { max: 0.05 }, latencyP95: { baselineFactor: 0 }, podRestarts: { max: 5 } } };
        const found = problems(withAnalysis("prod", loose), "prod");
        assert.deepEqual(found.map((p) => p.key).sort(), [
            "release.analysis.metrics.errorRate.max",
            "release.analysis.metrics.latencyP95.baselineFactor",
            "release.analysis.metrics.podRestarts.max",
            "release.analysis.window",
        ]);
        assert.match(
            found.find((p) => p.key === "release.analysis.metrics.errorRate.max")!.message,
            /0\.05 is looser than the runbooks allow in prod; allowed: 0\.01 or stricter/,
        );
        assert.deepEqual(problems(withAnalysis("staging", loose), "staging"), []);
    });
});
