// The application namespace (restricted pod security) and the secret the services read.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { Environment } from "../config";

export interface AppNamespaceArgs {
    /** Name of the app namespace (never `default`), from config `namespace`. */
    namespace: string;
    /** `staging` or `prod`, as the namespace's `environment` label. */
    environment: Environment;
    /** Secret connection URL of the database the services use. */
    databaseUrl: pulumi.Input<string>;
    /** Secret Redis URL; `REDIS_URL` is only written when given. */
    redisUrl?: pulumi.Input<string>;
    /**
     * What must be running before anything lands in the namespace (nodes, add-ons, the load
     * balancer controller whose webhooks admit Services and Ingresses, the monitoring CRDs).
     * Every app resource takes the namespace name from this component, so they all wait.
     */
    waitFor: pulumi.Input<pulumi.Resource>[];
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

export const APP_SECRET_NAME = "app-secrets";

export class AppNamespace extends pulumi.ComponentResource {
    readonly namespaceName: pulumi.Output<string>;
    readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:AppNamespace", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const labels = {
            "app.kubernetes.io/part-of": "release-platform",
            "app.kubernetes.io/managed-by": "pulumi",
            environment: args.environment,
        };

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.namespace,
                    labels: {
                        ...labels,
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            },
            { ...childOpts, dependsOn: args.waitFor },
        );
        const jwtSecret = new random.RandomPassword(`${name}-jwt-secret`, { length: 64, special: false }, { parent: this });
        const secret = new k8s.core.v1.Secret(
            `${name}-secrets`,
            {
                metadata: { name: APP_SECRET_NAME, namespace: namespace.metadata.name, labels },
                type: "Opaque",
                stringData: appSecretData(args.databaseUrl, jwtSecret.result, args.redisUrl),
            },
            childOpts,
        );

        this.namespaceName = namespace.metadata.name;
        this.secretName = secret.metadata.name;
        this.registerOutputs({ namespaceName: this.namespaceName, secretName: this.secretName });
    }
}

/** Every value is a Pulumi secret on its own, so none can leak through a plain copy of the map. */
function appSecretData(
    databaseUrl: pulumi.Input<string>,
    jwtSecret: pulumi.Input<string>,
    redisUrl: pulumi.Input<string> | undefined,
): Record<string, pulumi.Output<string>> {
    return {
        DATABASE_URL: pulumi.secret(databaseUrl),
        JWT_SECRET: pulumi.secret(jwtSecret),
        ...(redisUrl !== undefined ? { REDIS_URL: pulumi.secret(redisUrl) } : {}),
    };
}
