import * as assert from "node:assert/strict";
import * as a from "../policies/aws";
import { EKS_SUPPORTED_VERSIONS, RDS_POSTGRES_VERSIONS, RDS_POSTGRES_VERSIONS_CHECKED } from "../thresholds";
import { parseStackConfig, StackConfigError } from "../config";
import { configValue, readStackConfig, withOverrides } from "./harness";

const prod = readStackConfig("prod");
const DAY = 24 * 3600 * 1000;
/** How long the supported-version lists may go without a review. */
const REVIEW_EVERY_DAYS = 540;

function rejects(overrides: Record<string, unknown>, key: string): boolean {
    const source = withOverrides(prod, overrides);
    try {
        parseStackConfig(source.config, "prod", source.file, source.secretKeys);
        return false;
    } catch (e) {
        assert.ok(e instanceof StackConfigError);
        return e.problems.some((p) => p.key === key);
    }
}

describe("shared thresholds", () => {
    it("the stack config accepts exactly the Kubernetes versions the policy pack allows by default", () => {
        assert.equal(a.EKS_ALLOWED_VERSIONS, EKS_SUPPORTED_VERSIONS);
        const cluster = configValue<object>(prod, "cluster");
        for (const version of EKS_SUPPORTED_VERSIONS)
            assert.equal(rejects({ cluster: { ...cluster, kubernetesVersion: version } }, "cluster.kubernetesVersion"), false, version);
        const [oldest, newest] = [EKS_SUPPORTED_VERSIONS[0], EKS_SUPPORTED_VERSIONS[EKS_SUPPORTED_VERSIONS.length - 1]];
        for (const version of [`1.${Number(oldest.slice(2)) - 1}`, `1.${Number(newest.slice(2)) + 1}`]) {
            assert.equal(rejects({ cluster: { ...cluster, kubernetesVersion: version } }, "cluster.kubernetesVersion"), true, version);
        }
    });

    it(`the RDS PostgreSQL versions were last checked on ${RDS_POSTGRES_VERSIONS_CHECKED}, less than ${REVIEW_EVERY_DAYS} days ago`, () => {
        const checked = Date.parse(`${RDS_POSTGRES_VERSIONS_CHECKED}T00:00:00Z`);
        assert.ok(!Number.isNaN(checked) && checked <= Date.now(), RDS_POSTGRES_VERSIONS_CHECKED);
        assert.ok(
            Date.now() - checked < REVIEW_EVERY_DAYS * DAY,
            `compare RDS_POSTGRES_VERSIONS with what RDS offers and update RDS_POSTGRES_VERSIONS_CHECKED`,
        );
    });

    it("the stack config accepts each offered PostgreSQL major and minor, and refuses the rest", () => {
        const database = configValue<object>(prod, "database");
        const refused = (engineVersion: string) => rejects({ database: { ...database, engineVersion } }, "database.engineVersion");
        for (const [major, { oldestMinor, newestMinor }] of Object.entries(RDS_POSTGRES_VERSIONS)) {
            assert.ok(oldestMinor <= newestMinor, major);
            for (const v of [major, `${major}.${oldestMinor}`, `${major}.${newestMinor}`]) assert.equal(refused(v), false, v);
            for (const v of [`${major}.${oldestMinor - 1}`, `${major}.${newestMinor + 1}`]) assert.equal(refused(v), true, v);
        }
        for (const v of ["12", "13.4", "99", "16.x", "latest"]) assert.equal(refused(v), true, v);
    });
});
