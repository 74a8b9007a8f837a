// Config values and derived names that their target (AWS, Kubernetes, an OCI registry) would
// refuse: each class of mistake is reported naming the key, before any resource but the root stack
// is registered, and `plan` exits 2. The two values RDS accepts that the checks used to refuse plan
// cleanly.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { parseStackConfig, PROJECT, StackConfigError } from "../config";
import { execute } from "../tools/cli";
import { parsePlanArgs, plan } from "../tools/plan";
import { configValue, ProgramError, readStackConfig, runProgram, StackConfigSource, withOverrides } from "./harness";

const prod = readStackConfig("prod");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "config-validity-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform";

function withService(name: string, patch: (s: any) => void): StackConfigSource {
    const services = structuredClone(configValue(prod, "services"));
    patch(services[name]);
    return withOverrides(prod, { services });
}

function withSection(key: string, patch: Record<string, unknown>): StackConfigSource {
    return withOverrides(prod, { [key]: { ...configValue<object>(prod, key), ...patch } });
}

function withMigration(patch: Record<string, unknown>): StackConfigSource {
    return withOverrides(prod, { migrations: [{ ...configValue<object[]>(prod, "migrations")[0], ...patch }] });
}

function withoutKey(key: string): StackConfigSource {
    const config = { ...prod.config };
    delete config[key];
    return { ...prod, config };
}

/** A key set in plaintext (`pulumi config set` without `--secret`). */
function withPlaintext(key: string, value: string): StackConfigSource {
    const full = `${PROJECT}:${key}`;
    const source = withOverrides(prod, { [key]: value });
    return { ...source, secretKeys: source.secretKeys.filter((k) => k !== full), placeholders: source.placeholders.filter((k) => k !== full) };
}

/** The stack file a user would write for this config; secrets as `secure:` values (not decrypted offline). */
function stackFile(source: StackConfigSource, name: string): string {
    const value = (k: string, v: string) =>
        source.secretKeys.includes(k) ? { secure: "v1:bm90LWRlY3J5cHRlZC1vZmZsaW5l" } : /^[[{]/.test(v) ? JSON.parse(v) : v;
    const config = Object.fromEntries(Object.entries(source.config).map(([k, v]) => [k, value(k, v)]));
    const file = path.join(tmp, `Pulumi.${name}.yaml`);
    fs.writeFileSync(file, yaml.dump({ config }));
    return file;
}

interface Mistake {
    source: () => StackConfigSource;
    key: string;
    message: RegExp;
    /** A secret value the messages must not echo. */
    hidden?: string;
}

const MISTAKES: Record<string, Mistake> = {
    "a space in an image repository": {
        source: () => withService("auth-service", (s) => (s.image = `${REPO}/auth service`)),
        key: "services.auth-service.image",
        message: /not an image reference: the repository path component "auth service"/,
    },
    "uppercase letters in an image repository": {
        source: () => withService("auth-service", (s) => (s.image = `${REPO}/Auth-Service`)),
        key: "services.auth-service.image",
        message: /"Auth-Service" is not lowercase/,
    },
    "a service version digest of the wrong length": {
        source: () => withService("auth-service", (s) => (s.green.version = "sha256:abc123")),
        key: "services.auth-service.green.version",
        message: /sha256 digest must be 64 lowercase hex characters, got 6/,
    },
    "a migration image digest of the wrong length": {
        source: () => withMigration({ image: `${REPO}/migrations@sha256:${"a".repeat(63)}` }),
        key: "migrations[0].image",
        message: /got 63/,
    },
    "a maintenance image with a space": {
        source: () => withOverrides(prod, { maintenanceImage: "nginxinc/nginx unprivileged:1.27.3" }),
        key: "maintenanceImage",
        message: /not an image reference/,
    },
    "a smoke-test image with uppercase letters": {
        source: () => withOverrides(prod, { smokeTestImage: "curlimages/Curl:8.11.1" }),
        key: "smokeTestImage",
        message: /not an image reference/,
    },
    "a database identifier whose replica identifiers pass 63 characters": {
        source: () => withSection("database", { identifier: `prod-${"d".repeat(45)}` }),
        key: "database.identifier",
        message: /read replica \d identifier would be "prod-d+-restore-replica-\d" \(\d+ characters\), not a valid RDS instance identifier/,
    },
    "a migration release that makes a snapshot identifier with --": {
        source: () => withMigration({ release: "1..3" }),
        key: "migrations[0].release",
        message: /snapshot identifier would be "prod-db-snapshot-1--3"/,
    },
    "a migration release that makes a trailing hyphen": {
        source: () => withMigration({ release: "1.2.3-" }),
        key: "migrations[0].release",
        message: /snapshot identifier would be "prod-db-snapshot-1-2-3-"/,
    },
    "a migration release that makes a Job name that is not a DNS label": {
        source: () => withMigration({ release: "1.2.3-RC1" }),
        key: "migrations[0].release",
        message: /Job's name would be "migrate-1-2-3-RC1".*not a valid Kubernetes name/,
    },
    "an availability zone of another region": {
        source: () => withOverrides(prod, { availabilityZones: ["us-east-1a", "us-east-1b", "us-west-2c"] }),
        key: "availabilityZones[2]",
        message: /"us-west-2c" is not in aws:region us-east-1/,
    },
    "an ACM certificate in another region": {
        source: () => withSection("ingress", { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789" }),
        key: "ingress.certificateArn",
        message: /certificate is in eu-west-1, but the load balancer runs in aws:region us-east-1/,
    },
    "aws:region missing": { source: () => withoutKey("aws:region"), key: "aws:region", message: /is not set/ },
    "a VPC CIDR with host bits set": {
        source: () => withOverrides(prod, { vpcCidr: "10.20.5.0/16" }),
        key: "vpcCidr",
        message: /10\.20\.5\.0\/16 has host bits set; allowed: .* 10\.20\.0\.0\/16/,
    },
    "a Kubernetes minor newer than the chart table covers": {
        source: () => withSection("cluster", { kubernetesVersion: "1.36" }),
        key: "cluster.kubernetesVersion",
        message: /"1\.36" is not supported; allowed: one of "1\.32", "1\.33", "1\.34", "1\.35"/,
    },
    "a PostgreSQL version RDS does not offer": {
        source: () => withSection("database", { engineVersion: "16.99" }),
        key: "database.engineVersion",
        message: /"16\.99" is not offered by RDS; allowed: .*16 \(16\.\d+ to 16\.\d+\)/,
    },
    "a database name that is a reserved word": {
        source: () => withSection("database", { dbName: "select" }),
        key: "database.dbName",
        message: /"select" is not a valid PostgreSQL name; allowed: .*not a PostgreSQL reserved word/,
    },
    "a date that does not exist": {
        source: () => withSection("release", { scheduledAt: "2026-09-31T14:30:00-04:00" }),
        key: "release.scheduledAt",
        message: /is not a real date and time/,
    },
    "two services on one Ingress path": {
        source: () => withService("user-service", (s) => (s.path = "/v1/auth")),
        key: "services.user-service.path",
        message: /"\/v1\/auth" is already services\.auth-service\.path/,
    },
    "an unpinned release version": { source: () => withSection("release", { version: "latest" }), key: "release.version", message: /"latest" is not pinned/ },
    "prod without the chat webhook (no alert would reach anyone)": {
        source: () => withoutKey(`${PROJECT}:alertChatWebhookUrl`),
        key: "alertChatWebhookUrl",
        message: /is not set: without it no alert reaches anyone/,
    },
    "prod without the paging key (critical alerts would page nobody)": {
        source: () => withoutKey(`${PROJECT}:alertPagingRoutingKey`),
        key: "alertPagingRoutingKey",
        message: /is not set: prod pages on-call for critical alerts/,
    },
    "the chat webhook in plaintext": {
        source: () => withPlaintext("alertChatWebhookUrl", "https://hooks.slack.com/services/T000/B000/plaintext-token"),
        key: "alertChatWebhookUrl",
        message: /must be a secret: set it with `pulumi config set --secret alertChatWebhookUrl …` \(value not shown\)/,
        hidden: "plaintext-token",
    },
    "a misspelt project namespace": {
        source: () => withOverrides(prod, { "release-platfrom:maintenance": "true" }),
        key: "release-platfrom:maintenance",
        message: /did you mean 'release-platform:maintenance'/,
    },
};

describe("config values and derived names are valid where they land", function () {
    this.timeout(600_000);

    for (const [what, m] of Object.entries(MISTAKES)) {
        describe(what, () => {
            it(`is reported naming ${m.key}, before any resource but the root stack`, async () => {
                await assert.rejects(runProgram({ stack: "prod", source: m.source() }), (e: unknown) => {
                    assert.ok(e instanceof ProgramError, String(e));
                    assert.ok(e.cause instanceof StackConfigError, String(e.cause));
                    const problems = e.cause.problems.filter((p) => p.key === m.key);
                    assert.ok(
                        problems.some((p) => m.message.test(p.message)),
                        `no problem for ${m.key} matching ${m.message}: ${e.message}`,
                    );
                    assert.deepEqual(
                        e.resources.map((r) => r.type),
                        ["pulumi:pulumi:Stack"],
                    );
                    return true;
                });
            });

            it("makes plan exit 2 with the key in its message", async () => {
                const run = await execute(() => plan(parsePlanArgs(["--stack", "prod", "--config", stackFile(m.source(), "mistake")])));
                assert.equal(run.code, 2, `exit ${run.code}: ${run.error ?? run.output}`);
                assert.ok(run.error?.includes(`${m.key}: `), run.error);
                if (m.hidden) assert.ok(!`${run.error}${run.output}`.includes(m.hidden), "the secret value is echoed");
            });
        });
    }

    it("reports mistakes of several classes in one run, together", () => {
        const problems = collect(
            withService("auth-service", (s) => (s.image = `${REPO}/Auth`)),
            { vpcCidr: "10.20.5.0/16", smokeTestImage: "curlimages/Curl:1" },
        );
        assert.deepEqual(problems.sort(), ["services.auth-service.image", "smokeTestImage", "vpcCidr"]);
    });

    it("a duplicate YAML key makes plan exit 2, naming the key", async () => {
        const file = path.join(tmp, "Pulumi.duplicate.yaml");
        const text = fs.readFileSync(prod.file, "utf8").replace("    engineVersion:", "    identifier: other-db\n    engineVersion:");
        fs.writeFileSync(file, text);
        const run = await execute(() => plan(parsePlanArgs(["--stack", "prod", "--config", file])));
        assert.equal(run.code, 2, run.error ?? run.output);
        assert.match(run.error ?? "", /duplicated key release-platform:database\.identifier \(line \d+, column 5\)/);
    });

    describe("values RDS accepts plan cleanly", () => {
        it("the master user name postgres (RDS PostgreSQL's default)", async () => {
            const run = await execute(() =>
                plan(parsePlanArgs(["--stack", "prod", "--config", stackFile(withSection("database", { username: "postgres" }), "postgres-user")])),
            );
            assert.equal(run.code, 0, run.error ?? run.output);
        });

        it("restoring from an RDS automated snapshot (rds:<db>-<date>)", async () => {
            const source = withOverrides(withSection("database", { restoreFromSnapshot: "rds:prod-db-2026-11-26-03-10" }), { migrations: [] });
            const run = await execute(() => plan(parsePlanArgs(["--stack", "prod", "--config", stackFile(source, "automated-snapshot")])));
            assert.equal(run.code, 0, run.error ?? run.output);
        });
    });
});

function collect(source: StackConfigSource, overrides: Record<string, unknown>): string[] {
    const patched = withOverrides(source, overrides);
    try {
        parseStackConfig(patched.config, "prod", patched.file, patched.secretKeys);
    } catch (e) {
        assert.ok(e instanceof StackConfigError, String(e));
        return e.problems.map((p) => p.key);
    }
    return assert.fail("expected the config to be rejected");
}
