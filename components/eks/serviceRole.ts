// An IAM role that an AWS service (EKS, EC2) assumes, with AWS managed policies attached.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Tags } from "../tags";

export interface ServiceRole {
    role: aws.iam.Role;
    /** What uses the role must wait for these: without them the service's calls are denied. */
    attachments: aws.iam.RolePolicyAttachment[];
}

/**
 * Registers the role `name`, assumable by `service` (e.g. `eks.amazonaws.com`), and one attachment
 * per managed policy ARN, named `<name>-<policy name>`.
 */
export function serviceRole(name: string, service: string, policyArns: string[], tags: Tags, opts: pulumi.CustomResourceOptions): ServiceRole {
    const role = new aws.iam.Role(
        name,
        {
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
            }),
            tags,
        },
        opts,
    );
    const attachments = policyArns.map(
        (policyArn) => new aws.iam.RolePolicyAttachment(`${name}-${policyArn.split("/").pop()}`, { role: role.name, policyArn }, opts),
    );
    return { role, attachments };
}
