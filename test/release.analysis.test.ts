// The release command's analysis on a real Prometheus over synthetic history of prod's services, on
// copies of the prod stack file: `release watch` starts a service's window at its recorded promote
// and hands a failed service to the release's own rollback step; `promote --prometheus` measures the
// idle color before the switch and refuses the promote when it fails.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalPrometheus, startPrometheus } from "../tools/analysis/localPrometheus";
import { colorSeries, history, toOpenMetrics } from "../tools/analysis/syntheticHistory";
import { execute } from "../tools/cli";
import { parseReleaseArgs, release } from "../tools/release";
import { ROOT } from "./harness";

const NAMESPACE = "api-platform-prod";
const MINUTES = 41;
/** The failing colors go bad this many minutes into the history. */
const BAD_FROM = 15;

describe("release watch and promote --prometheus", function () {
    this.timeout(300_000);
    let prometheus: LocalPrometheus | undefined;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "release-analysis-test-"));
    const historyStart = Math.floor(Date.now() / 60_000) * 60 - (MINUTES - 1) * 60;
    const promotedAt = historyStart + 9 * 60;

    before(async () => {
        // auth-service's live blue fails after its promote; user-service's idle green fails before its switch.
        const bad = { errorRatio: 0.05 };
        const series = [
            ...colorSeries(history("auth-service", "blue", NAMESPACE, MINUTES, bad, BAD_FROM)),
            ...colorSeries(history("auth-service", "green", NAMESPACE, MINUTES)),
            ...colorSeries(history("user-service", "blue", NAMESPACE, MINUTES)),
            ...colorSeries(history("user-service", "green", NAMESPACE, MINUTES, bad, BAD_FROM)),
        ];
        prometheus = await startPrometheus(toOpenMetrics(series, historyStart));
    });
    after(async () => {
        await prometheus?.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** A copy of the shipped prod file, edited by `edit`. */
    function prodCopy(name: string, edit: (text: string) => string = (t) => t): string {
        const file = path.join(tmp, name, "Pulumi.prod.yaml");
        fs.mkdirSync(path.dirname(file));
        fs.writeFileSync(file, edit(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")));
        return file;
    }

    async function releaseRun(file: string, args: string[]): Promise<{ code: number; out: string }> {
        const opts = parseReleaseArgs([...args, "--stack", "prod", "--config", file, "--prometheus", prometheus!.url], { progress: () => undefined });
        const run = await execute(() => release(opts));
        return { code: run.code, out: run.output + (run.error ?? "") };
    }

    it("watch measures the live color from its promote and shows the release's rollback of the failed service", async () => {
        // auth-service's blue was promoted with the release (1.2.3); green still runs the previous 1.2.2.
        const promoted = new Date(promotedAt * 1000).toISOString();
        const file = prodCopy("watch", (t) =>
            t.replace(
                "live: blue\n      blue: { version: 1.2.2, replicas: 5 }\n      green: { version: 1.2.3, replicas: 5 }\n",
                `live: blue\n      promotedAt: "${promoted}"\n      blue: { version: 1.2.3, replicas: 5 }\n      green: { version: 1.2.2, replicas: 5 }\n`,
            ),
        );
        assert.ok(fs.readFileSync(file, "utf8").includes(`promotedAt: "${promoted}"`), "the copy records the promote");
        const original = fs.readFileSync(file, "utf8");
        const run = await releaseRun(file, ["watch", "--service", "auth-service"]);
        assert.equal(run.code, 1, run.out);
        assert.match(run.out, /^auth-service\/blue in api-platform-prod: FAILED: errorRate failed/m);
        // The first measurement is one initial delay (1m) after the recorded promote.
        const firstMeasurement = new Date((promotedAt + 60) * 1000).toISOString().slice(11, 19);
        assert.match(run.out, new RegExp(`^time .*\\n${firstMeasurement} {2}`, "m"), run.out);
        assert.match(run.out, /^Analysis FAILED for auth-service: roll back\.\nRollback of auth-service:\nRelease prod: rollback auth-service /m);
        assert.match(run.out, /^ {2}services\.auth-service\.live: "blue" → "green"$/m);
        assert.match(run.out, /^Shown only; nothing written\./m);
        assert.equal(fs.readFileSync(file, "utf8"), original);
    });

    it("promote measures the idle color before the switch and refuses when it fails, before planning or writing", async () => {
        const file = prodCopy("promote");
        const original = fs.readFileSync(file, "utf8");
        // --hotfix: the analysis runs now, outside prod's change window.
        const run = await releaseRun(file, ["promote", "--service", "user-service", "--hotfix", "--write"]);
        assert.equal(run.code, 1, run.out);
        assert.match(run.out, /^Refused; nothing written\n {2}analysis before the switch: user-service\/green in api-platform-prod: FAILED: errorRate failed/m);
        assert.match(run.out, /\[analysis\]\n$/);
        assert.doesNotMatch(run.out, /^Resource changes/m);
        assert.equal(fs.readFileSync(file, "utf8"), original);
    });
});
