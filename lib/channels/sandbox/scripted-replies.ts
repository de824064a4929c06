import type { IncomingMessage, ServerResponse } from 'node:http';

/** A scripted answer; 'hang' reads the request and never answers, 'reset' drops the connection. */
export type ScriptedReply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang' | 'reset';

/**
 * The outage drills shared by the sandbox HTTP peers (SMS gateway, core bank): a standing reply
 * until reset, replies queued for the next requests, and requests left hanging until close.
 */
/** What a sandbox HTTP peer driven by ScriptedReplies lets a test do with it. */
export interface ScriptedPeer {
  /** Answer every request with `reply` until reset (e.g. an outage). */
  setReply(reply: ScriptedReply): void;
  /** Answer the next `count` requests with `reply`. */
  replyNext(reply: ScriptedReply, count?: number): void;
  reset(): void;
  close(): Promise<void>;
}

export class ScriptedReplies {
  private standing: ScriptedReply | undefined;
  private queued: ScriptedReply[] = [];
  private readonly hanging = new Set<ServerResponse>();

  /** Answer every request with `reply` until reset. */
  set(reply: ScriptedReply): void {
    this.standing = reply;
  }

  /** Answer the next `count` requests with `reply`. */
  queue(reply: ScriptedReply, count = 1): void {
    this.queued.push(...Array.from({ length: count }, () => reply));
  }

  reset(): void {
    this.standing = undefined;
    this.queued = [];
  }

  /** Plays the scripted reply for this request, if there is one; false leaves it to the peer. */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    const scripted = this.queued.shift() ?? this.standing;
    if (!scripted) return false;
    if (scripted === 'hang') this.hanging.add(res);
    else if (scripted === 'reset') req.socket.destroy();
    else sendJson(res, scripted.status, scripted.body, scripted.headers);
    return true;
  }

  /** Drops the requests left hanging, so the server can close. */
  dropHanging(): void {
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
