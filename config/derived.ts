// Every name the components derive from the config, paired with the key that produced it and the
// rule of the place it lands. A configured value can be fine on its own and still produce a name its
// target refuses (an identifier whose replica's identifier passes 63 characters, a release that
// becomes a snapshot identifier with `--`); each such name is reported against its key.
import {
    alertRulesName,
    colorServiceName,
    deploymentName,
    migrationJobName,
    previewServiceName,
    smokeJobName,
    snapshotIdentifier,
    versionLabel,
} from "../conventions";
import {
    finalSnapshotIdentifier,
    imageRef,
    K8S_DNS_LABEL,
    K8S_LABEL_VALUE,
    K8S_SERVICE_NAME,
    NameRule,
    parseImageReference,
    RDS_INSTANCE_IDENTIFIER,
    RDS_SNAPSHOT_IDENTIFIER,
    replicaIdentifier,
    restoredIdentifier,
} from "../naming";
import { COLORS, DatabaseConfig, MigrationConfig, ServiceConfig } from "./types";
import { Checker } from "./reader";
import { MAX_READ_REPLICAS } from "../thresholds";

export interface DerivedName {
    /** The config key whose value produced the name. */
    key: string;
    /** What the name is, e.g. "read replica 2's identifier". */
    what: string;
    name: string;
    rule: NameRule;
}

/** The parts of the config names are derived from; a part that failed its own checks is left out. */
export interface NameSources {
    database?: DatabaseConfig;
    migrations?: MigrationConfig[];
    services?: ServiceConfig[];
}

const IMAGE_REFERENCE: NameRule = {
    target: "image reference",
    allowed: "a reference by the OCI distribution grammar",
    test: (ref) => typeof parseImageReference(ref) !== "string",
};

/** The RDS names of the database: primary, restore, their replicas (up to the most replicas allowed) and final snapshots. */
function databaseNames(db: DatabaseConfig): DerivedName[] {
    const key = "database.identifier";
    const names: DerivedName[] = [];
    for (const [instance, what] of [
        [db.identifier, "the primary"],
        [restoredIdentifier(db.identifier), "the restored instance"],
    ] as const) {
        names.push({ key, what: `${what}'s identifier`, name: instance, rule: RDS_INSTANCE_IDENTIFIER });
        names.push({ key, what: `${what}'s final snapshot identifier`, name: finalSnapshotIdentifier(instance), rule: RDS_SNAPSHOT_IDENTIFIER });
        // Every replica a later change may add, not only today's: raising readReplicas must not fail at apply.
        for (let i = 1; i <= MAX_READ_REPLICAS; i++) {
            names.push({ key, what: `${what}'s read replica ${i} identifier`, name: replicaIdentifier(instance, i), rule: RDS_INSTANCE_IDENTIFIER });
        }
    }
    return names;
}

function migrationNames(migrations: MigrationConfig[], db: DatabaseConfig | undefined): DerivedName[] {
    return migrations.flatMap((m, i) => {
        const key = `migrations[${i}].release`;
        const names: DerivedName[] = [
            { key, what: "the migration Job's name", name: migrationJobName(m.release), rule: K8S_DNS_LABEL },
            { key, what: "the migration Job's version label", name: m.release, rule: K8S_LABEL_VALUE },
        ];
        if (db)
            names.push({
                key,
                what: "the pre-migration snapshot identifier",
                name: snapshotIdentifier(db.identifier, m.release),
                rule: RDS_SNAPSHOT_IDENTIFIER,
            });
        return names;
    });
}

function serviceNames(s: ServiceConfig): DerivedName[] {
    const key = `services.${s.name}`;
    const names: DerivedName[] = [
        { key, what: "the live Service's name", name: s.name, rule: K8S_SERVICE_NAME },
        { key, what: "the preview Service's name", name: previewServiceName(s.name), rule: K8S_SERVICE_NAME },
        { key, what: "the PrometheusRule's name", name: alertRulesName(s.name), rule: K8S_DNS_LABEL },
        { key, what: "the app label", name: s.name, rule: K8S_LABEL_VALUE },
    ];
    for (const color of COLORS) {
        const version = s[color].version;
        const versionKey = `${key}.${color}.version`;
        names.push(
            { key, what: `the ${color} Deployment's name`, name: deploymentName(s.name, color), rule: K8S_DNS_LABEL },
            { key, what: `the ${color} Service's name`, name: colorServiceName(s.name, color), rule: K8S_SERVICE_NAME },
            { key: versionKey, what: "the version label", name: versionLabel(version), rule: K8S_LABEL_VALUE },
            { key: versionKey, what: "the smoke-test Job's name", name: smokeJobName(s.name, color, version), rule: K8S_DNS_LABEL },
            { key: versionKey, what: "the image reference", name: imageRef(s.image, version), rule: IMAGE_REFERENCE },
        );
    }
    return names;
}

/** Every name derived from the given parts of the config. */
export function derivedNames(sources: NameSources): DerivedName[] {
    return [
        ...(sources.database ? databaseNames(sources.database) : []),
        ...(sources.migrations ? migrationNames(sources.migrations, sources.database) : []),
        ...(sources.services ?? []).flatMap(serviceNames),
    ];
}

/** Reports every derived name its target would refuse, against the key that produced it. */
export function checkDerivedNames(c: Checker, sources: NameSources): void {
    const reported = new Set<string>();
    for (const d of derivedNames(sources)) {
        if (d.rule.test(d.name) || reported.has(`${d.key} ${d.name}`)) continue;
        reported.add(`${d.key} ${d.name}`);
        c.fail(d.key, `${d.what} would be ${JSON.stringify(d.name)} (${d.name.length} characters), not a valid ${d.rule.target}; allowed: ${d.rule.allowed}`);
    }
}
