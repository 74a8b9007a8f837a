// One service deployed blue/green: a Deployment and a ClusterIP Service per color, a smoke-test Job
// per running color, a live Service whose selector is switched and a preview Service for people.
//
// Promote and rollback only change which color the live and preview Services select. Everything
// else depends on (service, color, version, replicas, database instance) alone, so a switch never
// restarts a pod, re-runs a Job or touches an autoscaler.
//
// The gate: the live Service depends on the smoke-test Job of the color it routes to. A color's Job
// is created with its version and tests that color's own Service (`<service>-<color>`, which
// selects only that color's pods) after the color's rollout, whether the color is idle or live; a
// failing Job fails the update before the live Service switches. The Job's spec never mentions the
// live color, so a later switch leaves it alone. The preview Service selects the idle color while
// that runs replicas, otherwise the live color, so people always reach running pods through it.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { Color, COLORS, ColorConfig, Environment, idleColor, ServiceConfig } from "../config";
import {
    ANNOTATIONS,
    colorSelector,
    colorServiceName,
    deploymentName,
    LABELS,
    platformLabels,
    previewServiceName,
    ROLE_LABEL,
    ROLES,
    SMOKE_TEST_OF_LABEL,
    smokeJobName,
    versionLabel,
} from "../conventions";
import { imageRef } from "../naming";
import { AlertRules } from "./alertRules";
import { MaintenancePage } from "./maintenancePage";
import { servicePodMonitor } from "./podMonitor";
import { APP_RESOURCES, containerSecurityContext, livenessProbe, READINESS_PATH, readinessProbe, restrictedPodSpec, tmpMount, zoneSpread } from "./podSpec";

/** What this component needs of a MigrationJob. */
export interface ReleaseMigration {
    release: string;
    job: k8s.batch.v1.Job;
}

export interface BlueGreenServiceArgs {
    /** The service from stack config: image, port, the live color, each color's version and replicas, autoscaling. */
    service: ServiceConfig;
    /** `staging` or `prod`. */
    environment: Environment;
    /** The app namespace every object of the service is created in. */
    namespace: pulumi.Input<string>;
    /** The app Secret with `DATABASE_URL`, `JWT_SECRET` and, when configured, `REDIS_URL`. */
    secretName: pulumi.Input<string>;
    /** Whether the app Secret has `REDIS_URL`, so the containers get it as an environment variable. */
    hasRedisUrl: boolean;
    /** curl image (pinned) for the smoke tests. */
    smokeTestImage: string;
    /** When given, the live Service routes to the maintenance pods instead of a color. */
    maintenancePage?: MaintenancePage;
    /** A color whose version equals a migration's release starts only after that migration. */
    migrations: ReleaseMigration[];
    /**
     * Identifier of the RDS instance the services use (the restored one while restoring). It goes
     * into the pods' annotations: the app reads `DATABASE_URL` from the Secret only at container
     * start, so switching the database has to roll the pods.
     */
    databaseInstance: pulumi.Input<string>;
    /** The kube-prometheus-stack release, which installs the PrometheusRule CRD. */
    monitoringStack: pulumi.Resource;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

export type LiveTarget = Color | "maintenance";

/** UID of the `node` user in Node.js images. */
const APP_UID = 1000;
/** UID of `curl_user` in curlimages/curl. */
const CURL_UID = 100;
/** Long enough for kube-proxy on every node to drop a terminating pod before it gets SIGTERM. */
const PRE_STOP_SLEEP_SECONDS = 15;
/** The preStop sleep plus time for in-flight requests to finish after SIGTERM. */
const TERMINATION_GRACE_SECONDS = PRE_STOP_SLEEP_SECONDS + 30;

/**
 * The color the preview Service selects: the idle color while it runs replicas (the one being
 * released), otherwise the live color, so the smoke tests always reach running pods.
 */
export function previewColor(service: Pick<ServiceConfig, "live" | "blue" | "green">): Color {
    const idle = idleColor(service.live);
    return service[idle].replicas > 0 ? idle : service.live;
}

export class BlueGreenService extends pulumi.ComponentResource {
    readonly serviceName: string;
    readonly config: ServiceConfig;
    readonly liveTarget: LiveTarget;
    readonly deployments: Record<Color, k8s.apps.v1.Deployment>;
    /** Per color with replicas > 0. */
    readonly smokeTests: Partial<Record<Color, k8s.batch.v1.Job>> = {};
    readonly liveService: k8s.core.v1.Service;
    readonly previewService: k8s.core.v1.Service;
    /** Makes Prometheus scrape both colors' pods. */
    readonly podMonitor: k8s.apiextensions.CustomResource;
    /** Per color, whatever its replicas: selects exactly that color's pods; the smoke tests' target. */
    readonly colorServices: Record<Color, k8s.core.v1.Service>;

    private readonly args: BlueGreenServiceArgs;

    constructor(name: string, args: BlueGreenServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:BlueGreenService", name, {}, opts);
        this.args = args;
        this.config = args.service;
        this.serviceName = args.service.name;
        this.liveTarget = args.maintenancePage ? "maintenance" : args.service.live;

        this.deployments = { blue: this.colorDeployment("blue"), green: this.colorDeployment("green") };
        this.colorServices = { blue: this.colorService("blue"), green: this.colorService("green") };
        this.previewService = this.service(
            previewServiceName(this.serviceName),
            "preview",
            "ClusterIP",
            colorSelector(this.serviceName, previewColor(this.config)),
        );
        for (const color of COLORS) {
            const replicas = this.colorConfig(color).replicas;
            if (replicas === 0) continue;
            this.disruptionBudget(color);
            if (replicas >= this.config.autoscaling.minReplicas) this.autoscaler(color, replicas);
            this.smokeTests[color] = this.smokeTest(color);
        }
        this.liveService = this.createLiveService();
        this.podMonitor = servicePodMonitor(
            { serviceName: this.serviceName, namespace: args.namespace, monitoringStack: args.monitoringStack, provider: args.provider },
            { parent: this },
        );
        new AlertRules(
            `${name}-alerts`,
            { serviceName: this.serviceName, namespace: args.namespace, monitoringStack: args.monitoringStack, provider: args.provider },
            { parent: this },
        );

        this.registerOutputs({
            liveTarget: this.liveTarget,
            liveServiceName: this.liveService.metadata.name,
            previewServiceName: this.previewService.metadata.name,
        });
    }

    private colorConfig(color: Color): ColorConfig {
        return this.config[color];
    }

    private childOptions(extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
        return { parent: this, provider: this.args.provider, ...extra };
    }

    /** `app.kubernetes.io/*` labels (docs/conventions.md) plus the fixed `{app, color}` selector. */
    private podLabels(color: Color): Record<string, string> {
        return {
            ...colorSelector(this.serviceName, color),
            [LABELS.name]: this.serviceName,
            [LABELS.instance]: deploymentName(this.serviceName, color),
            [LABELS.version]: versionLabel(this.colorConfig(color).version),
            [LABELS.component]: "api",
            ...platformLabels(),
        };
    }

    private colorDeployment(color: Color): k8s.apps.v1.Deployment {
        const name = deploymentName(this.serviceName, color);
        const { replicas, version } = this.colorConfig(color);
        const labels = this.podLabels(color);
        const migrationJobs = this.args.migrations.filter((m) => m.release === version).map((m) => m.job);
        return new k8s.apps.v1.Deployment(
            name,
            {
                metadata: {
                    name,
                    namespace: this.args.namespace,
                    labels,
                    // spec.replicas is set from config (scale-to-0 has to apply, so no ignoreChanges)
                    // and the HPA's floor is that same number. Pulumi only sends it when this
                    // Deployment's inputs change; if the HPA has scaled up meanwhile, the update
                    // resets the color to its floor (the HPA scales it back) instead of failing on
                    // the server-side-apply conflict with kube-controller-manager over spec.replicas.
                    annotations: { "pulumi.com/patchForce": "true" },
                },
                spec: {
                    replicas,
                    revisionHistoryLimit: 5,
                    selector: { matchLabels: colorSelector(this.serviceName, color) },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    template: {
                        // A restore changes only the Secret's DATABASE_URL, which the app reads at
                        // start: the instance in the template rolls the pods onto the new database.
                        metadata: { labels, annotations: { [ANNOTATIONS.databaseInstance]: this.args.databaseInstance } },
                        spec: restrictedPodSpec({
                            runAsUser: APP_UID,
                            terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
                            topologySpreadConstraints: zoneSpread(colorSelector(this.serviceName, color)),
                            containers: [this.appContainer(version)],
                        }),
                    },
                },
            },
            this.childOptions({ dependsOn: migrationJobs }),
        );
    }

    private appContainer(version: string): k8s.types.input.core.v1.Container {
        const port = this.config.port;
        return {
            name: this.serviceName,
            image: imageRef(this.config.image, version),
            imagePullPolicy: "IfNotPresent",
            ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
            env: this.appEnv(),
            resources: APP_RESOURCES,
            livenessProbe: livenessProbe(port),
            readinessProbe: readinessProbe(port),
            lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SLEEP_SECONDS)] } } },
            securityContext: containerSecurityContext(),
            volumeMounts: [tmpMount],
        };
    }

    /** NODE_ENV=production, LOG_LEVEL=info and PORT; secrets only by reference to the app Secret. */
    private appEnv(): k8s.types.input.core.v1.EnvVar[] {
        const secretKeys = ["DATABASE_URL", "JWT_SECRET", ...(this.args.hasRedisUrl ? ["REDIS_URL"] : [])];
        return [
            { name: "NODE_ENV", value: "production" },
            { name: "LOG_LEVEL", value: "info" },
            { name: "PORT", value: String(this.config.port) },
            ...secretKeys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: this.args.secretName, key } } })),
        ];
    }

    /** Always allows one eviction, so node drains proceed one pod at a time. */
    private disruptionBudget(color: Color): k8s.policy.v1.PodDisruptionBudget {
        const name = deploymentName(this.serviceName, color);
        return new k8s.policy.v1.PodDisruptionBudget(
            name,
            {
                metadata: { name, namespace: this.args.namespace, labels: this.podLabels(color) },
                spec: { maxUnavailable: 1, selector: { matchLabels: colorSelector(this.serviceName, color) } },
            },
            this.childOptions(),
        );
    }

    /**
     * Every color that could serve (the stack config only lets a color with at least
     * autoscaling.minReplicas go live) autoscales from its configured replicas, so a switch needs
     * no autoscaler change and the HPA never undercuts the Deployment's replicas.
     */
    private autoscaler(color: Color, replicas: number): k8s.autoscaling.v2.HorizontalPodAutoscaler {
        const name = deploymentName(this.serviceName, color);
        const { maxReplicas, targetCpuUtilization } = this.config.autoscaling;
        return new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name,
            {
                metadata: { name, namespace: this.args.namespace, labels: this.podLabels(color) },
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployments[color].metadata.name },
                    minReplicas: replicas,
                    maxReplicas: Math.max(maxReplicas, replicas),
                    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: targetCpuUtilization } } }],
                    behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
                },
            },
            this.childOptions(),
        );
    }

    /** The URL a color's smoke test hits: that color's own Service. */
    private colorUrl(color: Color): pulumi.Output<string> {
        return pulumi.interpolate`http://${colorServiceName(this.serviceName, color)}.${this.args.namespace}.svc:${this.config.port}`;
    }

    /**
     * Its spec depends on (service, color, version) only; a new version is a new Job. It runs once
     * the color has rolled out (the provider awaits the Deployment) and the color's Service exists;
     * the provider awaits the Job, so a failure stops the update before the live Service switches.
     */
    private smokeTest(color: Color): k8s.batch.v1.Job {
        const { version } = this.colorConfig(color);
        const name = smokeJobName(this.serviceName, color, version);
        const target = colorServiceName(this.serviceName, color);
        return new k8s.batch.v1.Job(
            name,
            {
                metadata: {
                    name,
                    namespace: this.args.namespace,
                    labels: {
                        [ROLE_LABEL]: ROLES.smokeTest,
                        ...colorSelector(this.serviceName, color),
                        [LABELS.name]: `${this.serviceName}-smoke-test`,
                        [LABELS.version]: versionLabel(version),
                        ...platformLabels(),
                    },
                    annotations: { [ANNOTATIONS.targetService]: target },
                },
                spec: {
                    backoffLimit: 2,
                    activeDeadlineSeconds: 300,
                    template: {
                        // Not `{app, color}`: the Services would select these pods.
                        metadata: { labels: { [ROLE_LABEL]: ROLES.smokeTest, [SMOKE_TEST_OF_LABEL]: this.serviceName } },
                        spec: restrictedPodSpec({
                            runAsUser: CURL_UID,
                            restartPolicy: "Never",
                            containers: [this.smokeTestContainer(color)],
                        }),
                    },
                },
            },
            this.childOptions({
                dependsOn: [this.deployments[color], this.colorServices[color]],
                // A Job's pod template is immutable; the name is fixed, so delete first.
                replaceOnChanges: ["spec"],
                deleteBeforeReplace: true,
            }),
        );
    }

    private smokeTestContainer(color: Color): k8s.types.input.core.v1.Container {
        return {
            name: "smoke-test",
            image: this.args.smokeTestImage,
            imagePullPolicy: "IfNotPresent",
            command: ["/bin/sh", "-c", SMOKE_TEST_SCRIPT],
            env: [{ name: "TARGET_URL", value: this.colorUrl(color) }],
            resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
            securityContext: containerSecurityContext(),
            volumeMounts: [tmpMount],
        };
    }

    /** A color's own Service; its selector never changes, so promote and rollback leave it alone. */
    private colorService(color: Color): k8s.core.v1.Service {
        return this.service(colorServiceName(this.serviceName, color), "color", "ClusterIP", colorSelector(this.serviceName, color), [], {
            [LABELS.color]: color,
        });
    }

    /** ClusterIP for the preview and color Services (in-cluster only); NodePort for live, as ALB instance targets need. */
    private service(
        name: string,
        role: "live" | "preview" | "color",
        type: "ClusterIP" | "NodePort",
        selector: Record<string, string>,
        dependsOn: pulumi.Resource[] = [],
        extraLabels: Record<string, string> = {},
    ): k8s.core.v1.Service {
        return new k8s.core.v1.Service(
            name,
            {
                metadata: {
                    name,
                    namespace: this.args.namespace,
                    labels: {
                        [LABELS.app]: this.serviceName,
                        [ROLE_LABEL]: ROLES[role],
                        ...extraLabels,
                        [LABELS.name]: this.serviceName,
                        ...platformLabels(),
                    },
                },
                spec: {
                    type,
                    ...(type === "NodePort" ? { externalTrafficPolicy: "Cluster" } : {}),
                    selector,
                    // The named port resolves per pod: 3000 on app pods, 8080 on the maintenance page.
                    ports: [{ name: "http", port: this.config.port, targetPort: "http", protocol: "TCP" }],
                },
            },
            this.childOptions({ dependsOn }),
        );
    }

    private createLiveService(): k8s.core.v1.Service {
        const maintenance = this.args.maintenancePage;
        if (maintenance) {
            if (!maintenance.deployment) throw new Error(`${this.serviceName}: the maintenance page is not enabled, so it has no pods to route to`);
            return this.service(this.serviceName, "live", "NodePort", { ...maintenance.selector }, [maintenance.deployment]);
        }
        const live = this.config.live;
        const smokeTest = this.smokeTests[live];
        if (!smokeTest) throw new Error(`${this.serviceName}: the live color ${live} runs no replicas (the stack config check rejects this)`);
        return this.service(this.serviceName, "live", "NodePort", colorSelector(this.serviceName, live), [this.deployments[live], smokeTest]);
    }
}

/** GETs the readiness and the full health check; retries cover endpoint propagation after a rollout. */
export const SMOKE_TEST_SCRIPT = [
    "set -eu",
    `for path in ${READINESS_PATH} /health; do`,
    '  echo "GET ${TARGET_URL}${path}"',
    "  curl -fsS --retry 5 --retry-delay 3 --retry-all-errors --connect-timeout 5 --max-time 10 \\",
    "    -o /dev/null -w '%{http_code} in %{time_total}s\\n' \"${TARGET_URL}${path}\"",
    "done",
].join("\n");
