import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { keysRead, PROJECT, TOP_LEVEL_KEYS } from "../config";
import { readStackConfig, ROOT } from "./harness";

const SIMPLE_TYPES = ["string", "integer", "boolean", "array"];

describe("Pulumi.yaml", () => {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as any;

    it("names the project and the nodejs runtime", () => {
        assert.equal(project.name, PROJECT);
        assert.equal(project.runtime.name, "nodejs");
        assert.ok(project.description);
    });

    it("declares every key the program reads, with a description, and nothing else", () => {
        const declared = Object.keys(project.config).map((k) => k.replace(`${PROJECT}:`, ""));
        assert.deepEqual([...declared].sort(), [...TOP_LEVEL_KEYS].sort());
        for (const [key, decl] of Object.entries<any>(project.config)) {
            assert.ok(decl.description, `${key} has no description`);
        }
    });

    it("names every nested key the program reads in its top-level key's description", () => {
        for (const stack of ["staging", "prod"]) {
            for (const path of keysRead(readStackConfig(stack).config, stack)) {
                const [top, ...rest] = path.split(".");
                const decl = project.config[`${PROJECT}:${top.replace("[]", "")}`];
                assert.ok(decl, `${path}: ${top} is not declared`);
                if (rest.length === 0) continue;
                const leaf = rest[rest.length - 1];
                assert.match(decl.description, new RegExp(`\\b${leaf}\\b`), `${PROJECT}:${top}'s description does not mention ${path}`);
            }
        }
    });

    it("gives every key a default or a value in both stack files (the CLI refuses a stack missing one)", () => {
        for (const stack of ["staging", "prod"]) {
            const source = readStackConfig(stack);
            for (const [key, decl] of Object.entries<any>(project.config)) {
                if (!("default" in decl)) assert.ok(key in source.config, `${key} has no default and is missing from ${source.file}`);
            }
        }
    });

    it("uses only the types Pulumi's project schema knows, with items for arrays", () => {
        for (const [key, decl] of Object.entries<any>(project.config)) {
            if (decl.type === undefined) continue;
            assert.ok(SIMPLE_TYPES.includes(decl.type), `${key}: type ${decl.type}`);
            if (decl.type === "array") assert.ok(decl.items?.type, `${key}: an array needs items`);
        }
    });
});
