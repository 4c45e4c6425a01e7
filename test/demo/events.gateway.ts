import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { CurrentUser, Roles, type AuthPrincipal } from '../../src/index';

/** The demo's socket.io namespace: each message goes through the same guards as an HTTP route. */
@WebSocketGateway({ namespace: '/events' })
export class EventsGateway {
  @SubscribeMessage('whoami')
  whoami(@CurrentUser() principal: AuthPrincipal): {
    sub: string;
    username: unknown;
    roles: readonly string[];
  } {
    return { sub: principal.sub, username: principal.user?.username, roles: principal.roles };
  }

  @Roles('admin', 'super_admin')
  @SubscribeMessage('admin:ping')
  adminPing(): { ok: true } {
    return { ok: true };
  }
}
