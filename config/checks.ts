// What a valid value looks like, one check per kind of value. Each is a `Check`: it returns the
// value when valid, otherwise reports the key, the bad value and what is allowed.
import { CHART_TABLE_VERSIONS } from "../chartVersions";
import { IMAGE_TAG, ImageReference, isCalendarDate, NameRule, OCI_REFERENCE_ALLOWED, parseImageReference } from "../naming";
import { EKS_SUPPORTED_VERSIONS, RDS_POSTGRES_VERSIONS } from "../thresholds";
import { Check, Checker, StringRule } from "./reader";

export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
export const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;

/** How long the previous color stays runnable after a promote: 15 minutes of monitoring in staging, 24 hours in prod. */
export const DEFAULT_ROLLBACK_WINDOW = { staging: "15m", prod: "24h" } as const;
export const ROLLBACK_WINDOW_PATTERN = /^([1-9]\d{0,3})(m|h|d)$/;

/** A duration in minutes, hours or days (`15m`, `24h`, `2d`). */
export function rollbackWindow(c: Checker, key: string, value: unknown): string | undefined {
    return c.string(key, value, { pattern: ROLLBACK_WINDOW_PATTERN, allowed: "a duration in minutes, hours or days such as 15m, 24h or 2d" });
}

/** A string check with a pattern, as a `Check`. */
export function matching(rule: StringRule): Check<string> {
    return (c, key, value) => c.string(key, value, rule);
}

export function cidr(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value);
    if (s === undefined) return undefined;
    return isCidr(s) ? s : c.fail(key, `${JSON.stringify(s)} is not an IPv4 CIDR block such as 10.0.0.0/16`);
}

/** A network block: no bits set beyond the prefix (`10.20.0.0/16`, not `10.20.5.0/16`). */
export function networkCidr(c: Checker, key: string, value: unknown): string | undefined {
    const block = cidr(c, key, value);
    if (block === undefined) return undefined;
    const [address, bits] = block.split("/");
    const ip = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    const network = ip - (ip % size);
    if (network === ip) return block;
    const expected = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
    return c.fail(key, `${block} has host bits set; allowed: the network address of the block, ${expected}/${bits}`);
}

export function isCidr(s: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    return octets.every((o) => o <= 255) && Number(m[5]) <= 32;
}

/** A pinned Kubernetes minor version (`"1.34"`) that EKS supports and the platform chart table has chart versions for. */
export function kubernetesVersion(c: Checker, key: string, value: unknown): string | undefined {
    return kubernetesVersionIn(EKS_SUPPORTED_VERSIONS, CHART_TABLE_VERSIONS)(c, key, value);
}

/** The Kubernetes version check given the minors EKS supports and the minors the chart table covers. */
export function kubernetesVersionIn(supported: readonly string[], charted: readonly string[]): Check<string> {
    const accepted = supported.filter((v) => charted.includes(v));
    const allowed = `one of ${accepted.map((v) => JSON.stringify(v)).join(", ")} (the minor versions in EKS standard support), as a string`;
    return (c, key, value) => {
        const version = c.string(key, value, { pattern: /^1\.\d+$/, allowed });
        if (version === undefined) return undefined;
        if (!supported.includes(version)) return c.fail(key, `${JSON.stringify(version)} is not supported; allowed: ${allowed}`);
        if (!charted.includes(version)) {
            return c.fail(
                key,
                `${JSON.stringify(version)} has no platform chart versions (chartVersions.ts covers ${charted.join(", ")}): add the charts built for it; allowed: ${allowed}`,
            );
        }
        return version;
    };
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

/** Tags that move from build to build: never a pinned release. */
const FLOATING_TAGS = ["latest", "stable", "main", "master", "head", "edge", "nightly", "current", "dev"];

function floating(version: string): boolean {
    return FLOATING_TAGS.includes(version.toLowerCase());
}

/** A version tag or a sha256 digest, never a floating tag such as `latest`. */
export function imageVersion(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value);
    if (s === undefined) return undefined;
    if (floating(s)) {
        return c.fail(key, `${JSON.stringify(s)} is not a release; pin a version tag such as "1.2.3" or a digest "sha256:…"`);
    }
    if (s.includes(":")) {
        const problem = parseImageReference(`x@${s}`);
        return typeof problem === "string" ? c.fail(key, `${JSON.stringify(s)} is not a valid digest: ${problem}`) : s;
    }
    if (!IMAGE_TAG.test(s)) {
        return c.fail(
            key,
            `${JSON.stringify(s)} is not an image tag or a digest; allowed: up to 128 letters, digits, '_', '.', '-' (not starting with '.' or '-'), or "sha256:<64 hex>"`,
        );
    }
    return s;
}

/** An image reference by the OCI grammar; `undefined` (reported) when it is not one. */
function imageReference(c: Checker, key: string, value: unknown): { text: string; ref: ImageReference } | undefined {
    const text = c.string(key, value);
    if (text === undefined) return undefined;
    const ref = parseImageReference(text);
    if (typeof ref === "string") return c.fail(key, `${JSON.stringify(text)} is not an image reference: ${ref}; allowed: ${OCI_REFERENCE_ALLOWED}`);
    return { text, ref };
}

/** An image repository without tag or digest (the version comes from elsewhere). */
export function imageRepository(c: Checker, key: string, value: unknown): string | undefined {
    const image = imageReference(c, key, value);
    if (image === undefined) return undefined;
    if (image.ref.tag !== undefined || image.ref.digest !== undefined) {
        return c.fail(key, `${JSON.stringify(image.text)} must be a repository without tag or digest; set the version per color`);
    }
    return image.text;
}

/** A full image reference pinned to a version tag (not a floating one like `latest`) or a digest. */
export function pinnedImage(c: Checker, key: string, value: unknown): string | undefined {
    const image = imageReference(c, key, value);
    if (image === undefined) return undefined;
    const { text, ref } = image;
    if (ref.digest !== undefined) return text;
    if (ref.tag === undefined) {
        return c.fail(key, `${JSON.stringify(text)} is untagged; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`);
    }
    if (floating(ref.tag)) {
        return c.fail(key, `${JSON.stringify(text)} is tagged ${ref.tag}; pin a version tag such as ":1.2.3" or a digest "@sha256:…"`);
    }
    return text;
}

/** A release version, pinned (not a floating name such as `latest`). */
export function releaseVersion(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value, { pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, allowed: "a release version such as 1.2.3" });
    if (s !== undefined && floating(s)) return c.fail(key, `${JSON.stringify(s)} is not pinned; allowed: the release's own version, such as 1.2.3`);
    return s;
}

/** A name by a naming rule, as a `Check`. */
export function named(rule: NameRule): Check<string> {
    return (c, key, value) => {
        const name = c.string(key, value);
        if (name === undefined || rule.test(name)) return name;
        return c.fail(key, `${JSON.stringify(name)} is not a valid ${rule.target}; allowed: ${rule.allowed}`);
    };
}

/** An ISO 8601 time with offset that exists in the calendar (2026-09-31 does not). */
export function scheduledTime(c: Checker, key: string, value: unknown): string | undefined {
    const s = c.string(key, value, {
        pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
        allowed: "an ISO 8601 time with offset such as 2026-11-26T14:30:00-05:00",
    });
    if (s === undefined) return undefined;
    const [year, month, day, hour, minute, second = 0] = s.match(/\d+/g)!.slice(0, 6).map(Number);
    const offset = /(?:Z|([+-])(\d{2}):(\d{2}))$/.exec(s)!;
    const offsetValid = offset[1] === undefined || (Number(offset[2]) <= 14 && Number(offset[3]) < 60);
    if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59 || !offsetValid || Number.isNaN(Date.parse(s))) {
        return c.fail(
            key,
            `${JSON.stringify(s)} is not a real date and time; allowed: a date that exists, hours 00–23, minutes and seconds 00–59, an offset up to ±14:00`,
        );
    }
    return s;
}
