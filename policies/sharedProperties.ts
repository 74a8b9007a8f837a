// The analyzer deserializes a resource's properties anew for every policy that reads them, and
// wraps each copy in a proxy that makes a new proxy on every property read: for a stack of 1,600
// resources, 34 resource policies and 20 stack policies that copying is most of a check. Here each
// request message is deserialized once, by the analyzer's own function, and every policy reads
// that one copy through read-only unknown-checking proxies: a read gives what the analyzer's proxy
// gives (the same UnknownValueError for a value unknown during preview), and a write of any kind
// throws a TypeError naming the property, so no policy can change what another one sees. A
// nested object's proxy is made once and reused, since each object has exactly one path in its
// resource's properties.
//
// Only the analyzer's plain (not secret-preserving) deserialization is shared; the remediation
// path keeps the analyzer's behaviour, converting each message once. `deserializeProperties` and
// `unknownCheckingProxy` are internal to @pulumi/policy; if their shape ever changes, nothing is
// patched and the analyzer keeps its own behaviour. Loaded by the pack's entry point.

interface PropertiesMessage {
    toJavaScript(): unknown;
}

type Props = Record<string, unknown>;
type Deserialize = ((struct: PropertiesMessage, proxySecrets: boolean) => Props) & { sharesProperties?: true };

interface ProxyModule {
    unknownCheckingProxy: <T>(props: T) => T;
    UnknownValueError: new (sentinel: unknown, path: PropertyKey[]) => Error;
    isSpecialProxy: string;
    getSpecialProxyTarget: string;
    [sentinel: string]: unknown;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const deserialize = require("@pulumi/policy/deserialize") as { deserializeProperties: Deserialize };
const proxies = require("@pulumi/policy/proxy") as ProxyModule;
/* eslint-enable @typescript-eslint/no-require-imports */

/** The analyzer's markers for values unknown during preview (`unknownStringValue`, …). */
const UNKNOWN_SENTINELS = ["Boolean", "Number", "String", "Array", "Asset", "Archive", "Object"].map((kind) => proxies[`unknown${kind}Value`]);

export function sharePropertiesReadOnly(): void {
    const original = deserialize.deserializeProperties;
    const originalProxy = proxies.unknownCheckingProxy;
    if (typeof original !== "function" || original.length !== 2 || original.sharesProperties) return;
    if (typeof originalProxy !== "function" || !proxies.UnknownValueError || UNKNOWN_SENTINELS.some((s) => typeof s !== "string")) return;

    const shared = new WeakMap<PropertiesMessage, Props>();
    const sharedRoots = new WeakSet<object>();
    const patched: Deserialize = (struct, proxySecrets) => {
        if (!struct) return original(struct, proxySecrets);
        if (proxySecrets) return original(convertedOnce(struct), proxySecrets);
        let props = shared.get(struct);
        if (!props) {
            props = original(convertedOnce(struct), false);
            shared.set(struct, props);
            sharedRoots.add(props);
        }
        return props;
    };
    patched.sharesProperties = true;

    const readOnly = new ReadOnlyProxies();
    const proxy = <T>(props: T): T => (props instanceof Object && sharedRoots.has(props) ? readOnly.of(props) : originalProxy(props));

    deserialize.deserializeProperties = patched;
    proxies.unknownCheckingProxy = proxy;
}

const converted = new WeakMap<PropertiesMessage, unknown>();

/** The message, converting itself to JavaScript at most once (the remediation path deserializes it per policy). */
function convertedOnce(struct: PropertiesMessage): PropertiesMessage {
    return {
        toJavaScript: () => {
            if (!converted.has(struct)) converted.set(struct, struct.toJavaScript());
            return converted.get(struct);
        },
    };
}

/**
 * Read-only unknown-checking proxies over one deserialized tree. Plain objects and arrays (the
 * tree's own nodes) get one proxy each, remembered; anything else (a method read off an array, an
 * asset) a new one per read, as the analyzer does.
 */
class ReadOnlyProxies {
    private readonly made = new WeakMap<object, object>();
    private readonly paths = new WeakMap<object, PropertyKey[]>();
    private readonly handler: ProxyHandler<object>;

    constructor() {
        const refuse = (action: string) => (target: object, prop?: PropertyKey) => {
            throw new TypeError(
                `policies may only read resource properties: tried to ${action} ${describePath([...(this.paths.get(target) ?? []), ...(prop === undefined ? [] : [prop])])}`,
            );
        };
        this.handler = {
            get: (target, prop) => this.read(target, prop),
            set: refuse("set"),
            defineProperty: refuse("define"),
            deleteProperty: refuse("delete"),
            setPrototypeOf: (target) => refuse("change the prototype of")(target),
            preventExtensions: (target) => refuse("freeze or seal")(target),
        };
    }

    /** The proxy of a resource's properties. */
    of<T extends object>(props: T): T {
        return (this.made.get(props) as T | undefined) ?? this.make(props, []);
    }

    /** The analyzer's proxy read: its markers, an UnknownValueError for an unknown, a proxy for an object. */
    private read(target: object, prop: PropertyKey): unknown {
        if (prop === proxies.isSpecialProxy) return true;
        if (prop === proxies.getSpecialProxyTarget) return target;
        const field = (target as Record<PropertyKey, unknown>)[prop];
        if (typeof field === "string" && UNKNOWN_SENTINELS.includes(field)) throw new proxies.UnknownValueError(field, [...this.pathOf(target), prop]);
        if (!(field instanceof Object)) return field;
        const known = this.made.get(field);
        if (known) return known;
        // A non-configurable, non-writable own property must read as itself (the Proxy invariant).
        const desc = Object.getOwnPropertyDescriptor(target, prop);
        if (desc && "value" in desc && desc.configurable === false && desc.writable === false) return field;
        return this.make(field, [...this.pathOf(target), prop]);
    }

    private make<T extends object>(target: T, path: PropertyKey[]): T {
        const proxy = new Proxy(target, this.handler) as T;
        this.paths.set(target, path);
        if (isTreeNode(target)) this.made.set(target, proxy);
        return proxy;
    }

    private pathOf(target: object): PropertyKey[] {
        return this.paths.get(target) ?? [];
    }
}

function isTreeNode(value: object): boolean {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === Array.prototype;
}

function describePath(path: PropertyKey[]): string {
    return path.length ? `.${path.map(String).join(".")}` : "the properties";
}
