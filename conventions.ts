// The names, labels and annotations that the program, the policy pack, the offline tools and the
// tests agree on (docs/conventions.md describes them as a table). Policies read them to understand a
// stack's release, so each is defined here once and imported everywhere.
//
// Dependency-free on purpose: the policy pack imports this file and must stay loadable on its own
// (`pulumi preview --policy-pack policies`), so it imports nothing but Node's `crypto` and the
// naming rules (`naming.ts`, dependency-free as well).
import * as crypto from "crypto";
import { K8S_LABEL_VALUE } from "./naming";

// ---- Labels -------------------------------------------------------------------------------------

/** `app.kubernetes.io/part-of` of everything the program creates in Kubernetes. */
export const PART_OF = "release-platform";
/** `app.kubernetes.io/managed-by` of everything the program creates in Kubernetes. */
export const MANAGED_BY = "pulumi";

/** Label keys, the recommended `app.kubernetes.io/*` ones and the blue/green selector's. */
export const LABELS = {
    /** The service a pod belongs to; half of the blue/green selector. */
    app: "app",
    /** `blue` or `green`; the other half of the blue/green selector. */
    color: "color",
    name: "app.kubernetes.io/name",
    instance: "app.kubernetes.io/instance",
    version: "app.kubernetes.io/version",
    component: "app.kubernetes.io/component",
    partOf: "app.kubernetes.io/part-of",
    managedBy: "app.kubernetes.io/managed-by",
} as const;

/** What a Service, Job, ConfigMap or rule is for in a release; values in `ROLES`. */
export const ROLE_LABEL = "release-platform/role";
/** Labels smoke-test pods with the service they test (the NetworkPolicies select on it). */
export const SMOKE_TEST_OF_LABEL = "release-platform/smoke-test-of";

/** Values of `ROLE_LABEL`. */
export const ROLES = {
    /** The Service that takes the service's traffic; its selector is switched between colors. */
    live: "live",
    /** The Service that lets people reach the color being released. */
    preview: "preview",
    /** A Service that selects one color's pods, whatever is live: the smoke tests' target. */
    color: "color",
    /** A color's smoke-test Job (and its pods). */
    smokeTest: "smoke-test",
    /** A release's database migration Job (and its pods). */
    migration: "migration",
    /** The ConfigMap that records the stack's release. */
    manifest: "release-manifest",
    /** A service's PrometheusRule. */
    alerts: "alerts",
    /** A service's PodMonitor. */
    metrics: "metrics",
    /** Alertmanager's routing (its AlertmanagerConfig) and its receivers' Secret. */
    alertRouting: "alert-routing",
} as const;

/** `{app.kubernetes.io/part-of, app.kubernetes.io/managed-by}`, on every Kubernetes object. */
export function platformLabels(): Record<string, string> {
    return { [LABELS.partOf]: PART_OF, [LABELS.managedBy]: MANAGED_BY };
}

// ---- Annotations --------------------------------------------------------------------------------

export const ANNOTATIONS = {
    /** On a smoke-test Job: the Service it sends its requests to. */
    targetService: "release-platform/target-service",
    /** On a migration Job: the identifier of the database it migrates. */
    database: "release-platform/database",
    /** On a color Deployment's pod template: the RDS instance the pods connect to. */
    databaseInstance: "release-platform/database-instance",
    /** On the maintenance page's pod template: a hash of its nginx configuration. */
    configHash: "release-platform/config-hash",
} as const;

// ---- Names --------------------------------------------------------------------------------------

/** The maintenance page's Deployment name, and its pods' `{app, color}`. */
/** The tag keys every taggable AWS resource carries (components/tags.ts sets them; the pack requires them). */
export const TAG_KEYS = { project: "project", environment: "environment", owner: "owner", managedBy: "managed-by" } as const;

/** The well-known node label of a node's availability zone, which pods are spread over. */
export const ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone";

/** The AWS Load Balancer Controller's Ingress annotations: `<prefix>/<setting>`. */
export const ALB_ANNOTATION_PREFIX = "alb.ingress.kubernetes.io";

export const MAINTENANCE_NAME = "maintenance";
/** What the live Services select in maintenance mode. */
export const MAINTENANCE_SELECTOR: Readonly<Record<string, string>> = { [LABELS.app]: MAINTENANCE_NAME, [LABELS.color]: MAINTENANCE_NAME };
/** The ConfigMap that records the release. */
export const RELEASE_MANIFEST_NAME = "release-manifest";

/** The pods of one color of a service. */
export function colorSelector(service: string, color: string): Record<string, string> {
    return { [LABELS.app]: service, [LABELS.color]: color };
}

/** A color's Deployment (also its PDB and HPA): `<service>-<color>`. */
export function deploymentName(service: string, color: string): string {
    return `${service}-${color}`;
}

/** The Service of one color (the smoke tests' target), named like its Deployment: `<service>-<color>`. */
export function colorServiceName(service: string, color: string): string {
    return `${service}-${color}`;
}

/** The Service people use to reach the color being released: `<service>-preview`. */
export function previewServiceName(service: string): string {
    return `${service}-preview`;
}

/** `<service>-smoke-<color>-<version with . → ->`, kept within the 63 characters a Job name may have. */
export function smokeJobName(service: string, color: string, version: string): string {
    const prefix = `${service}-smoke-${color}-`;
    return prefix + versionSlug(version, 63 - prefix.length);
}

/** A release's migration Job: `migrate-<release with . → ->`. */
export function migrationJobName(release: string): string {
    return `migrate-${releaseSlug(release)}`;
}

/** A service's PodMonitor, which makes Prometheus scrape both colors' pods: `<service>-metrics`. */
export function podMonitorName(service: string): string {
    return `${service}-metrics`;
}

/**
 * Alertmanager's whole configuration (routes, receivers), as an AlertmanagerConfig in the
 * monitoring namespace that kube-prometheus-stack's Alertmanager names as its global configuration.
 */
export const ALERT_ROUTING_NAME = "alert-routing";
/** The Secret with the receivers' credentials, next to the AlertmanagerConfig that reads it. */
export const ALERT_RECEIVERS_SECRET_NAME = "alert-receivers";
/** The keys of that Secret. */
export const ALERT_RECEIVERS_SECRET_KEYS = { chatWebhookUrl: "chat-webhook-url", pagingRoutingKey: "paging-routing-key" } as const;
/** Alertmanager receivers: the team's chat channel, on-call's pager (with the chat), and nobody. */
export const ALERT_RECEIVERS = { chat: "chat", oncall: "oncall", discard: "discard" } as const;

/** A service's PrometheusRule: `<service>-alerts`. */
export function alertRulesName(service: string): string {
    return `${service}-alerts`;
}

/** A release's pre-migration RDS snapshot: `prod-db` + `1.2.3` → `prod-db-snapshot-1-2-3`. */
export function snapshotIdentifier(identifier: string, release: string): string {
    return `${identifier}-snapshot-${releaseSlug(release)}`;
}

/** Dots are not allowed in Kubernetes names or RDS identifiers: `1.2.3` → `1-2-3`. */
export function releaseSlug(release: string): string {
    return release.replace(/\./g, "-");
}

// ---- Versions in names and labels ---------------------------------------------------------------

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Whether a version is an image digest (`sha256:<64 hex>`) rather than a tag. */
export function isDigest(version: string): boolean {
    return DIGEST.test(version);
}

/** A version as a label value (63 characters of `[A-Za-z0-9_.-]`): digests become `sha256-<12 hex>`. */
export function versionLabel(version: string): string {
    if (isDigest(version)) return `sha256-${version.slice(7, 19)}`;
    if (K8S_LABEL_VALUE.test(version)) return version;
    // Too long, or a tag that starts or ends with '_', '.' or '-': a label value can't.
    const head = version.slice(0, 56).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
    return head ? `${head}-${shortHash(version)}` : shortHash(version);
}

/** A version inside a DNS label: `1.2.3` → `1-2-3`; anything lossy or long gets a hash suffix. */
export function versionSlug(version: string, maxLength = 63): string {
    if (isDigest(version)) return `sha256-${version.slice(7, 7 + Math.max(1, Math.min(12, maxLength - 7)))}`;
    const slug = version.toLowerCase().replace(/[^a-z0-9-]/g, "-");
    const lossless = /^[a-z0-9.-]+$/.test(version) && !slug.startsWith("-") && !slug.endsWith("-");
    if (lossless && slug.length <= maxLength) return slug;
    const hash = shortHash(version);
    const head = slug.slice(0, Math.max(0, maxLength - hash.length - 1)).replace(/^-+|-+$/g, "");
    return head ? `${head}-${hash}` : hash;
}

function shortHash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 6);
}
