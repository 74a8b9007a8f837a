// The offline tools spawn their policy pack before they load the SDK (the pack then loads
// alongside): nothing they load first may bring the SDK's runtime, its gRPC stack or protobuf.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OUTPUT_VALUE_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN } from "../offline/wire";
import { ROOT } from "./harness";

const REGISTER = path.join(ROOT, "tools", "register.js");
const HEAVY_MODULES = /[\\/]node_modules[\\/](@grpc[\\/]grpc-js|google-protobuf|@pulumi[\\/]pulumi[\\/](runtime|proto|index\.js))/;

/** Runs a tool until it spawns its first process; returns the modules of HEAVY_MODULES it had loaded by then. */
function loadedAtFirstSpawn(tool: string, args: string[]): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pack-start-"));
    try {
        const hook = path.join(dir, "hook.js");
        fs.writeFileSync(
            hook,
            `const cp = require("child_process");
cp.spawn = () => {
    const loaded = Object.keys(require.cache).filter((k) => ${HEAVY_MODULES}.test(k)).map((k) => k.slice(k.lastIndexOf("node_modules")));
    process.stdout.write(JSON.stringify(loaded));
    process.exit(0);
};`,
        );
        const out = execFileSync(process.execPath, ["-r", REGISTER, "-r", hook, path.join(ROOT, "tools", `${tool}.ts`), ...args], {
            cwd: ROOT,
            encoding: "utf8",
        });
        return JSON.parse(out);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("the offline tools start their policy pack first", function () {
    this.timeout(60_000);

    it("plan spawns the pack before it loads the SDK", () => {
        assert.deepEqual(loadedAtFirstSpawn("plan", ["--stack", "staging"]), []);
    });

    it("audit spawns the pack before it reads the export or loads the SDK", () => {
        assert.deepEqual(loadedAtFirstSpawn("audit", [path.join(os.tmpdir(), "no-export-read-yet.json")]), []);
    });

    it("the wire markers written out in offline/wire.ts are the SDK's", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const rpc = require("@pulumi/pulumi/runtime/rpc");
        assert.deepEqual(
            { UNKNOWN, SIG_KEY, SECRET_SIG, RESOURCE_SIG, OUTPUT_VALUE_SIG },
            {
                UNKNOWN: rpc.unknownValue,
                SIG_KEY: rpc.specialSigKey,
                SECRET_SIG: rpc.specialSecretSig,
                RESOURCE_SIG: rpc.specialResourceSig,
                OUTPUT_VALUE_SIG: rpc.specialOutputValueSig,
            },
        );
    });
});
