import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { byName, isSecretValue, runProgram, ProgramRun, ROOT, UNKNOWN, readStackConfig, withOverrides, configValue } from "./harness";

const FIXTURE = path.join(__dirname, "fixtures", "edges.ts");

describe("offline harness", () => {
    let preview: ProgramRun;
    let up: ProgramRun;

    before(async () => {
        preview = await runProgram({ stack: "staging", program: FIXTURE });
        up = await runProgram({ stack: "staging", program: FIXTURE, preview: false });
    });

    it("records the root stack and qualifies child URNs the way the engine does", () => {
        const stack = preview.resources[0];
        assert.equal(stack.type, "pulumi:pulumi:Stack");
        const pair = byName(preview, "fixture:index:Pair", "pair");
        assert.equal(pair.urn, "urn:pulumi:staging::release-platform::fixture:index:Pair::pair");
        assert.equal(pair.parent, stack.urn);
        const second = byName(preview, "random:index/randomPet:RandomPet", "pair-second");
        assert.equal(second.urn, "urn:pulumi:staging::release-platform::fixture:index:Pair$random:index/randomPet:RandomPet::pair-second");
    });

    it("records parent, explicit and implicit dependencies and property dependencies", () => {
        const pair = byName(preview, "fixture:index:Pair", "pair");
        const first = byName(preview, "random:index/randomPet:RandomPet", "pair-first");
        const second = byName(preview, "random:index/randomPet:RandomPet", "pair-second");
        assert.equal(first.parent, pair.urn);
        assert.equal(second.parent, pair.urn);
        assert.deepEqual(second.dependencies, [first.urn]);
        assert.deepEqual(second.propertyDependencies.prefix, [first.urn]);
        assert.deepEqual(first.dependencies, []);
    });

    it("records an implicit dependency alone and an explicit one alone", () => {
        const first = byName(preview, "random:index/randomPet:RandomPet", "pair-first");
        const implicitOnly = byName(preview, "random:index/randomPet:RandomPet", "implicit-only");
        const explicitOnly = byName(preview, "random:index/randomPet:RandomPet", "explicit-only");
        assert.deepEqual(implicitOnly.dependencies, [first.urn]);
        assert.deepEqual(implicitOnly.propertyDependencies.prefix, [first.urn]);
        assert.deepEqual(explicitOnly.dependencies, [implicitOnly.urn]);
        assert.deepEqual(Object.values(explicitOnly.propertyDependencies).flat(), []);
    });

    it("gives resources without an explicit provider the package's default provider, registered first", () => {
        const providers = preview.resources.filter((r) => r.type === "pulumi:providers:random");
        assert.equal(providers.length, 1);
        const [provider] = providers;
        const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "random", "package.json"), "utf8")) as { version: string })
            .version;
        assert.equal(provider.urn, `urn:pulumi:staging::release-platform::pulumi:providers:random::default_${version.replace(/\./g, "_")}`);
        assert.deepEqual(provider.inputs, { version });
        const pets = preview.resources.filter((r) => r.type === "random:index/randomPet:RandomPet");
        assert.ok(pets.length >= 2);
        for (const pet of pets) {
            assert.equal(pet.provider, `${provider.urn}::${UNKNOWN}`, "unknown id during preview");
            assert.ok(preview.resources.indexOf(provider) < preview.resources.indexOf(pet));
        }
        assert.equal(byName(up, "random:index/randomPet:RandomPet", "pair-first").provider?.endsWith(`::default_${version.replace(/\./g, "_")}-id`), true);
    });

    it("records resource options", () => {
        const first = byName(preview, "random:index/randomPet:RandomPet", "pair-first");
        const second = byName(preview, "random:index/randomPet:RandomPet", "pair-second");
        assert.equal(first.protect, true);
        assert.equal(first.retainOnDelete, false);
        assert.equal(second.retainOnDelete, true);
        assert.deepEqual(second.ignoreChanges, ["length"]);
    });

    it("leaves provider outputs unknown in preview and fills them when not previewing", () => {
        const second = byName(preview, "random:index/randomPet:RandomPet", "pair-second");
        assert.equal(second.inputs.prefix, UNKNOWN);
        const secondUp = byName(up, "random:index/randomPet:RandomPet", "pair-second");
        assert.equal(secondUp.inputs.prefix, "pair-first-id");
    });

    it("keeps secret outputs wrapped as secrets", () => {
        assert.ok(isSecretValue(up.outputs.secret), `expected a secret, got ${JSON.stringify(up.outputs.secret)}`);
    });

    it("reads a stack file into the CLI's config map and applies overrides", () => {
        const source = readStackConfig("prod");
        assert.equal(source.config["release-platform:environment"], "prod");
        assert.equal(source.config["aws:region"], "us-east-1");
        assert.equal(configValue<string[]>(source, "availabilityZones").length, 3);
        const patched = withOverrides(source, { maintenance: true, release: undefined });
        assert.equal(patched.config["release-platform:maintenance"], "true");
        assert.equal(patched.config["release-platform:release"], undefined);
        assert.equal(source.config["release-platform:maintenance"], "false");
    });

    it("turns secure: values into placeholders, listed as such", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stack-")), "Pulumi.x.yaml");
        fs.writeFileSync(file, "config:\n  release-platform:redisUrl:\n    secure: v1:abc\n  owner: me\n");
        const source = readStackConfig("x", file);
        assert.deepEqual(source.placeholders, ["release-platform:redisUrl"]);
        assert.deepEqual(source.secretKeys, ["release-platform:redisUrl"]);
        assert.equal(source.config["release-platform:owner"], "me");
    });

    it("captures no stack traces while the program runs and restores the settings after a run, also a failed one", async () => {
        const failing = path.join(os.tmpdir(), `failing-program-${process.pid}.js`);
        fs.writeFileSync(
            failing,
            `globalThis.stackTraceLimitSeen = Error.stackTraceLimit; globalThis.callsitesSeen = require(${JSON.stringify(require.resolve("@pulumi/pulumi"))}).Resource.callsites().length; throw new Error("broken program");\n`,
        );
        const limit = Error.stackTraceLimit;
        const callsites = (pulumi.Resource as any).callsites;
        try {
            await assert.rejects(runProgram({ stack: "staging", program: failing }), /broken program/);
            assert.equal((globalThis as any).stackTraceLimitSeen, 0, "the program ran with stack traces off");
            assert.equal((globalThis as any).callsitesSeen, 0, "resources parse no stack for their source position");
            assert.equal(Error.stackTraceLimit, limit);
            assert.equal((pulumi.Resource as any).callsites, callsites);
            await runProgram({ stack: "staging", program: FIXTURE });
            assert.equal(Error.stackTraceLimit, limit);
        } finally {
            delete (globalThis as any).stackTraceLimitSeen;
            delete (globalThis as any).callsitesSeen;
            fs.rmSync(failing, { force: true });
        }
    });

    it("rejects an unknown stack with the file it looked for", () => {
        assert.throws(() => readStackConfig("nope"), /Pulumi\.nope\.yaml does not exist/);
    });
});

describe("program modules", () => {
    // The harness re-evaluates only index.ts between runs; everything it imports must be stateless.
    it("evaluate the same way whatever ran before (prod, staging, prod)", async function () {
        this.timeout(120_000);
        const first = await runProgram({ stack: "prod" });
        await runProgram({ stack: "staging" });
        const again = await runProgram({ stack: "prod" });
        assert.deepEqual(again.resources, first.resources);
        assert.deepEqual(again.outputs, first.outputs);
    });

    it("keep no module-level mutable state", () => {
        const files = ["config", "components"].flatMap((dir) =>
            (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f)),
        );
        assert.ok(files.includes(path.join("components", "eks", "cluster.ts")), "walks into component folders");
        for (const file of files) {
            const text = fs.readFileSync(path.join(ROOT, file), "utf8");
            assert.doesNotMatch(text, /^(export )?(let|var) /m, `${file} has a module-level let/var`);
            assert.doesNotMatch(text, /^(export )?const \w+\s*=\s*new (Map|Set|Array)\b/m, `${file} has a module-level collection`);
        }
    });
});
