// The Engine service a started pack logs to (offline/engineService.ts): the pack's own gRPC
// client (@pulumi/pulumi's, on @grpc/grpc-js) reaches it, and it answers as a gRPC server does.
import * as assert from "node:assert/strict";
import * as http2 from "http2";
import * as path from "path";
import { AnalyzedResource, LogMessage, PolicyPackProcess } from "../offline/analyzer";
import { EngineLog, EngineService } from "../offline/engineService";
import { configurePack } from "../offline/policyCheck";
import { analyzedResource } from "../offline/stackExport";
import { ROOT } from "./harness";

const LOGGING_PACK = path.join(ROOT, "test", "fixtures", "logging-pack");
const LOG_WAIT_MS = 10_000;

function resource(name: string): AnalyzedResource {
    const urn = `urn:pulumi:test::release-platform::kubernetes:core/v1:ConfigMap::${name}`;
    return analyzedResource({ urn, type: "kubernetes:core/v1:ConfigMap" }, { data: { key: "value" } }, undefined);
}

/** The policies' logs (the pack's runtime also logs at debug), once `count` have come (bounded): a log call goes out on its own, not with the answer. */
async function policyLogs(logs: LogMessage[], count: number): Promise<{ severity: string; message: string }[]> {
    const until = Date.now() + LOG_WAIT_MS;
    const ofPolicies = () => logs.filter((l) => l.severity !== "debug").map(({ severity, message }) => ({ severity, message }));
    while (ofPolicies().length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return ofPolicies().sort((a, b) => a.message.localeCompare(b.message));
}

/** One unary call to the service: the answer's gRPC status and message. */
function call(address: string, method: string, body: Buffer): Promise<{ status: string; message: string; data: Buffer }> {
    return new Promise((resolve, reject) => {
        const session = http2.connect(`http://${address}`);
        session.on("error", reject);
        const stream = session.request({ ":method": "POST", ":path": method, "content-type": "application/grpc", te: "trailers" });
        const chunks: Buffer[] = [];
        let status = "";
        let message = "";
        const read = (headers: http2.IncomingHttpHeaders) => {
            if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
            if (headers["grpc-message"] !== undefined) message = decodeURIComponent(String(headers["grpc-message"]));
        };
        stream.on("response", read);
        stream.on("trailers", read);
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("close", () => {
            session.close();
            resolve({ status, message, data: Buffer.concat(chunks) });
        });
        stream.end(body);
    });
}

function framed(message: Uint8Array): Buffer {
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    return frame;
}

describe("the Engine service a policy pack logs to", function () {
    this.timeout(120_000);

    it("receives a pack's pulumi.log calls, with their severity, from Analyze and AnalyzeStack", async () => {
        const pack = await PolicyPackProcess.start(LOGGING_PACK);
        try {
            await configurePack(pack, {}, { policyConfigFile: "(none)", stack: "test", project: "release-platform", dryRun: true });
            const resources = [resource("first"), resource("second")];
            for (const r of resources) await pack.analyze(r);
            await pack.analyzeStack(resources);
            assert.deepEqual(await policyLogs(pack.logs, 3), [
                { severity: "info", message: `checked ${resources[0].urn}` },
                { severity: "info", message: `checked ${resources[1].urn}` },
                { severity: "warning", message: "the stack has 2 resources" },
            ]);
        } finally {
            pack.close();
        }
    });

    it("answers each Log with an empty message, an unknown method with UNIMPLEMENTED and a broken request with INVALID_ARGUMENT", async () => {
        const logs: EngineLog[] = [];
        const engine = await EngineService.listen((log) => logs.push(log));
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { LogRequest } = require("@pulumi/pulumi/proto/engine_pb.js");
            const req = new LogRequest();
            req.setSeverity(3);
            req.setMessage("disk full");
            req.setUrn("urn:pulumi:test::p::t::n");
            const ok = await call(engine.address, "/pulumirpc.Engine/Log", framed(req.serializeBinary()));
            assert.deepEqual({ status: ok.status, data: [...ok.data] }, { status: "0", data: [0, 0, 0, 0, 0] });
            assert.deepEqual(logs, [{ severity: "error", message: "disk full", urn: "urn:pulumi:test::p::t::n" }]);

            const unknown = await call(engine.address, "/pulumirpc.Engine/StartDebugging", framed(new Uint8Array()));
            assert.equal(unknown.status, "12");
            assert.match(unknown.message, /no method \/pulumirpc\.Engine\/StartDebugging/);

            const truncated = await call(engine.address, "/pulumirpc.Engine/Log", framed(req.serializeBinary()).subarray(0, 8));
            assert.equal(truncated.status, "3");
            assert.equal(logs.length, 1);
        } finally {
            engine.close();
        }
    });
});
