// A google.protobuf.Struct that stands in for the library's message: it answers toJavaScript()
// itself and turns into the library's message, in place, before any other method runs. Used by
// the pack (a Struct still held as its bytes) and by the offline engine (a Struct still held as
// its JavaScript value). Depends on nothing: the pack bundles it.

/** The library's classes a stand-in is made for: google-protobuf's Struct and jspb.Message. */
export interface StructLibrary {
    Struct: { prototype: object };
    messagePrototype: { toArray: unknown };
}

/**
 * A prototype for stand-ins: `toJavaScript` answers toJavaScript(); every other method of the
 * message, but toArray, first calls `becomeMessage` (which must leave the message with the
 * library's prototype) and then runs as the library's. toArray links a message into its parent
 * when it is set there; turning it into the library's message fills that same array in place, so
 * toArray must not do it, under any of its names.
 */
export function standInPrototype<M extends object>(lib: StructLibrary, toJavaScript: (msg: M) => unknown, becomeMessage: (msg: M) => void): object {
    const prototype = Object.create(lib.Struct.prototype);
    const library = lib.Struct.prototype as Record<string, unknown>;
    const names = new Set([...Object.getOwnPropertyNames(library), ...Object.getOwnPropertyNames(lib.messagePrototype)]);
    for (const name of names) {
        const method = library[name];
        if (name === "constructor" || name === "toJavaScript" || typeof method !== "function" || method === lib.messagePrototype.toArray) continue;
        prototype[name] = function (this: M, ...args: unknown[]) {
            becomeMessage(this);
            return (this as any)[name](...args);
        };
    }
    prototype.toJavaScript = function (this: M) {
        return toJavaScript(this);
    };
    return prototype;
}
