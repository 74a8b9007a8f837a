// The scale bench's own parts: the generated N-service stacks are stacks the program accepts, and
// the peak memory it reports is the real high-water mark of a command and of its children.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import { readStackConfig } from "../offline/stackConfig";
import { measureCommand, renderScaleTable, scaledStackFile, ScaleRow } from "../tools/bench/scale";
import { ROOT } from "./harness";

const MB = 1024 * 1024;

describe("bench --scale", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-scale-test-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("generates prod stacks of N services that the config accepts, each service with its own name and path", () => {
        for (const count of [1, 3, 7, 30]) {
            const file = path.join(dir, `Pulumi.prod-${count}.yaml`);
            fs.writeFileSync(file, scaledStackFile(path.join(ROOT, "Pulumi.prod.yaml"), count));
            const source = readStackConfig("prod", file);
            const config = parseStackConfig(source.config, "prod", file, source.secretKeys);
            assert.equal(config.services.length, count);
            assert.equal(new Set(config.services.map((s) => s.name)).size, count);
            assert.equal(new Set(config.services.map((s) => s.path)).size, count);
        }
    });

    it("keeps the rest of the prod stack file as it is", () => {
        const prod = readStackConfig("prod").config;
        const file = path.join(dir, "Pulumi.prod-same.yaml");
        fs.writeFileSync(file, scaledStackFile(path.join(ROOT, "Pulumi.prod.yaml"), 5));
        const scaled = readStackConfig("prod", file).config;
        for (const key of Object.keys(prod).filter((k) => !k.endsWith(":services"))) assert.equal(scaled[key], prod[key], key);
    });

    it("reports the peak memory of the command and of its largest child from the kernel's high-water marks", async function () {
        this.timeout(60_000);
        // The child holds 150 MB for a moment, its parent only a little; both must be seen.
        const grandchild = "const b = Buffer.alloc(150 * 1024 * 1024, 1); setTimeout(() => b.length, 300);";
        const run = await measureCommand(["-e", `require("child_process").execFileSync(process.execPath, ["-e", ${JSON.stringify(grandchild)}])`]);
        assert.equal(run.code, 0, run.stderr);
        assert.ok(run.peak.child >= 150 * MB, `child peak ${run.peak.child / MB} MB`);
        assert.ok(run.peak.own > 0 && run.peak.own < 150 * MB, `own peak ${run.peak.own / MB} MB`);
    });

    it("prints the marginal cost per resource between sizes", () => {
        const measured = (ms: number) => ({ ms, peak: { own: 100 * MB, child: 200 * MB }, code: 0, stdout: "", stderr: "" });
        const rows: ScaleRow[] = [
            { services: 3, resources: 150, plan: measured(2000), audit: measured(1000) },
            { services: 30, resources: 600, plan: measured(3350), audit: measured(1450) },
        ];
        const table = renderScaleTable(rows);
        assert.match(table, /\| 30 \| 600 \| 3\.35 s \| 3\.00 \| 100 \/ 200 MB \| 1\.45 s \| 1\.00 \|/);
        assert.match(table, /from 3 to 30 services: plan 3\.00 ms, audit 1\.00 ms/);
    });
});
