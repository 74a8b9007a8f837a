// While a program runs under the mocks, Structs keep their JavaScript value: what the SDK and the
// mock monitor read of them, and what a real request serializes, is what the library gives.
import * as assert from "node:assert/strict";
import { keepStructValues } from "../offline/valueStructs";

/* eslint-disable @typescript-eslint/no-require-imports */
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");
const resourceProto = require("@pulumi/pulumi/proto/resource_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const inherited = Object.assign(Object.create({ fromPrototype: "inherited" }), { own: 1 });
const SAMPLES: object[] = [
    { z: 1, a: { y: [1, "two", null, true, { c: 3, b: 2 }], x: {} }, "10": "ten", "2": "two", "": "empty" },
    { secret: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" }, list: [[], [[]]] },
    inherited,
    {},
];

const library = (value: object) => Struct.fromJavaScript(value);

describe("Structs that keep their value while a program runs", () => {
    const libraryJson = SAMPLES.map((v) => JSON.stringify(library(v).toJavaScript()));
    const libraryBytes = SAMPLES.map((v) => Buffer.from(library(v).serializeBinary()));
    let kept: ReturnType<typeof keepStructValues>;
    beforeEach(() => (kept = keepStructValues()));
    afterEach(() => kept.restore());

    it("give the library's JavaScript value (key order, inherited keys), a fresh copy each time", () => {
        const structs = SAMPLES.map((v) => Struct.fromJavaScript(v));
        assert.deepEqual(
            structs.map((s) => JSON.stringify(s.toJavaScript())),
            libraryJson,
        );
        const copy = structs[0].toJavaScript();
        copy.a.y.push("changed");
        assert.equal(JSON.stringify(structs[0].toJavaScript()), libraryJson[0]);
        assert.ok(Object.is(Struct.fromJavaScript({ n: -0 }).toJavaScript().n, -0));
    });

    it("copy the value when made, as the library does, so later changes to it don't show", () => {
        const value = { a: { b: 1 } };
        const struct = Struct.fromJavaScript(value);
        value.a.b = 2;
        assert.deepEqual(struct.toJavaScript(), { a: { b: 1 } });
    });

    it("reject what a Struct can't hold with the library's error, when made", () => {
        for (const bad of [{ a: undefined }, { a: [1, undefined] }, { f: () => 1 }, { a: { b: Symbol("s") } }]) {
            kept.restore();
            const expected = (() => {
                try {
                    library(bad);
                    return "no error";
                } catch (e) {
                    return (e as Error).message;
                }
            })();
            kept = keepStructValues();
            assert.throws(() => Struct.fromJavaScript(bad), { message: expected });
        }
    });

    it("serialize to the library's bytes, alone and inside a request, and give the library's map", () => {
        assert.deepEqual(
            SAMPLES.map((v) => Buffer.from(Struct.fromJavaScript(v).serializeBinary())),
            libraryBytes,
        );
        const req = new resourceProto.RegisterResourceRequest();
        req.setType("kubernetes:apps/v1:Deployment");
        req.setObject(Struct.fromJavaScript(SAMPLES[0]));
        kept.restore();
        const expected = new resourceProto.RegisterResourceRequest();
        expected.setType("kubernetes:apps/v1:Deployment");
        expected.setObject(library(SAMPLES[0]));
        assert.deepEqual(Buffer.from(req.serializeBinary()), Buffer.from(expected.serializeBinary()));
        assert.equal(req.getObject().getFieldsMap().get("z").getNumberValue(), 1);
        assert.deepEqual(req.toArray(), expected.toArray(), "the request's own array is filled in place");
        kept = keepStructValues();
    });

    it("leave Struct.fromJavaScript as it was once restored", () => {
        const libraryFunction = (() => {
            kept.restore();
            const f = Struct.fromJavaScript;
            kept = keepStructValues();
            return f;
        })();
        assert.notEqual(Struct.fromJavaScript, libraryFunction);
        kept.restore();
        assert.equal(Struct.fromJavaScript, libraryFunction);
        kept = keepStructValues();
    });
});
