// The offline tools and the policy pack's process make V8 wait longer before it optimizes a
// function (offline/tierUp.js), on the V8 that was measured, and leave other versions alone.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as path from "path";
import { ROOT } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tierUp = require("../offline/tierUp") as { waitLongerBeforeOptimizing(v8Version?: string): boolean; MEASURED_V8_MAJOR: number };

/** Calls a small function in batches until V8 has optimized it; returns how many calls that took. */
const CALLS_UNTIL_OPTIMIZED = `
function hot(x) { return ((x * 31 + 7) % 13) + (x % 5) * 3 - (x % 3); }
let calls = 0;
while (calls < 2000000) {
    for (let i = 0; i < 100; i++) hot(calls++);
    if (%GetOptimizationStatus(hot) & 16) break;
}
console.log(calls);`;

function callsUntilOptimized(preload?: string): number {
    // Compiled on this thread, so that the count does not depend on a background compiler's timing.
    const args = ["--allow-natives-syntax", "--no-concurrent-recompilation", ...(preload ? ["--require", preload] : []), "-e", CALLS_UNTIL_OPTIMIZED];
    return Number(execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" }).trim());
}

describe("V8's tier-up in the offline tools and the pack (offline/tierUp.js)", function () {
    this.timeout(60_000);

    it("the tools and the pack's process run a function longer before V8 optimizes it", function () {
        if (Number(process.versions.v8.split(".")[0]) !== tierUp.MEASURED_V8_MAJOR) this.skip();
        const byDefault = callsUntilOptimized();
        for (const preload of [path.join(ROOT, "tools", "register.js"), path.join(ROOT, "offline", "packPreload.js")]) {
            const tuned = callsUntilOptimized(preload);
            assert.ok(tuned >= 2 * byDefault, `${path.basename(preload)}: optimized after ${tuned} calls, by default after ${byDefault}`);
        }
    });

    it("sets nothing on a V8 it was not measured on", () => {
        assert.equal(tierUp.waitLongerBeforeOptimizing("12.4.254.21-node.33"), false);
        assert.equal(tierUp.waitLongerBeforeOptimizing("10.2.154.26-node.26"), false);
    });
});
