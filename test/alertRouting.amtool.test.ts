// Alertmanager's own tool on the configuration both stacks give it: the program's AlertmanagerConfig
// rendered as the alertmanager.yaml the Prometheus Operator generates from a global
// AlertmanagerConfig (receivers named `<namespace>/<name>/<receiver>`, matchers as
// `name="value"`, credentials read from the Secret), then `amtool check-config` on it and
// `amtool config routes test` for every alert of the program's rules and the chart's Watchdog.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { byName, byType, inputs, ProgramRun } from "./harness";
import { recordedPlatform, T } from "./support/platform";

const runs = recordedPlatform();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "amtool-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Matcher {
    name: string;
    value: string;
    matchType: string;
}

const matcherText = (m: Matcher) => `${m.name}${m.matchType}${JSON.stringify(m.value)}`;

/** The operator's conversion of a global AlertmanagerConfig, for the fields the program sets. */
function alertmanagerYaml(run: ProgramRun): { file: string; prefix: string } {
    const config = inputs(byType(run, T.alertmanagerConfig)[0]);
    const secret = inputs(byName(run, T.k8sSecret, "alert-routing-receivers"));
    const prefix = `${config.metadata.namespace}/${config.metadata.name}/`;
    const credential = (selector: { name: string; key: string }) => {
        assert.equal(selector.name, secret.metadata.name);
        return secret.stringData[selector.key];
    };
    const route = (r: any): any => ({
        receiver: prefix + r.receiver,
        ...(r.groupBy ? { group_by: r.groupBy } : {}),
        ...(r.groupWait ? { group_wait: r.groupWait } : {}),
        ...(r.groupInterval ? { group_interval: r.groupInterval } : {}),
        ...(r.repeatInterval ? { repeat_interval: r.repeatInterval } : {}),
        ...(r.matchers ? { matchers: r.matchers.map(matcherText) } : {}),
        ...(r.continue ? { continue: true } : {}),
        ...(r.routes ? { routes: r.routes.map(route) } : {}),
    });
    const receiver = (r: any) => ({
        name: prefix + r.name,
        ...(r.slackConfigs
            ? {
                  slack_configs: r.slackConfigs.map((c: any) => ({
                      api_url: credential(c.apiURL),
                      send_resolved: c.sendResolved,
                      title: c.title,
                      text: c.text,
                  })),
              }
            : {}),
        ...(r.pagerdutyConfigs
            ? {
                  pagerduty_configs: r.pagerdutyConfigs.map((c: any) => ({
                      routing_key: credential(c.routingKey),
                      send_resolved: c.sendResolved,
                      severity: c.severity,
                  })),
              }
            : {}),
    });
    const inhibit = (i: any) => ({ source_matchers: i.sourceMatch.map(matcherText), target_matchers: i.targetMatch.map(matcherText), equal: i.equal });
    const file = path.join(tmp, `${run.stack}-alertmanager.yaml`);
    const document = { route: route(config.spec.route), receivers: config.spec.receivers.map(receiver), inhibit_rules: config.spec.inhibitRules.map(inhibit) };
    fs.writeFileSync(file, yaml.dump(document, { lineWidth: -1 }));
    return { file, prefix };
}

function amtool(args: string[]): { status: number | null; output: string } {
    const result = spawnSync("amtool", args, { encoding: "utf8" });
    assert.equal(result.error, undefined, `amtool (Debian's prometheus-alertmanager) must be on PATH: ${result.error}`);
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The receivers Alertmanager picks for an alert with these labels. */
function receiversFor(file: string, labels: Record<string, string>): string[] {
    const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    const result = spawnSync("amtool", ["config", "routes", "test", `--config.file=${file}`, ...args], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim().split(",").filter(Boolean).sort();
}

describe("alert routing under amtool (both stacks)", function () {
    this.timeout(120_000);

    for (const stack of ["staging", "prod"] as const) {
        it(`${stack}: amtool check-config accepts the configuration, with its receivers and inhibitions`, () => {
            const { file } = alertmanagerYaml(runs[stack]);
            const { status, output } = amtool(["check-config", file]);
            assert.equal(status, 0, output);
            assert.match(output, /SUCCESS/);
            assert.match(output, new RegExp(`- ${stack === "prod" ? 3 : 2} receivers`));
            assert.match(output, /- 3 inhibit rules/);
        });

        it(`${stack}: Alertmanager sends each alert of the program's rules to chat, and critical ones to on-call in prod; Watchdog to nobody`, () => {
            const run = runs[stack];
            const { file, prefix } = alertmanagerYaml(run);
            const alerts = byType(run, T.prometheusRule).flatMap((r) => inputs(r).spec.groups.flatMap((g: any) => g.rules));
            assert.ok(alerts.length >= 30);
            for (const alert of alerts) {
                const expected = stack === "prod" && alert.labels.severity === "critical" ? "oncall" : "chat";
                assert.deepEqual(
                    receiversFor(file, { alertname: alert.alert, ...alert.labels }),
                    [prefix + expected],
                    `${alert.alert} (${alert.labels.severity})`,
                );
            }
            assert.deepEqual(receiversFor(file, { alertname: "Watchdog", severity: "none" }), [`${prefix}discard`]);
            assert.deepEqual(receiversFor(file, { alertname: "SomethingElse" }), [`${prefix}chat`]);
        });
    }

    it("the chat message templates parse and render (Alertmanager's template functions)", () => {
        const config = inputs(byType(runs.prod, T.alertmanagerConfig)[0]);
        // amtool wants template files besides the text; the program adds none to Alertmanager's own.
        const none = path.join(tmp, "none.tmpl");
        fs.writeFileSync(none, "");
        const slack = config.spec.receivers.flatMap((r: any) => r.slackConfigs ?? []);
        assert.ok(slack.length > 0);
        for (const template of slack.flatMap((c: any) => [c.title, c.text])) {
            const { status, output } = amtool(["template", "render", `--template.glob=${none}`, `--template.text=${template}`]);
            assert.equal(status, 0, `${template}: ${output}`);
        }
    });
});
