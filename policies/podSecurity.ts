// The restricted Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards),
// control by control: every baseline control plus the restricted profile's own. Each violation
// names its control, so a message maps to one row of the standard.
import { Container, Props, WORKLOAD_TYPES, containersOf, describeContainer, list, objectName, podAnnotationsOf, podSpecOf, resourcePolicy } from "./util";

/** What a control's check sees: the pod spec, its containers, the pod template's annotations and the config. */
export interface PodUnderCheck {
    spec: Props;
    containers: readonly Container[];
    annotations: Record<string, string>;
    config: PodSecurityConfig;
}

export interface PodSecurityConfig {
    allowedVolumeTypes: string[];
    allowedSysctls: string[];
    requireReadOnlyRootFilesystem: boolean;
}

export interface PodSecurityControl {
    /** The control's name as the standard's table writes it. */
    control: string;
    profile: "baseline" | "restricted";
    /** Findings, each phrased as the fix. */
    check: (pod: PodUnderCheck) => string[];
}

/** Runs `check` per container and prefixes each finding with the container. */
function perContainer(pod: PodUnderCheck, check: (sc: Props, c: Container) => string | undefined): string[] {
    return pod.containers.flatMap((c) => {
        const problem = check(c.spec.securityContext ?? {}, c);
        return problem ? [`${describeContainer(c)}: ${problem}`] : [];
    });
}

function podSecurityContext(pod: PodUnderCheck): Props {
    return pod.spec.securityContext ?? {};
}

/** Capabilities the baseline profile lets a container add. */
const BASELINE_CAPABILITIES = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
const SELINUX_TYPES = ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
const CONFINED_PROFILES = ["RuntimeDefault", "Localhost"];
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

function seLinuxProblem(options: Props | undefined, where: string): string | undefined {
    if (!options) return undefined;
    if (options.type !== undefined && options.type !== "" && !SELINUX_TYPES.includes(options.type))
        return `${where} seLinuxOptions.type "${options.type}" is not allowed; use one of ${list(SELINUX_TYPES)} or leave it unset`;
    if (options.user || options.role) return `${where} sets seLinuxOptions.user/role; remove them`;
    return undefined;
}

function appArmorProblem(profile: Props | undefined, where: string): string | undefined {
    const type = profile?.type;
    return type !== undefined && !CONFINED_PROFILES.includes(type)
        ? `${where} appArmorProfile.type is "${type}"; use RuntimeDefault or Localhost, or leave it unset`
        : undefined;
}

/** The volume source a volume uses (the one key besides `name`). */
function volumeType(volume: Props): string {
    return Object.keys(volume).find((k) => k !== "name" && volume[k] !== undefined && volume[k] !== null) ?? "(none)";
}

export const POD_SECURITY_CONTROLS: readonly PodSecurityControl[] = [
    {
        control: "HostProcess",
        profile: "baseline",
        check: (pod) => [
            ...(podSecurityContext(pod).windowsOptions?.hostProcess === true ? ["pod sets windowsOptions.hostProcess: true; remove it"] : []),
            ...perContainer(pod, (sc) => (sc.windowsOptions?.hostProcess === true ? "sets windowsOptions.hostProcess: true; remove it" : undefined)),
        ],
    },
    {
        control: "Host Namespaces",
        profile: "baseline",
        check: (pod) => ["hostNetwork", "hostPID", "hostIPC"].filter((host) => pod.spec[host] === true).map((host) => `pod sets ${host}: true; remove it`),
    },
    {
        control: "Privileged Containers",
        profile: "baseline",
        check: (pod) => perContainer(pod, (sc) => (sc.privileged === true ? "set securityContext privileged: false" : undefined)),
    },
    {
        control: "Capabilities",
        profile: "restricted",
        check: (pod) =>
            perContainer(pod, (sc) => {
                const problems: string[] = [];
                if (!(sc.capabilities?.drop ?? []).includes("ALL")) problems.push('set securityContext capabilities.drop: ["ALL"]');
                const added: string[] = sc.capabilities?.add ?? [];
                const beyondBaseline = added.filter((cap) => !BASELINE_CAPABILITIES.includes(cap));
                const beyondRestricted = added.filter((cap) => cap !== "NET_BIND_SERVICE");
                if (beyondRestricted.length) {
                    const why = beyondBaseline.length ? ` (${list(beyondBaseline)} not even allowed by baseline)` : "";
                    problems.push(`add no capabilities other than NET_BIND_SERVICE: remove ${list(beyondRestricted)}${why}`);
                }
                return problems.length ? problems.join("; ") : undefined;
            }),
    },
    {
        control: "HostPath Volumes",
        profile: "baseline",
        check: (pod) => {
            const hostPaths = (pod.spec.volumes ?? []).filter((v: Props) => v.hostPath).map((v: Props) => v.name);
            return hostPaths.length ? [`pod mounts hostPath volumes ${list(hostPaths)}; use emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim`] : [];
        },
    },
    {
        control: "Host Ports",
        profile: "baseline",
        check: (pod) =>
            perContainer(pod, (_sc, c) => {
                const hostPorts = (c.spec.ports ?? []).map((p: Props) => p.hostPort).filter((p: unknown) => p !== undefined && p !== 0);
                return hostPorts.length ? `remove hostPort ${hostPorts.join(", ")} (expose the port through a Service)` : undefined;
            }),
    },
    {
        control: "AppArmor",
        profile: "baseline",
        check: (pod) => [
            ...[appArmorProblem(podSecurityContext(pod).appArmorProfile, "pod")].filter((p): p is string => !!p),
            ...perContainer(pod, (sc) => appArmorProblem(sc.appArmorProfile, "securityContext")),
            ...Object.entries(pod.annotations)
                .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION) && v !== "runtime/default" && !String(v).startsWith("localhost/"))
                .map(([k, v]) => `annotation ${k} is "${v}"; use runtime/default or localhost/<profile>`),
        ],
    },
    {
        control: "SELinux",
        profile: "baseline",
        check: (pod) => [
            ...[seLinuxProblem(podSecurityContext(pod).seLinuxOptions, "pod")].filter((p): p is string => !!p),
            ...perContainer(pod, (sc) => seLinuxProblem(sc.seLinuxOptions, "securityContext")),
        ],
    },
    {
        control: "/proc Mount Type",
        profile: "baseline",
        check: (pod) =>
            perContainer(pod, (sc) =>
                sc.procMount !== undefined && sc.procMount !== "Default" ? `procMount is "${sc.procMount}"; use Default or leave it unset` : undefined,
            ),
    },
    {
        control: "Seccomp",
        profile: "restricted",
        check: (pod) => {
            const podType = podSecurityContext(pod).seccompProfile?.type;
            if (podType !== undefined && !CONFINED_PROFILES.includes(podType))
                return [`pod seccompProfile.type is "${podType}"; set RuntimeDefault (or Localhost)`];
            return perContainer(pod, (sc) => {
                const type = sc.seccompProfile?.type ?? podType;
                if (type === undefined) return "no seccomp profile: set securityContext.seccompProfile.type RuntimeDefault on the pod (or Localhost)";
                return CONFINED_PROFILES.includes(type) ? undefined : `seccompProfile.type is "${type}"; set RuntimeDefault (or Localhost)`;
            });
        },
    },
    {
        control: "Sysctls",
        profile: "baseline",
        check: (pod) => {
            const unsafe = (podSecurityContext(pod).sysctls ?? []).map((s: Props) => s.name).filter((n: string) => !pod.config.allowedSysctls.includes(n));
            return unsafe.length ? [`pod sets sysctls ${list(unsafe)} outside the safe set; remove them`] : [];
        },
    },
    {
        control: "Volume Types",
        profile: "restricted",
        check: (pod) => {
            const forbidden = (pod.spec.volumes ?? []).filter((v: Props) => !pod.config.allowedVolumeTypes.includes(volumeType(v)) && !v.hostPath);
            return forbidden.map((v: Props) => `volume "${v.name}" is of type ${volumeType(v)}; use one of ${list(pod.config.allowedVolumeTypes)}`);
        },
    },
    {
        control: "Privilege Escalation",
        profile: "restricted",
        check: (pod) => perContainer(pod, (sc) => (sc.allowPrivilegeEscalation !== false ? "set securityContext allowPrivilegeEscalation: false" : undefined)),
    },
    {
        control: "Running as Non-root",
        profile: "restricted",
        check: (pod) =>
            perContainer(pod, (sc) =>
                (sc.runAsNonRoot ?? podSecurityContext(pod).runAsNonRoot) !== true
                    ? "set securityContext runAsNonRoot: true (on the pod or the container)"
                    : undefined,
            ),
    },
    {
        control: "Running as Non-root user",
        profile: "restricted",
        check: (pod) => [
            ...(podSecurityContext(pod).runAsUser === 0 ? ["pod sets runAsUser: 0; set a non-zero UID"] : []),
            ...perContainer(pod, (sc) => (sc.runAsUser === 0 ? "set securityContext runAsUser other than 0" : undefined)),
        ],
    },
    {
        // Not part of the standard: the program's own hardening, kept with the container checks.
        control: "Read-only Root Filesystem",
        profile: "restricted",
        check: (pod) =>
            pod.config.requireReadOnlyRootFilesystem
                ? perContainer(pod, (sc) =>
                      sc.readOnlyRootFilesystem !== true ? "set securityContext readOnlyRootFilesystem: true (mount an emptyDir for scratch space)" : undefined,
                  )
                : [],
    },
];

/** Volume sources the restricted profile allows. */
export const RESTRICTED_VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
/** The baseline profile's safe sysctls. */
export const SAFE_SYSCTLS = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

export const restrictedPodSecurity = resourcePolicy<PodSecurityConfig>({
    name: "k8s-restricted-pod-security",
    description:
        "Pods meet every control of the restricted Pod Security Standard (all baseline controls, then allowed volume types, no privilege escalation, non-root, seccomp RuntimeDefault/Localhost set explicitly, all capabilities dropped) and keep a read-only root filesystem: a compromised container then cannot reach the node or other pods. Each message names the control.",
    types: WORKLOAD_TYPES,
    configSchema: {
        properties: {
            allowedVolumeTypes: {
                type: "array",
                items: { type: "string" },
                default: RESTRICTED_VOLUME_TYPES,
                description: "Volume sources a pod may use (the restricted profile's list).",
            },
            allowedSysctls: {
                type: "array",
                items: { type: "string" },
                default: SAFE_SYSCTLS,
                description: "Sysctls a pod may set (the baseline profile's safe set).",
            },
            requireReadOnlyRootFilesystem: { type: "boolean", default: true },
        },
    },
    check: ({ type, name, props, config, report }) => {
        const spec = podSpecOf(type, props) ?? {};
        const workload = `${type.split(":").pop()} ${objectName({ name, props })}`;
        const pod: PodUnderCheck = { spec, containers: containersOf(spec), annotations: podAnnotationsOf(type, props), config };
        for (const { control, check } of POD_SECURITY_CONTROLS) {
            for (const finding of check(pod)) report(`[${control}] ${workload}: ${finding}`);
        }
    },
});
