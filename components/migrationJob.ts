// The database migration of one release, as a Kubernetes Job that runs only after the
// release's pre-migration snapshot exists: no migration runs without a backup taken just before it.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { MigrationConfig } from "../config";
import { ANNOTATIONS, LABELS, migrationJobName, platformLabels, ROLE_LABEL, ROLES } from "../conventions";
import { APP_RESOURCES, containerSecurityContext, restrictedPodSpec, tmpMount } from "./podSpec";

export interface MigrationJobArgs {
    /** The release whose migration this is, with the image and command that run it. */
    migration: MigrationConfig;
    /** Written to the `ANNOTATIONS.database` annotation (`release-platform/database`). */
    databaseIdentifier: pulumi.Input<string>;
    /** The release's pre-migration snapshot; the Job waits for it. */
    snapshot: aws.rds.Snapshot;
    /** The app namespace (the Job reads the app Secret there). */
    namespace: pulumi.Input<string>;
    /** Secret holding `DATABASE_URL`. */
    secretName: pulumi.Input<string>;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

export const MIGRATION_DEADLINE_SECONDS = 1800;
/**
 * How long `pulumi up` awaits the Job: its deadline plus time to schedule the pod and pull the
 * image. The provider's default (10 minutes) would fail the update while the migration still runs.
 */
export const MIGRATION_AWAIT_TIMEOUT = `${Math.ceil(MIGRATION_DEADLINE_SECONDS / 60) + 5}m`;
// A release's migration runs once. The Job therefore has no ttlSecondsAfterFinished: the Kubernetes
// provider's Read treats a 404 as "deleted" and drops the resource from the state, so once the TTL
// controller had collected the Job, a `pulumi refresh` (or `up --refresh`) would forget it and the
// next `up` would create it again. Kept, the finished Job (and its pod's logs) stays in the state and
// in the cluster until its release leaves the config. `ignoreChanges: ["spec"]` keeps a later edit
// of the release's image or command from replacing (re-running) a Job whose spec is immutable anyway.
export const MIGRATION_IGNORED_CHANGES = ["spec"];
const RUN_AS = 10001;

export class MigrationJob extends pulumi.ComponentResource {
    readonly release: string;
    readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: MigrationJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:MigrationJob", name, {}, opts);
        this.release = args.migration.release;
        const jobName = migrationJobName(this.release);
        const labels = {
            [ROLE_LABEL]: ROLES.migration,
            [LABELS.name]: "migrations",
            [LABELS.instance]: jobName,
            [LABELS.version]: this.release,
            ...platformLabels(),
        };

        this.job = new k8s.batch.v1.Job(
            `${name}-job`,
            {
                metadata: {
                    name: jobName,
                    namespace: args.namespace,
                    labels,
                    annotations: { [ANNOTATIONS.database]: args.databaseIdentifier },
                },
                spec: {
                    backoffLimit: 0,
                    activeDeadlineSeconds: MIGRATION_DEADLINE_SECONDS,
                    template: {
                        metadata: { labels },
                        spec: migrationPodSpec(args.migration, args.secretName),
                    },
                },
            },
            {
                parent: this,
                provider: args.provider,
                dependsOn: [args.snapshot],
                ignoreChanges: MIGRATION_IGNORED_CHANGES,
                customTimeouts: { create: MIGRATION_AWAIT_TIMEOUT, update: MIGRATION_AWAIT_TIMEOUT },
            },
        );
        this.registerOutputs({ release: this.release, jobName: this.job.metadata.name });
    }
}

function migrationPodSpec(migration: MigrationConfig, secretName: pulumi.Input<string>): k8s.types.input.core.v1.PodSpec {
    return restrictedPodSpec({
        runAsUser: RUN_AS,
        restartPolicy: "Never",
        containers: [
            {
                name: "migrate",
                image: migration.image,
                command: migration.command,
                env: [
                    { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: secretName, key: "DATABASE_URL" } } },
                    // npm needs a writable home and cache; the root filesystem is read-only.
                    { name: "HOME", value: "/tmp" },
                    { name: "npm_config_cache", value: "/tmp/.npm" },
                ],
                resources: APP_RESOURCES,
                securityContext: containerSecurityContext(),
                volumeMounts: [tmpMount],
            },
        ],
    });
}
