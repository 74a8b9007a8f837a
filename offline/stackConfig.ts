// A stack's config as the Pulumi CLI hands it to a program: `Pulumi.<stack>.yaml` read into the
// `project:key` → string map, with the keys whose values are secret. `secure:` values can't be
// decrypted offline (there is no secrets provider) and carry a placeholder, which callers report.
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ALERTING_KEYS, PROJECT } from "../config";
import { yamlErrorMessage } from "./yamlErrors";

export const ROOT = path.resolve(__dirname, "..");

/**
 * What the program sees for a `secure:` value that can't be decrypted offline: recognisably not a
 * real secret, and shaped like the value the program requires of the key, so that config
 * validation accepts it as it would accept the real (decrypted) value.
 */
const SHAPED_PLACEHOLDERS: Record<string, string> = {
    [`${PROJECT}:redisUrl`]: "rediss://secret-not-decrypted-offline.invalid:6379",
    [`${PROJECT}:${ALERTING_KEYS.chatWebhookUrl}`]: "https://secret-not-decrypted-offline.invalid/chat-webhook",
    // 32 letters and digits, as a PagerDuty routing key.
    [`${PROJECT}:${ALERTING_KEYS.pagingRoutingKey}`]: "secretnotdecryptedoffline0000000",
};
const PLACEHOLDER = "[secret: not decrypted offline]";

/** The stand-in for the undecryptable `secure:` value of `key` (`project:key` or a top-level key). */
export function secretPlaceholder(key: string): string {
    return SHAPED_PLACEHOLDERS[key.includes(":") ? key : `${PROJECT}:${key}`] ?? PLACEHOLDER;
}

export interface StackConfigSource {
    /** The `project:key` → string map the CLI would hand the program. */
    config: Record<string, string>;
    /** Keys whose values are secret. */
    secretKeys: string[];
    /** `secure:` keys that could not be decrypted and carry `secretPlaceholder(key)`. */
    placeholders: string[];
    file: string;
}

/** Reads `Pulumi.<stack>.yaml` (or the given file) into the map the CLI would pass. */
export function readStackConfig(stack: string, file = path.join(ROOT, `Pulumi.${stack}.yaml`)): StackConfigSource {
    if (!fs.existsSync(file)) {
        throw new Error(`No stack config for stack "${stack}": ${file} does not exist`);
    }
    let doc: unknown;
    try {
        doc = yaml.load(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file} is not valid YAML: ${yamlErrorMessage(e)}`);
    }
    const configSection = doc && typeof doc === "object" ? (doc as Record<string, unknown>).config : undefined;
    if (configSection === undefined || configSection === null || typeof configSection !== "object" || Array.isArray(configSection)) {
        throw new Error(`${file} has no 'config:' map`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholders: string[] = [];
    for (const [rawKey, value] of Object.entries(configSection as Record<string, unknown>)) {
        const key = rawKey.includes(":") ? rawKey : `${PROJECT}:${rawKey}`;
        if (isSecure(value)) {
            config[key] = secretPlaceholder(key);
            secretKeys.push(key);
            placeholders.push(key);
            continue;
        }
        config[key] = toConfigString(value);
    }
    return { config, secretKeys, placeholders, file };
}

function isSecure(value: unknown): boolean {
    return !!value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

function toConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Applies top-level overrides (`{ maintenance: true }`, `{ services: {...} }`) to a config source. */
export function withOverrides(source: StackConfigSource, overrides: Record<string, unknown>): StackConfigSource {
    const config = { ...source.config };
    for (const [k, v] of Object.entries(overrides)) {
        const key = k.includes(":") ? k : `${PROJECT}:${k}`;
        if (v === undefined) delete config[key];
        else config[key] = toConfigString(v);
    }
    return { ...source, config };
}

/** Sets top-level keys as secret values (as `pulumi config set --secret` would). */
export function withSecrets(source: StackConfigSource, secrets: Record<string, string>): StackConfigSource {
    const patched = withOverrides(source, secrets);
    const keys = Object.keys(secrets).map((k) => (k.includes(":") ? k : `${PROJECT}:${k}`));
    return { ...patched, secretKeys: [...new Set([...source.secretKeys, ...keys])] };
}

/** The decoded value of a top-level key of a config source, for building overrides. */
export function configValue<T = any>(source: StackConfigSource, key: string): T {
    const raw = source.config[key.includes(":") ? key : `${PROJECT}:${key}`];
    if (raw === undefined) return undefined as T;
    try {
        return JSON.parse(raw) as T;
    } catch {
        return raw as unknown as T;
    }
}
