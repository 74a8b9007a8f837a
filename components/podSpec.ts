// Pod and container building blocks shared by the app, maintenance and smoke-test workloads:
// the restricted Pod Security Standard, resources and probes from the runbooks.
import * as k8s from "@pulumi/kubernetes";
import { ZONE_TOPOLOGY_KEY } from "../conventions";
import { CONTAINER_RESOURCES } from "../thresholds";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type Probe = k8s.types.input.core.v1.Probe;
type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type TopologySpreadConstraint = k8s.types.input.core.v1.TopologySpreadConstraint;

/** Every app container requests 500m CPU and 512Mi, and is limited to 1000m and 1Gi. */
export const APP_RESOURCES: ResourceRequirements = {
    requests: { ...CONTAINER_RESOURCES.requests },
    limits: { ...CONTAINER_RESOURCES.limits },
};

/**
 * Liveness `/health/live` after 30 s, every 10 s, 5 s timeout, 3 failures; readiness `/health/ready`
 * after 10 s, every 5 s, 3 s timeout, 2 failures.
 */
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
    /** The pod's containers; each should use `containerSecurityContext()` and `tmpMount`. */
    containers: Container[];
    /**
     * Explicit UID: `runAsNonRoot` can only be verified for a numeric user, and images often name
     * theirs (`node`, `nginx`, `curl_user`).
     */
    runAsUser: number;
    /** Volumes besides the `tmp` emptyDir every pod gets. */
    volumes?: k8s.types.input.core.v1.Volume[];
    /** Kubernetes' default (`Always`) when unset; Jobs need `Never` or `OnFailure`. */
    restartPolicy?: "Always" | "Never" | "OnFailure";
    /** Time between SIGTERM and SIGKILL; Kubernetes' default (30 s) when unset. */
    terminationGracePeriodSeconds?: number;
    /** How the pods spread over zones and nodes (see `zoneSpread`). */
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
    return [ZONE_TOPOLOGY_KEY, "kubernetes.io/hostname"].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: selector },
        matchLabelKeys: ["pod-template-hash"],
    }));
}
