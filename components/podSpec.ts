// Pod and container building blocks shared by the app, maintenance and smoke-test workloads:
// the restricted Pod Security Standard, resources and probes from the runbooks, image and name helpers.
import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type Probe = k8s.types.input.core.v1.Probe;
type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type TopologySpreadConstraint = k8s.types.input.core.v1.TopologySpreadConstraint;

export const PART_OF = "release-platform";
export const MANAGED_BY = "pulumi";

/** Runbook 000 appendix B and runbook 001's Helm values. */
export const APP_RESOURCES: ResourceRequirements = {
    requests: { cpu: "500m", memory: "512Mi" },
    limits: { cpu: "1000m", memory: "1Gi" },
};

/** Runbook 001 health checks. */
export const LIVENESS_PATH = "/health/live";
export const READINESS_PATH = "/health/ready";
const LIVENESS_TIMING = { initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
const READINESS_TIMING = { initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 };

export function livenessProbe(port: number | string): Probe {
    return { httpGet: { path: LIVENESS_PATH, port }, ...LIVENESS_TIMING };
}

export function readinessProbe(port: number | string): Probe {
    return { httpGet: { path: READINESS_PATH, port }, ...READINESS_TIMING };
}

/** The container half of the restricted Pod Security Standard, with an immutable root filesystem. */
export function containerSecurityContext(): SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
    };
}

const TMP_VOLUME = "tmp";

/** The one writable path: a read-only root filesystem still needs scratch space. */
export const tmpMount = { name: TMP_VOLUME, mountPath: "/tmp" };

export interface RestrictedPodArgs {
    containers: Container[];
    /**
     * Explicit UID: `runAsNonRoot` can only be verified for a numeric user, and images often name
     * theirs (`node`, `nginx`, `curl_user`).
     */
    runAsUser: number;
    volumes?: k8s.types.input.core.v1.Volume[];
    restartPolicy?: "Always" | "Never" | "OnFailure";
    terminationGracePeriodSeconds?: number;
    topologySpreadConstraints?: TopologySpreadConstraint[];
}

/** A pod spec that passes the restricted Pod Security Standard and never sees an API token. */
export function restrictedPodSpec(args: RestrictedPodArgs): PodSpec {
    return {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: {
            runAsNonRoot: true,
            runAsUser: args.runAsUser,
            runAsGroup: args.runAsUser,
            fsGroup: args.runAsUser,
            seccompProfile: { type: "RuntimeDefault" },
        },
        containers: args.containers,
        volumes: [{ name: TMP_VOLUME, emptyDir: { sizeLimit: "256Mi" } }, ...(args.volumes ?? [])],
        ...(args.restartPolicy ? { restartPolicy: args.restartPolicy } : {}),
        ...(args.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: args.terminationGracePeriodSeconds } : {}),
        ...(args.topologySpreadConstraints ? { topologySpreadConstraints: args.topologySpreadConstraints } : {}),
    };
}

/**
 * Spreads one Deployment's pods over zones (and nodes). `ScheduleAnyway` so a full zone slows a
 * rollout down instead of blocking it; `pod-template-hash` so surge pods of a rollout are spread
 * among themselves rather than against the pods they replace.
 */
export function zoneSpread(selector: Record<string, string>): TopologySpreadConstraint[] {
    return ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: selector },
        matchLabelKeys: ["pod-template-hash"],
    }));
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(version: string): boolean {
    return DIGEST.test(version);
}

/** `repo:1.2.3` or `repo@sha256:…`. */
export function imageRef(repository: string, version: string): string {
    return isDigest(version) ? `${repository}@${version}` : `${repository}:${version}`;
}

/** A version as a label value (63 characters of `[A-Za-z0-9_.-]`): digests become `sha256-<12 hex>`. */
export function versionLabel(version: string): string {
    if (isDigest(version)) return `sha256-${version.slice(7, 19)}`;
    return version.length <= 63 ? version : `${version.slice(0, 56)}-${shortHash(version)}`;
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
