// The stack config as the running Pulumi program reads it, through the SDK: the values, and the
// secrets only as Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import { ALERTING_KEYS } from "./alerting";
import { parseStackConfig, REGION_KEY } from "./parse";
import { PROJECT, StackConfig } from "./types";

/** The stack config of the running Pulumi program. */
export function loadStackConfig(): StackConfig {
    const raw = withRegionFromEnvironment(pulumi.runtime.allConfig());
    // `isConfigSecret` is left out of the SDK's typings but is how the SDK itself tells secure: values.
    const isSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;
    return parseStackConfig(
        raw,
        pulumi.getStack(),
        `Pulumi.${pulumi.getStack()}.yaml`,
        Object.keys(raw).filter((k) => isSecret(k)),
    );
}

/** The AWS provider takes its region from `AWS_REGION` or `AWS_DEFAULT_REGION` when `aws:region` is unset. */
function withRegionFromEnvironment(raw: Record<string, string>): Record<string, string> {
    const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    return raw[REGION_KEY] === undefined && region ? { ...raw, [REGION_KEY]: region } : raw;
}

/** The Redis URL as a Pulumi secret, when configured (store it with `pulumi config set --secret`). */
export function redisUrlSecret(config: StackConfig): pulumi.Output<string> | undefined {
    return config.hasRedisUrl ? new pulumi.Config(PROJECT).requireSecret("redisUrl") : undefined;
}

/** The alert receivers' credentials as Pulumi secrets: the chat webhook URL, and the paging routing key when paging is on. */
export function alertingSecrets(config: StackConfig): { chatWebhookUrl: pulumi.Output<string>; pagingRoutingKey?: pulumi.Output<string> } {
    const project = new pulumi.Config(PROJECT);
    return {
        chatWebhookUrl: project.requireSecret(ALERTING_KEYS.chatWebhookUrl),
        ...(config.alerting.paging ? { pagingRoutingKey: project.requireSecret(ALERTING_KEYS.pagingRoutingKey) } : {}),
    };
}
