// The pack decodes a request's Structs straight from their bytes when the analyzer asks for
// JavaScript: the same values, in the same key order, with the same errors as google-protobuf's
// own decoding, and the library's message for every other use.
import * as assert from "node:assert/strict";
import { decodeStructsLazily } from "../policies/structDecoding";

/* eslint-disable @typescript-eslint/no-require-imports */
const { Struct, Value, ListValue } = require("google-protobuf/google/protobuf/struct_pb.js");
const analyzerProto = require("@pulumi/pulumi/proto/analyzer_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };

/** Properties of the shapes the program sends, and the corners of the wire format. */
const SAMPLES: Record<string, unknown>[] = [
    {
        metadata: { name: "auth-service-blue", labels: { "app.kubernetes.io/name": "auth-service", version: "blue" }, annotations: {} },
        spec: { replicas: 5, selector: { matchLabels: { app: "auth-service" } }, ports: [{ port: 3000, name: "http" }], paused: false },
        password: SECRET,
        unknown: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    },
    { z: 1, a: 2, "10": "ten", "2": "two", B: "upper", b: "lower", "": "empty key", ü: "héllo wörld 🌍 ✓", "\u{1F600}": "astral key" },
    { numbers: [0, -0, 1, -1, 0.5, -1e-300, 1.7976931348623157e308, 2 ** 53, 1.2345678901234567e19, 3.141592653589793] },
    { deep: { a: { b: { c: { d: [[], [[]], [{}], { e: null }] } } } }, list: [null, true, false, "", 0, {}, []] },
    {},
    { long: "x".repeat(70_000), many: Array.from({ length: 300 }, (_, i) => ({ [`k${i}`]: i })) },
];

const bytesOf = (value: Record<string, unknown>): Uint8Array => Struct.fromJavaScript(value).serializeBinary();

/** A Struct whose only entry has a key and no value (the library gives it a Value of no kind). */
function entryWithoutValue(): Uint8Array {
    return Uint8Array.from([0x0a, 0x03, 0x0a, 0x01, 0x6b]); // fields: { key: "k" }
}

/** A Value with both a number and a string kind: the last one read is its kind. */
function valueOfTwoKinds(): Uint8Array {
    const first = new Value();
    first.setNumberValue(7);
    const second = new Value();
    second.setStringValue("seven");
    const value = Uint8Array.from([...first.serializeBinary(), ...second.serializeBinary()]);
    const list = Uint8Array.from([0x0a, value.length, ...value]); // ListValue { values: [value] }
    const entry = Uint8Array.from([0x0a, 0x01, 0x6b, 0x12, list.length + 2, 0x32, list.length, ...list]); // { key: "k", value: { list_value } }
    return Uint8Array.from([0x0a, entry.length, ...entry]);
}

/** Two Structs back to back: protobuf merges them, so a repeated key takes its last value. */
const repeatedKeys = (): Uint8Array => Uint8Array.from([...bytesOf({ a: 1, b: { x: 1 } }), ...bytesOf({ a: "second", c: true })]);

/** Entries out of order on the wire (as another encoder may send them): the library sorts the keys. */
const unsortedKeys = (): Uint8Array => Uint8Array.from([...bytesOf({ z: 1 }), ...bytesOf({ a: { y: 2, b: 3 } }), ...bytesOf({ m: [3] })]);

/** A key whose first value can't be read (a nested entry without value), then given a good one by a later entry. */
const brokenThenReplaced = (): Uint8Array => {
    const nested = entryWithoutValue();
    const value = Uint8Array.from([0x2a, nested.length, ...nested]); // Value { struct_value }
    const entry = Uint8Array.from([0x0a, 0x01, 0x61, 0x12, value.length, ...value]); // { key: "a", value }
    return Uint8Array.from([0x0a, entry.length, ...entry, ...bytesOf({ b: 2 }), ...bytesOf({ a: "fixed" })]);
};

/** What the library's own decoding gives: the value, or the error's message. */
function libraryDecoding(bytes: Uint8Array): { json?: string; error?: string } {
    try {
        return { json: JSON.stringify(Struct.deserializeBinary(bytes).toJavaScript()) };
    } catch (e) {
        return { error: (e as Error).message };
    }
}

describe("policy pack: Structs decoded from their bytes", () => {
    const inputs = [...SAMPLES.map(bytesOf), entryWithoutValue(), valueOfTwoKinds(), repeatedKeys(), unsortedKeys(), brokenThenReplaced()];
    let expected: { json?: string; error?: string }[];
    let stackRequest: Uint8Array;
    let expectedStack: string[];

    before(() => {
        // What google-protobuf gives, taken before the pack's decoding is installed.
        expected = inputs.map(libraryDecoding);
        const req = new analyzerProto.AnalyzeStackRequest();
        for (const [i, props] of SAMPLES.entries()) {
            const r = new analyzerProto.AnalyzerResource();
            r.setUrn(`urn:pulumi:prod::release-platform::kubernetes:apps/v1:Deployment::d${i}`);
            r.setProperties(Struct.fromJavaScript(props));
            const provider = new analyzerProto.AnalyzerProviderResource();
            provider.setProperties(Struct.fromJavaScript({ version: "4.34.2", enableServerSideApply: "true" }));
            r.setProvider(provider);
            req.addResources(r);
        }
        stackRequest = req.serializeBinary();
        expectedStack = stackResources(stackRequest);
        decodeStructsLazily();
        decodeStructsLazily(); // idempotent
    });

    function stackResources(bytes: Uint8Array): string[] {
        return analyzerProto.AnalyzeStackRequest.deserializeBinary(bytes)
            .getResourcesList()
            .map((r: any) => JSON.stringify([r.getUrn(), r.getProperties().toJavaScript(), r.getProvider().getProperties().toJavaScript()]));
    }

    it("gives the library's value, key order and errors for every sample", () => {
        assert.equal(Struct.deserializeBinaryFromReader.decodesLazily, true, "installed");
        assert.deepEqual(inputs.map(libraryDecoding), expected);
        assert.match(expected[SAMPLES.length].error ?? "", /Unexpected struct type/);
        assert.equal(JSON.parse(expected[SAMPLES.length + 1].json!).k[0], "seven");
        assert.deepEqual(JSON.parse(expected[SAMPLES.length + 2].json!), { a: "second", b: { x: 1 }, c: true });
        assert.equal(expected[SAMPLES.length + 3].json, JSON.stringify({ a: { b: 3, y: 2 }, m: [3], z: 1 }));
    });

    it("decodes an AnalyzeStackRequest's resource and provider properties as the library does", () => {
        assert.deepEqual(stackResources(stackRequest), expectedStack);
    });

    it("keeps a request's Structs as bytes until the analyzer reads them, and a parent re-serializes them unchanged", () => {
        const req = analyzerProto.AnalyzeStackRequest.deserializeBinary(stackRequest);
        const properties = req.getResourcesList()[0].getProperties();
        assert.equal(Object.getPrototypeOf(properties) === Struct.prototype, false, "still bytes after the request is decoded");
        assert.deepEqual(Buffer.from(req.serializeBinary()), Buffer.from(stackRequest));
    });

    it("gives each call a fresh copy", () => {
        const struct = Struct.deserializeBinary(bytesOf(SAMPLES[0]));
        const first = struct.toJavaScript();
        first.metadata.name = "changed";
        assert.equal(struct.toJavaScript().metadata.name, "auth-service-blue");
    });

    it("decodes the message the library's way for any other use: its map, its bytes, its nested values", () => {
        const bytes = bytesOf(SAMPLES[0]);
        const struct = Struct.deserializeBinary(bytes);
        const keys: string[] = [];
        struct.getFieldsMap().forEach((_: unknown, key: string) => keys.push(key));
        assert.deepEqual(keys, Object.keys(SAMPLES[0]).sort());
        assert.equal(struct.getFieldsMap().get("spec").getStructValue().getFieldsMap().get("replicas").getNumberValue(), 5);
        assert.deepEqual(Buffer.from(struct.serializeBinary()), Buffer.from(bytes));
        assert.deepEqual(struct.toJavaScript(), JSON.parse(expected[0].json!));
        const list = ListValue.deserializeBinary(ListValue.fromJavaScript([{ a: 1 }, [2]]).serializeBinary());
        assert.deepEqual(list.toJavaScript(), [{ a: 1 }, [2]]);
    });
});
