// Checks over the GitHub workflow files: each returns findings (empty when the workflow is fine),
// so the tests can show both that the shipped workflows pass and that a bad one is caught.
// Expressions (`${{ … }}`) are evaluated with GitHub's own expression engine, once per value of
// every choice input and matrix entry, so a job whose environment depends on an input is checked
// for each value it can take.
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { importEsm } from "./esm";

export interface Workflow {
    file: string;
    text: string;
    doc: any;
}

export interface Finding {
    file: string;
    where: string;
    problem: string;
}

/** The role variable that gives access to production; a job using it can change prod. */
export const PROD_ROLE_VARIABLE = "AWS_PROD_ROLE_ARN";
export const PRODUCTION_ENVIRONMENT = "production";
/** Release commands and `pulumi` commands that change a stack. */
const PULUMI_CHANGING_COMMANDS = ["up", "destroy", "refresh", "import"];

export function readWorkflow(file: string): Workflow {
    const text = fs.readFileSync(file, "utf8");
    return { file: path.basename(file), text, doc: yaml.load(text) };
}

export function workflowFromText(file: string, text: string): Workflow {
    return { file, text, doc: yaml.load(text) };
}

// ---- Expressions --------------------------------------------------------------------------------

let expressions: any;

export async function loadExpressionEngine(): Promise<void> {
    expressions ??= await importEsm("@actions/expressions");
}

type Context = Record<string, unknown>;

const CONTEXT_NAMES = ["github", "inputs", "vars", "secrets", "env", "matrix", "needs", "steps", "runner", "job", "strategy"];

/** A string with `${{ … }}` evaluated as GitHub does (a lone expression keeps its value's string form). */
export function evaluate(template: unknown, context: Context): string {
    if (typeof template !== "string") return template === undefined || template === null ? "" : String(template);
    return template.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, source: string) => {
        const lexed = new expressions.Lexer(source.trim()).lex();
        const parsed = new expressions.Parser(lexed.tokens, CONTEXT_NAMES, []).parse();
        try {
            return new expressions.Evaluator(parsed, toData(context)).evaluate().coerceString();
        } catch {
            // A value only known at run time (needs.*, steps.*, secrets.*): it stands for itself.
            return `<${source.trim()}>`;
        }
    });
}

function toData(v: unknown): any {
    const data = expressions.data;
    if (v === null || v === undefined) return new data.Null();
    if (typeof v === "string") return new data.StringData(v);
    if (typeof v === "boolean") return new data.BooleanData(v);
    if (typeof v === "number") return new data.NumberData(v);
    if (Array.isArray(v)) {
        const list = new data.Array();
        for (const x of v) list.add(toData(x));
        return list;
    }
    const dict = new data.Dictionary();
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) dict.add(k, toData(x));
    return dict;
}

/**
 * Every combination of the workflow's choice inputs (other inputs at their defaults) and the job's
 * matrix values: the situations in which the job can run.
 */
export function scenarios(wf: Workflow, job: any): Context[] {
    const inputs = wf.doc?.on?.workflow_dispatch?.inputs ?? {};
    let combos: Record<string, unknown>[] = [{}];
    for (const [name, spec] of Object.entries<any>(inputs)) {
        const values = spec.type === "choice" ? spec.options : spec.type === "boolean" ? [true, false] : [spec.default ?? ""];
        combos = combos.flatMap((c) => values.map((v: unknown) => ({ ...c, [name]: v })));
    }
    let matrices: Record<string, unknown>[] = [{}];
    for (const [name, values] of Object.entries<any>(job?.strategy?.matrix ?? {})) {
        if (Array.isArray(values)) matrices = matrices.flatMap((m) => values.map((v: unknown) => ({ ...m, [name]: v })));
    }
    return combos.flatMap((inputValues) =>
        matrices.map((matrix) => ({
            inputs: inputValues,
            matrix,
            vars: variablesObject(wf),
            github: {
                event_name: "workflow_dispatch",
                ref: "refs/heads/main",
                ref_name: "main",
                repository: "owner/repo",
                run_id: "1",
                event: { repository: { default_branch: "main" } },
            },
        })),
    );
}

/** The repository variables a workflow mentions, each standing for itself: `vars.X` is `<vars.X>`. */
function variablesObject(wf: Workflow): Record<string, string> {
    const names = [...wf.text.matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
    return Object.fromEntries(names.map((n) => [n, `<vars.${n}>`]));
}

// ---- Walking the workflow -----------------------------------------------------------------------

export function jobs(wf: Workflow): [string, any][] {
    return Object.entries<any>(wf.doc?.jobs ?? {});
}

function steps(job: any): any[] {
    return Array.isArray(job?.steps) ? job.steps : [];
}

/** Steps of a composite action file (`runs.steps`). */
function actionSteps(wf: Workflow): any[] {
    return Array.isArray(wf.doc?.runs?.steps) ? wf.doc.runs.steps : [];
}

function allSteps(wf: Workflow): [string, any][] {
    return [
        ...jobs(wf).flatMap(([id, job]) => steps(job).map((s, i) => [`${id}.steps[${i}]`, s] as [string, any])),
        ...actionSteps(wf).map((s, i) => [`runs.steps[${i}]`, s] as [string, any]),
    ];
}

function stepName(where: string, step: any): string {
    return step?.name ? `${where} (${step.name})` : where;
}

// ---- Checks -------------------------------------------------------------------------------------

/** Every `uses:` of another repository's action pinned to a full commit SHA, its version in a comment. */
export function unpinnedActions(wf: Workflow): Finding[] {
    const findings: Finding[] = [];
    wf.text.split("\n").forEach((line, i) => {
        const m = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(?:#\s*(.*))?$/.exec(line);
        if (!m) return;
        const [, ref, comment] = m;
        const where = `line ${i + 1}`;
        if (ref.startsWith("./")) return;
        if (ref.startsWith("docker://")) {
            if (!/@sha256:[0-9a-f]{64}$/.test(ref)) findings.push({ file: wf.file, where, problem: `${ref} is not pinned to an image digest` });
            return;
        }
        if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref)) findings.push({ file: wf.file, where, problem: `${ref} is not pinned to a 40-hex commit SHA` });
        else if (!comment || !/^v?\d+(\.\d+)*/.test(comment.trim()))
            findings.push({ file: wf.file, where, problem: `${ref} has no version comment (# vX.Y.Z)` });
    });
    return findings;
}

/** `permissions` at the top and on every job, never `write-all`; `id-token: write` only where a role is assumed. */
export function permissionProblems(wf: Workflow): Finding[] {
    const findings: Finding[] = [];
    const doc = wf.doc ?? {};
    if (!("permissions" in doc)) findings.push({ file: wf.file, where: "workflow", problem: "no top-level permissions" });
    if (doc.permissions === "write-all") findings.push({ file: wf.file, where: "workflow", problem: "permissions: write-all" });
    for (const [id, job] of jobs(wf)) {
        if (!job || !("permissions" in job)) {
            findings.push({ file: wf.file, where: `jobs.${id}`, problem: "no job permissions" });
            continue;
        }
        if (typeof job.permissions === "string") findings.push({ file: wf.file, where: `jobs.${id}`, problem: `permissions: ${job.permissions}` });
        const assumesRole = steps(job).some((s) => s?.with?.["aws-role"] || s?.with?.["role-to-assume"]);
        if (job.permissions?.["id-token"] === "write" && !assumesRole)
            findings.push({ file: wf.file, where: `jobs.${id}`, problem: "id-token: write without assuming a role" });
        if (assumesRole && job.permissions?.["id-token"] !== "write")
            findings.push({ file: wf.file, where: `jobs.${id}`, problem: "assumes a role without id-token: write" });
    }
    return findings;
}

/** Never stored AWS keys: credentials only through a role assumed with OIDC. */
export function storedCloudKeys(wf: Workflow): Finding[] {
    return allSteps(wf)
        .filter(([, s]) => s?.with && ("aws-access-key-id" in s.with || "aws-secret-access-key" in s.with))
        .map(([where, s]) => ({ file: wf.file, where: stepName(where, s), problem: "stored AWS access keys instead of an OIDC role" }));
}

/** Names of the npm scripts the workflow's `run:` steps call (`npm run x`, `npm test`). */
export function npmScriptsCalled(wf: Workflow): string[] {
    const names = new Set<string>();
    for (const [, s] of allSteps(wf)) {
        const run = typeof s?.run === "string" ? s.run : "";
        for (const m of run.matchAll(/\bnpm\s+run(?:\s+--?[\w-]+)*\s+([\w:.-]+)/g)) names.add(m[1]);
        for (const m of run.matchAll(/\bnpm\s+(test|start)\b/g)) names.add(m[1]);
    }
    return [...names].sort();
}

/** A job that can change prod (prod credentials, a changing pulumi or release command on prod) runs in `production`. */
export function prodJobsOutsideProduction(wf: Workflow): Finding[] {
    const findings: Finding[] = [];
    for (const [id, job] of jobs(wf)) {
        for (const context of scenarios(wf, job)) {
            const reason = changesProd(job, context);
            if (!reason) continue;
            const environment = evaluate(typeof job.environment === "object" ? job.environment?.name : job.environment, context);
            if (environment !== PRODUCTION_ENVIRONMENT) {
                findings.push({
                    file: wf.file,
                    where: `jobs.${id} with ${JSON.stringify({ ...(context.inputs as object), ...(context.matrix as object) })}`,
                    problem: `${reason}, but runs in environment "${environment}"`,
                });
            }
        }
    }
    return findings;
}

/** Why the job can change prod in this context, or undefined. */
export function changesProd(job: any, context: Context): string | undefined {
    const jobEnv = evaluatedEnv(job?.env, context);
    for (const step of steps(job)) {
        const role = evaluate(step?.with?.["aws-role"] ?? step?.with?.["role-to-assume"], context);
        if (role.includes(`vars.${PROD_ROLE_VARIABLE}`)) return `assumes ${PROD_ROLE_VARIABLE}`;
        const command = evaluate(step?.with?.command, context);
        if (
            typeof step?.uses === "string" &&
            step.uses.startsWith("pulumi/actions@") &&
            PULUMI_CHANGING_COMMANDS.includes(command) &&
            evaluate(step.with?.["stack-name"], context) === "prod"
        ) {
            return `pulumi ${command} on prod`;
        }
        if (typeof step?.run === "string") {
            const env = { ...jobEnv, ...evaluatedEnv(step.env, context) };
            const script = substituteVariables(evaluate(step.run, context), env);
            if (
                script
                    .split("\n")
                    .some(
                        (line) =>
                            /\b(release|pulumi)\b/.test(line) &&
                            /--stack[ =]["']?prod\b/.test(line) &&
                            /--apply\b|\bpulumi\s+(up|destroy|refresh|import)\b/.test(line),
                    )
            ) {
                return "runs a changing command on prod";
            }
        }
    }
    return undefined;
}

function evaluatedEnv(env: Record<string, unknown> | undefined, context: Context): Record<string, string> {
    return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, evaluate(v, context)]));
}

function substituteVariables(script: string, env: Record<string, string>): string {
    return script.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => (name in env ? env[name] : whole));
}

/** Secrets only from `secrets.*`, only in a step's env or inputs, never touched by a script or printed. */
export function secretExposure(wf: Workflow): Finding[] {
    const findings: Finding[] = [];
    const secretRef = /\$\{\{[^}]*\bsecrets\./;
    const fromSecrets = (env: Record<string, unknown> | undefined) =>
        Object.entries(env ?? {})
            .filter(([, v]) => typeof v === "string" && secretRef.test(v))
            .map(([k]) => k);
    for (const name of fromSecrets(wf.doc?.env))
        findings.push({ file: wf.file, where: "workflow env", problem: `${name} holds a secret for every job; give it only to the step that needs it` });
    for (const [id, job] of jobs(wf)) {
        for (const name of fromSecrets(job?.env))
            findings.push({ file: wf.file, where: `jobs.${id}.env`, problem: `${name} holds a secret for every step; give it only to the step that needs it` });
    }
    for (const [where, step] of allSteps(wf)) {
        const run = typeof step?.run === "string" ? step.run : "";
        const at = stepName(where, step);
        if (secretRef.test(run)) findings.push({ file: wf.file, where: at, problem: "a secret is interpolated into a script" });
        const names = fromSecrets(step?.env);
        for (const name of names) {
            if (new RegExp(`\\$\\{?${name}\\b`).test(run))
                findings.push({ file: wf.file, where: at, problem: `the script reads the secret ${name} (the tools read it from the environment)` });
        }
        if (names.length && /(^|[\s;&|])(set\s+-[a-z]*x|printenv|env\s*($|[|>;]))/m.test(run))
            findings.push({ file: wf.file, where: at, problem: "the script may print the environment holding secrets" });
    }
    return findings;
}

/** Every job that updates a stack (one in a deployment environment) is in the stack's concurrency group, never cancelled. */
export function concurrencyProblems(wf: Workflow): Finding[] {
    const findings: Finding[] = [];
    for (const [id, job] of jobs(wf)) {
        if (!job?.environment) continue;
        for (const context of scenarios(wf, job)) {
            const environment = evaluate(typeof job.environment === "object" ? job.environment.name : job.environment, context);
            const expected = `stack-${environment === PRODUCTION_ENVIRONMENT ? "prod" : environment}`;
            const group = evaluate(typeof job.concurrency === "object" ? job.concurrency?.group : job.concurrency, context);
            const where = `jobs.${id} with ${JSON.stringify(context.inputs)}`;
            if (group !== expected) findings.push({ file: wf.file, where, problem: `concurrency group "${group}", expected "${expected}"` });
            if (typeof job.concurrency !== "object" || evaluate(job.concurrency["cancel-in-progress"], context) !== "false") {
                findings.push({ file: wf.file, where, problem: "cancel-in-progress must be false: a running update is never cancelled" });
            }
        }
    }
    return findings;
}
