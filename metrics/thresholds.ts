// The release thresholds the deployment runbooks state, each defined once: the alert rules encode
// them, the release analysis takes its defaults from them, and policies may check against them.
// Ratios are 0–1, latencies seconds, durations Prometheus durations.

/** Severity levels of the runbooks' "Alert Thresholds" table, plus `warning` for a missed target. */
export const SEVERITIES = ["critical", "high", "medium", "low", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Escalation matrix: P0 critical pages the on-call engineer; every other severity goes to the team's chat channel. */
export const PAGED_SEVERITIES: readonly Severity[] = ["critical"];

/**
 * Escalation matrix response times (P0 critical 15 minutes, P1 high 1 hour, P2 medium 4 hours, P3
 * low 24 hours; a missed target is no user impact, like low): an alert still firing is notified
 * again once its response time has passed.
 */
export const RESPONSE_TIMES: Readonly<Record<Severity, string>> = { critical: "15m", high: "1h", medium: "4h", low: "24h", warning: "24h" };

/** Alertmanager grouping: one notification per alert and service, sent 30s after the first alert, updates every 5m at most. */
export const NOTIFICATION_GROUPING = { groupBy: ["alertname", "namespace", "service"], groupWait: "30s", groupInterval: "5m" } as const;

export const THRESHOLDS = {
    /** Alert thresholds, critical: API downtime > 1 minute. */
    apiDowntime: { for: "1m" },
    /** When to roll back: error rate > 1% → immediate rollback (prod's strictest). */
    errorRateImmediateRollback: { ratio: 0.01 },
    /** Alert thresholds, high: error rate > 5%; decision matrix: > 5% for > 5 min → rollback. */
    errorRateHigh: { ratio: 0.05, for: "5m" },
    /** Automatic rollback triggers: error rate exceeds 10% for > 5 minutes. */
    errorRateAutomaticRollback: { ratio: 0.1, for: "5m" },
    /** Key metrics to monitor: response time p95 < 500 ms. */
    latencyP95Target: { seconds: 0.5 },
    /** Alert thresholds, medium: response time p95 > 1000 ms. */
    latencyP95Medium: { seconds: 1 },
    /** Automatic rollback triggers: API response time exceeds 2000 ms p95 for > 5 minutes. */
    latencyP95AutomaticRollback: { seconds: 2, for: "5m" },
    /** When to roll back: response time > 2× normal. */
    latencyBaselineFactor: 2,
    /** Decision matrix: pod restarts > 3 in 5 min. */
    podRestarts: { count: 3, window: "5m" },
    /** Automatic rollback triggers: service health checks fail for > 3 consecutive attempts. */
    healthCheckFailures: 3,
    /** Key metrics to monitor: CPU usage < 80%, memory usage < 80%. */
    resourceTarget: { ratio: 0.8 },
    /** Alert thresholds, low: CPU usage > 90%. */
    cpuLow: { ratio: 0.9 },
    /** High resource usage: memory > 90% (the OOM kill is next). */
    memoryCritical: { ratio: 0.9, for: "5m" },
    /** Production: monitor for 30 minutes after the switch. */
    prodMonitoringWindow: "30m",
    /** Blue/green deployment: monitor for 15 minutes, then scale down blue. */
    monitoringWindow: "15m",
} as const;
