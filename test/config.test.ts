import * as assert from "node:assert/strict";
import { parseStackConfig, StackConfigError } from "../config";
import { parseImageReference } from "../naming";
import { configValue, readStackConfig, runProgram, ProgramError, secretPlaceholder, StackConfigSource, withOverrides, withSecrets } from "./harness";

const prod = readStackConfig("prod");
const staging = readStackConfig("staging");

/** Parses a config source and returns the problems it is rejected with (none when it parses). */
function problems(source: StackConfigSource, stack = "prod"): { key: string; message: string }[] {
    try {
        parseStackConfig(source.config, stack, source.file, source.secretKeys);
        return [];
    } catch (e) {
        assert.ok(e instanceof StackConfigError, `expected a StackConfigError, got ${e}`);
        return e.problems;
    }
}

/** Prod config with one service's settings patched. */
function withService(patch: (s: any) => void, source = prod): StackConfigSource {
    const services = structuredClone(configValue(source, "services"));
    patch(services["auth-service"]);
    return withOverrides(source, { services });
}

function expectProblem(source: StackConfigSource, key: string, message: RegExp, stack = "prod"): void {
    const found = problems(source, stack);
    const match = found.find((p) => p.key === key);
    assert.ok(match, `expected a problem for ${key}; got ${JSON.stringify(found)}`);
    assert.match(match.message, message);
}

describe("stack config", () => {
    describe("the shipped stacks", () => {
        it("staging loads: 2 zones, single-AZ database without replicas", () => {
            const c = parseStackConfig(staging.config, "staging", staging.file, staging.secretKeys);
            assert.equal(c.environment, "staging");
            assert.equal(c.availabilityZones.length, 2);
            assert.equal(c.database.multiAz, false);
            assert.equal(c.database.readReplicas, 0);
            assert.deepEqual(
                c.services.map((s) => s.name),
                ["auth-service", "user-service", "org-service"],
            );
        });

        it("prod loads: 3 zones, multi-AZ with read replicas, 5 replicas, HPA 5–50 at 70% CPU", () => {
            const c = parseStackConfig(prod.config, "prod", prod.file, prod.secretKeys);
            assert.equal(c.environment, "prod");
            assert.equal(c.availabilityZones.length, 3);
            assert.equal(c.database.multiAz, true);
            assert.ok(c.database.readReplicas >= 1);
            assert.ok(c.database.backupRetentionDays >= 7);
            for (const s of c.services) {
                assert.equal(s[s.live].replicas, 5, s.name);
                assert.deepEqual(s.autoscaling, { minReplicas: 5, maxReplicas: 50, targetCpuUtilization: 70 });
            }
            assert.equal(c.release.hotfix, false);
        });

        it("neither stack file holds a plaintext secret", () => {
            for (const source of [prod, staging]) {
                const text = JSON.stringify(source.config);
                assert.doesNotMatch(text, /password|secret_key|:\/\/[^/\s"]+:[^@\s"]+@/i, source.file);
            }
        });
    });

    describe("rejects mistakes with the key, the bad value and what is allowed", () => {
        it("a wrong type", () => {
            const cluster = { ...configValue(prod, "cluster"), nodeMinSize: "three" };
            expectProblem(withOverrides(prod, { cluster }), "cluster.nodeMinSize", /expected an integer from 1 to 100, got "three"/);
        });

        it("a value out of range", () => {
            const database = { ...configValue(prod, "database"), backupRetentionDays: 40 };
            expectProblem(withOverrides(prod, { database }), "database.backupRetentionDays", /40 is out of range; allowed: 7 to 35/);
        });

        it("prod's backup retention below 7 days", () => {
            const database = { ...configValue(prod, "database"), backupRetentionDays: 3 };
            expectProblem(withOverrides(prod, { database }), "database.backupRetentionDays", /3 is out of range; allowed: 7 to 35/);
        });

        it("a color that is not blue or green", () => {
            expectProblem(
                withService((s) => (s.live = "purple")),
                "services.auth-service.live",
                /"purple" is not allowed; allowed: blue \| green/,
            );
        });

        it("an image version tagged latest", () => {
            expectProblem(
                withService((s) => (s.green.version = "latest")),
                "services.auth-service.green.version",
                /"latest" is not a release; pin a version tag/,
            );
        });

        it("a service image that carries its own tag", () => {
            expectProblem(
                withService((s) => (s.image = `${s.image}:latest`)),
                "services.auth-service.image",
                /must be a repository without tag or digest/,
            );
        });

        it("an untagged or latest migration image", () => {
            const migrations = [{ release: "1.2.3", image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api-platform/migrations" }];
            expectProblem(withOverrides(prod, { migrations }), "migrations[0].image", /is untagged; pin a version tag/);
            const latest = [{ release: "1.2.3", image: "registry.example.com/migrations:latest" }];
            expectProblem(withOverrides(prod, { migrations: latest }), "migrations[0].image", /is tagged latest/);
        });

        it("a missing required key", () => {
            expectProblem(withOverrides(prod, { owner: undefined }), "owner", /expected a non-empty string, got nothing \(the key is missing\)/);
            expectProblem(withOverrides(prod, { services: undefined }), "services", /expected an object, got nothing/);
        });

        it("a likely typo of a known key, at the top level and nested", () => {
            const top = withOverrides(prod, { servces: { x: 1 } });
            expectProblem(top, "release-platform:servces", /unknown key; did you mean 'release-platform:services'\?/);
            const nested = withService((s) => {
                s.autoscalling = s.autoscaling;
            });
            expectProblem(nested, "services.auth-service.autoscalling", /did you mean 'services.auth-service.autoscaling'\?/);
        });

        it("too few availability zones for prod", () => {
            expectProblem(withOverrides(prod, { availabilityZones: ["us-east-1a", "us-east-1b"] }), "availabilityZones", /prod needs 3 to 6 zones, got 2/);
        });

        it("a Kubernetes version that is not pinned or too old", () => {
            const cluster = { ...configValue(prod, "cluster"), kubernetesVersion: "1.25" };
            expectProblem(
                withOverrides(prod, { cluster }),
                "cluster.kubernetesVersion",
                /"1.25" is not supported; allowed: one of "1.32", "1.33", "1.34", "1.35"/,
            );
            const unpinned = { ...configValue(prod, "cluster"), kubernetesVersion: "latest" };
            expectProblem(withOverrides(prod, { cluster: unpinned }), "cluster.kubernetesVersion", /"latest" is not valid/);
        });

        it("a prod database without read replicas", () => {
            const database = { ...configValue(prod, "database"), readReplicas: 0 };
            expectProblem(withOverrides(prod, { database }), "database.readReplicas", /prod has read replicas/);
        });

        it("routing live traffic to a color with 0 replicas", () => {
            expectProblem(
                withService((s) => {
                    s.live = "green";
                    s.green.replicas = 0;
                }),
                "services.auth-service.green.replicas",
                /the live color green has 0 replicas/,
            );
        });

        it("reports several mistakes together", () => {
            const source = withOverrides(
                withService((s) => (s.live = "purple")),
                { environment: "dev", owner: undefined },
            );
            const found = problems(source);
            assert.deepEqual(found.map((p) => p.key).sort(), ["environment", "owner", "services.auth-service.live"]);
        });
    });

    describe("a bad stack config never reaches the cloud", () => {
        const mistakes: [string, () => StackConfigSource, string][] = [
            ["a wrong type", () => withOverrides(prod, { cluster: { ...configValue<object>(prod, "cluster"), nodeMinSize: "three" } }), "cluster.nodeMinSize"],
            [
                "a value out of range",
                () => withOverrides(prod, { database: { ...configValue<object>(prod, "database"), backupRetentionDays: 40 } }),
                "database.backupRetentionDays",
            ],
            ["an unknown color", () => withService((s) => (s.live = "purple")), "services.auth-service.live"],
            ["an image tagged latest", () => withService((s) => (s.blue.version = "latest")), "services.auth-service.blue.version"],
            [
                "an untagged image",
                () => withOverrides(prod, { migrations: [{ release: "1.2.3", image: "registry.example.com/migrations" }] }),
                "migrations[0].image",
            ],
            ["a missing required key", () => withOverrides(prod, { owner: undefined }), "owner"],
            ["a likely typo", () => withOverrides(prod, { servces: {} }), "release-platform:servces"],
            ["a plaintext secret", () => withOverrides(prod, { redisUrl: "rediss://u:p@cache:6379" }), "redisUrl"],
        ];
        for (const [what, source, key] of mistakes) {
            it(`${what}: fails the program, naming ${key}, before any resource but the root stack is registered`, async () => {
                await assert.rejects(runProgram({ stack: "prod", source: source() }), (e: unknown) => {
                    assert.ok(e instanceof ProgramError);
                    assert.ok(e.cause instanceof StackConfigError, String(e.cause));
                    assert.ok(
                        e.cause.problems.some((p) => p.key === key),
                        e.message,
                    );
                    assert.deepEqual(
                        e.resources.map((r) => r.type),
                        ["pulumi:pulumi:Stack"],
                    );
                    return true;
                });
            });
        }
    });

    describe("secrets", () => {
        it("accepts a redisUrl that is a secure: value not decrypted offline", () => {
            const source = withSecrets(prod, { redisUrl: secretPlaceholder("redisUrl") });
            assert.equal(parseStackConfig(source.config, "prod", source.file, source.secretKeys).hasRedisUrl, true);
        });

        it("rejects a redisUrl kept in plaintext, without echoing it", () => {
            const source = withOverrides(prod, { redisUrl: "rediss://default:hunter2@cache:6379" });
            expectProblem(source, "redisUrl", /must be a secret: set it with `pulumi config set --secret redisUrl …`/);
            assert.doesNotMatch(JSON.stringify(problems(source)), /hunter2/);
        });

        it("redisUrl is absent or a secure: value in both stack files", () => {
            for (const source of [prod, staging]) {
                const key = "release-platform:redisUrl";
                if (key in source.config) assert.ok(source.placeholders.includes(key), `${key} in ${source.file} is not a secure: value`);
            }
        });

        it("treats Pulumi.yaml's default for redisUrl (empty) as not configured", () => {
            const source = withOverrides(prod, { redisUrl: "" });
            assert.equal(parseStackConfig(source.config, "prod", source.file, source.secretKeys).hasRedisUrl, false);
        });

        describe("alert receivers", () => {
            const CHAT = "alertChatWebhookUrl";
            const PAGING = "alertPagingRoutingKey";
            const without = (source: StackConfigSource, key: string) => withOverrides(source, { [key]: undefined });

            it("prod pages on-call; staging, without a paging key in its file, posts critical alerts to chat only", () => {
                assert.equal(parseStackConfig(prod.config, "prod", prod.file, prod.secretKeys).alerting.paging, true);
                assert.equal(parseStackConfig(staging.config, "staging", staging.file, staging.secretKeys).alerting.paging, false);
                assert.ok(!(`release-platform:${PAGING}` in staging.config));
            });

            it("holds the receivers only as secure: values in both stack files", () => {
                for (const source of [prod, staging]) {
                    for (const key of [CHAT, PAGING].map((k) => `release-platform:${k}`)) {
                        if (key in source.config) assert.ok(source.placeholders.includes(key), `${key} in ${source.file} is not a secure: value`);
                    }
                    assert.ok(source.placeholders.includes(`release-platform:${CHAT}`), `${source.file} sets no chat webhook`);
                }
            });

            it("refuses prod without either receiver, naming the key", () => {
                expectProblem(without(prod, CHAT), CHAT, /is not set: without it no alert reaches anyone/);
                expectProblem(without(prod, PAGING), PAGING, /is not set: prod pages on-call for critical alerts/);
                expectProblem(withOverrides(prod, { [PAGING]: "" }), PAGING, /is not set/);
            });

            it("refuses staging without a chat webhook, but not without a paging key", () => {
                expectProblem(without(staging, CHAT), CHAT, /is not set/, "staging");
                const withPaging = withSecrets(staging, { [PAGING]: secretPlaceholder(PAGING) });
                assert.equal(parseStackConfig(withPaging.config, "staging", withPaging.file, withPaging.secretKeys).alerting.paging, true);
            });

            it("refuses a receiver kept in plaintext, without echoing it", () => {
                const source = withOverrides(prod, { [PAGING]: "plaintextroutingkey0123456789abc" });
                const plaintext = { ...source, secretKeys: source.secretKeys.filter((k) => k !== `release-platform:${PAGING}`) };
                expectProblem(plaintext, PAGING, /must be a secret: set it with `pulumi config set --secret alertPagingRoutingKey …`/);
                assert.doesNotMatch(JSON.stringify(problems(plaintext)), /plaintextroutingkey/);
            });

            it("refuses a webhook that is not https and a routing key of the wrong shape, without echoing them", () => {
                const source = withSecrets(prod, { [CHAT]: "http://hooks.example.com/hunter2", [PAGING]: "hunter2" });
                expectProblem(source, CHAT, /not an https:\/\/ incoming-webhook URL \(value not shown\)/);
                expectProblem(source, PAGING, /not a PagerDuty Events API v2 routing key \(32 letters and digits\) \(value not shown\)/);
                assert.doesNotMatch(JSON.stringify(problems(source)), /hunter2/);
            });
        });

        it("rejects a redisUrl that is not a redis URL without echoing the secret", () => {
            const source = withSecrets(prod, { redisUrl: "http://user:hunter2@cache:6379" });
            expectProblem(source, "redisUrl", /not a redis:\/\/ or rediss:\/\/ URL \(value not shown\)/);
            assert.doesNotMatch(JSON.stringify(problems(source)), /hunter2/);
        });
    });

    describe("image references", () => {
        it("splits registry ports, tags and digests", () => {
            assert.deepEqual(parseImageReference("registry:5000/team/app:1.2.3"), {
                repository: "registry:5000/team/app",
                domain: "registry:5000",
                tag: "1.2.3",
            });
            assert.deepEqual(parseImageReference("registry:5000/team/app"), { repository: "registry:5000/team/app", domain: "registry:5000" });
            const digest = `sha256:${"ab".repeat(32)}`;
            assert.equal((parseImageReference(`app@${digest}`) as { digest: string }).digest, digest);
            assert.match(parseImageReference("app@sha256:abc") as string, /64 lowercase hex characters, got 3/);
        });
    });
});
