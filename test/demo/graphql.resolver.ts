import { Field, Int, Mutation, ObjectType, Query, Resolver, Subscription } from '@nestjs/graphql';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AuthService,
  CurrentUser,
  OptionalAuth,
  Public,
  Roles,
  type AuthPrincipal,
} from '../../src/index';
import { DemoUsersService } from './demo-users.service';

@ObjectType()
class Me {
  @Field() sub!: string;
  @Field(() => String, { nullable: true }) username?: string;
  @Field(() => [String]) roles!: readonly string[];
}

@ObjectType()
class UserSummary {
  @Field() username!: string;
  @Field(() => [String]) roles!: readonly string[];
}

/** How often `subscription { ticks }` sends its next number. */
const TICK_MS = 500;

/** The demo's GraphQL API at /graphql: the same guards and decorators as its controllers. */
@Resolver()
export class DemoResolver {
  constructor(
    private readonly users: DemoUsersService,
    private readonly auth: AuthService,
  ) {}

  @Public()
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Query(() => Me)
  me(@CurrentUser() principal: AuthPrincipal): Me {
    const username = principal.user?.username;
    return {
      sub: principal.sub,
      username: typeof username === 'string' ? username : undefined,
      roles: principal.roles,
    };
  }

  @Roles('admin', 'super_admin')
  @Query(() => [UserSummary])
  adminUsers(): UserSummary[] {
    return this.users.list().map(({ username, roles }) => ({ username, roles }));
  }

  @OptionalAuth()
  @Query(() => String)
  greeting(@CurrentUser() principal?: AuthPrincipal): string {
    const username = principal?.user?.username;
    return `hello, ${typeof username === 'string' ? username : 'guest'}`;
  }

  /** Ends the caller's session, as POST /auth/logout does (with cookies: a mutation needs the CSRF token). */
  @Mutation(() => Boolean)
  async logout(@CurrentUser() principal: AuthPrincipal): Promise<boolean> {
    await this.auth.logout(principal);
    return true;
  }

  @Subscription(() => Int, { resolve: (tick: number) => tick })
  ticks(): AsyncGenerator<number> {
    return countEvery(TICK_MS);
  }
}

/** 1, 2, 3, ... every `ms`, until the subscriber stops listening. */
async function* countEvery(ms: number): AsyncGenerator<number> {
  for (let tick = 1; ; tick += 1) {
    await sleep(ms);
    yield tick;
  }
}
