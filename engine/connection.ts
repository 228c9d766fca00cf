/**
 * One keep-alive connection of a shard: its socket, its response parser, one request in flight at
 * a time. It is the parser's handler, so a response costs no allocation (unless a check needs the
 * headers and body). What the request means (counted or not, its payload) is the owner's business.
 */
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { BodyTooLargeError, SocketClosedError } from './errors.ts';
import { ResponseParser, type ResponseHandler } from './http1.ts';

/** Where every connection of a shard connects to and what it accepts; shared by them. */
export interface ConnectionEndpoint {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** TLS server name (SNI), when the host is a name rather than an address. */
  readonly servername: string | undefined;
  /** The read buffer every plain-TCP connection of the shard reads into (responses are parsed at once). */
  readonly readBuffer: Buffer;
  /** Whether the requests are HEAD (their responses have no body). */
  readonly isHead: boolean;
  /** Whether headers and body are kept for a check. */
  readonly collect: boolean;
  readonly maxBodyBytes: number;
}

/** Who hears about the end of a connection's request. */
export interface ConnectionOwner {
  /**
   * The request in flight ended: a complete response (`err` undefined; `status` holds its status),
   * or an error. The connection is free again when this is called.
   */
  requestEnded(c: Connection, err: Error | undefined): void;
}

/** Splits a flat name, value, name, value... list into a record; repeated names are joined with ", ". */
function headersToRecord(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    out[name] = name in out ? `${out[name]}, ${flat[i + 1]}` : flat[i + 1]!;
  }
  return out;
}

/**
 * A connection carrying one request at a time. A connection that failed or was closed by the
 * target opens a new socket for its next request (the set-up time is part of that request's time).
 */
export class Connection implements ResponseHandler {
  /** Level-wide number of the connection (the raw CSV `worker` column). */
  readonly id: number;
  /** The owner's mark on the request in flight: whether it is counted (requests_per_level mode). */
  counted = false;
  /** Requests this connection has been given (a payload function's `iteration`). */
  iteration = 0;
  /** Open loop: when the request in flight was due by the schedule (`performance.now()` clock). */
  due = 0;

  readonly #endpoint: ConnectionEndpoint;
  readonly #owner: ConnectionOwner;
  readonly #parser: ResponseParser;
  #socket: net.Socket | null = null;
  #connected = false;
  #inFlight = false;
  #start = 0;
  #status = 0;
  #bytes = 0;
  #chunks: Buffer[] | null = null;
  /** Bytes to write once the connection is up. */
  #pendingWrite: Buffer | string | null = null;
  /** The response asked for the connection to be closed (or bytes followed it). */
  #drop = false;

  constructor(id: number, endpoint: ConnectionEndpoint, owner: ConnectionOwner) {
    this.id = id;
    this.#endpoint = endpoint;
    this.#owner = owner;
    this.#parser = new ResponseParser(this);
    this.#parser.isHead = endpoint.isHead;
    this.#parser.collectHeaders = endpoint.collect;
  }

  /** Whether a request is in flight. */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** When the request in flight left (`performance.now()`), or when its connection started to open. */
  get start(): number {
    return this.#start;
  }

  /** Status of the last response (0 before one arrived). */
  get status(): number {
    return this.#status;
  }

  /** Headers of the last response (collected only for a check). */
  headers(): Record<string, string> {
    return headersToRecord(this.#parser.headers);
  }

  /** Body of the last response as UTF-8 (collected only for a check). */
  body(): string {
    return this.#chunks ? Buffer.concat(this.#chunks).toString('utf8') : '';
  }

  /** Sends a request; the connection is opened first when it has no socket. */
  send(data: Buffer | string): void {
    this.#inFlight = true;
    this.#status = 0;
    this.#bytes = 0;
    this.#drop = false;
    if (this.#chunks) this.#chunks.length = 0;
    const socket = this.#socket;
    if (socket !== null && this.#connected) {
      // Stamped right before the write: the request's time starts when it leaves.
      this.#start = performance.now();
      socket.write(data);
      return;
    }
    // A new connection: its set-up time is part of this request's latency.
    this.#start = performance.now();
    this.#pendingWrite = data;
    if (socket === null) this.#connect();
  }

  /** Ends the request in flight with an error; the socket is dropped (a new one serves the next request). */
  fail(err: Error): void {
    if (!this.#inFlight) return;
    this.close();
    this.#end(err);
  }

  /** Closes the socket (the request in flight, if any, is left to `fail`). */
  close(): void {
    const socket = this.#socket;
    this.#socket = null;
    this.#connected = false;
    this.#pendingWrite = null;
    this.#parser.reset();
    socket?.destroy();
  }

  #end(err: Error | undefined): void {
    this.#inFlight = false;
    this.#owner.requestEnded(this, err);
  }

  #connect(): void {
    const endpoint = this.#endpoint;
    const onRead = (nread: number, buf: Uint8Array): boolean => {
      this.#onRead(socket, buf as Buffer, nread);
      return true;
    };
    const socket: net.Socket = endpoint.tls
      ? tls.connect({ host: endpoint.host, port: endpoint.port, servername: endpoint.servername, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true, onread: { buffer: endpoint.readBuffer, callback: onRead } });
    if (endpoint.tls) {
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.#onRead(socket, chunk, chunk.length));
    }
    this.#socket = socket;
    this.#connected = false;
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
      if (this.#socket !== socket) return;
      this.#connected = true;
      const data = this.#pendingWrite;
      this.#pendingWrite = null;
      if (data !== null) socket.write(data);
    });
    socket.on('error', (err: Error) => this.#onSocketGone(socket, err));
    socket.on('close', () => this.#onSocketGone(socket, undefined));
  }

  #onRead(socket: net.Socket, buf: Buffer, nread: number): void {
    if (socket !== this.#socket) return;
    if (!this.#inFlight) {
      // Bytes nobody asked for: this connection cannot be trusted with another request.
      this.close();
      return;
    }
    let stop: number;
    try {
      stop = this.#parser.execute(buf, 0, nread);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (this.#drop || (stop < nread && !this.#inFlight)) this.close();
  }

  /** The socket failed or closed: completes a close-delimited body, or fails the request in flight. */
  #onSocketGone(socket: net.Socket, err: Error | undefined): void {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#connected = false;
    this.#pendingWrite = null;
    if (!this.#inFlight) return;
    if (err === undefined && this.#parser.readsUntilClose) {
      this.#parser.finish();
      return;
    }
    this.#parser.reset();
    this.fail(err ?? new SocketClosedError());
  }

  /** @internal The parser's callback: status line and headers complete. */
  onResponseHead(status: number): void {
    this.#status = status;
  }

  /** @internal The parser's callback: body bytes, counted against `max_body_bytes` and kept for a check. */
  onResponseBody(buf: Buffer, start: number, end: number): boolean {
    this.#bytes += end - start;
    const limit = this.#endpoint.maxBodyBytes;
    if (this.#bytes > limit) {
      this.fail(new BodyTooLargeError(limit));
      return false;
    }
    // The read buffer is reused: a check's body must be copied out.
    if (this.#endpoint.collect) (this.#chunks ??= []).push(Buffer.from(buf.subarray(start, end)));
    return true;
  }

  /** @internal The parser's callback: the response ended. */
  onResponseEnd(keepAlive: boolean): void {
    if (!keepAlive) this.#drop = true;
    if (this.#inFlight) this.#end(undefined);
  }
}
