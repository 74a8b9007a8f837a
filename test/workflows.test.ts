// The GitHub workflows and composite actions: valid for GitHub's own parser, and safe by the
// rules the pipelines promise (pinned actions, least permissions, OIDC, no printed secrets, every
// job that can change prod in the `production` environment, one update per stack at a time).
// Each rule is also shown catching a bad workflow.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { importEsm } from "./esm";
import {
    changesProd,
    concurrencyProblems,
    Finding,
    loadExpressionEngine,
    npmScriptsCalled,
    permissionProblems,
    prodJobsOutsideProduction,
    readWorkflow,
    scenarios,
    secretExposure,
    storedCloudKeys,
    unpinnedActions,
    Workflow,
    workflowFromText,
} from "./workflowChecks";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOW_DIR = path.join(ROOT, ".github", "workflows");
const ACTIONS_DIR = path.join(ROOT, ".github", "actions");

const workflowFiles = fs
    .readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(WORKFLOW_DIR, f));
const actionFiles = fs
    .readdirSync(ACTIONS_DIR)
    .map((d) => path.join(ACTIONS_DIR, d, "action.yml"))
    .filter((f) => fs.existsSync(f));

const quietTrace = { info: () => undefined, verbose: () => undefined, error: () => undefined };

interface Parsers {
    parseWorkflow: (file: { name: string; content: string }, trace: unknown) => any;
    convertWorkflowTemplate: (context: unknown, value: unknown) => Promise<any>;
    parseAction: (file: { name: string; content: string }, trace: unknown) => any;
}

/** Errors GitHub's parser reports for a workflow: schema errors, then those of the conversion to a template. */
async function workflowErrors(parsers: Parsers, name: string, content: string): Promise<string[]> {
    const parsed = parsers.parseWorkflow({ name, content }, quietTrace);
    const errors: string[] = parsed.context.errors.getErrors().map((e: any) => e.message);
    if (errors.length || !parsed.value) return errors.length ? errors : [`${name}: empty workflow`];
    const template = await parsers.convertWorkflowTemplate(parsed.context, parsed.value);
    return [...errors, ...(template.errors ?? []).map((e: any) => e.Message ?? e.message)];
}

function assertNoFindings(findings: Finding[]): void {
    assert.deepEqual(
        findings.map((f) => `${f.file} ${f.where}: ${f.problem}`),
        [],
    );
}

function bad(text: string): Workflow {
    return workflowFromText("bad.yml", text);
}

const workflows = () => workflowFiles.map(readWorkflow);
const workflowsAndActions = () => [...workflowFiles, ...actionFiles].map(readWorkflow);
const byName = (file: string) => readWorkflow(path.join(WORKFLOW_DIR, file));

describe("GitHub workflows", function () {
    let parsers: Parsers;

    before(async () => {
        const [workflowParser, actionParser] = await Promise.all([
            importEsm("@actions/workflow-parser"),
            importEsm("@actions/workflow-parser/actions/index"),
            loadExpressionEngine(),
        ]);
        parsers = {
            parseWorkflow: workflowParser.parseWorkflow,
            convertWorkflowTemplate: workflowParser.convertWorkflowTemplate,
            parseAction: actionParser.parseAction,
        };
    });

    it("ships the pull-request, comment, staging, production and rollback workflows", () => {
        assert.deepEqual(workflowFiles.map((f) => path.basename(f)).sort(), [
            "production.yml",
            "pull-request-comment.yml",
            "pull-request.yml",
            "rollback.yml",
            "staging.yml",
        ]);
    });

    describe("GitHub's parser (@actions/workflow-parser)", () => {
        for (const file of workflowFiles) {
            it(`parses ${path.basename(file)} without an error`, async () => {
                assert.deepEqual(await workflowErrors(parsers, path.basename(file), fs.readFileSync(file, "utf8")), []);
            });
        }
        for (const file of actionFiles) {
            it(`parses the composite action ${path.relative(ROOT, file)} without an error`, () => {
                const parsed = parsers.parseAction({ name: path.basename(file), content: fs.readFileSync(file, "utf8") }, quietTrace);
                assert.deepEqual(
                    parsed.context.errors.getErrors().map((e: any) => e.message),
                    [],
                );
            });
        }
        it("reports a workflow GitHub would reject: an unknown key, a bad permission, an unclosed expression", async () => {
            const errors = await workflowErrors(
                parsers,
                "bad.yml",
                "on: push\npermissions:\n  contents: writ\njobs:\n  a:\n    runs-on: ubuntu-latest\n    enviroment: production\n    steps:\n      - run: echo ${{ github.sha }\n",
            );
            assert.ok(
                errors.some((e) => /enviroment/.test(e)),
                errors.join("\n"),
            );
            assert.ok(
                errors.some((e) => /writ/.test(e)),
                errors.join("\n"),
            );
            assert.ok(
                errors.some((e) => /not closed/.test(e)),
                errors.join("\n"),
            );
        });
        it("reports a composite action GitHub would reject", () => {
            const parsed = parsers.parseAction(
                { name: "action.yml", content: "name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n" },
                quietTrace,
            );
            assert.ok(
                parsed.context.errors.getErrors().some((e: any) => /shell/.test(e.message)),
                "a composite run step needs a shell",
            );
        });
    });

    describe("npm scripts", () => {
        it("every npm script a workflow or composite action runs exists in package.json", () => {
            const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts);
            const called = [...new Set(workflowsAndActions().flatMap(npmScriptsCalled))];
            assert.ok(called.includes("plan") && called.includes("test") && called.includes("release"), `found: ${called.join(", ")}`);
            // The release command is being written alongside these workflows: until tools/release.ts
            // exists its script may be missing; from then on it must be in package.json like the rest.
            const landingSoon = fs.existsSync(path.join(ROOT, "tools", "release.ts")) ? [] : ["release"];
            assert.deepEqual(
                called.filter((s) => !scripts.includes(s) && !landingSoon.includes(s)),
                [],
            );
        });
        it("finds the scripts in `npm run <flags> name` and `npm test`", () => {
            const wf = bad("jobs:\n  a:\n    steps:\n      - run: |\n          npm run --silent release -- status\n          npm test\n          npm ci\n");
            assert.deepEqual(npmScriptsCalled(wf), ["release", "test"]);
        });
    });

    describe("production", () => {
        it("every job that can change prod runs in the production environment, for every input value", () => {
            assertNoFindings(workflows().flatMap(prodJobsOutsideProduction));
        });
        it("the jobs that change prod are the release, the finish and a rollback of prod", () => {
            const changing = workflows().flatMap((wf) =>
                Object.entries<any>(wf.doc.jobs).flatMap(([id, job]) =>
                    scenarios(wf, job)
                        .filter((c) => changesProd(job, c))
                        .map((c) => `${wf.file} ${id}${(c.inputs as any).stack ? ` stack=${(c.inputs as any).stack}` : ""}`),
                ),
            );
            assert.deepEqual([...new Set(changing)].sort(), ["production.yml finish", "production.yml release", "rollback.yml rollback stack=prod"]);
        });
        it("a rollback of staging runs in the staging environment, a rollback of prod in production", () => {
            const wf = byName("rollback.yml");
            const job = wf.doc.jobs.rollback;
            const staging = scenarios(wf, job).find((c) => (c.inputs as any).stack === "staging")!;
            assert.equal(changesProd(job, staging), undefined);
        });
        it("catches a prod job outside production: prod role, pulumi up on prod, release --apply on prod", () => {
            const findings = prodJobsOutsideProduction(
                bad(`on:
  workflow_dispatch:
    inputs:
      stack: { type: choice, options: [staging, prod] }
jobs:
  role:
    steps:
      - uses: ./.github/actions/setup
        with: { aws-role: "\${{ vars.AWS_PROD_ROLE_ARN }}" }
  up:
    environment: staging
    steps:
      - uses: pulumi/actions@0123456789012345678901234567890123456789
        with: { command: up, stack-name: prod }
  apply:
    environment: \${{ inputs.stack }}
    env: { STACK: "\${{ inputs.stack }}" }
    steps:
      - run: npm run release -- rollback --stack "$STACK" --all --apply
`),
            );
            assert.deepEqual(findings.map((f) => f.where.split(" ")[0]).sort(), ["jobs.apply", "jobs.role", "jobs.role", "jobs.up", "jobs.up"]);
            assert.ok(findings.find((f) => f.where.startsWith("jobs.apply"))!.where.includes('"stack":"prod"'));
        });
    });

    describe("actions and permissions", () => {
        it("every action from another repository is pinned to a 40-hex commit SHA with its version in a comment", () => {
            assertNoFindings(workflowsAndActions().flatMap(unpinnedActions));
            const pinned = workflowsAndActions().flatMap((wf) => [...wf.text.matchAll(/uses:\s*([\w-]+\/[\w.-]+)@[0-9a-f]{40} # v\d/g)].map((m) => m[1]));
            for (const action of ["actions/checkout", "actions/setup-node", "pulumi/actions", "aws-actions/configure-aws-credentials"])
                assert.ok(pinned.includes(action), action);
        });
        it("catches a tag, a branch, a short SHA, a missing version comment and an unpinned image", () => {
            const findings = unpinnedActions(
                bad(
                    "steps:\n  - uses: actions/checkout@v4\n  - uses: actions/checkout@main\n  - uses: actions/checkout@3d3c42e\n  - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1\n  - uses: docker://alpine:3\n  - uses: ./local\n",
                ),
            );
            assert.deepEqual(
                findings.map((f) => f.where),
                ["line 2", "line 3", "line 4", "line 5", "line 6"],
            );
        });
        it("permissions are set on every workflow and every job; id-token: write only where a role is assumed", () => {
            assertNoFindings(workflows().flatMap(permissionProblems));
        });
        it("catches missing permissions, write-all and an unused id-token", () => {
            const findings = permissionProblems(
                bad(
                    "on: push\njobs:\n  a:\n    steps: []\n  b:\n    permissions: write-all\n  c:\n    permissions: { id-token: write }\n    steps: [{ run: echo }]\n",
                ),
            );
            assert.deepEqual(
                findings.map((f) => `${f.where}: ${f.problem}`),
                [
                    "workflow: no top-level permissions",
                    "jobs.a: no job permissions",
                    "jobs.b: permissions: write-all",
                    "jobs.c: id-token: write without assuming a role",
                ],
            );
        });
        it("AWS access only through OIDC: no stored keys anywhere", () => {
            assertNoFindings(workflowsAndActions().flatMap(storedCloudKeys));
            const findings = storedCloudKeys(
                bad(
                    "jobs:\n  a:\n    steps:\n      - uses: aws-actions/configure-aws-credentials@x\n        with: { aws-access-key-id: '${{ secrets.K }}' }\n",
                ),
            );
            assert.equal(findings.length, 1);
        });
    });

    describe("secrets", () => {
        it("no workflow prints a secret: secrets reach steps only through env or inputs, and no script reads or dumps them", () => {
            assertNoFindings(workflowsAndActions().flatMap(secretExposure));
            const referenced = workflows().filter((wf) => /\$\{\{\s*secrets\./.test(wf.text));
            assert.ok(referenced.length >= 3, "the deploying workflows use secrets");
        });
        it("catches a secret in a script, in job env, read by a script, and an env dump next to one", () => {
            const findings = secretExposure(
                bad(`env: { TOKEN: "\${{ secrets.T }}" }
jobs:
  a:
    env: { OTHER: "\${{ secrets.O }}" }
    steps:
      - run: echo "\${{ secrets.T }}"
      - run: 'curl -H "Authorization: $TOKEN" x'
        env: { TOKEN: "\${{ secrets.T }}" }
      - run: |
          set -x
          npm run release -- status
        env: { TOKEN: "\${{ secrets.T }}" }
`),
            );
            assert.deepEqual(
                findings.map((f) => f.where.split(" ")[0]),
                ["workflow", "jobs.a.env", "a.steps[0]", "a.steps[1]", "a.steps[2]"],
            );
        });
    });

    describe("one update per stack", () => {
        it("every job in a deployment environment is in its stack's concurrency group and never cancels a running update", () => {
            assertNoFindings(workflows().flatMap(concurrencyProblems));
            const envJobs = workflows().flatMap((wf) => Object.values<any>(wf.doc.jobs).filter((j) => j.environment));
            assert.ok(envJobs.length >= 4, `${envJobs.length} jobs in an environment`);
        });
        it("catches a missing group, another stack's group and cancel-in-progress", () => {
            const findings = concurrencyProblems(
                bad(
                    "jobs:\n  a:\n    environment: production\n  b:\n    environment: staging\n    concurrency: { group: stack-prod, cancel-in-progress: false }\n  c:\n    environment: production\n    concurrency: { group: stack-prod, cancel-in-progress: true }\n",
                ),
            );
            assert.deepEqual(
                findings.map((f) => `${f.where.split(" ")[0]}: ${f.problem}`),
                [
                    'jobs.a: concurrency group "", expected "stack-prod"',
                    "jobs.a: cancel-in-progress must be false: a running update is never cancelled",
                    'jobs.b: concurrency group "stack-prod", expected "stack-staging"',
                    "jobs.c: cancel-in-progress must be false: a running update is never cancelled",
                ],
            );
        });
    });

    describe("what the workflows run", () => {
        const stacks = fs
            .readdirSync(ROOT)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => !!s)
            .sort();

        it("the pull request's preview covers every stack, with the policy pack and the stack's policy config", () => {
            const job = byName("pull-request.yml").doc.jobs.preview;
            assert.deepEqual([...job.strategy.matrix.stack].sort(), stacks);
            const step = job.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
            assert.equal(step.with.command, "preview");
            assert.equal(step.with.policyPacks, "policies");
            assert.equal(step.with.policyPackConfigs, "policies/config/${{ matrix.stack }}.json");
            assert.equal(step.with["comment-on-pr"], true);
            for (const stack of stacks) assert.ok(fs.existsSync(path.join(ROOT, "policies", "config", `${stack}.json`)), stack);
        });
        it("the pull request's preview needs a configured role and a branch of this repository (forks get the offline plan)", () => {
            const condition = byName("pull-request.yml").doc.jobs.preview.if;
            assert.match(condition, /vars\.AWS_PREVIEW_ROLE_ARN != ''/);
            assert.match(condition, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
            const plan = byName("pull-request.yml").doc.jobs.plan;
            assert.deepEqual(plan.permissions, { contents: "read" });
            assert.doesNotMatch(JSON.stringify(plan), /secrets\.|aws-role/);
        });
        it("the comment workflow never checks out or runs the pull request's code", () => {
            const wf = byName("pull-request-comment.yml");
            assert.doesNotMatch(wf.text, /actions\/checkout|npm /);
            assert.deepEqual(wf.doc.jobs.comment.permissions, { actions: "read", "pull-requests": "write" });
        });
        it("the Pulumi CLI the workflows install is the SDK's version", () => {
            const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
            const versions = workflowsAndActions().flatMap((wf) => [...wf.text.matchAll(/pulumi-version:\s*["']?([\w.]+)/g)].map((m) => m[1]));
            assert.ok(versions.length >= 3);
            assert.deepEqual([...new Set(versions)], [sdk]);
        });
        it("staging runs pulumi up of staging with the pack on develop, daily and by hand", () => {
            const wf = byName("staging.yml");
            assert.deepEqual(wf.doc.on.push.branches, ["develop"]);
            assert.ok(wf.doc.on.schedule.length >= 1 && "workflow_dispatch" in wf.doc.on);
            const step = wf.doc.jobs.up.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
            assert.deepEqual(
                [step.with.command, step.with["stack-name"], step.with.policyPacks, step.with.policyPackConfigs],
                ["up", "staging", "policies", "policies/config/staging.json"],
            );
        });
        it("production releases through the release command: deploy, promote with the analysis, finish; a rollback with rollback_to", () => {
            const prod = byName("production.yml");
            assert.deepEqual(prod.doc.on.push.tags, ["v*"]);
            assert.deepEqual(Object.keys(prod.doc.on.workflow_dispatch.inputs).sort(), ["hotfix", "services", "step", "version"]);
            const runs = (job: string) => prod.doc.jobs[job].steps.map((s: any) => s.run ?? "").join("\n");
            assert.match(runs("release"), /release -- deploy --stack prod .*--apply/);
            assert.match(runs("release"), /release -- promote --stack prod .*--prometheus .*--apply/);
            assert.match(runs("finish"), /release -- finish --stack prod --all --apply/);
            const rollback = byName("rollback.yml");
            assert.deepEqual(Object.keys(rollback.doc.on.workflow_dispatch.inputs).sort(), ["rollback_to", "service", "stack"]);
            assert.equal(rollback.doc.on.workflow_dispatch.inputs.rollback_to.default, "previous");
            assert.match(rollback.doc.jobs.rollback.steps.map((s: any) => s.run ?? "").join("\n"), /release -- rollback --stack "\$STACK" .*--apply/);
        });
    });
});
