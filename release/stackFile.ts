// Edits `Pulumi.<stack>.yaml` the way a careful person would: only the values a step changes, in
// place, keeping every comment, key order, quoting and flow style. The `yaml` document API finds
// each value's exact source range; the edit replaces that range (or inserts a line after the last
// entry of a map or list) and leaves every other byte as it was. The result is parsed again and
// compared with the intended document, so an edit that would change anything else is an error.
import * as fs from "fs";
import { Document, isMap, isScalar, isSeq, Node, parse, parseDocument, Scalar } from "yaml";
import type { ConfigEdit } from "./rules";

export class StackFileError extends Error {}

export interface StackFile {
    file: string;
    text: string;
    /** The file parsed as data. */
    data: { config: Record<string, unknown> } & Record<string, unknown>;
}

export function readStackFile(file: string): StackFile {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new StackFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    const doc = parseDocument(text);
    if (doc.errors.length) throw new StackFileError(`${file} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
    const data = doc.toJS() as StackFile["data"];
    if (!data || typeof data !== "object" || !data.config || typeof data.config !== "object") throw new StackFileError(`${file} has no 'config:' map`);
    return { file, text, data };
}

interface Splice {
    at: number;
    end: number;
    text: string;
    /** Insertions at the same place keep the order the edits came in. */
    order: number;
}

/** The stack file's text with the edits applied (paths below `config:`). */
export function applyEdits(stackFile: StackFile, edits: ConfigEdit[]): string {
    const { text } = stackFile;
    const doc = parseDocument(text, { keepSourceTokens: true });
    const expected = parseDocument(text);
    const splices = edits.map((edit, order) => {
        const path = ["config", ...edit.path];
        if ("append" in edit) {
            const list = expected.getIn(path, true);
            if (isSeq(list)) list.add(expected.createNode(edit.append));
            return appendSplice(doc, text, path, edit.append, order);
        }
        expected.setIn(path, edit.value);
        return setSplice(doc, text, path, edit.value, order);
    });
    let result = text;
    for (const s of [...splices].sort((a, b) => b.at - a.at || b.order - a.order)) {
        result = result.slice(0, s.at) + s.text + result.slice(s.end);
    }
    const want = JSON.stringify(expected.toJS());
    if (JSON.stringify(parse(result)) !== want) {
        throw new StackFileError(`editing ${stackFile.file} in place would change more than the step's keys; edit it by hand`);
    }
    return result;
}

function setSplice(doc: Document, text: string, path: (string | number)[], value: unknown, order: number): Splice {
    const node = doc.getIn(path, true) as Node | undefined;
    if (isScalar(node) && node.range) {
        return { at: node.range[0], end: node.range[1], text: renderScalar(value, node), order };
    }
    if (node !== undefined) throw new StackFileError(`${path.join(".")} is not a single value; edit it by hand`);
    const parentPath = path.slice(0, -1);
    const parent = doc.getIn(parentPath, true) as Node | undefined;
    if (!isMap(parent) || parent.flow || !parent.items.length)
        throw new StackFileError(`${parentPath.join(".")} is not a block map to add ${String(path[path.length - 1])} to`);
    const first = parent.items[0].key as Node;
    const indent = columnOf(text, first.range![0]);
    const at = endOfLine(text, lastItemEnd(parent));
    return { at, end: at, text: `${" ".repeat(indent)}${String(path[path.length - 1])}: ${renderScalar(value)}\n`, order };
}

function appendSplice(doc: Document, text: string, path: (string | number)[], item: Record<string, unknown>, order: number): Splice {
    const seq = doc.getIn(path, true) as Node | undefined;
    if (isSeq(seq) && !seq.flow && seq.items.length) {
        const dash = columnOf(text, (seq.items[0] as Node).range![0]) - 2;
        const at = endOfLine(text, lastItemEnd(seq));
        return { at, end: at, text: blockItem(item, dash), order };
    }
    if (isSeq(seq) && seq.flow && !seq.items.length && seq.range) {
        // `key: []` becomes a block list under the key.
        const lineStart = text.lastIndexOf("\n", seq.range[0] - 1) + 1;
        const keyIndent = text.slice(lineStart).length - text.slice(lineStart).trimStart().length;
        return { at: seq.range[0] - 1, end: seq.range[1], text: `\n${blockItem(item, keyIndent + 2).replace(/\n$/, "")}`, order };
    }
    throw new StackFileError(`${path.join(".")} is not a list to add to; edit it by hand`);
}

function blockItem(item: Record<string, unknown>, dash: number): string {
    return Object.entries(item)
        .map(([k, v], i) => `${" ".repeat(i === 0 ? dash : dash + 2)}${i === 0 ? "- " : ""}${k}: ${renderScalar(v)}\n`)
        .join("");
}

function lastItemEnd(collection: { items: unknown[] }): number {
    const last = collection.items[collection.items.length - 1] as Node | { value?: Node; key?: Node };
    const node = (isScalar(last) || isMap(last) || isSeq(last) ? last : ((last as { value?: Node }).value ?? (last as { key?: Node }).key)) as Node;
    return node.range![1];
}

function columnOf(text: string, pos: number): number {
    return pos - (text.lastIndexOf("\n", pos - 1) + 1);
}

function endOfLine(text: string, pos: number): number {
    const newline = text.indexOf("\n", Math.max(pos - 1, 0));
    return newline < 0 ? text.length : newline + 1;
}

/** A value as YAML source, in the quoting the existing value used; plain only where every YAML reader sees the same string. */
function renderScalar(value: unknown, existing?: Scalar): string {
    if (typeof value !== "string") return JSON.stringify(value);
    if (existing?.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
    if (existing?.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
    return readsAsSameString(value) ? value : JSON.stringify(value);
}

/** YAML 1.1 readers (js-yaml, Go's yaml.v2) turn `1.10`, `yes`, `2026-01-01T…` into numbers, booleans, timestamps. */
function readsAsSameString(value: string): boolean {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/@:-]*$/.test(value) || /:\s|:$/.test(value)) return false;
    return parse(value, { version: "1.1" }) === value && parse(value) === value;
}
