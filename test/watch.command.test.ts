// `npm run watch` end to end: the real command in a subprocess against a real Prometheus over
// synthetic history of prod's services, a window that has already passed (`--since`).
import * as assert from "node:assert/strict";
import { execFile } from "child_process";
import * as path from "path";
import { LocalPrometheus, startPrometheus } from "../tools/analysis/localPrometheus";
import { authorizationFromEnv, PrometheusSetupError } from "../tools/analysis/prometheus";
import { colorSeries, history, toOpenMetrics } from "../tools/analysis/syntheticHistory";
import { ROOT } from "./harness";

const NAMESPACE = "api-platform-prod";
const MINUTES = 41;

function watchCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            ["-r", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "tools", "watch.ts"), ...args],
            { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
            (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? -1) : 0, stdout, stderr }),
        );
    });
}

describe("npm run watch", function () {
    this.timeout(180_000);
    let prometheus: LocalPrometheus | undefined;
    const historyStart = Math.floor(Date.now() / 60_000) * 60 - (MINUTES - 1) * 60;
    const since = new Date((historyStart + 9 * 60) * 1000).toISOString();

    before(async () => {
        // prod's live color is blue everywhere; auth-service's blue starts failing 15 minutes in.
        const series = ["auth-service", "user-service", "org-service"].flatMap((service) => [
            ...colorSeries(history(service, "blue", NAMESPACE, MINUTES, service === "auth-service" ? { errorRatio: 0.05 } : {}, 15)),
            ...colorSeries(history(service, "green", NAMESPACE, MINUTES)),
        ]);
        prometheus = await startPrometheus(toOpenMetrics(series, historyStart));
    });
    after(async () => {
        await prometheus?.stop();
    });

    it("fails the service whose error rate passed 1%, shows its rollback, and reports every service in JSON", async () => {
        const run = await watchCli(["--stack", "prod", "--all", "--prometheus", prometheus!.url, "--since", since, "--json"]);
        assert.equal(run.code, 1, run.stderr);
        const doc = JSON.parse(run.stdout);
        assert.equal(doc.result, "failed");
        assert.deepEqual(
            doc.analyses.map((a: any) => [a.target.service, a.target.color, a.phase]),
            [
                ["auth-service", "blue", "failed"],
                ["user-service", "blue", "passed"],
                ["org-service", "blue", "passed"],
            ],
        );
        assert.deepEqual(doc.rollback.services, ["auth-service"]);
        assert.match(doc.rollback.output, /would run: npm run release -- rollback --stack prod --service auth-service --apply/);
        // A progress line per interval on stderr, never on stdout.
        assert.match(run.stderr, /user-service\/blue 30\/30 .* 0s left/);
    });

    it("passes one healthy service with a table of every measurement", async () => {
        const run = await watchCli(["--stack", "prod", "--service", "user-service", "--prometheus", prometheus!.url, "--since", since]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^user-service\/blue in api-platform-prod: PASSED/);
        assert.equal(run.stdout.split("\n").filter((l) => /^\d\d:\d\d:\d\d {2}/.test(l)).length, 30);
        assert.match(run.stdout, /Analysis PASSED for user-service\./);
    });

    it("--apply, which runs the release's rollback, refuses without the Pulumi CLI before watching (exit 2)", async () => {
        // Only node's own directory on PATH: no `pulumi` there.
        const noCli = await watchCli(["--stack", "prod", "--all", "--prometheus", prometheus!.url, "--since", since, "--apply"], {
            PATH: path.dirname(process.execPath),
        });
        assert.equal(noCli.code, 2, noCli.stderr);
        assert.match(noCli.stderr, /^error: --apply needs the Pulumi CLI \(`pulumi` on PATH.*\).*nothing was written\n$/);
        assert.equal(noCli.stdout, "", "nothing was measured");
    });

    it("refuses credentials on the command line and an unknown service (exit 2), before any query", async () => {
        const url = prometheus!.url.replace("http://", "http://admin:hunter2@");
        const creds = await watchCli(["--stack", "prod", "--all", "--prometheus", url]);
        assert.equal(creds.code, 2);
        assert.match(creds.stderr, /--prometheus must not carry credentials; set PROMETHEUS_BEARER_TOKEN or PROMETHEUS_USERNAME\/PROMETHEUS_PASSWORD instead/);
        assert.doesNotMatch(creds.stderr + creds.stdout, /hunter2/);
        const unknown = await watchCli(["--stack", "prod", "--service", "billing", "--prometheus", prometheus!.url]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /unknown service billing \(services: auth-service, user-service, org-service\)/);
    });

    it("takes bearer or basic credentials from the environment only", () => {
        assert.equal(authorizationFromEnv({ PROMETHEUS_BEARER_TOKEN: "t0k3n" }), "Bearer t0k3n");
        assert.equal(authorizationFromEnv({ PROMETHEUS_USERNAME: "ci", PROMETHEUS_PASSWORD: "pw" }), `Basic ${Buffer.from("ci:pw").toString("base64")}`);
        assert.equal(authorizationFromEnv({}), undefined);
        assert.throws(() => authorizationFromEnv({ PROMETHEUS_USERNAME: "ci" }), PrometheusSetupError);
        assert.throws(() => authorizationFromEnv({ PROMETHEUS_BEARER_TOKEN: "t", PROMETHEUS_PASSWORD: "pw" }), /not both/);
    });
});
