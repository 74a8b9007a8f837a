// The platform charts come from the chart table for the cluster's Kubernetes minor, checked on the
// resources the real program registers for the shipped stacks and for every minor the table covers;
// the table covers exactly the supported minors, each autoscaler chart is built for its minor and
// grants what that autoscaler needs, and every value the program sets exists in the pinned chart's
// upstream values.yaml (Helm ignores unknown keys silently).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { CHART_TABLE_VERSIONS, PLATFORM_CHART_VERSIONS, platformChartVersions } from "../chartVersions";
import { Checker } from "../config/reader";
import { kubernetesVersionIn } from "../config/checks";
import { EKS_SUPPORTED_VERSIONS } from "../thresholds";
import { byType, configValue, inputs, ProgramRun, readStackConfig, runProgram } from "./harness";
import { chartRelease, only, recordedPlatform, T } from "./support/platform";
import { upstreamValuesFile } from "./support/upstream";

const runs = recordedPlatform();

/**
 * The first cluster-autoscaler chart whose ClusterRole lets the autoscaler list and watch
 * storage.k8s.io volumeattachments (kubernetes/autoscaler f1d00648, "Adds volumeattachments
 * resource permissions to the Cluster Autoscaler Helm chart"); autoscaler 1.32+ waits for that
 * informer to sync before its first loop, so an older chart stalls it.
 */
const AUTOSCALER_CHART_WITH_VOLUMEATTACHMENTS = "9.46.3";

/** Values the charts read as free-form maps, each entry becoming a flag: no key of them is in values.yaml. */
const FREE_FORM_VALUES: Record<string, string[]> = { "cluster-autoscaler": ["extraArgs"] };

/** The charts whose values this file compares with upstream (kube-prometheus-stack's are checked with its monitors and routing). */
const VALUES_CHECKED = ["metrics-server", "aws-load-balancer-controller", "cluster-autoscaler"];

function upstreamValues(chart: string, version: string): any {
    return yaml.load(fs.readFileSync(upstreamValuesFile(chart, version), "utf8"));
}

function isMap(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The value paths in `set` that `upstream` (a chart's values.yaml) has no key for; below an empty map anything goes. */
function unknownValuePaths(set: Record<string, unknown>, upstream: unknown, freeForm: readonly string[], prefix = ""): string[] {
    return Object.entries(set).flatMap(([key, value]) => {
        const at = prefix ? `${prefix}.${key}` : key;
        if (freeForm.includes(at)) return [];
        if (!isMap(upstream) || !(key in upstream)) return [at];
        const known = upstream[key];
        if (isMap(value) && isMap(known) && Object.keys(known).length > 0) return unknownValuePaths(value, known, freeForm, at);
        if (isMap(value) && known !== null && !isMap(known)) return [`${at} (a map where the chart has ${JSON.stringify(known)})`];
        return [];
    });
}

/** Compares two dotted numeric versions. */
function compareVersions(a: string, b: string): number {
    const [x, y] = [a, b].map((v) => v.split(".").map(Number));
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
}

/** Asserts that every chart `run` installs is at the table's version for `kubernetesVersion`, the autoscaler image too. */
function assertChartsFromTable(run: ProgramRun, kubernetesVersion: string, what: string) {
    const entry = PLATFORM_CHART_VERSIONS[kubernetesVersion];
    assert.ok(entry, `${what}: the table has Kubernetes ${kubernetesVersion}`);
    const installed = Object.fromEntries(byType(run, T.helm).map((r) => [inputs(r).chart, inputs(r).version]));
    assert.deepEqual(installed, entry.charts, `${what}: Helm releases at the table's versions for ${kubernetesVersion}`);
    assert.equal(
        inputs(chartRelease(run, "cluster-autoscaler")).values.image.tag,
        entry.clusterAutoscalerImageTag,
        `${what}: the autoscaler image of Kubernetes ${kubernetesVersion}`,
    );
}

function assertValuesExistUpstream(run: ProgramRun, what: string) {
    for (const release of byType(run, T.helm).map(inputs)) {
        if (!VALUES_CHECKED.includes(release.chart)) continue;
        const unknown = unknownValuePaths(release.values, upstreamValues(release.chart, release.version), FREE_FORM_VALUES[release.chart] ?? []);
        assert.deepEqual(unknown, [], `${what}: values ${release.chart} ${release.version} does not have`);
    }
}

describe("platform: chart versions from the chart table", function () {
    this.timeout(300_000);

    /** The shipped prod config with the cluster on each minor the table covers. */
    const perMinor = new Map<string, ProgramRun>();
    before(async () => {
        const cluster = configValue<object>(readStackConfig("prod"), "cluster");
        for (const version of CHART_TABLE_VERSIONS) {
            perMinor.set(version, await runProgram({ stack: "prod", overrides: { cluster: { ...cluster, kubernetesVersion: version } } }));
        }
    });

    it("the table covers exactly the Kubernetes minors in EKS standard support, oldest first", () => {
        assert.deepEqual(CHART_TABLE_VERSIONS, EKS_SUPPORTED_VERSIONS);
        assert.deepEqual(
            [...CHART_TABLE_VERSIONS].sort((a, b) => compareVersions(a, b)),
            CHART_TABLE_VERSIONS,
        );
    });

    it("each minor's autoscaler chart ships that minor's autoscaler and grants it volumeattachments", () => {
        for (const [minor, entry] of Object.entries(PLATFORM_CHART_VERSIONS)) {
            const chart = entry.charts["cluster-autoscaler"];
            assert.match(
                entry.clusterAutoscalerImageTag,
                new RegExp(`^v${minor.replace(".", "\\.")}\\.\\d+$`),
                `${minor}: the autoscaler of the cluster's minor`,
            );
            assert.equal(
                upstreamValues("cluster-autoscaler", chart).image.tag,
                entry.clusterAutoscalerImageTag,
                `${minor}: chart ${chart} is built for (its default image is) the autoscaler the table runs`,
            );
            assert.ok(
                compareVersions(chart, AUTOSCALER_CHART_WITH_VOLUMEATTACHMENTS) >= 0,
                `${minor}: chart ${chart} predates ${AUTOSCALER_CHART_WITH_VOLUMEATTACHMENTS}, whose ClusterRole first grants volumeattachments`,
            );
        }
    });

    for (const name of ["staging", "prod"] as const) {
        it(`${name}: every Helm release is at the table's version for the stack's Kubernetes version, the autoscaler image too`, () => {
            const run = name === "staging" ? runs.staging : runs.prod;
            const kubernetesVersion = configValue<{ kubernetesVersion: string }>(run.source, "cluster").kubernetesVersion;
            assertChartsFromTable(run, kubernetesVersion, name);
            assert.equal(inputs(only(run, T.eks)).version, kubernetesVersion);
        });
    }

    it("a cluster on any minor the table covers gets that minor's charts and autoscaler", () => {
        for (const [version, run] of perMinor) {
            assert.equal(inputs(only(run, T.eks)).version, version);
            assertChartsFromTable(run, version, `prod on ${version}`);
        }
        const autoscalerCharts = new Set([...perMinor.values()].map((run) => inputs(chartRelease(run, "cluster-autoscaler")).version));
        assert.equal(autoscalerCharts.size, perMinor.size, "one autoscaler chart per minor");
    });

    it("every value the program sets exists in the pinned chart's upstream values.yaml", () => {
        for (const { name, run } of runs.stacks) assertValuesExistUpstream(run, name);
        for (const [version, run] of perMinor) assertValuesExistUpstream(run, `prod on ${version}`);
    });

    it("the values comparison reports a key the chart does not have, and a map where the chart has a scalar", () => {
        const upstream = upstreamValues("cluster-autoscaler", PLATFORM_CHART_VERSIONS["1.35"].charts["cluster-autoscaler"]);
        const set = {
            image: { tag: "v1.35.0", tga: "x" },
            rbac: { serviceAccount: { annotations: { any: "thing" } } },
            cloudProvider: { aws: true },
            extraArgs: { v: 2 },
        };
        assert.deepEqual(unknownValuePaths(set, upstream, ["extraArgs"]), ["image.tga", 'cloudProvider (a map where the chart has "aws")']);
        assert.deepEqual(unknownValuePaths({ extraArgs: { "skip-nodes-with-local-storage": false } }, upstream, []), [
            "extraArgs.skip-nodes-with-local-storage",
        ]);
    });

    it("refuses a Kubernetes minor the table has no charts for, naming the key and the minors it covers", () => {
        const c = new Checker();
        assert.equal(kubernetesVersionIn(["1.35", "1.36"], ["1.35"])(c, "cluster.kubernetesVersion", "1.36"), undefined);
        assert.equal(c.problems.length, 1);
        assert.equal(c.problems[0].key, "cluster.kubernetesVersion");
        assert.match(c.problems[0].message, /"1\.36" has no platform chart versions \(chartVersions\.ts covers 1\.35\).*allowed: one of "1\.35" /);
        assert.equal(kubernetesVersionIn(["1.35", "1.36"], ["1.35"])(c, "cluster.kubernetesVersion", "1.35"), "1.35");
        assert.throws(() => platformChartVersions("1.31"), /no platform chart versions for Kubernetes 1\.31; the table covers 1\.32, 1\.33, 1\.34, 1\.35/);
        assert.throws(() => platformChartVersions("constructor"), /no platform chart versions for Kubernetes constructor/);
    });
});
