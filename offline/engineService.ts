// The Engine service a policy pack logs to: a policy's `pulumi.log` calls reach the engine as
// Engine.Log. gRPC unary calls on Node's HTTP/2 server, without @grpc/grpc-js: the pack must be
// started with this service's address, and a tool starts its pack before it loads the SDK, which
// brings grpc-js. Every answer of the Engine service a pack uses is an empty message.
import * as http2 from "http2";

export interface EngineLog {
    severity: string;
    message: string;
    urn?: string;
}

/** LogSeverity (engine.proto), in enum order. */
const LOG_SEVERITIES = ["debug", "info", "warning", "error"];
/** gRPC's message prefix: a compressed-flag byte, then the length as a 4-byte big-endian integer. */
const PREFIX_BYTES = 5;
/** An empty message (google.protobuf.Empty, GetRootResourceResponse, SetRootResourceResponse), framed. */
const EMPTY_MESSAGE = Buffer.alloc(PREFIX_BYTES);
/** gRPC status codes used here (grpc/status.h). */
const STATUS = { OK: 0, INVALID_ARGUMENT: 3, UNIMPLEMENTED: 12 };

type Handler = (message: Buffer, service: EngineService) => void;

const METHODS: Record<string, Handler> = {
    "/pulumirpc.Engine/Log": (message, service) => service.onLog(readLogRequest(message)),
    "/pulumirpc.Engine/GetRootResource": () => undefined,
    "/pulumirpc.Engine/SetRootResource": () => undefined,
};

/** The Engine service on a free loopback port. Always `close()` it. */
export class EngineService {
    private readonly sessions = new Set<http2.ServerHttp2Session>();

    private constructor(
        private readonly server: http2.Http2Server,
        readonly address: string,
        readonly onLog: (log: EngineLog) => void,
    ) {
        server.on("session", (session) => {
            this.sessions.add(session);
            session.on("close", () => this.sessions.delete(session));
            session.on("error", () => undefined);
        });
        server.on("stream", (stream, headers) => answer(stream, String(headers[http2.constants.HTTP2_HEADER_PATH]), this));
    }

    /** Listens on 127.0.0.1; `onLog` gets each Log call. */
    static listen(onLog: (log: EngineLog) => void): Promise<EngineService> {
        const server = http2.createServer();
        return new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () => {
                server.off("error", reject);
                const { port } = server.address() as { port: number };
                resolve(new EngineService(server, `127.0.0.1:${port}`, onLog));
            });
        });
    }

    /** Stops listening and ends the pack's connections. */
    close(): void {
        this.server.close();
        for (const session of this.sessions) session.destroy();
        this.sessions.clear();
    }
}

function answer(stream: http2.ServerHttp2Stream, path: string, service: EngineService): void {
    stream.on("error", () => undefined);
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
        const handler = METHODS[path];
        if (!handler) return fail(stream, STATUS.UNIMPLEMENTED, `the offline engine has no method ${path}`);
        const body = Buffer.concat(chunks);
        const length = body.length >= PREFIX_BYTES ? body.readUInt32BE(1) : -1;
        if (body[0] !== 0 || body.length !== PREFIX_BYTES + length) return fail(stream, STATUS.INVALID_ARGUMENT, "expected one uncompressed message");
        try {
            handler(body.subarray(PREFIX_BYTES), service);
        } catch (e) {
            return fail(stream, STATUS.INVALID_ARGUMENT, `could not read the request: ${(e as Error).message}`);
        }
        stream.respond(
            { [http2.constants.HTTP2_HEADER_STATUS]: 200, [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc" },
            { waitForTrailers: true },
        );
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": String(STATUS.OK) }));
        stream.end(EMPTY_MESSAGE);
    });
}

/** A trailers-only answer: the status in the response headers, as gRPC sends an error. */
function fail(stream: http2.ServerHttp2Stream, code: number, message: string): void {
    if (stream.destroyed || stream.headersSent) return;
    stream.respond(
        {
            [http2.constants.HTTP2_HEADER_STATUS]: 200,
            [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
            "grpc-status": String(code),
            "grpc-message": encodeURIComponent(message),
        },
        { endStream: true },
    );
}

function readLogRequest(message: Buffer): EngineLog {
    // Loaded on the first log: most checks log nothing.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LogRequest } = require("@pulumi/pulumi/proto/engine_pb.js");
    const req = LogRequest.deserializeBinary(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    return { severity: LOG_SEVERITIES[req.getSeverity()] ?? "info", message: req.getMessage(), urn: req.getUrn() || undefined };
}
