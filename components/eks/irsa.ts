// IAM roles for service accounts (IRSA): a role that exactly one Kubernetes service account assumes
// through the cluster's OIDC provider, with its own managed policy.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Tags } from "../tags";

/** A Kubernetes service account, by namespace and name. */
export interface ServiceAccountRef {
    namespace: string;
    name: string;
}

export interface IrsaRoleArgs {
    /** The cluster's OIDC provider, which signs the service account's tokens. */
    oidc: aws.iam.OpenIdConnectProvider;
    /** The only service account that may assume the role. */
    serviceAccount: ServiceAccountRef;
    /** Description of the managed policy (what the role is for). */
    description: string;
    /** The managed policy's IAM document. */
    policy: object;
    /** Tags of the role and its policy. */
    tags: Tags;
}

export interface IrsaRole {
    role: aws.iam.Role;
    /** Workloads using the role should wait for it: before it exists their AWS calls are denied. */
    attachment: aws.iam.RolePolicyAttachment;
}

/** Registers the role, its managed policy and the attachment, each named `resourceName`. */
export function irsaRole(resourceName: string, args: IrsaRoleArgs, opts: pulumi.CustomResourceOptions): IrsaRole {
    const role = new aws.iam.Role(
        resourceName,
        { assumeRolePolicy: irsaTrustPolicy(args.oidc, args.serviceAccount.namespace, args.serviceAccount.name), tags: args.tags },
        opts,
    );
    const managedPolicy = new aws.iam.Policy(resourceName, { description: args.description, policy: JSON.stringify(args.policy), tags: args.tags }, opts);
    const attachment = new aws.iam.RolePolicyAttachment(resourceName, { role: role.name, policyArn: managedPolicy.arn }, opts);
    return { role, attachment };
}

/** Trust policy that lets exactly one Kubernetes service account assume a role through IRSA. */
export function irsaTrustPolicy(oidc: aws.iam.OpenIdConnectProvider, namespace: string, serviceAccount: string): pulumi.Output<string> {
    const issuerHostPath = oidc.url.apply((url) => url.replace(/^https:\/\//, ""));
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: oidc.arn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: issuerHostPath.apply((host) => ({
                        [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                        [`${host}:aud`]: "sts.amazonaws.com",
                    })),
                },
            },
        ],
    });
}

/** The annotation that makes EKS inject the role's credentials into a service account's pods. */
export function irsaAnnotations(role: aws.iam.Role): Record<string, pulumi.Output<string>> {
    return { "eks.amazonaws.com/role-arn": role.arn };
}
