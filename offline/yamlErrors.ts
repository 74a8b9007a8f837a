// A YAML parse error as one line a user can act on. A duplicate key names the key (with the keys it
// is nested in), not only the line and column.

interface YamlMark {
    buffer: string;
    position: number;
    line: number;
    column: number;
}

/** `duplicated key release-platform:database.identifier (line 5, column 5)`, or the parser's first line. */
export function yamlErrorMessage(e: unknown): string {
    const error = e as { reason?: string; mark?: YamlMark; message?: string };
    const first = String(error.message ?? e).split("\n")[0];
    if (error.reason !== "duplicated mapping key" || !error.mark) return first;
    const { buffer, line, column } = error.mark;
    const key = keyPathAt(buffer.split("\n"), line, column);
    return key ? `duplicated key ${key} (line ${line + 1}, column ${column + 1}); each key may appear once` : first;
}

/** The key at `line`/`column` of a block-style document, prefixed with its parent keys. */
function keyPathAt(lines: string[], line: number, column: number): string | undefined {
    const keyOf = (text: string) => /^\s*(?:- )?("[^"]*"|'[^']*'|[^\s#][^\n]*?):(?:\s|$)/.exec(text)?.[1];
    const own = keyOf(lines[line]?.slice(column) ?? "");
    if (own === undefined) return undefined;
    const path = [own];
    let indent = column;
    for (let i = line - 1; i >= 0 && indent > 0; i--) {
        const text = lines[i];
        const lineIndent = text.search(/\S/);
        if (lineIndent < 0 || lineIndent >= indent || text.trimStart().startsWith("#")) continue;
        const parent = keyOf(text);
        if (parent === undefined) continue;
        indent = lineIndent;
        // The stack file's `config:` section is where every key lives; it is not part of the key.
        if (!(indent === 0 && parent === "config")) path.unshift(parent);
    }
    return path.join(".");
}
