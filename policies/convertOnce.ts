// The analyzer converts a resource's properties from protobuf to JavaScript once per policy: for
// a stack of 1,600 resources and 30 resource policies that conversion is most of a check. This
// module makes the conversion happen once per request message (remembered in a WeakMap keyed by
// the message, so nothing outlives the request); each policy still gets its own deserialized copy
// built from it, so a policy never sees another policy's objects. Loaded by the pack's entry point.
//
// `deserializeProperties` is internal to @pulumi/policy; if its shape ever changes, nothing is
// patched and the analyzer keeps its own behaviour.

interface PropertiesMessage {
    toJavaScript(): unknown;
}

type Deserialize = (struct: PropertiesMessage, proxySecrets: boolean) => Record<string, unknown>;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const deserialize = require("@pulumi/policy/deserialize") as { deserializeProperties: Deserialize & { convertsOnce?: true } };

export function convertPropertiesOnce(): void {
    const original = deserialize.deserializeProperties;
    if (typeof original !== "function" || original.length !== 2 || original.convertsOnce) return;
    const converted = new WeakMap<PropertiesMessage, unknown>();
    const once = (struct: PropertiesMessage): PropertiesMessage => ({
        toJavaScript: () => {
            if (!converted.has(struct)) converted.set(struct, struct.toJavaScript());
            return converted.get(struct);
        },
    });
    const patched: Deserialize & { convertsOnce?: true } = (struct, proxySecrets) => original(struct ? once(struct) : struct, proxySecrets);
    patched.convertsOnce = true;
    deserialize.deserializeProperties = patched;
}
