// Walking the raw config: a `Checker` collects every problem of a run, and `Fields` reads one
// object's keys through checks, remembering which keys it read so that any other key is reported
// as unknown (with a "did you mean"). Nothing here knows what a valid stack looks like.
import { ConfigProblem } from "./types";

/** A check of one value: the value when valid, otherwise `undefined` after reporting through `c`. */
export type Check<T> = (c: Checker, key: string, value: unknown) => T | undefined;

export interface StringRule {
    pattern?: RegExp;
    /** What is allowed, in words, for the message when `pattern` does not match. */
    allowed?: string;
}

/** Collects problems while walking the raw config. */
export class Checker {
    readonly problems: ConfigProblem[] = [];
    /** Every key read, as a schema path (`services.*.blue.version`, `migrations[].image`). */
    readonly keysRead = new Set<string>();

    fail(key: string, message: string): undefined {
        this.problems.push({ key, message });
        return undefined;
    }

    /** The object at `key` as fields to read, or `undefined` (reported) when it is not an object. */
    fields(key: string, value: unknown, schemaPath = key): Fields | undefined {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            return this.fail(key, `expected an object, got ${describe(value)}`);
        }
        return new Fields(this, value as Record<string, unknown>, {
            keyOf: (name) => `${key}.${name}`,
            schemaPathOf: (name) => `${schemaPath}.${name}`,
            unknownKey: (name, known) => {
                const hint = closest(name, known);
                return [`${key}.${name}`, `unknown key${hint ? `; did you mean '${key}.${hint}'?` : ""} (allowed: ${known.join(", ")})`];
            },
        });
    }

    string(key: string, value: unknown, rule: StringRule = {}): string | undefined {
        if (typeof value !== "string" || value.trim() === "") {
            return this.fail(key, `expected a non-empty string, got ${describe(value)}`);
        }
        if (rule.pattern && !rule.pattern.test(value)) {
            return this.fail(key, `${JSON.stringify(value)} is not valid; allowed: ${rule.allowed ?? rule.pattern.source}`);
        }
        return value;
    }

    oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T | undefined {
        if (typeof value !== "string" || !allowed.includes(value as T)) {
            return this.fail(key, `${describe(value)} is not allowed; allowed: ${allowed.join(" | ")}`);
        }
        return value as T;
    }

    integer(key: string, value: unknown, min: number, max: number): number | undefined {
        const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n)) {
            return this.fail(key, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
        }
        if (n < min || n > max) {
            return this.fail(key, `${n} is out of range; allowed: ${min} to ${max}`);
        }
        return n;
    }

    boolean(key: string, value: unknown): boolean | undefined {
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        return this.fail(key, `expected true or false, got ${describe(value)}`);
    }

    stringList(key: string, value: unknown, rule: StringRule & { min?: number } = {}): string[] | undefined {
        if (!Array.isArray(value)) {
            return this.fail(key, `expected a list of strings, got ${describe(value)}`);
        }
        if (value.length < (rule.min ?? 0)) {
            return this.fail(key, `expected at least ${rule.min} entries, got ${value.length}`);
        }
        const items = value.map((v, i) => this.string(`${key}[${i}]`, v, rule));
        return items.every((v): v is string => v !== undefined) ? items : undefined;
    }
}

export interface FieldNaming {
    keyOf(name: string): string;
    schemaPathOf(name: string): string;
    /** The key and message for a key nothing read, given the keys that were read. */
    unknownKey(name: string, known: readonly string[]): [string, string];
}

/** Reads the keys of one config object; `done()` reports the keys nothing read. */
export class Fields {
    private readonly read: string[] = [];
    private readonly firstProblem: number;

    constructor(
        readonly c: Checker,
        readonly raw: Record<string, unknown>,
        private readonly naming: FieldNaming,
    ) {
        this.firstProblem = c.problems.length;
    }

    /** The full key of a field, for messages. */
    key(name: string): string {
        return this.naming.keyOf(name);
    }

    /** The raw value of a field, recorded as read. */
    value(name: string): unknown {
        if (!this.read.includes(name)) this.read.push(name);
        this.c.keysRead.add(this.naming.schemaPathOf(name));
        return this.raw[name];
    }

    /** A field through a check; an absent field is checked as `fallback` when one is given. */
    get<T>(name: string, check: Check<T>, fallback?: unknown): T | undefined {
        return check(this.c, this.key(name), this.value(name) ?? fallback);
    }

    /** A field that may be absent: `undefined` without a problem then, checked otherwise. */
    optional<T>(name: string, check: Check<T>): T | undefined {
        const value = this.value(name);
        return value === undefined ? undefined : check(this.c, this.key(name), value);
    }

    string(name: string, rule: StringRule & { fallback?: string } = {}): string | undefined {
        return this.get(name, (c, key, v) => c.string(key, v, rule), rule.fallback);
    }

    integer(name: string, min: number, max: number, fallback?: unknown): number | undefined {
        return this.get(name, (c, key, v) => c.integer(key, v, min, max), fallback);
    }

    boolean(name: string, fallback?: boolean): boolean | undefined {
        return this.get(name, (c, key, v) => c.boolean(key, v), fallback);
    }

    oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
        return this.get(name, (c, key, v) => c.oneOf(key, v, allowed));
    }

    stringList(name: string, rule: StringRule & { min?: number; fallback?: string[] } = {}): string[] | undefined {
        return this.get(name, (c, key, v) => c.stringList(key, v, rule), rule.fallback);
    }

    /** Reports every key nothing read, ahead of this object's other problems. */
    done(): void {
        const unknown = Object.keys(this.raw)
            .filter((k) => !this.read.includes(k))
            .map((k) => {
                const [key, message] = this.naming.unknownKey(k, this.read);
                return { key, message };
            });
        this.c.problems.splice(this.firstProblem, 0, ...unknown);
    }
}

type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
/** Every field of `T`, each `undefined` where reading it failed. */
export type Read<T> = { [K in keyof Required<T>]: Required<T>[K] | undefined };

/**
 * The object when every required field was read, otherwise `undefined` (its problems are already
 * reported). Optional fields that are `undefined` are left out.
 */
export function complete<T extends object>(fields: Read<T>, optional: readonly OptionalKeys<T>[] = []): T | undefined {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(fields)) {
        if (value !== undefined) out[name] = value;
        else if (!(optional as readonly string[]).includes(name)) return undefined;
    }
    return out as T;
}

export function describe(value: unknown): string {
    if (value === undefined) return "nothing (the key is missing)";
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
    if (value === null) return "null";
    if (typeof value === "object") return `an object (${JSON.stringify(value)})`;
    return `${typeof value} ${JSON.stringify(value)}`;
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
    const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let diag = prev[0];
        prev[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = prev[j];
            prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            diag = up;
        }
    }
    return prev[b.length];
}

/** The known name closest to `key`, when it is close enough to be a likely typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const d = distance(key, k);
        if (d < bestDistance) {
            best = k;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
