// Prometheus durations, parsed once for the release analysis, its config and the policy pack.
import * as assert from "node:assert/strict";
import { durationSeconds } from "../metrics/duration";

describe("Prometheus durations", () => {
    it("reads every unit from years to milliseconds, combined in Prometheus' order", () => {
        const cases: [string, number][] = [
            ["30m", 1800],
            ["1h30m", 5400],
            ["90s", 90],
            ["250ms", 0.25],
            ["1m30s500ms", 90.5],
            ["1d", 86400],
            ["2w", 1_209_600],
            ["1y", 31_536_000],
            ["0s", 0],
            ["0", 0],
        ];
        assert.deepEqual(
            cases.map(([text]) => [text, durationSeconds(text)]),
            cases,
        );
    });

    it("is undefined for what Prometheus rejects: no unit, units out of order or twice, fractions, words", () => {
        for (const text of ["", "30", "30 minutes", "1m1h", "5m5m", "1.5m", "m", "30S", "-1m", "soon"]) {
            assert.equal(durationSeconds(text), undefined, text);
        }
    });
});
