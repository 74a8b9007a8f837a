// Pulumi's wire markers, as the engine, the mock monitor and policy analyzers see them: fixed
// values of the protocol (sdk/go/common/resource/properties.go, the same in every SDK). They are
// written out here rather than read from `@pulumi/pulumi/runtime/rpc`, which loads the SDK's gRPC
// stack, so that a tool can start its policy pack first; a test checks them against the SDK's.

/** A value unknown during preview (a provider output before apply). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The key of the signature that marks a special value (`{ [SIG_KEY]: SECRET_SIG, value }`). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

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
