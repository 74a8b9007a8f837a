// Tags and names shared by every AWS component (docs/conventions.md).
import { Environment, StackConfig } from "../config";
import { MANAGED_BY, TAG_KEYS } from "../conventions";

export type Tags = Record<string, string>;

/** The tags every taggable AWS resource carries; the policy pack checks for these keys. */
export function standardTags(config: StackConfig): Tags {
    return {
        [TAG_KEYS.project]: config.project,
        [TAG_KEYS.environment]: config.environment,
        [TAG_KEYS.owner]: config.owner,
        [TAG_KEYS.managedBy]: MANAGED_BY,
    };
}

/** The standard tags plus a `Name`, which the AWS console shows. */
export function withName(tags: Tags, name: string): Tags {
    return { ...tags, Name: name };
}

/**
 * The EKS cluster name. Fixed per environment rather than auto-named, because the subnets must
 * carry `kubernetes.io/cluster/<name>` before the cluster exists.
 */
export function eksClusterName(environment: Environment): string {
    return `release-platform-${environment}`;
}

/** Marks a resource as usable by (but not owned by) the cluster, for the load balancer controller. */
export function clusterSharedTag(clusterName: string): Tags {
    return { [`kubernetes.io/cluster/${clusterName}`]: "shared" };
}
