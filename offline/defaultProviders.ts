// The default providers the engine would register for a program run offline.
import { PROJECT } from "../config";
import type { RecordedResource } from "./program";
import { PROVIDER_TYPE_PREFIX, UNKNOWN } from "./wire";

/**
 * The engine gives a custom resource without an explicit provider the package's default provider
 * (`pulumi:providers:aws::default_7_48_0`), configured from the stack's `aws:*` keys, and
 * registers that provider first. The mock monitor leaves this to the engine, so the offline runner does it.
 */
export class DefaultProviders {
    private readonly known = new Map<string, string>();

    constructor(
        private readonly stack: string,
        private readonly config: Record<string, string>,
        private readonly preview: boolean,
    ) {}

    refFor(type: string, version: string): { ref: string; created?: RecordedResource } {
        const pkg = type.split(":")[0];
        const name = version ? `default_${version.replace(/[.-]/g, "_")}` : "default";
        const urn = `urn:pulumi:${this.stack}::${PROJECT}::${PROVIDER_TYPE_PREFIX}${pkg}::${name}`;
        // Provider ids are assigned when the provider is created: unknown during a preview.
        const ref = `${urn}::${this.preview ? UNKNOWN : `${name}-id`}`;
        if (this.known.has(urn)) return { ref };
        this.known.set(urn, ref);
        return { ref, created: this.providerResource(urn, pkg, name, version) };
    }

    private providerResource(urn: string, pkg: string, name: string, version: string): RecordedResource {
        const inputs: Record<string, unknown> = Object.fromEntries(
            Object.entries(this.config)
                .filter(([k]) => k.startsWith(`${pkg}:`))
                .map(([k, v]) => [k.slice(pkg.length + 1), v]),
        );
        if (version) inputs.version = version;
        return {
            urn,
            type: `${PROVIDER_TYPE_PREFIX}${pkg}`,
            name,
            custom: true,
            inputs,
            dependencies: [],
            propertyDependencies: {},
            protect: false,
            retainOnDelete: false,
            ignoreChanges: [],
            deleteBeforeReplace: false,
            replaceOnChanges: [],
            additionalSecretOutputs: [],
        };
    }
}
