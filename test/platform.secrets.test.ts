// Secrets and tags,
// checked on the resources the real program registers for the shipped stacks.
import * as assert from "node:assert/strict";
import { byType, inputs, isSecretValue, plain } from "./harness";
import { fakePassword } from "../offline/fakeOutputs";
import { acceptsTags, appSecret, isSecretAt, only, STANDARD_TAG_KEYS, T, visibleText, recordedPlatform } from "./support/platform";

const runs = recordedPlatform();

describe("platform: secrets", () => {
    const password = () => fakePassword("database-master-password", 32);
    const jwt = () => fakePassword("app-jwt-secret", 64);

    it("passes the master password, connection URL, JWT secret and kubeconfig only as Pulumi secrets", () => {
        for (const run of [runs.prodLive, runs.restoring]) {
            for (const instance of byType(run, T.rds).filter((r) => r.inputs.password !== undefined)) {
                assert.ok(isSecretValue(instance.inputs.password), instance.name);
                assert.equal(plain(instance.inputs.password), password());
            }
            assert.ok(isSecretValue(only(run, T.secretVersion).inputs.secretString));
            const secret = appSecret(run);
            assert.ok(plain(secret.inputs).stringData.DATABASE_URL.includes(`:${password()}@`));
            assert.ok(isSecretAt(secret.inputs, ["stringData", "DATABASE_URL"]));
            assert.ok(isSecretAt(secret.inputs, ["stringData", "JWT_SECRET"]));
            assert.equal(plain(secret.inputs).stringData.JWT_SECRET, jwt());
            assert.ok(isSecretValue(run.outputs.kubeconfig));
            assert.ok(isSecretValue(only(run, T.k8sProvider).inputs.kubeconfig));
        }
    });

    it("never shows the password or the JWT secret in plaintext in any input or output", () => {
        for (const run of [runs.prodLive, runs.restoring]) {
            const everything = JSON.stringify({ inputs: run.resources.map((r) => r.inputs), outputs: run.outputs });
            assert.ok(everything.includes(password()), "the search must be able to find the password");
            const visible = visibleText(run);
            assert.ok(!visible.includes(password()), "the master password leaks in plaintext");
            assert.ok(!visible.includes(jwt()), "the JWT secret leaks in plaintext");
            assert.ok(!visible.includes("redis-pass-123"), "the Redis password leaks in plaintext");
        }
    });
});

describe("platform: tags", () => {
    it("knows from the SDK typings which resources take tags", () => {
        assert.equal(acceptsTags(T.vpc), true);
        assert.equal(acceptsTags(T.rds), true);
        assert.equal(acceptsTags(T.snapshot), true);
        assert.equal(acceptsTags("aws:ec2/routeTableAssociation:RouteTableAssociation"), false);
        assert.equal(acceptsTags(T.secretVersion), false);
    });

    it("tags every taggable AWS resource with the standard tags and a Name", () => {
        for (const { name, run } of runs.stacks) {
            const taggable = run.resources.filter((r) => r.custom && r.type.startsWith("aws:") && acceptsTags(r.type));
            assert.ok(taggable.length >= 40, `only ${taggable.length} taggable resources`);
            for (const r of taggable) {
                const tags = inputs(r).tags ?? {};
                const missing = STANDARD_TAG_KEYS.filter((k) => tags[k] === undefined);
                assert.deepEqual(missing, [], `${r.type} ${r.name} lacks ${missing.join(", ")}`);
                assert.equal(tags.environment, name, `${r.type} ${r.name}`);
                assert.equal(tags.project, "release-platform");
                assert.equal(tags.owner, "platform-team");
                assert.equal(tags["managed-by"], "pulumi");
                assert.ok(tags.Name, `${r.type} ${r.name} has no Name`);
            }
        }
    });
});
