import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The greeting QEMU 7.2 sends (captured from qemu-system-x86_64 7.2.22, lab-notes §3). */
export const QEMU_GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}';

export interface PeerCommand {
  readonly execute: string;
  readonly id?: string;
  readonly arguments?: unknown;
}

export interface TestPeerOptions {
  /** First bytes sent on connect; default QEMU_GREETING + CRLF (QEMU ends lines with CRLF). */
  readonly greeting?: string;
  /**
   * Answers one command with raw text (sent as is, no newline added) or undefined for no answer.
   * Default: `{"return": {}}` with the command's id.
   */
  readonly respond?: (command: PeerCommand, socket: Socket) => string | undefined;
  /** Split everything the peer writes into 1-byte writes (framing tests). */
  readonly byteAtATime?: boolean;
}

/**
 * A scripted QMP server on a real unix socket, for tests of QmpClient against replies QEMU would
 * never send. Test-only: not exported from the folder's index.
 */
export class QmpTestPeer {
  readonly path: string;
  readonly received: PeerCommand[] = [];
  readonly sockets = new Set<Socket>();
  readonly #dir: string;
  readonly #server: Server;
  readonly #options: TestPeerOptions;

  private constructor(options: TestPeerOptions) {
    this.#options = options;
    this.#dir = mkdtempSync(join(tmpdir(), 'vmsight-qmp-'));
    this.path = join(this.#dir, 'qmp.sock');
    this.#server = createServer((socket) => this.#serve(socket));
  }

  static async start(options: TestPeerOptions = {}): Promise<QmpTestPeer> {
    const peer = new QmpTestPeer(options);
    await new Promise<void>((resolve) => peer.#server.listen(peer.path, resolve));
    return peer;
  }

  /** Writes raw text to every connected client. */
  send(text: string): void {
    for (const socket of this.sockets) this.#write(socket, text);
  }

  #write(socket: Socket, text: string): void {
    if (this.#options.byteAtATime === true) {
      for (const byte of Buffer.from(text)) socket.write(Buffer.of(byte));
    } else {
      socket.write(text);
    }
  }

  #serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    this.#write(socket, this.#options.greeting ?? `${QEMU_GREETING}\r\n`);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const command = JSON.parse(buffered.slice(0, newline)) as PeerCommand;
        buffered = buffered.slice(newline + 1);
        this.received.push(command);
        const respond = this.#options.respond ?? defaultResponse;
        const answer = respond(command, socket);
        if (answer !== undefined && !socket.destroyed) this.#write(socket, answer);
      }
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export function defaultResponse(command: PeerCommand): string {
  return `${JSON.stringify({ return: {}, id: command.id })}\r\n`;
}
