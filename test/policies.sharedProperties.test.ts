// The pack deserializes each request's properties once and every policy reads that one copy
// through read-only proxies: the analyzer's values and unknown errors, and no way for one policy
// to change what another one sees.
import * as assert from "node:assert/strict";
import { sharePropertiesReadOnly } from "../policies/sharedProperties";

/* eslint-disable @typescript-eslint/no-require-imports */
const deserialize = require("@pulumi/policy/deserialize");
const proxies = require("@pulumi/policy/proxy");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");
/* eslint-enable @typescript-eslint/no-require-imports */

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const PROPS = {
    metadata: { name: "auth-service-blue", labels: { app: "auth-service" } },
    spec: { replicas: 5, ports: [{ port: 3000 }, { port: 9090 }], template: { spec: { containers: [{ name: "app", image: UNKNOWN }] } } },
    password: SECRET,
};

// The analyzer's own results, taken before the pack's patch is installed.
const expected = deserialize.deserializeProperties(Struct.fromJavaScript(PROPS), false);
const expectedUnknownError = errorOf(
    () => proxies.unknownCheckingProxy(deserialize.deserializeProperties(Struct.fromJavaScript(PROPS), false)).spec.template.spec.containers[0].image,
);

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

function errorOf(read: () => unknown): Error {
    try {
        read();
    } catch (e) {
        return e as Error;
    }
    throw new Error("expected the read to throw");
}

/** What a policy gets: the analyzer's deserialization of the message, through its proxy. */
function asPolicySees(struct: unknown): any {
    return proxies.unknownCheckingProxy(deserialize.deserializeProperties(struct, false));
}

describe("policy pack: properties deserialized once per request and read-only", () => {
    before(() => {
        sharePropertiesReadOnly();
        sharePropertiesReadOnly(); // idempotent: no double wrapping
    });

    it("deserializes a message once for any number of policies, to the analyzer's own values", () => {
        const { struct, conversions } = countingStruct(PROPS);
        const first = deserialize.deserializeProperties(struct, false);
        assert.equal(deserialize.deserializeProperties(struct, false), first, "one copy per message");
        assert.deepEqual(first, expected);
        assert.equal(first.password, "hunter2", "secrets are unwrapped as before");
        assert.equal(conversions(), 1);

        const props = asPolicySees(struct);
        assert.equal(props.metadata.labels.app, "auth-service");
        assert.deepEqual(
            props.spec.ports.map((p: { port: number }) => p.port),
            [3000, 9090],
        );
        assert.deepEqual(Object.keys(props), Object.keys(expected));
        assert.equal(props.spec, props.spec, "a nested object's proxy is made once");
    });

    it("reports a value unknown during preview as the analyzer does", () => {
        const props = asPolicySees(Struct.fromJavaScript(PROPS));
        const error = errorOf(() => props.spec.template.spec.containers[0].image);
        assert.ok(error instanceof proxies.UnknownValueError);
        assert.equal(error.message, expectedUnknownError.message);
        assert.match(error.message, /\.spec\.template\.spec\.containers\.0\.image can't be known during preview/);
        assert.equal(props.spec.template.spec.containers[0].name, "app", "known siblings still read");
    });

    it("refuses every write, naming the property, so no policy changes what another one reads", () => {
        const struct = Struct.fromJavaScript(PROPS);
        const writer = asPolicySees(struct);
        const writes: [string, () => unknown, RegExp][] = [
            ["set", () => (writer.metadata.labels.app = "changed"), /tried to set \.metadata\.labels\.app/],
            ["push", () => writer.spec.ports.push({ port: 1 }), /tried to set \.spec\.ports\.2/],
            ["sort", () => writer.spec.ports.sort((a: any, b: any) => b.port - a.port), /tried to set \.spec\.ports\.0/],
            ["delete", () => delete writer.spec.replicas, /tried to delete \.spec\.replicas/],
            ["define", () => Object.defineProperty(writer.metadata, "name", { value: "x" }), /tried to define \.metadata\.name/],
            ["freeze", () => Object.freeze(writer.spec), /tried to freeze or seal \.spec/],
            ["add to the top", () => (writer.extra = 1), /tried to set \.extra/],
        ];
        for (const [what, write, message] of writes) {
            const error = errorOf(write);
            assert.ok(error instanceof TypeError, `${what}: ${error}`);
            assert.match(error.message, /^policies may only read resource properties/, what);
            assert.match(error.message, message, what);
        }
        const reader = asPolicySees(struct);
        assert.equal(reader.metadata.labels.app, "auth-service");
        assert.deepEqual(
            reader.spec.ports.map((p: { port: number }) => p.port),
            [3000, 9090],
        );
        assert.equal(reader.spec.replicas, 5);
        assert.equal(reader.metadata.name, "auth-service-blue");
        assert.equal(reader.extra, undefined);
        assert.ok(!Object.isFrozen(deserialize.deserializeProperties(struct, false).spec));
    });

    it("copies lists and objects a policy makes from them as its own", () => {
        const props = asPolicySees(Struct.fromJavaScript(PROPS));
        const ports = [...props.spec.ports].reverse();
        ports.push({ port: 1 });
        const labels = { ...props.metadata.labels, team: "payments" };
        assert.equal(ports.length, 3);
        assert.deepEqual(labels, { app: "auth-service", team: "payments" });
        assert.equal(props.spec.ports[0].port, 3000);
    });

    it("keeps separate messages apart and leaves the secret-preserving path the analyzer's", () => {
        const a = asPolicySees(Struct.fromJavaScript(PROPS));
        const b = asPolicySees(Struct.fromJavaScript({ ...PROPS, spec: { replicas: 0 } }));
        assert.equal(a.spec.replicas, 5);
        assert.equal(b.spec.replicas, 0);

        const { struct, conversions } = countingStruct(PROPS);
        const first = deserialize.deserializeProperties(struct, true);
        const second = deserialize.deserializeProperties(struct, true);
        assert.notEqual(first, second, "a fresh copy per call, as the analyzer makes");
        assert.equal(conversions(), 1, "converted once all the same");
        const writable = proxies.unknownCheckingProxy(first);
        writable.metadata.labels.app = "remediated";
        assert.equal(second.metadata.labels.app, "auth-service");
    });
});
