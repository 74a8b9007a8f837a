// Encodes Analyze and AnalyzeStack requests straight into protobuf bytes, as the generated classes
// of Pulumi's analyzer.proto would serialize them (byte for byte: a test compares the two).
//
// The generated classes first build a message object per value (`Struct.fromJavaScript`), which
// for a stack of 1,600 resources is most of a check's time and memory, and the stack request
// would then convert every resource a second time. Here each resource's properties are written
// once, from the wire-format value itself, and the AnalyzeStack request reuses the bytes its
// Analyze request was sent as: an `AnalyzerResource` starts with the same six fields as an
// `AnalyzeRequest` (type, properties, urn, name, options, provider).
import { BinaryWriter } from "google-protobuf";
import type { AnalyzedResource } from "./analyzer";
import { OUTPUT_VALUE_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN } from "./wire";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerProto = require("@pulumi/pulumi/proto/analyzer_pb.js");
/* eslint-enable @typescript-eslint/no-require-imports */

/** Field numbers shared by `AnalyzeRequest` and `AnalyzerResource` (analyzer.proto). */
const FIELD = { type: 1, properties: 2, urn: 3, name: 4, options: 5, provider: 6, parent: 7, dependencies: 8, propertyDependencies: 9 } as const;
/** `AnalyzeStackRequest.resources`. */
const STACK_RESOURCES_FIELD = 1;
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

    /** An `AnalyzeRequest`. */
    analyzeRequest(r: AnalyzedResource): Uint8Array {
        let bytes = this.resources.get(r);
        if (!bytes) {
            bytes = this.encodeResource(r);
            this.resources.set(r, bytes);
        }
        return bytes;
    }

    /** An `AnalyzeStackRequest` with every resource. */
    analyzeStackRequest(resources: AnalyzedResource[]): Uint8Array {
        const writer = new BinaryWriter();
        for (const r of resources) writer.writeBytes(STACK_RESOURCES_FIELD, this.stackResource(r));
        return writer.getResultBuffer();
    }

    /** An `AnalyzerResource`: the Analyze request's fields, then parent, dependencies and property dependencies. */
    private stackResource(r: AnalyzedResource): Uint8Array {
        const writer = new BinaryWriter();
        if (r.parent) writer.writeString(FIELD.parent, r.parent);
        if (r.dependencies.length) writer.writeRepeatedString(FIELD.dependencies, r.dependencies);
        writePropertyDependencies(writer, r.propertyDependencies);
        return concat(this.analyzeRequest(r), writer.getResultBuffer());
    }

    private encodeResource(r: AnalyzedResource): Uint8Array {
        const writer = new BinaryWriter();
        writeNonEmptyString(writer, FIELD.type, r.type);
        writer.writeBytes(FIELD.properties, this.encodedProperties(r.properties ?? {}));
        writeNonEmptyString(writer, FIELD.urn, r.urn);
        writeNonEmptyString(writer, FIELD.name, r.name);
        writer.writeMessage(FIELD.options, resourceOptions(r), analyzerProto.AnalyzerResourceOptions.serializeBinaryToWriter);
        if (r.provider) writer.writeBytes(FIELD.provider, this.encodedProvider(r.provider));
        return writer.getResultBuffer();
    }

    private encodedProperties(properties: Record<string, unknown>): Uint8Array {
        let bytes = this.properties.get(properties);
        if (!bytes) {
            const writer = new BinaryWriter();
            writeStructFields(writer, toAnalyzerWire(properties));
            bytes = writer.getResultBuffer();
            this.properties.set(properties, bytes);
        }
        return bytes;
    }

    /** `AnalyzerProviderResource`: type, properties, urn, name (the same numbers as a resource's first four). */
    private encodedProvider(provider: NonNullable<AnalyzedResource["provider"]>): Uint8Array {
        const properties = provider.properties ?? {};
        const known = this.providers.get(provider.urn);
        if (known && known.properties === properties) return known.bytes;
        const writer = new BinaryWriter();
        writeNonEmptyString(writer, FIELD.type, provider.type);
        writer.writeBytes(FIELD.properties, this.encodedProperties(properties));
        writeNonEmptyString(writer, FIELD.urn, provider.urn);
        writeNonEmptyString(writer, FIELD.name, provider.name);
        const bytes = writer.getResultBuffer();
        this.providers.set(provider.urn, { properties, bytes });
        return bytes;
    }
}

/** The resource options message; without it the pack answers "a more recent version of the Pulumi CLI is required". */
export function resourceOptions(r: AnalyzedResource): any {
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

function writeNonEmptyString(writer: BinaryWriter, field: number, value: string | undefined): void {
    if (value) writer.writeString(field, value);
}

function writePropertyDependencies(writer: BinaryWriter, deps: Record<string, string[]>): void {
    // A protobuf map is written in key order, as jspb.Map does.
    for (const key of Object.keys(deps).sort()) {
        const urns = deps[key];
        if (!urns.length) continue;
        writer.writeMessage(FIELD.propertyDependencies, key, (k: string, entry: BinaryWriter) => {
            entry.writeString(MAP_KEY, k);
            entry.writeMessage(MAP_VALUE, urns, (list: string[], value: BinaryWriter) => value.writeRepeatedString(1, list));
        });
    }
}

/** A google.protobuf.Struct's fields, as `Struct.fromJavaScript(v).serializeBinary()` writes them. */
function writeStructFields(writer: BinaryWriter, object: Record<string, unknown>): void {
    for (const key of Object.keys(object).sort()) {
        const value = object[key];
        writer.writeMessage(STRUCT_FIELDS, key, (k: string, entry: BinaryWriter) => {
            entry.writeString(MAP_KEY, k);
            entry.writeMessage(MAP_VALUE, [value], writeBoxedValue);
        });
    }
}

/** A Value is passed boxed: jspb's writeMessage skips a null message, but a null value is `null_value` here. */
function writeBoxedValue([value]: [unknown], writer: BinaryWriter): void {
    if (value === null) writer.writeEnum(VALUE.null, 0);
    else if (typeof value === "number") writer.writeDouble(VALUE.number, value);
    else if (typeof value === "string") writer.writeString(VALUE.string, value);
    else if (typeof value === "boolean") writer.writeBool(VALUE.bool, value);
    else if (Array.isArray(value)) writer.writeMessage(VALUE.list, value, writeListValues);
    else if (typeof value === "object")
        writer.writeMessage(VALUE.struct, value, (fields: Record<string, unknown>, struct: BinaryWriter) => writeStructFields(struct, fields));
    else throw new Error(`a ${typeof value} can't be sent in a google.protobuf.Struct`);
}

function writeListValues(values: unknown[], writer: BinaryWriter): void {
    for (const value of values) writer.writeMessage(LIST_VALUES, [value], writeBoxedValue);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
    if (!b.length) return a;
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
}
