// Release-safety policies: stack policies over the whole graph of a blue/green release.
import { PolicyResource } from "@pulumi/policy";
import { ANNOTATIONS, LABELS, MAINTENANCE_NAME } from "../conventions";
import { durationSeconds } from "../metrics/duration";
import { THRESHOLDS } from "../metrics/thresholds";
import { AWS } from "./aws";
import { deploymentsLabelled, liveServicesOf, selectedDeployments, selectorOf, servicesNamed } from "./kubernetes";
import {
    Graph,
    K8S,
    Maybe,
    Props,
    ROLES,
    ROLE_LABEL,
    annotationsOf,
    groupBy,
    hasRole,
    once,
    isKnown,
    labelsOf,
    namespaceKey,
    objectName,
    peek,
    replicasOf,
    resourcePolicy,
    stackPolicy,
} from "./util";

function isMaintenance(selector: Record<string, string>): boolean {
    return selector[LABELS.app] === MAINTENANCE_NAME || selector[LABELS.color] === MAINTENANCE_NAME;
}

function describeSelector(selector: Record<string, string>): string {
    return Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
}

function smokeTestsOf(graph: Graph): PolicyResource[] {
    return graph.ofType(K8S.job).filter((j) => hasRole(j.props, ROLES.smokeTest));
}

function migrationJobsOf(graph: Graph): PolicyResource[] {
    return graph.ofType(K8S.job).filter((j) => hasRole(j.props, ROLES.migration));
}

// ---- Live traffic -------------------------------------------------------------------------------

export const liveServiceRoutesToRunningPods = stackPolicy({
    name: "release-live-service-routes-to-running-pods",
    description: "A live Service's selector matches the pods of a Deployment that exists and has replicas > 0 (no traffic to a missing or scaled-down color).",
    check: ({ graph, report }) => {
        for (const service of liveServicesOf(graph)) {
            const selector = selectorOf(service);
            const selected = selectedDeployments(graph, service);
            const running = selected.filter((d) => {
                const replicas = replicasOf(d.resource.props);
                return !isKnown(replicas) || replicas > 0;
            });
            if (selected.length === 0) {
                report(
                    `live Service ${objectName(service)} selects ${describeSelector(selector)} but no Deployment in its namespace has those pod labels; point it at a deployed color`,
                    service.urn,
                );
            } else if (running.length === 0) {
                report(
                    `live Service ${objectName(service)} routes to ${selected.map((d) => objectName(d.resource)).join(", ")}, scaled to 0; scale the color up before switching traffic to it`,
                    service.urn,
                );
            }
        }
    },
});

interface ReleaseManifest {
    resource: PolicyResource;
    data: Record<string, string>;
}

/** The `release-manifest` ConfigMap (docs/conventions.md) with its data, if the stack declares one. */
export function releaseManifestOf(graph: Graph): ReleaseManifest | undefined {
    const resource = graph.ofType(K8S.configMap).find((c) => hasRole(c.props, ROLES.manifest));
    if (!resource) return undefined;
    const data = peek(() => ({ ...(resource.props.data ?? {}) }));
    return { resource, data: isKnown(data) ? data : {} };
}

export const liveColorNotScaledToZero = stackPolicy({
    name: "release-live-color-not-scaled-to-zero",
    description: "The Deployment a live Service routes to (the live color) keeps replicas > 0; only the idle color may be scaled to 0.",
    check: ({ graph, report }) => {
        for (const service of liveServicesOf(graph)) {
            if (isMaintenance(selectorOf(service))) continue;
            for (const deployment of selectedDeployments(graph, service)) {
                const replicas = replicasOf(deployment.resource.props);
                if (isKnown(replicas) && replicas === 0) {
                    const { [LABELS.app]: app, [LABELS.color]: color } = deployment.podLabels;
                    report(
                        `${app}'s live color ${color} is scaled to 0; keep the live color at its replica count and scale only the idle color down`,
                        deployment.resource.urn,
                    );
                }
            }
        }
    },
});

export const liveServiceSmokeTested = stackPolicy({
    name: "release-live-service-smoke-tested",
    description:
        "A live Service depends on the smoke-test Job (release-platform/role: smoke-test) of the color it routes to, so traffic switches only after the smoke test passed.",
    check: ({ graph, report }) => {
        const smokeTests = smokeTestsOf(graph);
        // Indexed by app and color once, not searched per live Service.
        const byAppAndColor = once(() => groupBy(smokeTests, (j) => JSON.stringify([labelsOf(j.props)[LABELS.app], labelsOf(j.props)[LABELS.color]])));
        for (const service of liveServicesOf(graph)) {
            const selector = selectorOf(service);
            if (isMaintenance(selector)) continue;
            const candidates = (byAppAndColor().get(JSON.stringify([selector[LABELS.app], selector[LABELS.color]])) ?? []).filter(
                (j) => namespaceKey(j) === namespaceKey(service),
            );
            const name = objectName(service);
            if (candidates.length === 0) {
                report(
                    `no smoke-test Job for ${selector[LABELS.app]}/${selector[LABELS.color]}; add one and make live Service ${name} dependsOn it`,
                    service.urn,
                );
            } else if (!candidates.some((j) => graph.dependsOn(service, j))) {
                report(
                    `live Service ${name} does not depend on smoke-test Job ${objectName(candidates[0])}; add dependsOn so traffic switches only after it passed`,
                    service.urn,
                );
            }
        }
    },
});

interface AlertConfig {
    ruleSuffix: string;
}

export const liveServiceHasAlerts = stackPolicy<AlertConfig>({
    name: "release-live-service-alerts",
    description: "Every live Service has alert rules: a PrometheusRule named `<service>-alerts` or labeled app=<service>.",
    configSchema: { properties: { ruleSuffix: { type: "string", default: "-alerts" } } },
    check: ({ graph, config, report }) => {
        const rules = graph.ofType(K8S.prometheusRule);
        // Names and app labels collected once, not searched per live Service.
        const ruleNames = new Set(rules.map((r) => objectName(r)));
        const ruleApps = once(() => new Set(rules.map((r) => labelsOf(r.props)[LABELS.app])));
        for (const service of liveServicesOf(graph)) {
            const name = objectName(service);
            if (!ruleNames.has(`${name}${config.ruleSuffix}`) && !ruleApps().has(name)) {
                report(`live Service ${name} has no alert rules; add PrometheusRule ${name}${config.ruleSuffix} labeled app=${name}`, service.urn);
            }
        }
    },
});

// ---- Alert delivery -----------------------------------------------------------------------------

/** The upstream chart whose Alertmanager the stack runs. */
const KUBE_PROMETHEUS_STACK = "kube-prometheus-stack";

/** A receiver's integrations that hold at least one entry: `slackConfigs` (AlertmanagerConfig) or `slack_configs` (alertmanager.yaml). */
function integrationsOf(receiver: Props | undefined): string[] {
    return Object.entries(receiver ?? {})
        .filter(([key, value]) => /(Configs|_configs)$/.test(key) && Array.isArray(value) && value.length > 0)
        .map(([key]) => key);
}

/** Why a root route reaches nobody, or `undefined` when it leads to a receiver with an integration. */
function rootRouteProblem(route: Props | undefined, receivers: Props[] | undefined): string | undefined {
    const name = route?.receiver;
    if (typeof name !== "string" || name === "") return "has no root route with a receiver";
    const receiver = (receivers ?? []).find((r) => r?.name === name);
    if (!receiver) return `routes to receiver ${JSON.stringify(name)}, which it does not define`;
    if (integrationsOf(receiver).length === 0) return `routes to receiver ${JSON.stringify(name)}, which has no integration (nobody is notified)`;
    return undefined;
}

/** Why the release's Alertmanager notifies nobody by default, or `undefined`. */
function alertmanagerProblem(graph: Graph, release: PolicyResource): string | undefined {
    const alertmanager = release.props.values?.alertmanager;
    if (alertmanager?.enabled === false) return undefined;
    const global = alertmanager?.alertmanagerSpec?.alertmanagerConfiguration?.name;
    if (typeof global === "string" && global !== "") {
        const config = graph
            .ofType(K8S.alertmanagerConfig)
            .find((c) => objectName(c) === global && (namespaceKey(c) ?? "default") === (release.props.namespace ?? "default"));
        if (!config)
            return `names AlertmanagerConfig ${global} as Alertmanager's configuration, but the stack has none by that name in ${release.props.namespace}`;
        const problem = rootRouteProblem(config.props.spec?.route, config.props.spec?.receivers);
        return problem && `its AlertmanagerConfig ${global} ${problem}`;
    }
    if (alertmanager?.config?.route === undefined) {
        return 'Alertmanager keeps the chart\'s default configuration, which routes every alert to receiver "null" with no integration (nobody is notified)';
    }
    const problem = rootRouteProblem(alertmanager.config.route, alertmanager.config.receivers);
    return problem && `Alertmanager's configuration (alertmanager.config) ${problem}`;
}

export const alertsReachAReceiver = stackPolicy({
    name: "release-alerts-reach-a-receiver",
    description:
        "Alerts reach someone: a kube-prometheus-stack release with Alertmanager enabled gets a configuration whose root route leads to a receiver with an integration (chat, pager). The chart's default routes every alert to a receiver named null that notifies nobody.",
    check: ({ graph, report }) => {
        for (const release of graph.ofType(K8S.helmRelease)) {
            if (peek(() => release.props.chart) !== KUBE_PROMETHEUS_STACK) continue;
            const problem = peek(() => alertmanagerProblem(graph, release));
            if (!isKnown(problem) || problem === undefined) continue;
            report(
                `${KUBE_PROMETHEUS_STACK} release ${release.name}: ${problem}; set alertmanager.alertmanagerSpec.alertmanagerConfiguration.name to an AlertmanagerConfig in its namespace whose route.receiver has a Slack, PagerDuty or other integration`,
                release.urn,
            );
        }
    },
});

// ---- Smoke tests --------------------------------------------------------------------------------

/** The Deployment of one color of a service, in the Job's namespace. */
function colorDeployment(graph: Graph, job: PolicyResource, app: string, color: string) {
    return deploymentsLabelled(graph, namespaceKey(job), LABELS.app, app).find((d) => d.podLabels[LABELS.color] === color);
}

export const smokeTestTargetsItsColor = stackPolicy({
    name: "release-smoke-test-targets-its-color",
    description:
        "A smoke-test Job tests the color it gates: the Service named by its release-platform/target-service annotation selects only pods of the Job's app and color. A Job that tests another color (the live one, say) would pass a switch to pods nobody tested.",
    check: ({ graph, report }) => {
        for (const job of smokeTestsOf(graph)) {
            const { [LABELS.app]: app, [LABELS.color]: color } = labelsOf(job.props);
            const name = objectName(job);
            const target = peek(() => annotationsOf(job.props)[ANNOTATIONS.targetService]);
            if (!isKnown(target)) continue;
            if (typeof target !== "string" || target === "") {
                report(
                    `smoke-test Job ${name} does not say which Service it tests; annotate it with ${ANNOTATIONS.targetService}: <a Service selecting app=${app},color=${color}>`,
                    job.urn,
                );
                continue;
            }
            const [service] = servicesNamed(graph, namespaceKey(job), target);
            if (!service) {
                report(
                    `smoke-test Job ${name} targets Service ${target}, which the stack does not define; point it at a Service selecting app=${app},color=${color}`,
                    job.urn,
                );
                continue;
            }
            const others = selectedDeployments(graph, service).filter((d) => d.podLabels[LABELS.app] !== app || d.podLabels[LABELS.color] !== color);
            const selector = selectorOf(service);
            if (others.length || selector[LABELS.app] !== app || selector[LABELS.color] !== color) {
                const reached = others.length ? others.map((d) => objectName(d.resource)).join(", ") : describeSelector(selector);
                report(
                    `smoke-test Job ${name} gates ${app}/${color} but tests Service ${target}, which reaches ${reached}; point it at a Service selecting app=${app},color=${color}`,
                    job.urn,
                );
            }
        }
    },
});

export const smokeTestMatchesColorVersion = stackPolicy({
    name: "release-smoke-test-matches-color-version",
    description:
        "A smoke-test Job carries the version its color's Deployment runs (label app.kubernetes.io/version): a Job left over from another version proves nothing about the pods a switch would send traffic to.",
    check: ({ graph, report }) => {
        for (const job of smokeTestsOf(graph)) {
            const labels = labelsOf(job.props);
            const name = objectName(job);
            const [app, color] = [labels[LABELS.app], labels[LABELS.color]];
            const deployment = colorDeployment(graph, job, app, color);
            if (!deployment) {
                report(`smoke-test Job ${name} tests ${app}/${color}, which has no Deployment; remove the Job or deploy that color`, job.urn);
                continue;
            }
            const running = deployment.podLabels[LABELS.version];
            if (running !== undefined && labels[LABELS.version] !== running) {
                report(
                    `smoke-test Job ${name} is for version ${labels[LABELS.version] ?? "(unlabeled)"} but ${objectName(deployment.resource)} runs ${running}; replace it with the smoke test of ${running}`,
                    job.urn,
                );
            }
        }
    },
});

// ---- Alert thresholds ---------------------------------------------------------------------------

interface AlertThresholdConfig {
    errorRate: number;
    downtimeFor: string;
    maxLoosening: number;
}

interface PrometheusAlert {
    alert: string;
    expr: string;
    for?: string;
}

/** A 5xx error-rate alert: the ratio it fires above (the last `> x` of its expression). */
function errorRateThreshold(rule: PrometheusAlert): number | undefined {
    if (!/status=~?"5/.test(rule.expr)) return undefined;
    const m = /(?:>|>=)\s*([0-9.]+(?:e-?\d+)?)\s*$/.exec(rule.expr.trim());
    return m ? Number(m[1]) : Infinity;
}

/** An alert that fires when the service has no ready endpoint (the API is down). */
function isDowntimeAlert(rule: PrometheusAlert): boolean {
    return /kube_endpoint_address|\bup\b/.test(rule.expr) && /==\s*0\s*$/.test(rule.expr.trim());
}

export const alertThresholdsWithinRunbook = resourcePolicy<AlertThresholdConfig>({
    name: "release-alert-thresholds-within-runbook",
    description:
        "A service's PrometheusRule keeps the runbooks' alert thresholds: it has a 5xx error-rate alert and an API-downtime alert, no error-rate alert fires above errorRate × maxLoosening, and the downtime alert's `for:` is at most downtimeFor × maxLoosening, so a rollback signal is never silenced by a loosened rule.",
    types: [K8S.prometheusRule],
    configSchema: {
        properties: {
            errorRate: {
                type: "number",
                exclusiveMinimum: 0,
                default: THRESHOLDS.errorRateHigh.ratio,
                description: "The runbooks' high error rate (5xx ratio).",
            },
            downtimeFor: {
                type: "string",
                pattern: "^(\\d+(ms|s|m|h|d|w|y))+$",
                default: THRESHOLDS.apiDowntime.for,
                description: "The runbooks' critical API downtime.",
            },
            maxLoosening: { type: "number", minimum: 1, default: 2, description: "How many times looser than the runbook value an alert may be." },
        },
    },
    check: ({ name, props, config, report }) => {
        const rules: PrometheusAlert[] = (props.spec?.groups ?? [])
            .flatMap((g: Props) => g.rules ?? [])
            .filter((r: Props) => r.alert && typeof r.expr === "string");
        const ruleName = objectName({ name, props });
        const maxErrorRate = config.errorRate * config.maxLoosening;
        // An unparsable duration is NaN here, which no comparison passes.
        const maxDowntime = (durationSeconds(config.downtimeFor) ?? NaN) * config.maxLoosening;
        const errorAlerts = rules.filter((r) => errorRateThreshold(r) !== undefined);
        const downtimeAlerts = rules.filter(isDowntimeAlert);
        if (!errorAlerts.length) report(`PrometheusRule ${ruleName} has no 5xx error-rate alert; add one firing above ${config.errorRate}`);
        if (!downtimeAlerts.length)
            report(`PrometheusRule ${ruleName} has no API-downtime alert; add one on kube_endpoint_address{ready="true"} == 0 with for: ${config.downtimeFor}`);
        for (const r of errorAlerts) {
            const threshold = errorRateThreshold(r)!;
            if (threshold > maxErrorRate)
                report(
                    `PrometheusRule ${ruleName}: ${r.alert} fires above ${threshold}, looser than ${maxErrorRate} (${config.maxLoosening} × the runbooks' ${config.errorRate}); lower it to ${config.errorRate}`,
                );
        }
        for (const r of downtimeAlerts) {
            const waits = durationSeconds(r.for ?? "0s") ?? NaN;
            if (!(waits <= maxDowntime))
                report(
                    `PrometheusRule ${ruleName}: ${r.alert} waits for: ${r.for}, longer than ${config.maxLoosening} × the runbooks' ${config.downtimeFor}; set for: ${config.downtimeFor}`,
                );
        }
    },
});

// ---- Migrations ---------------------------------------------------------------------------------

/**
 * What a database reference can be matched by: the identifier when known, and — when the value is
 * computed from an RDS instance (unknown during preview) — that instance's URN and known identifier.
 */
function databaseRefs(graph: Graph, r: PolicyResource, prop: string, value: Maybe<unknown>): Set<string> {
    const refs = new Set<string>();
    if (isKnown(value) && typeof value === "string") refs.add(value);
    for (const instance of graph.sourcesOf(r, prop, AWS.rdsInstance)) {
        refs.add(instance.urn);
        const identifier = peek(() => instance.props.identifier);
        if (isKnown(identifier) && typeof identifier === "string") refs.add(identifier);
    }
    return refs;
}

function intersects(a: Set<string>, b: Set<string>): boolean {
    return [...a].some((x) => b.has(x));
}

/**
 * The snapshot must also be `retainOnDelete` (docs/conventions.md), but CrossGuard can't see that:
 * the analyzer protocol's AnalyzerResourceOptions has no retainOnDelete field, so no policy can
 * check it. The program guarantees it, and test/platform.test.ts asserts it on the recorded
 * resources; test/policies.analyzer.test.ts fails if a future SDK starts sending the option.
 */
export const migrationAfterSnapshot = stackPolicy({
    name: "release-migration-after-snapshot",
    description:
        "Every migration Job (release-platform/role: migration) depends on an aws:rds/snapshot:Snapshot of the database it migrates (annotation release-platform/database); its retainOnDelete is invisible to CrossGuard and guaranteed by the program.",
    check: ({ graph, report }) => {
        for (const job of migrationJobsOf(graph)) {
            const name = objectName(job);
            const annotation = peek(() => annotationsOf(job.props)[ANNOTATIONS.database]);
            if (annotation === undefined) {
                report(`migration Job ${name} does not say which database it migrates; annotate it with ${ANNOTATIONS.database}: <db identifier>`, job.urn);
                continue;
            }
            const target = databaseRefs(graph, job, "metadata", annotation);
            const snapshots = [...graph.dependenciesOf(job)].filter((d) => d.type === AWS.rdsSnapshot);
            // A target neither known nor traceable to an instance can't be matched: any snapshot dependency counts.
            const ofTarget = snapshots.filter(
                (s) =>
                    target.size === 0 ||
                    intersects(
                        target,
                        databaseRefs(
                            graph,
                            s,
                            "dbInstanceIdentifier",
                            peek(() => s.props.dbInstanceIdentifier),
                        ),
                    ),
            );
            const described = isKnown(annotation) ? String(annotation) : "its database";
            if (ofTarget.length === 0) {
                const other = snapshots.length ? ` (it depends on snapshots of other databases: ${snapshots.map((s) => s.name).join(", ")})` : "";
                report(
                    `migration Job ${name} does not depend on a snapshot of ${described}${other}; take an aws.rds.Snapshot of ${described} and add it to the Job's dependsOn`,
                    job.urn,
                );
            }
        }
    },
});

export const podsAfterMigration = stackPolicy({
    name: "release-pods-after-migration",
    description:
        "A Deployment running a release that has a migration Job (same app.kubernetes.io/version) depends on that Job, so the new code never starts against the old schema.",
    check: ({ graph, report }) => {
        for (const migration of migrationJobsOf(graph)) {
            const release = labelsOf(migration.props)[LABELS.version];
            if (release === undefined) continue;
            for (const d of deploymentsLabelled(graph, namespaceKey(migration), LABELS.version, release)) {
                if (!graph.dependsOn(d.resource, migration)) {
                    report(
                        `Deployment ${objectName(d.resource)} runs release ${release} but does not wait for its migration Job ${objectName(migration)}; add the Job to the Deployment's dependsOn`,
                        d.resource.urn,
                    );
                }
            }
        }
    },
});

// ---- Change window ------------------------------------------------------------------------------

interface WindowConfig {
    day: string;
    start: string;
    end: string;
    timeZone: string;
    /** False where releases may go out unscheduled (staging deploys daily); a declared time is still checked. */
    requireSchedule: boolean;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** An en-US formatter of `fields` in a time zone, built once: building one costs about as much as a hundred uses. */
export function zonedFormat(timeZone: string, fields: Omit<Intl.DateTimeFormatOptions, "timeZone">): Intl.DateTimeFormat {
    const key = `${timeZone} ${JSON.stringify(fields)}`;
    let format = formats.get(key);
    if (!format) {
        format = new Intl.DateTimeFormat("en-US", { timeZone, ...fields });
        formats.set(key, format);
    }
    return format;
}

const WALL_CLOCK_FIELDS: Intl.DateTimeFormatOptions = { weekday: "long", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Weekday and minutes since midnight of an instant in a time zone (DST-aware through Intl). */
export function wallClock(instant: Date, timeZone: string): { weekday: string; minutes: number; text: string } {
    const parts = zonedFormat(timeZone, WALL_CLOCK_FIELDS).formatToParts(instant);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
    const [hour, minute] = [Number(part("hour")), Number(part("minute"))];
    return { weekday: part("weekday"), minutes: hour * 60 + minute, text: `${part("weekday")} ${part("hour")}:${part("minute")}` };
}

function minutesOf(hhmm: string): number {
    const [h, m] = hhmm.split(":").map(Number);
    return h * 60 + (m || 0);
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Why `scheduledAt` is outside the window, or undefined when it is inside. */
export function outsideWindow(scheduledAt: string | undefined, window: WindowConfig): string | undefined {
    const describe = `${window.day} ${window.start}–${window.end} ${window.timeZone}`;
    if (!scheduledAt) return `the release has no scheduledAt; schedule it inside the change window (${describe}) or mark it hotfix`;
    if (!ISO_WITH_OFFSET.test(scheduledAt) || Number.isNaN(Date.parse(scheduledAt))) {
        return `scheduledAt "${scheduledAt}" is not an ISO 8601 time with offset, e.g. 2026-11-26T14:30:00-05:00`;
    }
    const local = wallClock(new Date(scheduledAt), window.timeZone);
    const inside = local.weekday === window.day && local.minutes >= minutesOf(window.start) && local.minutes < minutesOf(window.end);
    return inside
        ? undefined
        : `scheduledAt ${scheduledAt} is ${local.text} in ${window.timeZone}, outside the change window (${describe}); reschedule it or mark the release hotfix`;
}

export const changeWindow = stackPolicy<WindowConfig>({
    name: "release-change-window",
    description: "A release (the release-manifest ConfigMap) is scheduled inside the change window unless it is a hotfix.",
    configSchema: {
        properties: {
            day: { type: "string", enum: WEEKDAYS, default: "Thursday" },
            start: { type: "string", pattern: "^([01]\\d|2[0-3]):[0-5]\\d$", default: "14:00" },
            end: { type: "string", pattern: "^([01]\\d|2[0-4]):[0-5]\\d$", default: "16:00" },
            timeZone: { type: "string", default: "America/New_York" },
            requireSchedule: { type: "boolean", default: true },
        },
    },
    check: ({ graph, config, report }) => {
        const manifest = releaseManifestOf(graph);
        if (!manifest) {
            report(
                `the stack declares no release-manifest ConfigMap (label ${ROLE_LABEL}: ${ROLES.manifest}), so its release can't be checked against the change window; add it`,
            );
            return;
        }
        if (manifest.data.hotfix === "true") return;
        if (!manifest.data.scheduledAt && !config.requireSchedule) return;
        const problem = outsideWindow(manifest.data.scheduledAt, config);
        // The verdict and the message depend only on what the program declares, never on the clock.
        if (problem) report(problem, manifest.resource.urn);
    },
});

export const liveTrafficPolicies = [
    liveServiceRoutesToRunningPods,
    liveColorNotScaledToZero,
    liveServiceSmokeTested,
    liveServiceHasAlerts,
    smokeTestTargetsItsColor,
    smokeTestMatchesColorVersion,
    alertThresholdsWithinRunbook,
    alertsReachAReceiver,
];
export const migrationPolicies = [migrationAfterSnapshot, podsAfterMigration];
export const schedulePolicies = [changeWindow];

export const releasePolicies = [...liveTrafficPolicies, ...migrationPolicies, ...schedulePolicies];
