// Protobuf varints as written: the size of one and its bytes. Shared by the pack's answer
// encoding (responseEncoding.ts) and the offline tools' request encoding (offline/analyzerEncoding.ts).

/** How many bytes the varint of `n` (a non-negative integer below 2^53) takes. */
export function varintSize(n: number): number {
    let size = 1;
    while (n >= 0x80) {
        n = Math.floor(n / 0x80);
        size++;
    }
    return size;
}

/** Writes `n` as a varint into `bytes` at `at`; returns the position after it. */
export function writeVarint(bytes: Uint8Array, at: number, n: number): number {
    while (n >= 0x80) {
        bytes[at++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
    }
    bytes[at++] = n;
    return at;
}
