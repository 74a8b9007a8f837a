// The policy packs' gRPC client, in a worker thread of the offline tools (offline/analyzerTransport.ts).
//
// A plan evaluates the program on the main thread, and the SDK keeps that thread's event loop
// busy for up to a second at a time (answering one registration can resolve a thousand
// resources' inputs). Requests and answers that went through the main thread waited for it, and
// the packs sat idle meanwhile. Here they are sent, paced and answered on a thread of their own:
// each pack gets at most its connection's `inFlight` requests at a time (set by
// analyzerTransport.ts), in the order they came, an AnalyzeStack goes ahead of the queue, and
// every answer goes back to the main thread as the response's bytes.
//
// The calls are gRPC's unary calls written on Node's HTTP/2 client (what @grpc/grpc-js does
// underneath, without its channel, filter and load-balancing layers, which cost about half a
// millisecond of this thread per call): a POST to the method's path with `application/grpc`, the
// request as one length-prefixed message, the response's message and its `grpc-status` and
// `grpc-message` trailers. The packs' server is @pulumi/policy's own, on @grpc/grpc-js.
"use strict";
const http2 = require("http2");
const { parentPort } = require("worker_threads");

/** gRPC's message prefix: a compressed-flag byte, then the length as a 4-byte big-endian integer. */
const PREFIX_BYTES = 5;
/** gRPC status codes used here (grpc/status.h). */
const STATUS = { OK: 0, UNKNOWN: 2, UNAVAILABLE: 14, INTERNAL: 13 };

/** connection id → { address, session, inFlight, running, queue, streams } */
const connections = new Map();

parentPort.on("message", (msg) => {
    switch (msg.type) {
        case "connect":
            connections.set(msg.connection, { address: msg.address, session: undefined, inFlight: msg.inFlight, running: 0, queue: [], streams: new Set() });
            return;
        case "call": {
            const connection = connections.get(msg.connection);
            if (!connection) return answer(msg.call, { error: { message: "the policy pack is not running" } });
            if (msg.first) connection.queue.unshift(msg);
            else connection.queue.push(msg);
            return next(connection);
        }
        case "close": {
            const connection = connections.get(msg.connection);
            connections.delete(msg.connection);
            if (!connection) return;
            for (const waiting of connection.queue) answer(waiting.call, { error: { message: "the policy pack was stopped" } });
            connection.queue.length = 0;
            for (const stream of connection.streams) stream.close(http2.constants.NGHTTP2_CANCEL);
            connection.session?.destroy();
            return;
        }
    }
});

function next(connection) {
    while (connection.running < connection.inFlight && connection.queue.length) {
        const call = connection.queue.shift();
        connection.running++;
        unaryCall(connection, call.path, call.bytes, (result) => {
            connection.running--;
            answer(call.call, result);
            next(connection);
        });
    }
}

/** The connection's HTTP/2 session, (re)opened when there is none or it has ended. */
function sessionOf(connection) {
    if (connection.session && !connection.session.closed && !connection.session.destroyed) return connection.session;
    // An AnalyzeStack request of a large stack is tens of megabytes: no cap on what the session buffers.
    const session = http2.connect(`http://${connection.address}`, { settings: { enablePush: false }, maxSessionMemory: Number.MAX_SAFE_INTEGER });
    // A failed connection fails its calls, each through its stream's own error.
    session.on("error", () => undefined);
    connection.session = session;
    return session;
}

/** One unary call: `done` gets `{ bytes }` (the response message) or `{ error: { message, details, code } }`, exactly once. */
function unaryCall(connection, path, bytes, done) {
    let settled = false;
    const settle = (result) => {
        if (settled) return;
        settled = true;
        connection.streams.delete(stream);
        done(result);
    };
    let stream;
    try {
        stream = sessionOf(connection).request({
            [http2.constants.HTTP2_HEADER_METHOD]: "POST",
            [http2.constants.HTTP2_HEADER_PATH]: path,
            [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
            [http2.constants.HTTP2_HEADER_TE]: "trailers",
        });
    } catch (e) {
        return done({ error: failure(STATUS.UNAVAILABLE, `could not reach the policy pack: ${e.message}`) });
    }
    connection.streams.add(stream);
    const chunks = [];
    let status;
    let message = "";
    const readStatus = (headers) => {
        if (headers["grpc-status"] === undefined) return;
        status = Number(headers["grpc-status"]);
        message = decodeMessage(headers["grpc-message"]);
    };
    stream.on("response", (headers) => {
        const httpStatus = headers[http2.constants.HTTP2_HEADER_STATUS];
        if (httpStatus !== 200) {
            status = STATUS.UNKNOWN;
            message = `the policy pack answered HTTP ${httpStatus}`;
        }
        readStatus(headers);
    });
    stream.on("trailers", readStatus);
    stream.on("data", (chunk) => chunks.push(chunk));
    stream.on("error", (e) => settle({ error: failure(STATUS.UNAVAILABLE, `the connection to the policy pack failed: ${e.message}`) }));
    stream.on("close", () => {
        if (status === undefined) return settle({ error: failure(STATUS.UNAVAILABLE, "the policy pack closed the call without a status") });
        if (status !== STATUS.OK) return settle({ error: failure(status, message) });
        const response = responseMessage(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        settle(typeof response === "string" ? { error: failure(STATUS.INTERNAL, response) } : { bytes: response });
    });
    const frame = Buffer.allocUnsafe(PREFIX_BYTES + bytes.byteLength);
    frame[0] = 0;
    frame.writeUInt32BE(bytes.byteLength, 1);
    frame.set(bytes, PREFIX_BYTES);
    stream.end(frame);
}

/** The one uncompressed message of a unary response, or what is wrong with the body. */
function responseMessage(body) {
    if (body.length < PREFIX_BYTES) return `the policy pack's response has ${body.length} bytes, not a message`;
    if (body[0] !== 0) return "the policy pack's response is compressed, but none was asked for";
    const length = body.readUInt32BE(1);
    if (body.length !== PREFIX_BYTES + length) return `the policy pack's response has ${body.length - PREFIX_BYTES} bytes after its prefix, not ${length}`;
    // A buffer of its own, handed over to the main thread without a copy (a view into a pooled
    // or received buffer would take that whole buffer along).
    const message = new Uint8Array(length);
    message.set(body.subarray(PREFIX_BYTES));
    return message;
}

/** `grpc-message` is percent-encoded. */
function decodeMessage(value) {
    if (!value) return "";
    try {
        return decodeURIComponent(value);
    } catch {
        return value;
    }
}

function failure(code, details) {
    return { message: `${code} ${Object.keys(STATUS).find((k) => STATUS[k] === code) ?? "status"}: ${details}`, details, code };
}

function answer(call, result) {
    parentPort.postMessage({ call, ...result }, result.bytes ? [result.bytes.buffer] : []);
}
