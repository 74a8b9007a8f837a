// Thresholds that the stack config checks and the policy pack's defaults share, each defined once.
//
// Dependency-free on purpose: the policy pack imports this file and must stay loadable on its own
// (`pulumi preview --policy-pack policies`), so it imports nothing.

/**
 * The Kubernetes minor versions an EKS cluster may pin: those in EKS standard support (November
 * 2026). Review whenever EKS releases a version or one leaves standard support (EKS's version
 * calendar: https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html).
 * policies/config/<stack>.json repeat this list; a test keeps them equal.
 */
export const EKS_SUPPORTED_VERSIONS: readonly string[] = ["1.32", "1.33", "1.34", "1.35"];

/** The date `RDS_POSTGRES_VERSIONS` was last compared with what RDS offers. */
export const RDS_POSTGRES_VERSIONS_CHECKED = "2025-11-13";

/**
 * PostgreSQL versions RDS offers in standard support, per major: the oldest and newest minor.
 * A stack pins a major ("16", minors then follow auto minor version upgrades) or a major.minor in
 * that range. Compare with `aws rds describe-db-engine-versions --engine postgres` and update
 * `RDS_POSTGRES_VERSIONS_CHECKED` when you do.
 */
export const RDS_POSTGRES_VERSIONS: Readonly<Record<string, { oldestMinor: number; newestMinor: number }>> = {
    "14": { oldestMinor: 12, newestMinor: 20 },
    "15": { oldestMinor: 7, newestMinor: 15 },
    "16": { oldestMinor: 3, newestMinor: 11 },
    "17": { oldestMinor: 1, newestMinor: 7 },
    "18": { oldestMinor: 1, newestMinor: 1 },
};

/** Days of automated RDS backups a prod primary keeps at least; RDS allows at most 35. */
export const PROD_MIN_BACKUP_RETENTION_DAYS = 7;
export const MAX_BACKUP_RETENTION_DAYS = 35;

/** Read replicas a prod primary has at least, and any primary at most. */
export const PROD_MIN_READ_REPLICAS = 1;
export const MAX_READ_REPLICAS = 5;

/** Availability zones a stack spans at least (prod: 3, so losing one zone keeps a majority). */
export const MIN_AVAILABILITY_ZONES = { staging: 2, prod: 3 } as const;
/** The subnet layout gives each zone an eighth of the VPC block, for at most 6 zones. */
export const MAX_AVAILABILITY_ZONES = 6;

/** Days CloudWatch keeps the platform's logs (VPC flow logs, EKS control-plane logs). */
export const LOG_RETENTION_DAYS = { staging: 90, prod: 365 } as const;

/** Every app container's requests and limits (runbook: requests cpu 500m/memory 512Mi, limits cpu 1000m/memory 1Gi). */
export const CONTAINER_RESOURCES = {
    requests: { cpu: "500m", memory: "512Mi" },
    limits: { cpu: "1000m", memory: "1Gi" },
} as const;

/** Replicas a live color runs at least in prod. */
export const PROD_MIN_LIVE_REPLICAS = 5;
