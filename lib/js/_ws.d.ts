// Types for npm:ws (the package ships none; @types/ws is a separate download). Only what
// lib/js/ws.ts uses.
import type { EventEmitter } from "node:events";

export interface ClientOptions {
  headers?: Record<string, string>;
  handshakeTimeout?: number;
  perMessageDeflate?: boolean;
  rejectUnauthorized?: boolean;
  followRedirects?: boolean;
}

export interface IncomingMessage extends EventEmitter {
  statusCode?: number;
  headers: Record<string, string | string[] | undefined>;
}

declare class WebSocket extends EventEmitter {
  constructor(address: string, protocols?: string | string[], options?: ClientOptions);
  readonly protocol: string;
  send(data: string | Uint8Array, cb?: (err?: Error) => void): void;
  ping(data?: string | Uint8Array, mask?: boolean, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}
export default WebSocket;
