// The change window on the real clock: the stack's policy config defines it (the pack's
// `release-change-window` policy: weekday, start, end, time zone); where that policy is mandatory,
// deploy and promote run only while it is open, unless the release is a hotfix.
import { changeWindow as changeWindowPolicy, wallClock, zonedFormat } from "../policies/release";
import { readPolicyConfigFile } from "../offline/policyConfig";

export const CHANGE_WINDOW_POLICY = changeWindowPolicy.name;

export interface ChangeWindow {
    day: string;
    start: string;
    end: string;
    timeZone: string;
    /** Mandatory in the stack's policy config: releases outside the window are blocked. */
    enforced: boolean;
}

/** The window as the stack's policy config sets it: pack defaults, then `all`, then the policy's own entry. */
export function changeWindowOf(policyConfigFile: string): ChangeWindow {
    const given = readPolicyConfigFile(policyConfigFile);
    const own = given[CHANGE_WINDOW_POLICY];
    const level = own?.enforcementLevel ?? given.all?.enforcementLevel ?? changeWindowPolicy.enforcementLevel ?? "advisory";
    const settings = { ...policyDefaults(), ...(own?.properties ?? {}) } as Record<string, string>;
    return { day: settings.day, start: settings.start, end: settings.end, timeZone: settings.timeZone, enforced: level === "mandatory" };
}

/** The policy's own defaults, from its config schema. */
function policyDefaults(): Record<string, unknown> {
    const properties = (changeWindowPolicy.configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
    return Object.fromEntries(
        Object.entries(properties)
            .filter(([, p]) => p.default !== undefined)
            .map(([k, p]) => [k, p.default]),
    );
}

export function describeWindow(w: ChangeWindow): string {
    return `${w.day} ${w.start}–${w.end} ${w.timeZone}`;
}

function minutesOf(hhmm: string): number {
    const [h, m] = hhmm.split(":").map(Number);
    return h * 60 + (m || 0);
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The opening the instant falls in, if the window is open then. */
export function openingAt(w: ChangeWindow, at: Date): { opens: Date; closes: Date } | undefined {
    const local = wallClock(at, w.timeZone);
    if (local.weekday !== w.day || local.minutes < minutesOf(w.start) || local.minutes >= minutesOf(w.end)) return undefined;
    const opens = instantAtLocalMinutes(w, at, minutesOf(w.start));
    return { opens, closes: instantAtLocalMinutes(w, at, minutesOf(w.end)) };
}

export function isOpen(w: ChangeWindow, at: Date): boolean {
    return openingAt(w, at) !== undefined;
}

/** The next time the window opens after `at` (DST-aware: the local start time, whatever the offset that day). */
export function nextOpening(w: ChangeWindow, at: Date): Date {
    for (let days = 0; days <= 7; days++) {
        const day = new Date(at.getTime() + days * DAY);
        if (wallClock(day, w.timeZone).weekday !== w.day) continue;
        const opens = instantAtLocalMinutes(w, day, minutesOf(w.start));
        if (opens.getTime() > at.getTime()) return opens;
    }
    throw new Error(`the change window ${describeWindow(w)} never opens`);
}

/** The instant on `day`'s local date in the window's time zone at the given local minutes. */
function instantAtLocalMinutes(w: ChangeWindow, day: Date, minutes: number): Date {
    let guess = new Date(day.getTime() + (minutes - wallClock(day, w.timeZone).minutes) * MINUTE);
    // Across a DST change the offset differs from `day`'s: correct by what the guess shows locally.
    for (let i = 0; i < 2; i++) {
        const off = minutes - wallClock(guess, w.timeZone).minutes;
        if (off === 0) break;
        guess = new Date(guess.getTime() + off * MINUTE);
    }
    return new Date(Math.floor(guess.getTime() / MINUTE) * MINUTE);
}

/** ISO 8601 with the time zone's offset at that instant, e.g. `2026-11-26T14:30:00-05:00`. */
export function isoInZone(at: Date, timeZone: string): string {
    const parts = zonedFormat(timeZone, ISO_FIELDS).formatToParts(at);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
    const offset = part("timeZoneName").replace(/^GMT/, "") || "+00:00";
    return `${part("year")}-${part("month")}-${part("day")}T${part("hour")}:${part("minute")}:${part("second")}${offset}`;
}

const ISO_FIELDS: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
};
