// The analyzer reads a resource's properties (a google.protobuf.Struct) only as JavaScript, via
// the message's toJavaScript(). google-protobuf decodes a Struct into a message per value first,
// a map of them per object, and converts those afterwards: for a stack of 1,600 resources that is
// most of AnalyzeStack's time and garbage. Here a Struct keeps its bytes as received and decodes
// them straight to JavaScript when toJavaScript() is called, to the same value: keys in sorted
// order (as the library's map iterates them), the last of a repeated key or of a value's kinds
// winning, and the library's error for a value of no kind. Any other use of the message (its map,
// re-serializing it) decodes it the library's way first, into the message itself.
//
// Loaded by the pack's entry point. If the library's shape ever changes, nothing is patched.
import { requireOfPolicy } from "./protocolModules";
import { standInPrototype } from "./structStandIn";

/** The Struct message class of the google-protobuf that @pulumi/policy's protocol code uses. */
interface StructClass {
    prototype: object;
    deserializeBinaryFromReader: ((msg: object, reader: Reader) => object) & { decodesLazily?: true };
}

/** What is used of jspb.BinaryReader: all public API. */
interface Reader {
    getCursor(): number;
    getBuffer(): Uint8Array;
    nextField(): boolean;
    isEndGroup(): boolean;
    skipField(): void;
}

const BYTES = Symbol("struct bytes");

type LazyStruct = { [BYTES]?: Uint8Array };

export function decodeStructsLazily(): void {
    const { Struct, BinaryReader, messagePrototype } = protobufOfPolicy();
    const original = Struct.deserializeBinaryFromReader;
    if (typeof original !== "function" || original.decodesLazily) return;
    const lazyPrototype = standInPrototype<LazyStruct>(
        { Struct, messagePrototype },
        (msg) => decodeStruct(msg[BYTES]!, 0, msg[BYTES]!.length),
        (msg) => {
            const bytes = msg[BYTES]!;
            delete msg[BYTES];
            Object.setPrototypeOf(msg, Struct.prototype);
            original.call(Struct, msg, new BinaryReader(bytes));
        },
    );
    const lazy = (msg: object, reader: Reader) => {
        const start = reader.getCursor();
        while (reader.nextField() && !reader.isEndGroup()) reader.skipField();
        (msg as LazyStruct)[BYTES] = reader.getBuffer().subarray(start, reader.getCursor());
        Object.setPrototypeOf(msg, lazyPrototype);
        return msg;
    };
    lazy.decodesLazily = true as const;
    Struct.deserializeBinaryFromReader = lazy;
}

function protobufOfPolicy(): { Struct: StructClass; BinaryReader: new (bytes: Uint8Array) => Reader; messagePrototype: { toArray: unknown } } {
    // The copy @pulumi/policy's @pulumi/pulumi resolves, which decodes the analyzer's requests.
    const jspb = requireOfPolicy("google-protobuf");
    const { Struct } = requireOfPolicy("google-protobuf/google/protobuf/struct_pb.js");
    return { Struct, BinaryReader: jspb.BinaryReader, messagePrototype: jspb.Message.prototype };
}

// ---- google.protobuf.Struct wire format (struct.proto) ------------------------------------------
// Struct { map<string, Value> fields = 1 }, a map entry { string key = 1; Value value = 2 };
// Value { oneof kind: NullValue null_value = 1, double number_value = 2, string string_value = 3,
//         bool bool_value = 4, Struct struct_value = 5, ListValue list_value = 6 };
// ListValue { repeated Value values = 1 }.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder();

/** The library's error for a Value with no kind set. */
const NO_KIND = "Unexpected struct type";

/** A read position; `at` moves on as fields are read. */
interface Cursor {
    bytes: Uint8Array;
    at: number;
}

export function decodeStruct(bytes: Uint8Array, start: number, end: number): Record<string, unknown> {
    const cursor: Cursor = { bytes, at: start };
    return readStruct(cursor, end);
}

function readStruct(c: Cursor, end: number): Record<string, unknown> {
    const start = c.at;
    const inOrder = readStructInOrder(c, end);
    if (inOrder) return inOrder;
    c.at = start;
    return readStructAnyOrder(c, end);
}

/**
 * The common case in one pass: every entry has a value and the keys come in ascending order (as
 * the library, the engine and the offline tools write a map), so that order is the sorted one and
 * no key repeats. Undefined, to be read again by `readStructAnyOrder`, for anything else,
 * including a value it can't read (a later entry of the same key would replace it).
 */
function readStructInOrder(c: Cursor, end: number): Record<string, unknown> | undefined {
    const result: Record<string, unknown> = {};
    let previous: string | undefined;
    for (let entryEnd = nextEntry(c, end); entryEnd !== undefined; entryEnd = nextEntry(c, end)) {
        let key = "";
        let valueStart = -1;
        let valueEnd = -1;
        while (c.at < entryEnd) {
            const entryTag = readVarint(c);
            if (entryTag === ((1 << 3) | WIRE_LENGTH_DELIMITED)) key = readString(c);
            else if (entryTag === ((2 << 3) | WIRE_LENGTH_DELIMITED)) {
                valueEnd = readLength(c);
                valueStart = c.at;
                c.at = valueEnd;
            } else skipField(c, entryTag);
        }
        if (valueStart < 0 || (previous !== undefined && !(key > previous))) return undefined;
        previous = key;
        c.at = valueStart;
        try {
            result[key] = readValue(c, valueEnd);
        } catch {
            return undefined;
        }
        c.at = entryEnd;
    }
    return result;
}

function readStructAnyOrder(c: Cursor, end: number): Record<string, unknown> {
    const fields = new Map<string, { start: number; end: number } | undefined>();
    for (let entryEnd = nextEntry(c, end); entryEnd !== undefined; entryEnd = nextEntry(c, end)) {
        let key = "";
        let value: { start: number; end: number } | undefined;
        while (c.at < entryEnd) {
            const entryTag = readVarint(c);
            if (entryTag === ((1 << 3) | WIRE_LENGTH_DELIMITED)) key = readString(c);
            else if (entryTag === ((2 << 3) | WIRE_LENGTH_DELIMITED)) {
                const valueEnd = readLength(c);
                value = { start: c.at, end: valueEnd };
                c.at = valueEnd;
            } else skipField(c, entryTag);
        }
        fields.set(key, value);
    }
    const result: Record<string, unknown> = {};
    for (const key of [...fields.keys()].sort()) {
        const value = fields.get(key);
        if (!value) throw new Error(NO_KIND);
        c.at = value.start;
        result[key] = readValue(c, value.end);
    }
    return result;
}

function readValue(c: Cursor, end: number): unknown {
    let kind: "none" | "scalar" | "struct" | "list" = "none";
    let scalar: unknown;
    let nested = { start: 0, end: 0 };
    while (c.at < end) {
        const tag = readVarint(c);
        switch (tag) {
            case (1 << 3) | WIRE_VARINT:
                readVarint(c);
                [kind, scalar] = ["scalar", null];
                break;
            case (2 << 3) | WIRE_FIXED64:
                [kind, scalar] = ["scalar", new DataView(c.bytes.buffer, c.bytes.byteOffset + c.at, 8).getFloat64(0, true)];
                c.at += 8;
                break;
            case (3 << 3) | WIRE_LENGTH_DELIMITED:
                [kind, scalar] = ["scalar", readString(c)];
                break;
            case (4 << 3) | WIRE_VARINT:
                [kind, scalar] = ["scalar", readVarint(c) !== 0];
                break;
            case (5 << 3) | WIRE_LENGTH_DELIMITED:
            case (6 << 3) | WIRE_LENGTH_DELIMITED: {
                const nestedEnd = readLength(c);
                kind = tag >> 3 === 5 ? "struct" : "list";
                nested = { start: c.at, end: nestedEnd };
                c.at = nestedEnd;
                break;
            }
            default:
                skipField(c, tag);
        }
    }
    if (kind === "none") throw new Error(NO_KIND);
    if (kind === "scalar") return scalar;
    c.at = nested.start;
    return kind === "struct" ? readStruct(c, nested.end) : readList(c, nested.end);
}

function readList(c: Cursor, end: number): unknown[] {
    const values: unknown[] = [];
    for (let valueEnd = nextEntry(c, end); valueEnd !== undefined; valueEnd = nextEntry(c, end)) {
        values.push(readValue(c, valueEnd));
        c.at = valueEnd;
    }
    return values;
}

/**
 * Moves to the next field 1 before `end` (a Struct's map entry, a ListValue's value: both
 * length-delimited), skipping any other field; returns where it ends, or undefined at `end`.
 */
function nextEntry(c: Cursor, end: number): number | undefined {
    while (c.at < end) {
        const tag = readVarint(c);
        if (tag === ((1 << 3) | WIRE_LENGTH_DELIMITED)) return readLength(c);
        skipField(c, tag);
    }
    return undefined;
}

/** A varint up to 2^53 (tags, lengths, enums, bools). */
function readVarint(c: Cursor): number {
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
        if (c.at >= c.bytes.length) throw new Error("truncated google.protobuf.Struct");
        byte = c.bytes[c.at++];
        value += (byte & 0x7f) * scale;
        scale *= 128;
    } while (byte & 0x80);
    return value;
}

/** Reads a length prefix; returns where the delimited field ends. */
function readLength(c: Cursor): number {
    const length = readVarint(c);
    const end = c.at + length;
    if (end > c.bytes.length) throw new Error("truncated google.protobuf.Struct");
    return end;
}

function readString(c: Cursor): string {
    const end = readLength(c);
    const text = utf8.decode(c.bytes.subarray(c.at, end));
    c.at = end;
    return text;
}

function skipField(c: Cursor, tag: number): void {
    switch (tag & 7) {
        case WIRE_VARINT:
            readVarint(c);
            return;
        case WIRE_FIXED64:
            c.at += 8;
            return;
        case WIRE_LENGTH_DELIMITED:
            c.at = readLength(c);
            return;
        case WIRE_FIXED32:
            c.at += 4;
            return;
        default:
            throw new Error(`google.protobuf.Struct: unsupported wire type ${tag & 7}`);
    }
}
