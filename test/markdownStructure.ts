// Reads GitHub-flavoured Markdown back with a real GFM parser (marked) and reports its structure
// (tables, <details> sections) and anything that would render broken on GitHub: a table row with
// more or fewer cells than its header, an unbalanced or summary-less <details>, raw HTML other
// than the collapsible sections.
import { importEsm } from "./esm";

export interface Table {
    header: string[];
    rows: string[][];
    /** The <details> summary the table sits in, if any. */
    section?: string;
}

export interface Section {
    summary: string;
    /** Plain text of everything inside. */
    text: string;
}

export interface Structure {
    headings: string[];
    tables: Table[];
    sections: Section[];
    /** Top-level paragraphs' text. */
    paragraphs: string[];
    problems: string[];
    html: string;
}

/** The tags the rendered comment may contain: Markdown's own, plus <details>/<summary>/<br>. */
const ALLOWED_TAGS = new Set(["h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "details", "summary", "br", "ul", "li", "strong", "em"]);

export async function markdownStructure(markdown: string): Promise<Structure> {
    const { marked } = await importEsm("marked");
    const tokens = marked.lexer(markdown, { gfm: true });
    const result: Structure = { headings: [], tables: [], sections: [], paragraphs: [], problems: [], html: marked.parse(markdown, { gfm: true }) };
    const open: Section[] = [];
    for (const token of tokens) {
        const current = open[open.length - 1];
        if (current && token.type !== "html") current.text += `${token.raw}\n`;
        switch (token.type) {
            case "heading":
                result.headings.push(plain(token.text));
                break;
            case "paragraph":
                if (!open.length) result.paragraphs.push(plain(token.text));
                break;
            case "table":
                result.tables.push({
                    header: token.header.map((c: any) => plain(c.text)),
                    rows: token.rows.map((r: any[]) => r.map((c) => plain(c.text))),
                    section: current?.summary,
                });
                checkTableRows(token.raw, token.header.length, result.problems);
                break;
            case "html":
                readHtmlBlock(token.raw, open, result);
                break;
        }
    }
    for (const s of open) result.problems.push(`<details> "${s.summary}" is never closed`);
    checkTags(result.html, result.problems);
    return result;
}

/** Text without code-span backticks and pipe escapes, to compare content, not formatting. */
function plain(text: string): string {
    return text.replace(/`/g, "").replace(/\\\|/g, "|");
}

/** A row's cells are split at unescaped pipes, as GFM does before any inline parsing. */
function checkTableRows(raw: string, columns: number, problems: string[]): void {
    for (const line of raw.trim().split("\n")) {
        const cells = line
            .trim()
            .replace(/^\|/, "")
            .replace(/(?<!\\)\|$/, "")
            .split(/(?<!\\)\|/);
        if (cells.length !== columns) problems.push(`table row has ${cells.length} cells, the header ${columns}: ${line}`);
    }
}

function readHtmlBlock(raw: string, open: Section[], result: Structure): void {
    const tags = raw.match(/<\/?[a-z][^>]*>/g) ?? [];
    let expectSummary = false;
    for (const tag of tags) {
        if (tag === "<details>") {
            open.push({ summary: "", text: "" });
            expectSummary = true;
        } else if (tag === "<summary>") {
            const summary = /<summary>([\s\S]*?)<\/summary>/.exec(raw)?.[1];
            if (!expectSummary || summary === undefined) result.problems.push(`misplaced <summary> in ${raw.trim()}`);
            else open[open.length - 1].summary = summary;
            expectSummary = false;
        } else if (tag === "</summary>") {
            continue;
        } else if (tag === "</details>") {
            const closed = open.pop();
            if (!closed) result.problems.push("</details> without <details>");
            else if (!closed.summary) result.problems.push("<details> without <summary>");
            else result.sections.push(closed);
        } else {
            result.problems.push(`raw HTML ${tag}`);
        }
    }
    if (expectSummary) result.problems.push("<details> not followed by <summary> in the same block");
}

function checkTags(html: string, problems: string[]): void {
    for (const m of html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)) {
        if (!ALLOWED_TAGS.has(m[1].toLowerCase())) problems.push(`unexpected <${m[1]}> in the rendered HTML`);
    }
}
