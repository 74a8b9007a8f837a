// The policy packs' gRPC connections, held by one worker thread per process (analyzerWorker.js),
// so that requests go out and answers come in while the main thread evaluates a program. The
// main thread sends a request's bytes and gets the response's bytes back; the worker keeps the
// process alive only while an answer is awaited.
import * as path from "path";
import { Worker } from "worker_threads";

const WORKER = path.join(__dirname, "analyzerWorker.js");

/** Calls in flight to one pack at once; the pack is single-threaded, more only hides round trips. */
export const CALLS_IN_FLIGHT_PER_PACK = 8;

export interface CallError {
    message: string;
    details?: string;
    code?: number;
}

interface Answer {
    call: number;
    bytes?: Uint8Array;
    error?: CallError;
}

export class AnalyzerTransport {
    private static shared?: AnalyzerTransport;

    private readonly worker: Worker;
    private readonly pending = new Map<number, { resolve: (bytes: Uint8Array) => void; reject: (e: CallError) => void }>();
    private calls = 0;
    private connections = 0;

    /** The process's transport, started on first use (again after its worker failed). */
    static get(): AnalyzerTransport {
        return (AnalyzerTransport.shared ??= new AnalyzerTransport());
    }

    private constructor() {
        // Without the tools' preloads: the worker runs plain JavaScript and needs none of them.
        this.worker = new Worker(WORKER, { execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4 } });
        this.worker.unref();
        this.worker.on("message", (answer: Answer) => this.settle(answer));
        this.worker.on("error", (e) => this.fail(`the policy packs' connection thread failed: ${e.message}`));
        this.worker.on("exit", (code) => this.fail(`the policy packs' connection thread exited (code ${code})`));
    }

    /** Opens a connection to a pack listening at `address`; returns its id. */
    connect(address: string): number {
        const connection = ++this.connections;
        this.worker.postMessage({ type: "connect", connection, address, inFlight: CALLS_IN_FLIGHT_PER_PACK });
        return connection;
    }

    /** One unary call; `first` puts it ahead of the connection's queued calls (AnalyzeStack). */
    call(connection: number, methodPath: string, bytes: Uint8Array, first = false): Promise<Uint8Array> {
        const call = ++this.calls;
        return new Promise((resolve, reject) => {
            this.pending.set(call, { resolve, reject });
            if (this.pending.size === 1) this.worker.ref();
            this.worker.postMessage({ type: "call", connection, call, path: methodPath, bytes, first });
        });
    }

    close(connection: number): void {
        this.worker.postMessage({ type: "close", connection });
    }

    private settle(answer: Answer): void {
        const waiting = this.pending.get(answer.call);
        if (!waiting) return;
        this.pending.delete(answer.call);
        if (!this.pending.size) this.worker.unref();
        if (answer.error) waiting.reject(answer.error);
        else waiting.resolve(answer.bytes!);
    }

    private fail(message: string): void {
        if (AnalyzerTransport.shared === this) AnalyzerTransport.shared = undefined;
        for (const waiting of this.pending.values()) waiting.reject({ message });
        this.pending.clear();
    }
}
