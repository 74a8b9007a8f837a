// Maintenance mode: while it is on, nginx answers 503 (with Retry-After) to every public path.
//
// The pods only exist while maintenance is on, so a live Service can only select them while they
// run. Leaving maintenance mode switches the live Services back first; Pulumi deletes the removed
// maintenance resources at the end of the update, after those switches.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ANNOTATIONS, LABELS, MAINTENANCE_NAME, MAINTENANCE_SELECTOR, platformLabels, versionLabel } from "../conventions";
import { containerSecurityContext, restrictedPodSpec, tmpMount } from "./podSpec";

export const MAINTENANCE_PORT = 8080;
/** UID of the nginx user in nginxinc/nginx-unprivileged. */
const NGINX_UID = 101;

export interface MaintenancePageArgs {
    /** The app namespace, where the live Services can select the maintenance pods. */
    namespace: pulumi.Input<string>;
    /** nginx-unprivileged image, pinned. */
    image: string;
    /** Whether maintenance mode is on: only then do the ConfigMap and the Deployment exist. */
    enabled: boolean;
    /** Defaults to 2, so a node drain never takes the page away. */
    replicas?: number;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

/**
 * The health paths answer 200 so the kubelet and the ALB health check (`/health/ready`) keep the
 * pods in service; they are not reachable from outside, because the Ingress only routes the
 * services' path prefixes. Every other path gets the 503.
 */
export const NGINX_CONF = `worker_processes 1;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;
events {
    worker_connections 1024;
}
http {
    access_log /dev/stdout;
    server_tokens off;
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    server {
        listen ${MAINTENANCE_PORT};
        location = /health/live {
            access_log off;
            default_type text/plain;
            return 200 "ok\\n";
        }
        location = /health/ready {
            access_log off;
            default_type text/plain;
            return 200 "ok\\n";
        }
        location / {
            default_type application/json;
            add_header Retry-After 300 always;
            add_header Cache-Control "no-store" always;
            return 503 '{"status":"maintenance","message":"The API is undergoing scheduled maintenance. Please retry shortly."}\\n';
        }
    }
}
`;

export class MaintenancePage extends pulumi.ComponentResource {
    readonly enabled: boolean;
    readonly selector = MAINTENANCE_SELECTOR;
    readonly port = MAINTENANCE_PORT;
    /** Only while enabled. */
    readonly deployment?: k8s.apps.v1.Deployment;

    constructor(name: string, args: MaintenancePageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:MaintenancePage", name, {}, opts);
        this.enabled = args.enabled;
        if (args.enabled) {
            const config = this.nginxConfig(args);
            this.deployment = this.nginxDeployment(args, config);
        }
        this.registerOutputs({ enabled: this.enabled });
    }

    private childOptions(args: MaintenancePageArgs): pulumi.CustomResourceOptions {
        return { parent: this, provider: args.provider };
    }

    private nginxConfig(args: MaintenancePageArgs): k8s.core.v1.ConfigMap {
        return new k8s.core.v1.ConfigMap(
            `${MAINTENANCE_NAME}-nginx`,
            {
                metadata: { name: `${MAINTENANCE_NAME}-nginx`, namespace: args.namespace, labels: labels(args.image) },
                data: { "nginx.conf": NGINX_CONF },
            },
            { ...this.childOptions(args), deleteBeforeReplace: true },
        );
    }

    private nginxDeployment(args: MaintenancePageArgs, config: k8s.core.v1.ConfigMap): k8s.apps.v1.Deployment {
        const podLabels = { ...labels(args.image), ...MAINTENANCE_SELECTOR };
        return new k8s.apps.v1.Deployment(
            MAINTENANCE_NAME,
            {
                metadata: { name: MAINTENANCE_NAME, namespace: args.namespace, labels: podLabels },
                spec: {
                    replicas: args.replicas ?? 2,
                    selector: { matchLabels: { ...MAINTENANCE_SELECTOR } },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    template: {
                        // A changed nginx.conf rolls the pods: subPath mounts never see updates.
                        metadata: { labels: podLabels, annotations: { [ANNOTATIONS.configHash]: hash(NGINX_CONF) } },
                        spec: restrictedPodSpec({
                            runAsUser: NGINX_UID,
                            terminationGracePeriodSeconds: 30,
                            containers: [nginxContainer(args.image)],
                            volumes: [{ name: "nginx-conf", configMap: { name: config.metadata.name } }],
                        }),
                    },
                },
            },
            this.childOptions(args),
        );
    }
}

function nginxContainer(image: string): k8s.types.input.core.v1.Container {
    const probe = (path: string, periodSeconds: number) => ({
        httpGet: { path, port: "http" },
        initialDelaySeconds: 2,
        periodSeconds,
        timeoutSeconds: 2,
        failureThreshold: 3,
    });
    return {
        name: "nginx",
        image,
        imagePullPolicy: "IfNotPresent",
        // Skips the image's entrypoint scripts, which try to edit files on the read-only root.
        command: ["nginx", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;"],
        ports: [{ name: "http", containerPort: MAINTENANCE_PORT, protocol: "TCP" }],
        resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
        livenessProbe: probe("/health/live", 10),
        readinessProbe: probe("/health/ready", 5),
        lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
        securityContext: containerSecurityContext(),
        volumeMounts: [tmpMount, { name: "nginx-conf", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf", readOnly: true }],
    };
}

function labels(image: string): Record<string, string> {
    const tag = image.includes("@") ? "digest" : (image.split(":").pop() ?? "unknown");
    return {
        [LABELS.name]: MAINTENANCE_NAME,
        [LABELS.instance]: MAINTENANCE_NAME,
        [LABELS.version]: versionLabel(tag),
        [LABELS.component]: "maintenance-page",
        ...platformLabels(),
    };
}

function hash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
}
