// Where alerts go: a chat webhook that every alert is posted to and, for critical alerts, a paging
// routing key for on-call. Both hold credentials, so both must be secrets (`secure:` values) and
// are never echoed; the program reads the values only as Pulumi secrets (`alertingSecrets`).
import { Checker, Fields } from "./reader";
import { AlertingConfig, Environment, PROJECT } from "./types";

/** The top-level keys of the alert receivers, both set with `pulumi config set --secret`. */
export const ALERTING_KEYS = {
    /** The chat channel's incoming-webhook URL (Slack, or a Slack-compatible chat). */
    chatWebhookUrl: "alertChatWebhookUrl",
    /** The PagerDuty Events API v2 routing (integration) key of the on-call service. */
    pagingRoutingKey: "alertPagingRoutingKey",
} as const;

const HTTPS_URL = /^https:\/\/[^\s/]+\/\S*$/;
/** PagerDuty integration keys are 32 letters and digits. */
const PAGERDUTY_ROUTING_KEY = /^[A-Za-z0-9]{32}$/;

/**
 * Reads the receivers: every stack posts to chat; prod also pages on-call for critical alerts, so
 * prod without either key is refused. Staging may leave paging out; its critical alerts then go
 * to chat only.
 */
export function parseAlerting(c: Checker, f: Fields, environment: Environment | undefined, secretKeys: readonly string[]): AlertingConfig | undefined {
    const chat = secretKey(c, f, ALERTING_KEYS.chatWebhookUrl, secretKeys, { pattern: HTTPS_URL, allowed: "an https:// incoming-webhook URL" });
    const paging = secretKey(c, f, ALERTING_KEYS.pagingRoutingKey, secretKeys, {
        pattern: PAGERDUTY_ROUTING_KEY,
        allowed: "a PagerDuty Events API v2 routing key (32 letters and digits)",
    });
    if (chat === "missing") {
        c.fail(
            ALERTING_KEYS.chatWebhookUrl,
            `is not set: without it no alert reaches anyone (Alertmanager's default route would have no receiver); set it with \`pulumi config set --secret ${ALERTING_KEYS.chatWebhookUrl} 'https://hooks.slack.com/services/…'\``,
        );
    }
    if (paging === "missing" && environment === "prod") {
        c.fail(
            ALERTING_KEYS.pagingRoutingKey,
            `is not set: prod pages on-call for critical alerts; set it with \`pulumi config set --secret ${ALERTING_KEYS.pagingRoutingKey} …\``,
        );
    }
    if (chat !== "valid" || paging === "invalid") return undefined;
    return { paging: paging === "valid" };
}

type SecretState = "missing" | "invalid" | "valid";

/** A credential-holding key: absent (or Pulumi.yaml's default ""), or a secret of the right shape. */
function secretKey(c: Checker, f: Fields, name: string, secretKeys: readonly string[], rule: { pattern: RegExp; allowed: string }): SecretState {
    const value = f.value(name);
    if (value === undefined || value === "") return "missing";
    let state: SecretState = "valid";
    if (!secretKeys.includes(`${PROJECT}:${name}`)) {
        c.fail(name, `holds credentials and must be a secret: set it with \`pulumi config set --secret ${name} …\` (value not shown)`);
        state = "invalid";
    }
    if (typeof value !== "string" || !rule.pattern.test(value)) {
        c.fail(name, `the secret value is not ${rule.allowed} (value not shown)`);
        state = "invalid";
    }
    return state;
}
