// The pack converts each request's properties from protobuf once, however many policies read
// them, and every policy still gets its own copy.
import * as assert from "node:assert/strict";
import { convertPropertiesOnce } from "../policies/convertOnce";

/* eslint-disable @typescript-eslint/no-require-imports */
const deserialize = require("@pulumi/policy/deserialize");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");
/* eslint-enable @typescript-eslint/no-require-imports */

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
const PROPS = { metadata: { name: "auth-service-blue", labels: { app: "auth-service" } }, spec: { replicas: 5, ports: [{ port: 3000 }] }, password: SECRET };

/** A properties message that counts its conversions. */
function countingStruct(props: object): { struct: any; conversions: () => number } {
    const struct = Struct.fromJavaScript(props);
    let count = 0;
    const toJavaScript = struct.toJavaScript.bind(struct);
    struct.toJavaScript = () => {
        count++;
        return toJavaScript();
    };
    return { struct, conversions: () => count };
}

describe("policy pack: properties converted once per request", () => {
    it("converts a message once for any number of policies, with the analyzer's own result, a fresh copy each", () => {
        const expected = deserialize.deserializeProperties(Struct.fromJavaScript(PROPS), false);
        convertPropertiesOnce();
        convertPropertiesOnce(); // idempotent: no double wrapping
        const { struct, conversions } = countingStruct(PROPS);
        const first = deserialize.deserializeProperties(struct, false);
        const second = deserialize.deserializeProperties(struct, false);
        assert.deepEqual(first, expected);
        assert.deepEqual(second, expected);
        assert.equal(first.password, "hunter2", "secrets are unwrapped as before");
        assert.equal(conversions(), 1);
        first.metadata.labels.app = "changed by a policy";
        first.spec.ports.push({ port: 1 });
        assert.equal(second.metadata.labels.app, "auth-service", "a policy never sees another policy's objects");
        assert.equal(second.spec.ports.length, 1);
        assert.equal(deserialize.deserializeProperties(struct, false).metadata.labels.app, "auth-service");
    });

    it("converts a different message on its own", () => {
        convertPropertiesOnce();
        const a = countingStruct(PROPS);
        const b = countingStruct({ ...PROPS, spec: { replicas: 0 } });
        assert.equal(deserialize.deserializeProperties(a.struct, false).spec.replicas, 5);
        assert.equal(deserialize.deserializeProperties(b.struct, false).spec.replicas, 0);
        assert.equal(a.conversions() + b.conversions(), 2);
    });
});
