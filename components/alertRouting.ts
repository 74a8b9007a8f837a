// Where alerts go: Alertmanager's whole configuration as an AlertmanagerConfig that
// kube-prometheus-stack's Alertmanager takes as its global configuration (the chart value
// `alertmanager.alertmanagerSpec.alertmanagerConfiguration`), with the receivers' credentials in a
// Secret next to it.
//
// Every alert is posted to the team's chat channel. Critical alerts (P0) also page the on-call
// engineer when a paging key is configured (always in prod). Each severity is notified again after
// its response time in the escalation matrix while it still fires. The root route leads to the chat,
// so no alert ends without a receiver; only the chart's Watchdog (a dead man's switch that always
// fires) and InfoInhibitor (which only silences) go nowhere.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    ALERT_RECEIVERS,
    ALERT_RECEIVERS_SECRET_KEYS,
    ALERT_RECEIVERS_SECRET_NAME,
    ALERT_ROUTING_NAME,
    platformLabels,
    ROLE_LABEL,
    ROLES,
} from "../conventions";
import { NOTIFICATION_GROUPING, PAGED_SEVERITIES, RESPONSE_TIMES, SEVERITIES } from "../metrics/thresholds";
import { MONITORING_NAMESPACE } from "./eks/charts";

export interface AlertRoutingArgs {
    /** The chat channel's incoming-webhook URL (a secret). */
    chatWebhookUrl: pulumi.Input<string>;
    /** The on-call service's PagerDuty routing key (a secret); without it critical alerts go to chat only. */
    pagingRoutingKey?: pulumi.Input<string>;
    /** The kube-prometheus-stack Helm release: it creates the monitoring namespace and the AlertmanagerConfig CRD. */
    monitoringStack: pulumi.Resource;
    /** The cluster's Kubernetes provider. */
    provider: k8s.Provider;
}

export class AlertRouting extends pulumi.ComponentResource {
    readonly config: k8s.apiextensions.CustomResource;

    constructor(name: string, args: AlertRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("release-platform:kubernetes:AlertRouting", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider, dependsOn: [args.monitoringStack] };
        const metadata = { namespace: MONITORING_NAMESPACE, labels: { [ROLE_LABEL]: ROLES.alertRouting, ...platformLabels() } };
        const secret = new k8s.core.v1.Secret(
            `${name}-receivers`,
            { metadata: { ...metadata, name: ALERT_RECEIVERS_SECRET_NAME }, type: "Opaque", stringData: receiverSecretData(args) },
            childOpts,
        );
        const paging = args.pagingRoutingKey !== undefined;
        this.config = new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "monitoring.coreos.com/v1alpha1",
                kind: "AlertmanagerConfig",
                metadata: { ...metadata, name: ALERT_ROUTING_NAME },
                spec: alertRoutingSpec({ paging, secretName: ALERT_RECEIVERS_SECRET_NAME }),
            },
            // The operator reads the receivers' credentials from the Secret when it builds the configuration.
            { ...childOpts, dependsOn: [args.monitoringStack, secret] },
        );
        this.registerOutputs({ name: ALERT_ROUTING_NAME, paging });
    }
}

/** Each value a Pulumi secret on its own, so none can leak through a plain copy of the map. */
function receiverSecretData(args: AlertRoutingArgs): Record<string, pulumi.Output<string>> {
    return {
        [ALERT_RECEIVERS_SECRET_KEYS.chatWebhookUrl]: pulumi.secret(args.chatWebhookUrl),
        ...(args.pagingRoutingKey !== undefined ? { [ALERT_RECEIVERS_SECRET_KEYS.pagingRoutingKey]: pulumi.secret(args.pagingRoutingKey) } : {}),
    };
}

export interface AlertRoutingOptions {
    /** Whether critical alerts page on-call. */
    paging: boolean;
    /** The Secret with the receivers' credentials, in the AlertmanagerConfig's namespace. */
    secretName: string;
}

/** The AlertmanagerConfig `spec` (monitoring.coreos.com/v1alpha1): receivers, and routes by severity. */
export function alertRoutingSpec(opts: AlertRoutingOptions) {
    const chat = slackConfig(opts.secretName);
    const receivers = [
        { name: ALERT_RECEIVERS.chat, slackConfigs: [chat] },
        ...(opts.paging ? [{ name: ALERT_RECEIVERS.oncall, pagerdutyConfigs: [pagerdutyConfig(opts.secretName)], slackConfigs: [chat] }] : []),
        // No integration on purpose: for the chart's alerts that are not meant for people.
        { name: ALERT_RECEIVERS.discard },
    ];
    const bySeverity = SEVERITIES.map((severity) => ({
        receiver: opts.paging && PAGED_SEVERITIES.includes(severity) ? ALERT_RECEIVERS.oncall : ALERT_RECEIVERS.chat,
        matchers: [matcher("severity", severity)],
        repeatInterval: RESPONSE_TIMES[severity],
    }));
    return {
        route: {
            // Alerts of any other severity (the chart's own `info`, or none) go to chat as well.
            receiver: ALERT_RECEIVERS.chat,
            groupBy: [...NOTIFICATION_GROUPING.groupBy],
            groupWait: NOTIFICATION_GROUPING.groupWait,
            groupInterval: NOTIFICATION_GROUPING.groupInterval,
            repeatInterval: RESPONSE_TIMES.low,
            routes: [
                // Watchdog always fires (for an external dead man's switch) and InfoInhibitor only
                // silences info alerts; posting them would keep the channel from ever being quiet.
                { receiver: ALERT_RECEIVERS.discard, matchers: [matcher("alertname", "Watchdog|InfoInhibitor", "=~")] },
                ...bySeverity,
            ],
        },
        receivers,
        inhibitRules: CHART_INHIBITIONS,
    };
}

const matcher = (name: string, value: string, matchType: "=" | "=~" = "=") => ({ name, value, matchType });

/**
 * The inhibitions of the chart's default configuration, which this one replaces: its rules fire
 * the same alert at several severities, and the more severe one silences the others (of the same
 * alert and namespace); InfoInhibitor silences info alerts.
 */
const CHART_INHIBITIONS = [
    { sourceMatch: [matcher("severity", "critical")], targetMatch: [matcher("severity", "warning|info", "=~")], equal: ["namespace", "alertname"] },
    { sourceMatch: [matcher("severity", "warning")], targetMatch: [matcher("severity", "info")], equal: ["namespace", "alertname"] },
    { sourceMatch: [matcher("alertname", "InfoInhibitor")], targetMatch: [matcher("severity", "info")], equal: ["namespace"] },
];

function slackConfig(secretName: string) {
    return {
        apiURL: { name: secretName, key: ALERT_RECEIVERS_SECRET_KEYS.chatWebhookUrl },
        sendResolved: true,
        title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }}{{ if .CommonLabels.service }}, {{ .CommonLabels.service }}{{ end }})",
        text: "{{ range .Alerts }}{{ .Annotations.summary }}{{ if .Annotations.threshold }} (threshold: {{ .Annotations.threshold }}){{ end }}\n{{ end }}",
    };
}

function pagerdutyConfig(secretName: string) {
    return {
        routingKey: { name: secretName, key: ALERT_RECEIVERS_SECRET_KEYS.pagingRoutingKey },
        sendResolved: true,
        severity: "critical",
    };
}
