// Prometheus durations ("30m", "1h30m", "90s", "250ms"), as Prometheus parses them: units from
// years down to milliseconds, each at most once and in that order. Shared by the release analysis,
// its config checks and the policy pack (which bundles this file: it imports nothing).

const UNITS: [unit: string, seconds: number][] = [
    ["y", 365 * 86400],
    ["w", 7 * 86400],
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
    ["ms", 0.001],
];

const DURATION = new RegExp(`^${UNITS.map(([unit]) => `(?:(\\d+)${unit})?`).join("")}$`);

/** Seconds in a Prometheus duration; undefined if the text is not one. */
export function durationSeconds(text: string): number | undefined {
    if (text === "0") return 0;
    const m = DURATION.exec(text);
    if (!m || text === "") return undefined;
    return UNITS.reduce((sum, [, seconds], i) => sum + Number(m[i + 1] ?? 0) * seconds, 0);
}
