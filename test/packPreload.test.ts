// The policy pack's process runs a pack compiled to JavaScript beforehand: the preload keeps the
// TypeScript compiler out of it, and changes nothing else.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./harness";

const PRELOAD = path.join(ROOT, "offline", "packPreload.js");

function inPackProcess(script: string): string {
    return execFileSync(process.execPath, ["--require", PRELOAD, "-e", script], { cwd: ROOT, encoding: "utf8" }).trim();
}

describe("policy pack preload", () => {
    it("gives run-policy-pack a ts-node whose register() compiles nothing, and the real TypeScript version, without loading either", () => {
        const out = inPackProcess(`
            const tsn = require("ts-node");
            tsn.register({ typeCheck: true });
            const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](typescript|ts-node)[\\\\/](lib|dist)/.test(f));
            console.log(JSON.stringify({ version: require("typescript").version, loaded }));
        `);
        const { version, loaded } = JSON.parse(out);
        assert.equal(version, JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "typescript", "package.json"), "utf8")).version);
        assert.deepEqual(loaded, []);
    });

    it("tracks the SDK's promises without capturing a stack for each, from the first", () => {
        const out = inPackProcess(`
            const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable");
            const { getStore } = require("@pulumi/pulumi/runtime/state");
            const first = Promise.resolve(1);
            const tracked = debuggablePromise(first, "ctx");
            const pending = getStore().leakCandidates.has(first);
            tracked.then((v) => console.log(JSON.stringify({ v, pending, stack: "_debugStackTrace" in first, after: getStore().leakCandidates.has(first) })));
        `);
        assert.deepEqual(JSON.parse(out), { v: 1, pending: true, stack: false, after: false });
    });

    it("leaves every other module as it is", () => {
        const out = inPackProcess(`console.log(typeof require("@pulumi/policy").PolicyPack, require("yaml/package.json").name)`);
        assert.equal(out, "function yaml");
    });
});
