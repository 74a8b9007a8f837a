// Copies of upstream files the tests compare the program with, kept in the repository
// (test/fixtures/upstream/; SOURCE.txt there says where each comes from).
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

export const UPSTREAM_CHARTS_DIR = path.join(__dirname, "..", "fixtures", "upstream", "charts");

/** The path of a chart version's upstream values.yaml; fails the test when the repository has no copy of it. */
export function upstreamValuesFile(chart: string, version: string): string {
    const file = path.join(UPSTREAM_CHARTS_DIR, `${chart}-${version}.values.yaml`);
    assert.ok(fs.existsSync(file), `no upstream values.yaml of ${chart} ${version} in ${UPSTREAM_CHARTS_DIR}`);
    return file;
}
