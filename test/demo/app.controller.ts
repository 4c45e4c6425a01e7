import { Controller, Get, Header } from '@nestjs/common';
import {
  CookieTransport,
  CurrentUser,
  NoRateLimit,
  Public,
  Roles,
  type AuthPrincipal,
} from '../../src/index';
import { DemoUsersService, type DemoUser } from './demo-users.service';
import { PAGE_CSS, PAGE_JS, pageHtml } from './page';

/** The demo page (auth service only: it signs in). */
@Controller()
export class PageController {
  constructor(private readonly cookies: CookieTransport) {}

  @Public()
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return pageHtml(this.cookies.enabled);
  }

  @Public()
  @Get('demo.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return PAGE_JS;
  }

  @Public()
  @Get('demo.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return PAGE_CSS;
  }
}

/** The API, the same on the auth service and on a resource server. */
@Controller()
export class AppController {
  constructor(private readonly users: DemoUsersService) {}

  @Public()
  @NoRateLimit()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('protected')
  protected(@CurrentUser() principal: AuthPrincipal): {
    sub: string;
    username: unknown;
    roles: readonly string[];
  } {
    // A resource server has no findUser: the name comes from the token's own claim.
    const username = principal.user?.username ?? principal.claims.username;
    return { sub: principal.sub, username, roles: principal.roles };
  }

  @Roles('admin', 'super_admin')
  @Get('admin/users')
  adminUsers(): { users: Pick<DemoUser, 'sub' | 'username' | 'roles'>[] } {
    return {
      users: this.users.list().map(({ sub, username, roles }) => ({ sub, username, roles })),
    };
  }

  @Roles('moderator', 'admin')
  @Get('moderator/posts')
  moderatorPosts(): { posts: { id: number; title: string; flagged: boolean }[] } {
    return { posts: [{ id: 1, title: 'A post someone reported', flagged: true }] };
  }
}
