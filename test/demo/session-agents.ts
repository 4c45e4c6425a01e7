import type { AuthPrincipal, ClientRequest } from '../../src/index';

/**
 * The demo's suspicious-activity check (`inspectRequest`): a session stays with the user agent
 * that first used it; a request from another one revokes the session (a stolen token replayed
 * from another client). Per process and bounded, which suits a demo; a real app would keep this
 * beside its sessions, and compare more than a header the client chooses.
 */
export class SessionAgents {
  private readonly agents = new Map<string, string>();

  constructor(private readonly capacity = 10_000) {}

  inspect(principal: AuthPrincipal, request: ClientRequest): 'revoke' | undefined {
    const agent = String(request.headers['user-agent'] ?? '');
    const first = this.agents.get(principal.sid);
    if (first === undefined) {
      // Forget the oldest session first: a Map iterates in insertion order.
      if (this.agents.size >= this.capacity) this.agents.delete(this.agents.keys().next().value!);
      this.agents.set(principal.sid, agent);
      return undefined;
    }
    return first === agent ? undefined : 'revoke';
  }
}
