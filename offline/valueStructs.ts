// Under the mocks, the SDK builds a google.protobuf.Struct for every request (a message per
// value, a map per object) and the mock monitor turns it straight back into JavaScript: at 1,600
// resources that round trip is a tenth of an evaluation and much of its garbage. While a program
// runs, Struct.fromJavaScript here checks and copies the value the way the library would convert
// it (the same error for a value it can't hold, keys in sorted order as its map iterates them) and
// keeps the copy; toJavaScript() gives a fresh copy of it. Any other use of the message (its map,
// serializing it for a real request such as the policy pack's Configure) builds the library's
// message first, in place.
import * as path from "path";
import { standInPrototype } from "../policies/structStandIn";

/* eslint-disable @typescript-eslint/no-require-imports */
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const jspb = require(require.resolve("google-protobuf", { paths: [sdkDir] }));
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb.js", { paths: [sdkDir] }));
/* eslint-enable @typescript-eslint/no-require-imports */

const VALUE = Symbol("struct value");

type ValueStruct = { [VALUE]?: Record<string, unknown> };

const libraryFromJavaScript: (obj: object) => object = Struct.fromJavaScript;

/** The library's error for a value a Struct can't hold (undefined, a function, a symbol). */
const UNEXPECTED = "Unexpected struct type.";

/** Struct.fromJavaScript as it is while a program runs. */
function fromJavaScript(obj: object): object {
    const msg = new Struct() as ValueStruct;
    msg[VALUE] = copyObject(obj as Record<string, unknown>);
    Object.setPrototypeOf(msg, valuePrototype);
    return msg;
}

/** Makes Struct.fromJavaScript keep values until `restore()`; the Structs it made keep working after. */
export function keepStructValues(): { restore(): void } {
    Struct.fromJavaScript = fromJavaScript;
    return {
        restore: () => {
            Struct.fromJavaScript = libraryFromJavaScript;
        },
    };
}

const valuePrototype = standInPrototype<ValueStruct>({ Struct, messagePrototype: jspb.Message.prototype }, (msg) => copyObject(msg[VALUE]!), toLibraryMessage);

/** Turns a value-holding Struct into the library's message, in place (its array stays the one its parent holds). */
function toLibraryMessage(msg: ValueStruct): void {
    const built = libraryFromJavaScript(msg[VALUE]!) as any;
    delete msg[VALUE];
    Object.setPrototypeOf(msg, Struct.prototype);
    const target = (msg as any).toArray();
    const source = built.toArray();
    target.length = 0;
    target.push(...source);
    for (const key of Object.keys(built)) if (built[key] !== source) (msg as any)[key] = built[key];
}

function copyObject(obj: Record<string, unknown>): Record<string, unknown> {
    const keys: string[] = [];
    // As the library does: every enumerable property, inherited ones too.
    for (const key in obj) keys.push(key);
    keys.sort();
    const result: Record<string, unknown> = {};
    for (const key of keys) result[key] = copyValue(obj[key]);
    return result;
}

function copyValue(value: unknown): unknown {
    if (value === null) return null;
    switch (typeof value) {
        case "string":
        case "number":
        case "boolean":
            return value;
        case "object": {
            if (!Array.isArray(value)) return copyObject(value as Record<string, unknown>);
            const list = new Array(value.length);
            for (let i = 0; i < value.length; i++) list[i] = copyValue(value[i]);
            return list;
        }
        default:
            throw new Error(UNEXPECTED);
    }
}
