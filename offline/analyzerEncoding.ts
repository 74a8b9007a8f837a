// Encodes Analyze and AnalyzeStack requests straight into protobuf bytes, as the generated classes
// of Pulumi's analyzer.proto would serialize them (byte for byte: a test compares the two), and
// reads the diagnostics of their responses.
//
// The generated classes first build a message object per value (`Struct.fromJavaScript`), which
// for a stack of 1,600 resources is most of a check's time and memory, and the stack request
// would then convert every resource a second time. Here each resource's properties are written
// once, from the wire-format value itself, and the AnalyzeStack request reuses the bytes its
// Analyze request was sent as: an `AnalyzerResource` starts with the same six fields as an
// `AnalyzeRequest` (type, properties, urn, name, options, provider).
import type * as protobuf from "google-protobuf";
import { varintSize, writeVarint } from "../policies/varint";
import type { AnalyzedResource } from "./analyzer";
import { OUTPUT_VALUE_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN } from "./wire";

/** Field numbers shared by `AnalyzeRequest` and `AnalyzerResource` (analyzer.proto). */
const FIELD = { type: 1, properties: 2, urn: 3, name: 4, options: 5, provider: 6, parent: 7, dependencies: 8, propertyDependencies: 9 } as const;
/** `AnalyzeStackRequest.resources`. */
const STACK_RESOURCES_FIELD = 1;
/** `AnalyzerResourceOptions` and its `CustomTimeouts`. */
const OPTION = {
    protect: 1,
    ignoreChanges: 2,
    deleteBeforeReplace: 3,
    deleteBeforeReplaceDefined: 4,
    additionalSecretOutputs: 5,
    aliases: 6,
    customTimeouts: 7,
    parent: 8,
} as const;
const TIMEOUT = { create: 1, update: 2, delete: 3 } as const;
/** `AnalyzerPropertyDependencies.urns`. */
const DEPENDENCY_URNS = 1;
/** google.protobuf.Struct / Value / ListValue field numbers (struct.proto). */
const STRUCT_FIELDS = 1;
const VALUE = { null: 1, number: 2, string: 3, bool: 4, struct: 5, list: 6 } as const;
const LIST_VALUES = 1;
const MAP_KEY = 1;
const MAP_VALUE = 2;

/**
 * One check's encoder. It remembers what it encoded by object identity (a resource's properties, a
 * provider), so a value shared by several requests is written once; make a new one per check.
 */
export class RequestEncoder {
    private readonly properties = new WeakMap<object, Uint8Array>();
    private readonly providers = new Map<string, { properties: object; bytes: Uint8Array }>();
    private readonly resources = new WeakMap<AnalyzedResource, Uint8Array>();
    private readonly stacks = new WeakMap<AnalyzedResource[], Uint8Array>();

    /** An `AnalyzeRequest`. */
    analyzeRequest(r: AnalyzedResource): Uint8Array {
        let bytes = this.resources.get(r);
        if (!bytes) {
            bytes = this.encodeResource(r);
            this.resources.set(r, bytes);
        }
        return bytes;
    }

    /** An `AnalyzeStackRequest` with every resource (once per list: encoding it ahead of time makes the later call free). */
    analyzeStackRequest(resources: AnalyzedResource[]): Uint8Array {
        let bytes = this.stacks.get(resources);
        if (!bytes) {
            const request = new FlatMessage();
            for (const r of resources) request.bytes(STACK_RESOURCES_FIELD, this.stackResource(r));
            bytes = request.encode();
            this.stacks.set(resources, bytes);
        }
        return bytes;
    }

    /** An `AnalyzerResource`: the Analyze request's fields, then parent, dependencies and property dependencies. */
    private stackResource(r: AnalyzedResource): Uint8Array {
        const resource = new FlatMessage().raw(this.analyzeRequest(r));
        if (r.parent) resource.string(FIELD.parent, r.parent);
        for (const urn of r.dependencies) resource.string(FIELD.dependencies, urn);
        // A protobuf map is written in key order, as jspb.Map does.
        for (const key of Object.keys(r.propertyDependencies).sort()) {
            const urns = r.propertyDependencies[key];
            if (!urns.length) continue;
            const dependencies = new FlatMessage();
            for (const urn of urns) dependencies.string(DEPENDENCY_URNS, urn);
            resource.bytes(FIELD.propertyDependencies, new FlatMessage().string(MAP_KEY, key).bytes(MAP_VALUE, dependencies.encode()).encode());
        }
        return resource.encode();
    }

    private encodeResource(r: AnalyzedResource): Uint8Array {
        const request = new FlatMessage()
            .nonEmptyString(FIELD.type, r.type)
            .bytes(FIELD.properties, this.encodedProperties(r.properties ?? {}))
            .nonEmptyString(FIELD.urn, r.urn)
            .nonEmptyString(FIELD.name, r.name)
            .bytes(FIELD.options, resourceOptions(r));
        if (r.provider) request.bytes(FIELD.provider, this.encodedProvider(r.provider));
        return request.encode();
    }

    private encodedProperties(properties: Record<string, unknown>): Uint8Array {
        let bytes = this.properties.get(properties);
        if (!bytes) {
            bytes = encodeStructFields(toAnalyzerWire(properties));
            this.properties.set(properties, bytes);
        }
        return bytes;
    }

    /** `AnalyzerProviderResource`: type, properties, urn, name (the same numbers as a resource's first four). */
    private encodedProvider(provider: NonNullable<AnalyzedResource["provider"]>): Uint8Array {
        const properties = provider.properties ?? {};
        const known = this.providers.get(provider.urn);
        if (known && known.properties === properties) return known.bytes;
        const bytes = new FlatMessage()
            .nonEmptyString(FIELD.type, provider.type)
            .bytes(FIELD.properties, this.encodedProperties(properties))
            .nonEmptyString(FIELD.urn, provider.urn)
            .nonEmptyString(FIELD.name, provider.name)
            .encode();
        this.providers.set(provider.urn, { properties, bytes });
        return bytes;
    }
}

/**
 * The `AnalyzerResourceOptions` message, written as its generated class writes it (fields in
 * number order, proto3 defaults left out); without it the pack answers "a more recent version of
 * the Pulumi CLI is required".
 */
function resourceOptions(r: AnalyzedResource): Uint8Array {
    const options = new FlatMessage();
    if (r.protect) options.bool(OPTION.protect);
    for (const path of r.ignoreChanges) options.string(OPTION.ignoreChanges, path);
    if (r.deleteBeforeReplace) options.bool(OPTION.deleteBeforeReplace);
    if (r.deleteBeforeReplace !== undefined) options.bool(OPTION.deleteBeforeReplaceDefined);
    for (const name of r.additionalSecretOutputs) options.string(OPTION.additionalSecretOutputs, name);
    for (const alias of r.aliases) options.string(OPTION.aliases, alias);
    if (r.customTimeouts) {
        const { create, update, delete: del } = r.customTimeouts;
        const timeouts = new FlatMessage();
        if (create) timeouts.double(TIMEOUT.create, create);
        if (update) timeouts.double(TIMEOUT.update, update);
        if (del) timeouts.double(TIMEOUT.delete, del);
        options.bytes(OPTION.customTimeouts, timeouts.encode());
    }
    if (r.parent) options.string(OPTION.parent, r.parent);
    return options.encode();
}

/**
 * Properties as the engine marshals them for analyzers: no `undefined` and no internal `__` keys,
 * resource references as their ID (or URN), output values as their value (secret or unknown).
 */
export function toAnalyzerWire(v: unknown): any {
    if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(toAnalyzerWire);
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, any>;
    if (o[SIG_KEY] === RESOURCE_SIG) return o.id || o.urn;
    if (o[SIG_KEY] === OUTPUT_VALUE_SIG) {
        const value = "value" in o ? toAnalyzerWire(o.value) : UNKNOWN;
        return o.secret ? { [SIG_KEY]: SECRET_SIG, value } : value;
    }
    const out: Record<string, any> = {};
    for (const k of Object.keys(o)) {
        const x = o[k];
        if (x !== undefined && !k.startsWith("__")) out[k] = toAnalyzerWire(x);
    }
    return out;
}

/**
 * A google.protobuf.Struct's fields, as `Struct.fromJavaScript(v).serializeBinary()` writes them:
 * each key (in sorted order) as a map entry of its key and its boxed Value. Written in two passes,
 * as protobuf encoders do: the first visits the values and notes every nested message's length
 * (and each object's sorted keys), the second writes the bytes into one buffer of the known size.
 * (jspb's BinaryWriter builds every nested message as a block of its own and copies it upwards.)
 */
function encodeStructFields(object: Record<string, unknown>): Uint8Array {
    const plan: StructPlan = { lengths: [], keys: [], next: 0, nextKeys: 0 };
    const out = new ProtoOutput(measureStruct(object, plan));
    writeStruct(out, object, plan);
    return out.done();
}

/** What the first pass learnt, in the order the second pass needs it. */
interface StructPlan {
    /** Each nested message's length, in the order the messages are visited. */
    lengths: number[];
    /** Each object's keys, sorted, in the order the objects are visited. */
    keys: string[][];
    next: number;
    nextKeys: number;
}

/** A nested message's place in the plan, before its length is known (its contents are measured after it). */
function reserveLength(plan: StructPlan): number {
    return plan.lengths.push(0) - 1;
}

function measureStruct(object: Record<string, unknown>, plan: StructPlan): number {
    const keys = Object.keys(object).sort();
    plan.keys.push(keys);
    let size = 0;
    for (const key of keys) {
        const entry = reserveLength(plan);
        const value = reserveLength(plan);
        const valueSize = measureValue(object[key], plan);
        plan.lengths[value] = valueSize;
        const entrySize = stringFieldSize(key) + 1 + varintSize(valueSize) + valueSize;
        plan.lengths[entry] = entrySize;
        size += 1 + varintSize(entrySize) + entrySize;
    }
    return size;
}

/** The size of a Value message with `value` in its oneof. */
function measureValue(value: unknown, plan: StructPlan): number {
    if (value === null || typeof value === "boolean") return 2;
    if (typeof value === "number") return 9;
    if (typeof value === "string") return stringFieldSize(value);
    if (typeof value !== "object") throw new Error(`a ${typeof value} can't be sent in a google.protobuf.Struct`);
    const nested = reserveLength(plan);
    let size = 0;
    if (Array.isArray(value)) {
        for (const item of value) {
            const slot = reserveLength(plan);
            const itemSize = measureValue(item, plan);
            plan.lengths[slot] = itemSize;
            size += 1 + varintSize(itemSize) + itemSize;
        }
    } else {
        size = measureStruct(value as Record<string, unknown>, plan);
    }
    plan.lengths[nested] = size;
    return 1 + varintSize(size) + size;
}

function writeStruct(out: ProtoOutput, object: Record<string, unknown>, plan: StructPlan): void {
    for (const key of plan.keys[plan.nextKeys++]) {
        out.lengthDelimited(STRUCT_FIELDS, plan.lengths[plan.next++]);
        const valueSize = plan.lengths[plan.next++];
        out.string(MAP_KEY, key);
        out.lengthDelimited(MAP_VALUE, valueSize);
        writeValue(out, object[key], plan);
    }
}

function writeValue(out: ProtoOutput, value: unknown, plan: StructPlan): void {
    if (value === null) return out.varintField(VALUE.null, 0);
    if (typeof value === "boolean") return out.varintField(VALUE.bool, value ? 1 : 0);
    if (typeof value === "number") return out.double(VALUE.number, value);
    if (typeof value === "string") return out.string(VALUE.string, value);
    const size = plan.lengths[plan.next++];
    if (Array.isArray(value)) {
        out.lengthDelimited(VALUE.list, size);
        for (const item of value) {
            out.lengthDelimited(LIST_VALUES, plan.lengths[plan.next++]);
            writeValue(out, item, plan);
        }
    } else {
        out.lengthDelimited(VALUE.struct, size);
        writeStruct(out, value as Record<string, unknown>, plan);
    }
}

/** Field numbers here are below 16: a field's tag is one byte. */
const WIRE = { varint: 0, fixed64: 1, lengthDelimited: 2 } as const;

/** A string field's size: tag, length, UTF-8 bytes. */
function stringFieldSize(s: string): number {
    const bytes = Buffer.byteLength(s, "utf8");
    return 1 + varintSize(bytes) + bytes;
}

/** A buffer of a known size, written front to back. */
class ProtoOutput {
    private readonly buffer: Buffer;
    private at = 0;

    constructor(size: number) {
        this.buffer = Buffer.allocUnsafeSlow(size);
    }

    lengthDelimited(field: number, length: number): void {
        this.buffer[this.at++] = (field << 3) | WIRE.lengthDelimited;
        this.varint(length);
    }

    varintField(field: number, value: number): void {
        this.buffer[this.at++] = (field << 3) | WIRE.varint;
        this.varint(value);
    }

    double(field: number, value: number): void {
        this.buffer[this.at++] = (field << 3) | WIRE.fixed64;
        this.at = this.buffer.writeDoubleLE(value, this.at);
    }

    string(field: number, value: string): void {
        this.lengthDelimited(field, Buffer.byteLength(value, "utf8"));
        this.at += this.buffer.write(value, this.at, "utf8");
    }

    bytes(field: number, value: Uint8Array): void {
        this.lengthDelimited(field, value.length);
        this.raw(value);
    }

    /** Bytes that are already fields of this message. */
    raw(value: Uint8Array): void {
        this.buffer.set(value, this.at);
        this.at += value.length;
    }

    done(): Uint8Array {
        if (this.at !== this.buffer.length) throw new Error(`protobuf encoding wrote ${this.at} of ${this.buffer.length} bytes`);
        return this.buffer;
    }

    private varint(n: number): void {
        this.at = writeVarint(this.buffer, this.at, n);
    }
}

type FlatField =
    | { kind: "string"; field: number; value: string }
    | { kind: "bytes"; field: number; value: Uint8Array }
    | { kind: "raw"; value: Uint8Array }
    | { kind: "bool"; field: number }
    | { kind: "double"; field: number; value: number };

/** A message of scalar, string and already encoded fields, in the order they are added: sized as they come, then written into one buffer. */
class FlatMessage {
    private readonly fields: FlatField[] = [];
    private size = 0;

    string(field: number, value: string): this {
        this.fields.push({ kind: "string", field, value });
        this.size += stringFieldSize(value);
        return this;
    }

    nonEmptyString(field: number, value: string | undefined): this {
        return value ? this.string(field, value) : this;
    }

    bytes(field: number, value: Uint8Array): this {
        this.fields.push({ kind: "bytes", field, value });
        this.size += 1 + varintSize(value.length) + value.length;
        return this;
    }

    raw(value: Uint8Array): this {
        this.fields.push({ kind: "raw", value });
        this.size += value.length;
        return this;
    }

    /** A bool field that is true (proto3 leaves a false one out). */
    bool(field: number): this {
        this.fields.push({ kind: "bool", field });
        this.size += 2;
        return this;
    }

    double(field: number, value: number): this {
        this.fields.push({ kind: "double", field, value });
        this.size += 9;
        return this;
    }

    encode(): Uint8Array {
        const out = new ProtoOutput(this.size);
        for (const f of this.fields) {
            if (f.kind === "string") out.string(f.field, f.value);
            else if (f.kind === "bytes") out.bytes(f.field, f.value);
            else if (f.kind === "raw") out.raw(f.value);
            else if (f.kind === "bool") out.varintField(f.field, 1);
            else out.double(f.field, f.value);
        }
        return out.done();
    }
}

/** `AnalyzeResponse.diagnostics` (analyzer.proto). */
const RESPONSE_DIAGNOSTICS_FIELD = 2;

/**
 * An Analyze or AnalyzeStack response with its diagnostics only. The pack also lists every policy
 * that did not apply to the resource (a message per policy and resource, most of the response),
 * which nothing here reads; they are skipped instead of decoded.
 */
export function readAnalyzeResponse(bytes: Uint8Array): any {
    const { analyzerProto, BinaryReader } = responseClasses();
    const response = new analyzerProto.AnalyzeResponse();
    const reader = new BinaryReader(bytes);
    while (reader.nextField()) {
        if (reader.getFieldNumber() !== RESPONSE_DIAGNOSTICS_FIELD) {
            reader.skipField();
            continue;
        }
        const diagnostic = new analyzerProto.AnalyzeDiagnostic();
        reader.readMessage(diagnostic, analyzerProto.AnalyzeDiagnostic.deserializeBinaryFromReader);
        response.addDiagnostics(diagnostic);
    }
    return response;
}

/** Loaded with the first response, after the tool has spawned its pack (analyzer.ts). */
function responseClasses(): { analyzerProto: any; BinaryReader: typeof protobuf.BinaryReader } {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return (loadedResponseClasses ??= {
        analyzerProto: require("@pulumi/pulumi/proto/analyzer_pb.js"),
        BinaryReader: require("google-protobuf").BinaryReader,
    });
    /* eslint-enable @typescript-eslint/no-require-imports */
}
let loadedResponseClasses: ReturnType<typeof responseClasses> | undefined;
