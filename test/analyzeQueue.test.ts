// The Analyze calls of one check are spread over the packs that serve: each call goes to exactly
// one pack, at most HANDED_PER_PACK at a time to each, and a pack that stops serving (while it
// answers AnalyzeStack) takes its share again when it serves again.
import * as assert from "node:assert/strict";
import type { AnalyzedResource, AnalyzerClient, Diagnostic } from "../offline/analyzer";
import { RequestEncoder } from "../offline/analyzerEncoding";
import { AnalyzeQueue } from "../offline/policyCheck";

/** A pack whose answers wait until `answerAll()`; it records which resources it was handed. */
function heldPack(): { client: AnalyzerClient; handed: string[]; answerAll: () => void } {
    const handed: string[] = [];
    let held: (() => void)[] = [];
    const client = {
        analyze: (resource: AnalyzedResource) =>
            new Promise<Diagnostic[]>((resolve) => {
                handed.push(resource.urn);
                held.push(() => resolve([]));
            }),
    } as unknown as AnalyzerClient;
    return {
        client,
        handed,
        answerAll: () => {
            const now = held;
            held = [];
            now.forEach((answer) => answer());
        },
    };
}

const resource = (i: number) => ({ urn: `urn:${i}` }) as AnalyzedResource;
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Analyze calls spread over the packs", () => {
    it("counts the calls a pack still holds when it serves again", async () => {
        const queue = new AnalyzeQueue(new RequestEncoder());
        const pack = heldPack();
        queue.serveWith(pack.client);
        const answers = Array.from({ length: 200 }, (_, i) => queue.analyze(resource(i)));
        await settle();
        queue.stopServing(pack.client);
        queue.serveWith(pack.client);
        await settle();
        assert.equal(pack.handed.length, 64, "no more than 64 at once, across stopping and serving again");
        for (let i = 0; i < 4; i++) {
            pack.answerAll();
            await settle();
        }
        await Promise.all(answers);
        assert.equal(pack.handed.length, 200);
    });

    it("hands a pack that stopped serving nothing until it serves again, then its share of the calls left", async () => {
        const queue = new AnalyzeQueue(new RequestEncoder());
        const first = heldPack();
        const second = heldPack();
        queue.serveWith(first.client);
        queue.serveWith(second.client);
        queue.stopServing(second.client);
        const answers = Array.from({ length: 100 }, (_, i) => queue.analyze(resource(i)));
        await settle();
        assert.equal(first.handed.length, 64, "at most 64 handed to one pack");
        assert.equal(second.handed.length, 0, "nothing while it answers AnalyzeStack");

        queue.serveWith(second.client);
        await settle();
        assert.equal(second.handed.length, 36, "the calls left go to the pack serving again");

        for (let i = 0; i < 3; i++) {
            first.answerAll();
            second.answerAll();
            await settle();
        }
        await Promise.all(answers);
        const all = [...first.handed, ...second.handed].sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
        assert.deepEqual(
            all,
            Array.from({ length: 100 }, (_, i) => `urn:${i}`),
            "every resource analyzed exactly once",
        );
    });
});
