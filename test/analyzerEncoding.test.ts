// The hand-written request encoder against the generated protobuf classes of analyzer.proto: for
// every resource the shipped stacks send (plan and audit), and for values at the edges of the
// wire format, the bytes must be the ones the generated classes serialize; and a response's
// diagnostics, read without the rest of the response, must be the ones the generated class reads.
import * as assert from "node:assert/strict";
import type { AnalyzedResource } from "../offline/analyzer";
import { readAnalyzeResponse, RequestEncoder, toAnalyzerWire } from "../offline/analyzerEncoding";
import { analysisForExport, analysisForRun, AnalysisInput, toStackExport } from "../offline/stackExport";
import { OUTPUT_VALUE_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN } from "../offline/wire";
import { recordedPlatform } from "./support/platform";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerProto = require("@pulumi/pulumi/proto/analyzer_pb.js");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");
/* eslint-enable @typescript-eslint/no-require-imports */

/** The resource options as the generated class holds them. */
function resourceOptions(r: AnalyzedResource): any {
    const opts = new analyzerProto.AnalyzerResourceOptions();
    opts.setProtect(r.protect);
    opts.setIgnorechangesList(r.ignoreChanges);
    opts.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
    opts.setAliasesList(r.aliases);
    if (r.deleteBeforeReplace !== undefined) {
        opts.setDeletebeforereplacedefined(true);
        opts.setDeletebeforereplace(r.deleteBeforeReplace);
    }
    if (r.customTimeouts) {
        const timeouts = new analyzerProto.AnalyzerResourceOptions.CustomTimeouts();
        timeouts.setCreate(r.customTimeouts.create ?? 0);
        timeouts.setUpdate(r.customTimeouts.update ?? 0);
        timeouts.setDelete(r.customTimeouts.delete ?? 0);
        opts.setCustomtimeouts(timeouts);
    }
    if (r.parent) opts.setParent(r.parent);
    return opts;
}

/** The request as the generated classes build it: a message object per value, then serializeBinary. */
function fillReference(req: any, r: AnalyzedResource): void {
    req.setUrn(r.urn);
    req.setType(r.type);
    req.setName(r.name);
    req.setProperties(Struct.fromJavaScript(toAnalyzerWire(r.properties ?? {})));
    req.setOptions(resourceOptions(r));
    if (r.provider) {
        const provider = new analyzerProto.AnalyzerProviderResource();
        provider.setUrn(r.provider.urn);
        provider.setType(r.provider.type);
        provider.setName(r.provider.name);
        provider.setProperties(Struct.fromJavaScript(toAnalyzerWire(r.provider.properties ?? {})));
        req.setProvider(provider);
    }
}

function referenceAnalyze(r: AnalyzedResource): Uint8Array {
    const req = new analyzerProto.AnalyzeRequest();
    fillReference(req, r);
    return req.serializeBinary();
}

function referenceStack(resources: AnalyzedResource[]): Uint8Array {
    const req = new analyzerProto.AnalyzeStackRequest();
    req.setResourcesList(
        resources.map((r) => {
            const res = new analyzerProto.AnalyzerResource();
            fillReference(res, r);
            if (r.parent) res.setParent(r.parent);
            res.setDependenciesList(r.dependencies);
            const deps = res.getPropertydependenciesMap();
            for (const [key, urns] of Object.entries(r.propertyDependencies)) {
                if (!urns.length) continue;
                const pd = new analyzerProto.AnalyzerPropertyDependencies();
                pd.setUrnsList(urns);
                deps.set(key, pd);
            }
            return res;
        }),
    );
    return req.serializeBinary();
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
    assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${what}: ${actual.length} bytes encoded, the generated classes write ${expected.length}`);
}

function assertEncodesLikeGenerated(input: AnalysisInput, what: string): void {
    const encoder = new RequestEncoder();
    for (const r of input.perResource) assertSameBytes(encoder.analyzeRequest(r), referenceAnalyze(r), `${what}: Analyze ${r.urn}`);
    assertSameBytes(encoder.analyzeStackRequest(input.stack), referenceStack(input.stack), `${what}: AnalyzeStack`);
}

const EDGES: Record<string, unknown> = {
    zero: 0,
    negative: -1.5,
    empty: "",
    no: false,
    nothing: null,
    list: [1, "two", null, [], {}, undefined, [[true]]],
    nested: { "": "empty key", é: 1, z: 2, B: 3, "10": 4, "9": 5, a: { deeper: [{ x: 1 }] } },
    numbers: [0.1, -0, 1e300, 5e-324, Number.MAX_SAFE_INTEGER, -2147483649],
    text: ["ß", "€ and 日本", "😀 outside the basic plane", "x".repeat(200), "y".repeat(20_000)],
    wide: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`key-${i}`, { index: i, tags: ["a", "b"] }])),
    left: undefined,
    __internal: "dropped",
    unknown: UNKNOWN,
    secret: { [SIG_KEY]: SECRET_SIG, value: { password: "hunter2" } },
    reference: { [SIG_KEY]: RESOURCE_SIG, urn: "urn:pulumi:prod::p::t::n", id: "n-id" },
    referenceWithoutId: { [SIG_KEY]: RESOURCE_SIG, urn: "urn:pulumi:prod::p::t::n" },
    output: { [SIG_KEY]: OUTPUT_VALUE_SIG, value: "known" },
    secretOutput: { [SIG_KEY]: OUTPUT_VALUE_SIG, value: ["a"], secret: true },
    unknownOutput: { [SIG_KEY]: OUTPUT_VALUE_SIG },
};

function edgeResource(overrides: Partial<AnalyzedResource> = {}): AnalyzedResource {
    return {
        urn: "urn:pulumi:prod::release-platform::aws:s3/bucket:Bucket::edge",
        type: "aws:s3/bucket:Bucket",
        name: "edge",
        properties: EDGES,
        dependencies: ["urn:a", "urn:b"],
        propertyDependencies: { z: ["urn:a"], a: ["urn:b", "urn:a"], none: [] },
        protect: true,
        ignoreChanges: ["tags"],
        additionalSecretOutputs: ["password"],
        aliases: ["urn:old"],
        parent: "urn:parent",
        deleteBeforeReplace: false,
        customTimeouts: { create: 60, delete: 1.5 },
        provider: {
            urn: "urn:pulumi:prod::release-platform::pulumi:providers:aws::default",
            type: "aws",
            name: "default",
            properties: { region: "us-east-1" },
        },
        ...overrides,
    };
}

describe("analyzer request encoding", () => {
    const runs = recordedPlatform();

    it("writes the bytes the generated classes write, for values at the edges of the wire format", () => {
        const minimal: AnalyzedResource = {
            urn: "",
            type: "t",
            name: "",
            properties: {},
            dependencies: [],
            propertyDependencies: {},
            protect: false,
            ignoreChanges: [],
            additionalSecretOutputs: [],
            aliases: [],
        };
        const resources = [edgeResource(), minimal, edgeResource({ urn: "urn:second", provider: undefined, deleteBeforeReplace: true, parent: undefined })];
        assertEncodesLikeGenerated({ perResource: resources, stack: resources, undecryptedSecrets: 0 }, "edges");
    });

    it("decodes, with the service's own classes, to the values the engine would send", () => {
        const bytes = new RequestEncoder().analyzeRequest(edgeResource());
        const decoded = analyzerProto.AnalyzeRequest.deserializeBinary(bytes);
        assert.deepEqual(decoded.getProperties().toJavaScript(), toAnalyzerWire(EDGES));
        assert.equal(decoded.getProperties().toJavaScript().reference, "n-id");
        assert.equal(decoded.getProvider().getProperties().toJavaScript().region, "us-east-1");
        assert.deepEqual(decoded.getOptions().getIgnorechangesList(), ["tags"]);
    });

    it("reuses one encoding per properties object, per provider and per stack list within a check, and none across encoders", () => {
        const shared = edgeResource();
        const encoder = new RequestEncoder();
        const first = encoder.analyzeRequest(shared);
        assert.equal(encoder.analyzeRequest(shared), first);
        const changed = edgeResource({ properties: { ...EDGES, zero: 1 } });
        assert.ok(!Buffer.from(encoder.analyzeRequest(changed)).equals(Buffer.from(first)), "different properties must encode differently");
        assert.notEqual(new RequestEncoder().analyzeRequest(shared), first);
        const stack = [shared, changed];
        const stackBytes = encoder.analyzeStackRequest(stack);
        assert.equal(encoder.analyzeStackRequest(stack), stackBytes, "a stack request encoded ahead of time is the one sent");
        assert.ok(!Buffer.from(encoder.analyzeStackRequest([shared])).equals(Buffer.from(stackBytes)), "another list is encoded anew");
    });

    it("writes every plan request of both shipped stacks as the generated classes do", () => {
        for (const stack of runs.stacks) assertEncodesLikeGenerated(analysisForRun(stack.run), `plan ${stack.name}`);
    });

    it("writes every audit request of a deployed prod export as the generated classes do (outputs and secrets)", () => {
        assertEncodesLikeGenerated(analysisForExport(toStackExport(runs.prodLive)), "audit prod");
    });

    it("reads a response's diagnostics as the generated class does, skipping the policies that did not apply", () => {
        const response = new analyzerProto.AnalyzeResponse();
        for (const [i, name] of ["first", "second"].entries()) {
            const d = new analyzerProto.AnalyzeDiagnostic();
            d.setPolicyname(name);
            d.setPolicypackname("release-platform");
            d.setMessage(`message ${i} é`);
            d.setEnforcementlevel(1);
            d.setUrn(i ? "urn:b" : "");
            response.addDiagnostics(d);
            const skipped = new analyzerProto.PolicyNotApplicable();
            skipped.setPolicyName(`not-${name}`);
            skipped.setReason("a different resource type");
            response.addNotApplicable(skipped);
        }
        const bytes = response.serializeBinary();
        const read = readAnalyzeResponse(bytes);
        const full = analyzerProto.AnalyzeResponse.deserializeBinary(bytes);
        assert.equal(full.getNotApplicableList().length, 2, "the reference response lists the policies that did not apply");
        assert.deepEqual(
            read.getDiagnosticsList().map((d: any) => d.toObject()),
            full.getDiagnosticsList().map((d: any) => d.toObject()),
        );
        assert.deepEqual(readAnalyzeResponse(new analyzerProto.AnalyzeResponse().serializeBinary()).getDiagnosticsList(), []);
    });
});
