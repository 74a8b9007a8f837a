import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./harness";

const REGISTER = path.join(ROOT, "tools", "register.js");

/** Loads a .ts module through tools/register.js in a fresh process; says whether the compiler was loaded. */
function load(file: string): { value: string; loadedCompiler: boolean } {
    const script = `const m = require(${JSON.stringify(file)}); console.log(JSON.stringify({ value: m.value, loadedCompiler: Object.keys(require.cache).some((k) => k.includes("${path.sep}typescript${path.sep}lib${path.sep}")) }));`;
    return JSON.parse(execFileSync(process.execPath, ["-r", REGISTER, "-e", script], { cwd: ROOT, encoding: "utf8" }));
}

describe("tools/register.js (the offline tools' TypeScript loader)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "register-"));
    const file = path.join(dir, "module.ts");
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("transpiles once, then loads from its cache without the compiler, and sees source changes", () => {
        const unique = `${process.pid}-${Date.now()}`;
        fs.writeFileSync(file, `const answer: string = "${unique}";\nexport const value = answer;\n`);
        assert.deepEqual(load(file), { value: unique, loadedCompiler: true });
        assert.deepEqual(load(file), { value: unique, loadedCompiler: false });
        fs.writeFileSync(file, `export const value: string = "changed-${unique}";\n`);
        assert.deepEqual(load(file), { value: `changed-${unique}`, loadedCompiler: true });
    });
});
