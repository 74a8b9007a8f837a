// What a valid value looks like, one check per kind of value. Each is a `Check`: it returns the
// value when valid, otherwise reports the key, the bad value and what is allowed.
import { EKS_SUPPORTED_VERSIONS, RDS_POSTGRES_VERSIONS } from "../thresholds";
import { Check, Checker, StringRule } from "./reader";

export const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
export const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
export const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;
export const SNAPSHOT_ID = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
const VERSION_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A string check with a pattern, as a `Check`. */
export function matching(rule: StringRule): Check<string> {
    return (c, key, value) => c.string(key, value, rule);
}

export function cidr(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value);
    if (s === undefined) return undefined;
    return isCidr(s) ? s : c.fail(key, `${JSON.stringify(s)} is not an IPv4 CIDR block such as 10.0.0.0/16`);
}

export function isCidr(s: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    return octets.every((o) => o <= 255) && Number(m[5]) <= 32;
}

/** A pinned Kubernetes minor version (`"1.34"`) that EKS supports. */
export function kubernetesVersion(c: Checker, key: string, value: unknown): string | undefined {
    const allowed = `one of ${EKS_SUPPORTED_VERSIONS.map((v) => JSON.stringify(v)).join(", ")} (the minor versions in EKS standard support), as a string`;
    const version = c.string(key, value, { pattern: /^1\.\d+$/, allowed });
    if (version !== undefined && !EKS_SUPPORTED_VERSIONS.includes(version)) {
        return c.fail(key, `${JSON.stringify(version)} is not supported; allowed: ${allowed}`);
    }
    return version;
}

/** A PostgreSQL major (`"16"`) or major.minor (`"16.4"`) that RDS offers. */
export function postgresVersion(c: Checker, key: string, value: unknown): string | undefined {
    const offered = Object.entries(RDS_POSTGRES_VERSIONS)
        .map(([major, { oldestMinor, newestMinor }]) => `${major} (${major}.${oldestMinor} to ${major}.${newestMinor})`)
        .join(", ");
    const allowed = `a PostgreSQL major or major.minor version RDS offers, as a string: ${offered}`;
    const version = c.string(key, value, { pattern: /^\d+(\.\d+)?$/, allowed });
    if (version === undefined) return undefined;
    const [major, minor] = version.split(".");
    const range = RDS_POSTGRES_VERSIONS[major];
    if (!range || (minor !== undefined && (Number(minor) < range.oldestMinor || Number(minor) > range.newestMinor))) {
        return c.fail(key, `${JSON.stringify(version)} is not offered by RDS; allowed: ${offered}`);
    }
    return version;
}

/** A version tag or digest, never `latest`. */
export function imageVersion(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value);
    if (s === undefined) return undefined;
    if (s.toLowerCase() === "latest") {
        return c.fail(key, `"latest" is not a release; pin a version tag such as "1.2.3" or a digest "sha256:…"`);
    }
    if (!VERSION_TAG.test(s) && !DIGEST.test(s)) {
        return c.fail(key, `${JSON.stringify(s)} is not an image tag or a sha256 digest`);
    }
    return s;
}

/** An image repository without tag or digest (the version comes from elsewhere). */
export function imageRepository(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value);
    if (s === undefined) return undefined;
    const ref = splitImage(s);
    if (ref.tag !== undefined || ref.digest !== undefined) {
        return c.fail(key, `${JSON.stringify(s)} must be a repository without tag or digest; set the version per color`);
    }
    return s;
}

/** A full image reference pinned to a version tag (not `latest`) or a digest. */
export function pinnedImage(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value);
    if (s === undefined) return undefined;
    const ref = splitImage(s);
    if (ref.digest !== undefined) return s;
    if (ref.tag === undefined) {
        return c.fail(key, `${JSON.stringify(s)} is untagged; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`);
    }
    if (ref.tag.toLowerCase() === "latest") {
        return c.fail(key, `${JSON.stringify(s)} is tagged latest; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`);
    }
    return s;
}

/** Splits `registry/repo:tag@sha256:…` into its parts. */
export function splitImage(image: string): { repository: string; tag?: string; digest?: string } {
    let rest = image;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
    }
    const slash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    let tag: string | undefined;
    if (colon > slash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
    }
    return { repository: rest, tag, digest };
}
