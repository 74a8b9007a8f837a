// The policy packs' gRPC client, in a worker thread of the offline tools (offline/analyzerTransport.ts).
//
// A plan evaluates the program on the main thread, and the SDK keeps that thread's event loop
// busy for up to a second at a time (answering one registration can resolve a thousand
// resources' inputs). Requests and answers that went through the main thread waited for it, and
// the packs sat idle meanwhile. Here they are sent, paced and answered on a thread of their own:
// each pack gets at most its connection's `inFlight` requests at a time (set by
// analyzerTransport.ts), in the order they came, an AnalyzeStack goes ahead of the queue, and
// every answer goes back to the main thread as the response's bytes.
"use strict";
const { parentPort } = require("worker_threads");
const grpc = require("@grpc/grpc-js");

const MAX_MESSAGE = 400 * 1024 * 1024;

const identity = (bytes) => bytes;
/** connection id → { client, inFlight, running, queue } */
const connections = new Map();

parentPort.on("message", (msg) => {
    switch (msg.type) {
        case "connect":
            connections.set(msg.connection, {
                client: new grpc.Client(msg.address, grpc.credentials.createInsecure(), {
                    "grpc.max_receive_message_length": MAX_MESSAGE,
                    "grpc.max_send_message_length": MAX_MESSAGE,
                }),
                inFlight: msg.inFlight,
                running: 0,
                queue: [],
            });
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
            connection.client.close();
            for (const waiting of connection.queue) answer(waiting.call, { error: { message: "the policy pack was stopped" } });
            connection.queue.length = 0;
            return;
        }
    }
});

function next(connection) {
    while (connection.running < connection.inFlight && connection.queue.length) {
        const call = connection.queue.shift();
        connection.running++;
        connection.client.makeUnaryRequest(
            call.path,
            identity,
            identity,
            Buffer.from(call.bytes.buffer, call.bytes.byteOffset, call.bytes.byteLength),
            (err, bytes) => {
                connection.running--;
                answer(call.call, err ? { error: { message: err.message, details: err.details, code: err.code } } : { bytes });
                next(connection);
            },
        );
    }
}

function answer(call, result) {
    parentPort.postMessage({ call, ...result });
}
