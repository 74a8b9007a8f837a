// The analyzer answers every Analyze call with the policies that did not apply to the resource: a
// PolicyNotApplicable message per policy of another type, most of each response, written by
// google-protobuf's BinaryWriter, which builds its bytes as arrays of numbers. A response without
// diagnostics (nearly every one) is written here instead, straight into one buffer, from each
// policy's entry, encoded once per reason it is given: byte for byte what the library writes (a test
// compares the two). A response with diagnostics, or with text that is not ASCII, is left to the
// library.
//
// Loaded by the pack's entry point. If the library's shape ever changes, nothing is patched.
import { requireOfPolicy } from "./protocolModules";
import { varintSize, writeVarint } from "./varint";

interface NotApplicable {
    getPolicyName(): string;
    getReason(): string;
}

interface AnalyzeResponse {
    getDiagnosticsList(): unknown[];
    getNotApplicableList(): NotApplicable[];
}

type Serialize = ((this: AnalyzeResponse) => Uint8Array) & { writesDirectly?: true };

/** analyzer.proto: AnalyzeResponse { repeated PolicyNotApplicable not_applicable = 3 }, PolicyNotApplicable { policy_name = 1; reason = 2 }. */
const NOT_APPLICABLE_TAG = (3 << 3) | 2;
const POLICY_NAME_TAG = (1 << 3) | 2;
const REASON_TAG = (2 << 3) | 2;

export function writeResponsesDirectly(): void {
    // The generated classes of the @pulumi/pulumi that @pulumi/policy answers with.
    const prototype = requireOfPolicy<{ AnalyzeResponse?: { prototype?: { serializeBinary?: Serialize } } }>("@pulumi/pulumi/proto/analyzer_pb.js")
        .AnalyzeResponse?.prototype;
    const original = prototype?.serializeBinary;
    if (!prototype || typeof original !== "function" || original.writesDirectly) return;
    const entries = new Map<string, { reason: string; entry: Uint8Array | null }>();
    const patched: Serialize = function (this: AnalyzeResponse) {
        if (this.getDiagnosticsList().length > 0) return original.call(this);
        const parts: Uint8Array[] = [];
        let length = 0;
        for (const na of this.getNotApplicableList()) {
            const entry = entryOf(entries, na.getPolicyName(), na.getReason());
            if (!entry) return original.call(this);
            parts.push(entry);
            length += entry.length;
        }
        const bytes = new Uint8Array(length);
        let at = 0;
        for (const part of parts) {
            bytes.set(part, at);
            at += part.length;
        }
        return bytes;
    };
    patched.writesDirectly = true;
    prototype.serializeBinary = patched;
}

/**
 * The bytes of one not_applicable entry (field 3 with its message), or null when the library must
 * write it. A policy is not applicable for one reason (its type), so each policy keeps the bytes of
 * the reason it was last given.
 */
function entryOf(entries: Map<string, { reason: string; entry: Uint8Array | null }>, policyName: string, reason: string): Uint8Array | null {
    const known = entries.get(policyName);
    if (known && known.reason === reason) return known.entry;
    const entry = encodeEntry(policyName, reason);
    entries.set(policyName, { reason, entry });
    return entry;
}

function encodeEntry(policyName: string, reason: string): Uint8Array | null {
    if (!isAscii(policyName) || !isAscii(reason)) return null;
    // proto3: an empty string is not written.
    const fields = (
        [
            [POLICY_NAME_TAG, policyName],
            [REASON_TAG, reason],
        ] as [number, string][]
    ).filter(([, text]) => text.length > 0);
    const messageLength = fields.reduce((n, [, text]) => n + 1 + varintSize(text.length) + text.length, 0);
    const bytes = new Uint8Array(1 + varintSize(messageLength) + messageLength);
    bytes[0] = NOT_APPLICABLE_TAG;
    let at = writeVarint(bytes, 1, messageLength);
    for (const [tag, text] of fields) {
        bytes[at++] = tag;
        at = writeVarint(bytes, at, text.length);
        for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
    }
    return bytes;
}

function isAscii(text: string): boolean {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
    return true;
}
