// The pack writes an Analyze response without diagnostics straight into bytes: byte for byte what
// google-protobuf's writer makes of it; any other response is the library's to write.
import * as assert from "node:assert/strict";
import { Policies } from "@pulumi/policy";
import { writeResponsesDirectly } from "../policies/responseEncoding";
import { awsPolicies } from "../policies/aws";
import { kubernetesPolicies } from "../policies/kubernetes";
import { releasePolicies } from "../policies/release";

/* eslint-disable @typescript-eslint/no-require-imports */
const jspb = require("google-protobuf");
const analyzerProto = require("@pulumi/pulumi/proto/analyzer_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

/** What the library writes for a response (the generated `serializeBinary` before any patch). */
function libraryBytes(response: any): Uint8Array {
    const writer = new jspb.BinaryWriter();
    analyzerProto.AnalyzeResponse.serializeBinaryToWriter(response, writer);
    return writer.getResultBuffer();
}

function response(notApplicable: [string, string][], diagnostics: string[] = []): any {
    const resp = new analyzerProto.AnalyzeResponse();
    resp.setDiagnosticsList(
        diagnostics.map((message) => {
            const d = new analyzerProto.AnalyzeDiagnostic();
            d.setPolicyname("p");
            d.setMessage(message);
            d.setEnforcementlevel(analyzerProto.EnforcementLevel.MANDATORY);
            return d;
        }),
    );
    if (notApplicable.length) {
        resp.setNotApplicableList(
            notApplicable.map(([name, reason]) => {
                const na = new analyzerProto.PolicyNotApplicable();
                na.setPolicyName(name);
                if (reason) na.setReason(reason);
                return na;
            }),
        );
    }
    return resp;
}

/** The pairs the analyzer sends for a resource no typed policy of the pack applies to, as it words them. */
function packNotApplicable(): [string, string][] {
    const policies: Policies = [...kubernetesPolicies, ...awsPolicies, ...releasePolicies];
    return policies.flatMap((p) => {
        const type = "validateResource" in p ? (p.validateResource as { __pulumiType?: string }).__pulumiType : undefined;
        return type ? [[p.name, `Policy only applies to resources of type '${type}'`] as [string, string]] : [];
    });
}

describe("the pack's Analyze responses (policies/responseEncoding.ts)", () => {
    before(() => writeResponsesDirectly());

    it("writes the not-applicable lists of the pack's own policies as the library does", () => {
        assert.equal(analyzerProto.AnalyzeResponse.prototype.serializeBinary.writesDirectly, true, "the pack's response class is patched");
        const pairs = packNotApplicable();
        assert.ok(pairs.length > 10, "the pack has typed resource policies");
        for (const list of [pairs, pairs.slice(3, 9), pairs.slice(0, 1), []]) {
            const resp = response(list);
            assert.deepEqual([...resp.serializeBinary()], [...libraryBytes(resp)]);
        }
    });

    it("matches the library at the edges: empty and long texts, many entries, and leaves other responses to it", () => {
        const long = "r".repeat(200);
        const cases: [string, string][][] = [
            [["", "no name"]],
            [["no-reason", ""]],
            [["x".repeat(127), ""]],
            [
                ["long", long],
                ["longer", "s".repeat(20_000)],
            ],
            Array.from({ length: 500 }, (_, i) => [`policy-${i}`, `reason ${i % 7}`] as [string, string]),
            [["ünïcode", "reason"]],
            [["p", "café ☕"]],
        ];
        for (const list of cases) {
            const resp = response(list);
            assert.deepEqual([...resp.serializeBinary()], [...libraryBytes(resp)], JSON.stringify(list).slice(0, 80));
        }
        const withDiagnostics = response([["a", "b"]], ["violated"]);
        assert.deepEqual([...withDiagnostics.serializeBinary()], [...libraryBytes(withDiagnostics)]);
        assert.deepEqual(analyzerProto.AnalyzeResponse.deserializeBinary(withDiagnostics.serializeBinary()).getDiagnosticsList()[0].getMessage(), "violated");
    });
});
