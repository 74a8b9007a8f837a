// The offline tools and the policy pack's process load the SDK without its closure-serialization
// modules (the TypeScript compiler, @npmcli/arborist), and still serialize a closure when asked.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as path from "path";
import { ROOT } from "./harness";

const REGISTER = path.join(ROOT, "tools", "register.js");
const PACK_PRELOAD = path.join(ROOT, "offline", "packPreload.js");

/** Runs `script` in a fresh process with `preload` (without the deprecation warnings serializing a function prints); it prints one JSON line. */
function run(preload: string, script: string): any {
    return JSON.parse(execFileSync(process.execPath, ["--no-warnings", "--require", preload, "-e", script], { cwd: ROOT, encoding: "utf8" }).trim());
}

const LOADED = `(name) => Object.keys(require.cache).some((f) => f.includes(require("path").join("node_modules", name, "")))`;

describe("SDK modules deferred to their first use", () => {
    it("the tools load the SDK without the TypeScript compiler or arborist, and serializeFunction still parses a function", () => {
        const out = run(
            REGISTER,
            `const loaded = ${LOADED};
            const pulumi = require("@pulumi/pulumi"); require("@pulumi/aws"); require("@pulumi/kubernetes");
            const atLoad = { typescript: loaded("typescript/lib"), arborist: loaded("@npmcli/arborist"), normalize: loaded("normalize-package-data"), fdir: loaded("fdir"), opentelemetry: loaded("@opentelemetry/api"), yaml: loaded("js-yaml") };
            pulumi.runtime.serializeFunction(function answer() { return 42; }).then((closure) => {
                console.log(JSON.stringify({ atLoad, serialized: closure.text.includes("return 42"), typescriptAfter: loaded("typescript/lib") }));
            });`,
        );
        assert.deepEqual(out, {
            atLoad: { typescript: false, arborist: false, normalize: false, fdir: false, opentelemetry: false, yaml: false },
            serialized: true,
            typescriptAfter: true,
        });
    });

    it("arborist, asked for by the SDK's code-path finder, is the real module once a property is read", () => {
        const out = run(
            REGISTER,
            `const loaded = ${LOADED};
            const Module = require("module");
            const codePaths = require.resolve("@pulumi/pulumi/runtime/closure/codePaths");
            const arborist = Module._load("@npmcli/arborist", { filename: codePaths, id: codePaths, paths: Module._nodeModulePaths(require("path").dirname(codePaths)) }, false);
            const before = loaded("@npmcli/arborist");
            const type = typeof arborist.Arborist;
            console.log(JSON.stringify({ before, type, after: loaded("@npmcli/arborist"), same: arborist.Arborist === require("@npmcli/arborist").Arborist }));`,
        );
        assert.deepEqual(out, { before: false, type: "function", after: true, same: true });
    });

    it("normalize-package-data, imported by the code-path finder as a default, is the real function once read", () => {
        const out = run(
            REGISTER,
            `const loaded = ${LOADED};
            const Module = require("module");
            const codePaths = require.resolve("@pulumi/pulumi/runtime/closure/codePaths");
            const parent = { filename: codePaths, id: codePaths, paths: Module._nodeModulePaths(require("path").dirname(codePaths)) };
            const imported = Module._load("normalize-package-data", parent, false);
            const fdir = Module._load("fdir", parent, false);
            const before = { normalize: loaded("normalize-package-data"), fdir: loaded("fdir") };
            // What TypeScript's __importDefault does with it.
            const asDefault = imported && imported.__esModule ? imported : { default: imported };
            const data = { name: "x", version: "1.0.0" };
            asDefault.default(data);
            console.log(JSON.stringify({ before, normalized: data._id, same: asDefault.default === require("normalize-package-data"), fdir: typeof fdir.fdir }));`,
        );
        assert.deepEqual(out, { before: { normalize: false, fdir: false }, normalized: "x@1.0.0", same: true, fdir: "function" });
    });

    it("pulumi.automation loads on first use, and is then the module the release command imports", () => {
        const out = run(
            REGISTER,
            `const loaded = () => Object.keys(require.cache).some((f) => f.includes(require("path").join("@pulumi", "pulumi", "automation", "")));
            const pulumi = require("@pulumi/pulumi");
            const atLoad = loaded();
            const type = typeof pulumi.automation.LocalWorkspace;
            console.log(JSON.stringify({ atLoad, type, after: loaded(), same: pulumi.automation.LocalWorkspace === require("@pulumi/pulumi/automation").LocalWorkspace }));`,
        );
        assert.deepEqual(out, { atLoad: false, type: "function", after: true, same: true });
    });

    it("the policy pack's process loads @pulumi/policy without arborist", () => {
        const out = run(
            PACK_PRELOAD,
            `const loaded = ${LOADED}; require("@pulumi/policy"); console.log(JSON.stringify({ arborist: loaded("@npmcli/arborist"), execa: loaded("execa") }));`,
        );
        assert.deepEqual(out, { arborist: false, execa: false });
    });
});
