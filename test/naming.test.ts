// Every name the components derive from valid config is valid for its target, at the limits:
// the longest identifiers and versions the config accepts, with every allowed character. The
// program is run on such a config and every name it registers is checked by the naming rules; a
// table of generated inputs checks that the config accepts exactly the values whose names are valid.
import * as assert from "node:assert/strict";
import { parseStackConfig, StackConfigError } from "../config";
import { derivedNames } from "../config/derived";
import { K8S_DNS_LABEL, K8S_LABEL_VALUE, K8S_SERVICE_NAME, NameRule, parseImageReference, RDS_INSTANCE_IDENTIFIER, RDS_SNAPSHOT_IDENTIFIER } from "../naming";
import { configValue, plain, ProgramRun, readStackConfig, runProgram, StackConfigSource, withOverrides } from "./harness";

const prod = readStackConfig("prod");

/** The longest database identifier whose derived identifiers (`<id>-restore-replica-5`) fit RDS's 63 characters. */
const LONGEST_IDENTIFIER = "q" + "a1-".repeat(14) + "zz"; // 45
/** A 40-character service name (the most the config allows), with every allowed character. */
const LONGEST_SERVICE = "s" + "a-9".repeat(13);
/** A 128-character tag with every character a tag allows. */
const LONGEST_TAG = "_" + "Az09_.-".repeat(18) + "x";
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
/** The longest migration release whose Job name (`migrate-<release>`) is a DNS label: 55 characters. */
const LONGEST_RELEASE = "9.a-" + "b0.c".repeat(12) + "1.z";

function atLimits(): StackConfigSource {
    const services = structuredClone(configValue(prod, "services"));
    const auth = services["auth-service"];
    delete services["auth-service"];
    services[LONGEST_SERVICE] = { ...auth, blue: { ...auth.blue, version: LONGEST_TAG }, green: { ...auth.green, version: DIGEST } };
    return withOverrides(prod, {
        services,
        database: { ...configValue<object>(prod, "database"), identifier: LONGEST_IDENTIFIER },
        migrations: [{ ...configValue<object[]>(prod, "migrations")[0], release: LONGEST_RELEASE }],
        release: { ...configValue<object>(prod, "release"), version: "v" + "1.2-3_".repeat(10) + "rc" },
    });
}

function check(rule: NameRule, name: unknown, where: string): void {
    assert.equal(typeof name, "string", where);
    assert.ok(rule.test(name as string), `${where}: ${JSON.stringify(name)} is not a valid ${rule.target}`);
}

/** Checks every name a run registered: RDS identifiers, Kubernetes names and label values, images. */
function checkRegisteredNames(run: ProgramRun): number {
    let checked = 0;
    const count = (rule: NameRule, name: unknown, where: string) => (check(rule, name, where), checked++);
    for (const r of run.resources) {
        const inputs = plain(r.inputs);
        if (r.type === "aws:rds/instance:Instance") {
            count(RDS_INSTANCE_IDENTIFIER, inputs.identifier, `${r.name}.identifier`);
            if (inputs.finalSnapshotIdentifier !== undefined)
                count(RDS_SNAPSHOT_IDENTIFIER, inputs.finalSnapshotIdentifier, `${r.name}.finalSnapshotIdentifier`);
        }
        if (r.type === "aws:rds/snapshot:Snapshot") count(RDS_SNAPSHOT_IDENTIFIER, inputs.dbSnapshotIdentifier, `${r.name}.dbSnapshotIdentifier`);
        if (!r.type.startsWith("kubernetes:") || r.type.startsWith("kubernetes:helm")) continue;
        const name = inputs.metadata?.name;
        if (typeof name === "string") count(r.type === "kubernetes:core/v1:Service" ? K8S_SERVICE_NAME : K8S_DNS_LABEL, name, `${r.type} ${r.name}`);
        walk(inputs, (key, value, path) => {
            if (key === "labels" || key === "matchLabels" || key === "selector") {
                for (const [k, v] of Object.entries(value ?? {})) if (typeof v === "string") count(K8S_LABEL_VALUE, v, `${r.name} ${path}.${k}`);
            }
            if (key === "image" && typeof value === "string") {
                const ref = parseImageReference(value);
                assert.notEqual(typeof ref, "string", `${r.name} ${path}: ${value}: ${ref}`);
                checked++;
            }
        });
    }
    return checked;
}

function walk(value: any, visit: (key: string, value: any, path: string) => void, path = ""): void {
    if (value === null || typeof value !== "object") return;
    for (const [k, v] of Object.entries(value)) {
        visit(k, v, `${path}.${k}`);
        walk(v, visit, `${path}.${k}`);
    }
}

function accepted(source: StackConfigSource): boolean {
    try {
        parseStackConfig(source.config, "prod", source.file, source.secretKeys);
        return true;
    } catch (e) {
        assert.ok(e instanceof StackConfigError, String(e));
        return false;
    }
}

/** A small seeded generator, so a failure can be replayed. */
function generator(seed: number): (alphabet: string, length: number) => string {
    let state = seed;
    const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31), state / 2 ** 31);
    return (alphabet, length) => Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
}

describe("naming rules: derived names are valid for their targets", function () {
    this.timeout(600_000);

    it("the config at the limits is accepted", () => {
        assert.equal(accepted(atLimits()), true);
        assert.equal(LONGEST_IDENTIFIER.length, 45);
        assert.equal(LONGEST_SERVICE.length, 40);
        assert.equal(LONGEST_TAG.length, 128);
        assert.equal(LONGEST_RELEASE.length, 55);
    });

    it("one character more is refused, naming the key", () => {
        const tooLong = (key: string, patch: Record<string, unknown>) => withOverrides(prod, { [key]: { ...configValue<object>(prod, key), ...patch } });
        assert.equal(accepted(tooLong("database", { identifier: `${LONGEST_IDENTIFIER}z` })), false);
        const migrations = [{ ...configValue<object[]>(prod, "migrations")[0], release: `${LONGEST_RELEASE}z` }];
        assert.equal(accepted(withOverrides(prod, { migrations })), false);
    });

    it("every name the program registers from the config at the limits is valid (primary, replicas, snapshots, Kubernetes objects, labels, images)", async () => {
        const run = await runProgram({ stack: "prod", source: atLimits() });
        assert.ok(checkRegisteredNames(run) > 100);
    });

    it("and while restoring from an automated snapshot (restore instance and its replicas)", async () => {
        const source = withOverrides(atLimits(), {
            migrations: [],
            database: {
                ...configValue<object>(prod, "database"),
                identifier: LONGEST_IDENTIFIER,
                readReplicas: 5,
                restoreFromSnapshot: `rds:${LONGEST_IDENTIFIER}-2026-11-26-03-10`,
            },
        });
        const run = await runProgram({ stack: "prod", source });
        const identifiers = run.resources.filter((r) => r.type === "aws:rds/instance:Instance").map((r) => plain(r.inputs).identifier);
        assert.ok(identifiers.includes(`${LONGEST_IDENTIFIER}-restore-replica-5`), identifiers.join(", "));
        checkRegisteredNames(run);
    });

    it("generated identifiers and releases: the config accepts a value exactly when every name derived from it is valid", () => {
        const random = generator(20261201);
        const database = configValue<any>(prod, "database");
        const migration = configValue<any[]>(prod, "migrations")[0];
        let acceptedCount = 0;
        for (let i = 0; i < 300; i++) {
            const identifier = random("abcdefghijklmnopqrstuvwxyz", 1) + random("abcdefghijklmnopqrstuvwxyz0123456789-", Math.floor(i / 5));
            const release = random("0123456789", 1) + random("abcdefghijklmnopqrstuvwxyz0123456789.-ABC", i % 64);
            const source = withOverrides(prod, { database: { ...database, identifier }, migrations: [{ ...migration, release }] });
            const names = derivedNames({ database: { ...database, identifier }, migrations: [{ ...migration, release }] });
            const allValid = RDS_INSTANCE_IDENTIFIER.test(identifier) && names.every((n) => n.rule.test(n.name));
            assert.equal(accepted(source), allValid, `identifier ${identifier}, release ${release}`);
            if (allValid) acceptedCount++;
        }
        assert.ok(acceptedCount > 20, `only ${acceptedCount} generated inputs were valid`);
    });
});
