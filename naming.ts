// The rules names must follow where they land — RDS identifiers, RDS snapshot identifiers,
// Kubernetes object names and label values, OCI image references — and the RDS names the program
// derives from the configured identifier. The stack config checks every configured and derived
// name with these rules; the components derive names with these functions.
//
// Dependency-free on purpose, like `thresholds.ts`: the policy pack may import it.

/** A naming rule of one target: what it names, what it allows, and the test. */
export interface NameRule {
    readonly target: string;
    readonly allowed: string;
    test(name: string): boolean;
}

function rule(target: string, allowed: string, test: (name: string) => boolean): NameRule {
    return { target, allowed, test };
}

/** RDS DB instance identifier (stored lowercase): 1–63 letters, digits, hyphens; a letter first; no `--`, no trailing `-`. */
export const RDS_INSTANCE_IDENTIFIER = rule(
    "RDS instance identifier",
    "1 to 63 lowercase letters, digits and hyphens, starting with a letter, without two hyphens in a row or a trailing hyphen",
    (name) => /^[a-z][a-z0-9-]{0,62}$/.test(name) && !name.includes("--") && !name.endsWith("-"),
);

/** Manual RDS DB snapshot identifier: 1–255 letters, digits, hyphens; a letter first; no `--`, no trailing `-`. */
export const RDS_SNAPSHOT_IDENTIFIER = rule(
    "RDS snapshot identifier",
    "1 to 255 letters, digits and hyphens, starting with a letter, without two hyphens in a row or a trailing hyphen",
    (name) => /^[A-Za-z][A-Za-z0-9-]{0,254}$/.test(name) && !name.includes("--") && !name.endsWith("-"),
);

/** The name RDS gives an automated snapshot: `rds:<instance identifier>-<YYYY-MM-DD-HH-MM>`. */
export const RDS_AUTOMATED_SNAPSHOT = rule("RDS automated snapshot name", "rds:<instance identifier>-<YYYY-MM-DD-HH-MM>", (name) => {
    const m = /^rds:(.+)-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/.exec(name);
    return !!m && RDS_INSTANCE_IDENTIFIER.test(m[1]) && isCalendarDate(Number(m[2]), Number(m[3]), Number(m[4])) && Number(m[5]) < 24 && Number(m[6]) < 60;
});

/** Kubernetes names of most objects and of namespaces (RFC 1123 label). */
export const K8S_DNS_LABEL = rule(
    "Kubernetes name (DNS label)",
    "1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
    (name) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name),
);

/** Kubernetes Service names (RFC 1035 label: a letter first). */
export const K8S_SERVICE_NAME = rule(
    "Kubernetes Service name",
    "1 to 63 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit",
    (name) => /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name),
);

/** Kubernetes label values: empty, or up to 63 of `[A-Za-z0-9_.-]` starting and ending alphanumeric. */
export const K8S_LABEL_VALUE = rule(
    "Kubernetes label value",
    "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
    (value) => /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(value),
);

/** Whether `year-month-day` exists in the calendar (2026-09-31 does not). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
    const d = new Date(Date.UTC(year, month - 1, day));
    return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

// ---- RDS names derived from the configured identifier -------------------------------------------

/** The instance a restore creates next to the primary: `<identifier>-restore`. */
export function restoredIdentifier(identifier: string): string {
    return `${identifier}-restore`;
}

/** A read replica of `source`: `<source>-replica-<n>`, n from 1. */
export function replicaIdentifier(source: string, index: number): string {
    return `${source}-replica-${index}`;
}

/** The snapshot RDS takes when the instance is deleted: `<identifier>-final`. */
export function finalSnapshotIdentifier(identifier: string): string {
    return `${identifier}-final`;
}

// ---- OCI image references -----------------------------------------------------------------------

/** An image reference split by the OCI distribution reference grammar. */
export interface ImageReference {
    /** `[domain/]path`, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform/auth-service`. */
    repository: string;
    domain?: string;
    tag?: string;
    digest?: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
/** An image tag: up to 128 letters, digits, `_`, `.`, `-`, not starting with `.` or `-`. */
export const IMAGE_TAG = /^[\w][\w.-]{0,127}$/;
/** Digest lengths of the registered algorithms; others follow the grammar's `[0-9a-fA-F]{32,}`. */
const DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
const MAX_NAME_LENGTH = 255;

export const OCI_REFERENCE_ALLOWED =
    "[registry[:port]/]path[:tag][@sha256:<64 hex>]: path components of lowercase letters and digits separated by '.', '_', '__' or '-', '/' between them; a tag of up to 128 letters, digits, '_', '.', '-' (not starting with '.' or '-')";

/** Splits and checks an image reference; a string says what is wrong with it. */
export function parseImageReference(reference: string): ImageReference | string {
    let rest = reference;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        const [algorithm, hex = ""] = digest.split(":", 2);
        const pattern = DIGESTS[algorithm];
        if (!pattern) return `the digest algorithm ${JSON.stringify(algorithm)} is not sha256 or sha512`;
        if (!pattern.test(hex)) return `the ${algorithm} digest must be ${algorithm === "sha256" ? 64 : 128} lowercase hex characters, got ${hex.length}`;
    }
    const slash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    let tag: string | undefined;
    if (colon > slash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!IMAGE_TAG.test(tag)) return `the tag ${JSON.stringify(tag)} is not a valid tag`;
    }
    const parts = rest.split("/");
    const hasDomain = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost" || /[A-Z]/.test(parts[0]));
    const domain = hasDomain ? parts.shift() : undefined;
    if (domain !== undefined && !DOMAIN.test(domain)) return `the registry ${JSON.stringify(domain)} is not a host name with an optional port`;
    const bad = parts.find((p) => !PATH_COMPONENT.test(p));
    if (bad !== undefined) return `the repository path component ${JSON.stringify(bad)} is not lowercase letters and digits separated by '.', '_', '__' or '-'`;
    if (rest.length > MAX_NAME_LENGTH) return `the repository name has ${rest.length} characters, more than ${MAX_NAME_LENGTH}`;
    return {
        repository: rest,
        ...(domain !== undefined ? { domain } : {}),
        ...(tag !== undefined ? { tag } : {}),
        ...(digest !== undefined ? { digest } : {}),
    };
}

/** The reference of `repository` at `version`: `repo:1.2.3`, or `repo@sha256:…` for a digest (a tag never holds ':'). */
export function imageRef(repository: string, version: string): string {
    return version.includes(":") ? `${repository}@${version}` : `${repository}:${version}`;
}

// ---- PostgreSQL identifiers ---------------------------------------------------------------------

/** PostgreSQL's reserved key words (its SQL key words appendix, "reserved" and "reserved (can be function or type)"). */
export const POSTGRES_RESERVED_WORDS: readonly string[] = (
    "all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column " +
    "concurrently constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp " +
    "current_user default deferrable desc distinct do else end except false fetch for foreign freeze from full grant group having " +
    "ilike in initially inner intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not " +
    "notnull null offset on only or order outer overlaps placing primary references returning right select session_user similar " +
    "some symmetric system_user table tablesample then to trailing true union unique user using variadic verbose when where window with"
).split(" ");

/** A database or role name RDS PostgreSQL accepts unquoted: a letter, then letters, digits, `_`; at most 63; not reserved. */
export const POSTGRES_NAME = rule(
    "PostgreSQL name",
    "1 to 63 letters, digits and underscores, starting with a letter, and not a PostgreSQL reserved word",
    (name) => /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/.test(name) && !POSTGRES_RESERVED_WORDS.includes(name.toLowerCase()),
);
