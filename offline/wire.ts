// Pulumi's wire markers, as the engine, the mock monitor and policy analyzers see them. The
// values are the SDK's own (`@pulumi/pulumi/runtime/rpc`), so they can't drift from it.
import { specialOutputValueSig, specialResourceSig, specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/** A value unknown during preview (a provider output before apply). */
export const UNKNOWN = unknownValue;
/** The key of the signature that marks a special value (`{ [SIG_KEY]: SECRET_SIG, value }`). */
export const SIG_KEY = specialSigKey;
export const SECRET_SIG = specialSecretSig;
export const RESOURCE_SIG = specialResourceSig;
export const OUTPUT_VALUE_SIG = specialOutputValueSig;

export const STACK_TYPE = "pulumi:pulumi:Stack";
export const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

/** A secret envelope: `{ [SIG_KEY]: SECRET_SIG, value }` (or `ciphertext`/`plaintext` in a stack export). */
export function isSecret(v: unknown): v is Record<string, unknown> {
    return !!v && typeof v === "object" && (v as any)[SIG_KEY] === SECRET_SIG;
}

export function isProvider(r: { type: string }): boolean {
    return r.type.startsWith(PROVIDER_TYPE_PREFIX);
}

/** A URN's last segment, the resource's name: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/** The URN part of a provider reference `urn::id`. */
export function providerUrn(ref: string | undefined): string | undefined {
    return ref ? ref.split("::").slice(0, -1).join("::") : undefined;
}
