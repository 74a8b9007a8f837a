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
const UNKNOWN_SENTINEL_SET = new Set(UNKNOWN_SENTINELS);

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

/** Where a node of a tree sits: its parent node and its key there (the root has none); its proxy once made. */
interface Node {
    parent?: object;
    key?: PropertyKey;
    proxy?: object;
}

/**
 * Read-only unknown-checking proxies over one deserialized tree. Plain objects and arrays (the
 * tree's own nodes) get one proxy each, remembered; anything else (a method read off an array, an
 * asset) a new one per read, as the analyzer does. A node's path (for messages) is kept as its
 * parent and key, and spelled out only when a message needs it.
 */
class ReadOnlyProxies {
    private readonly nodes = new WeakMap<object, Node>();
    private readonly handler: ProxyHandler<object>;

    constructor() {
        const refuse = (action: string) => (target: object, prop?: PropertyKey) => {
            throw new TypeError(
                `policies may only read resource properties: tried to ${action} ${describePath([...this.pathOf(target), ...(prop === undefined ? [] : [prop])])}`,
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
        return (this.nodes.get(props)?.proxy as T | undefined) ?? this.make(props, {});
    }

    /** The analyzer's proxy read: its markers, an UnknownValueError for an unknown, a proxy for an object. */
    private read(target: object, prop: PropertyKey): unknown {
        if (prop === proxies.isSpecialProxy) return true;
        if (prop === proxies.getSpecialProxyTarget) return target;
        const field = (target as Record<PropertyKey, unknown>)[prop];
        if (typeof field === "string" && UNKNOWN_SENTINEL_SET.has(field)) throw new proxies.UnknownValueError(field, [...this.pathOf(target), prop]);
        if (!(field instanceof Object)) return field;
        const known = this.nodes.get(field)?.proxy;
        if (known) return known;
        // A non-configurable, non-writable own property must read as itself (the Proxy invariant);
        // the deserialized tree's own nodes are extensible objects with plain data properties.
        if (!isTreeNode(target) || !Object.isExtensible(target)) {
            const desc = Object.getOwnPropertyDescriptor(target, prop);
            if (desc && "value" in desc && desc.configurable === false && desc.writable === false) return field;
        }
        return this.make(field, { parent: target, key: prop });
    }

    private make<T extends object>(target: T, node: Node): T {
        const proxy = new Proxy(target, this.handler) as T;
        if (isTreeNode(target)) node.proxy = proxy;
        this.nodes.set(target, node);
        return proxy;
    }

    private pathOf(target: object): PropertyKey[] {
        const path: PropertyKey[] = [];
        for (let node = this.nodes.get(target); node?.parent !== undefined; node = this.nodes.get(node.parent)) path.unshift(node.key!);
        return path;
    }
}

function isTreeNode(value: object): boolean {
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === Array.prototype;
}

function describePath(path: PropertyKey[]): string {
    return path.length ? `.${path.map(String).join(".")}` : "the properties";
}
