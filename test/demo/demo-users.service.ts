import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import type { AuthUser } from '../../src/index';

export interface DemoUser extends AuthUser {
  username: string;
  active: boolean;
}

/** OWASP's minimum for argon2id: keeps demo logins quick while still a real password hash. */
const HASH_OPTIONS: argon2.HashOptions = {
  type: argon2.argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

/**
 * DEMO ONLY: three users held in memory, passwords stored as argon2id hashes made at start-up.
 * A real app keeps users in its database.
 */
@Injectable()
export class DemoUsersService {
  private readonly users = new Map<string, DemoUser & { hash: string }>();
  private dummyHash = '';

  async init(passwords: Record<'alice' | 'bob' | 'carol', string>): Promise<void> {
    const roles = { alice: ['admin'], bob: ['moderator'], carol: ['user'] };
    for (const [index, username] of (['alice', 'bob', 'carol'] as const).entries()) {
      const hash = await argon2.hash(passwords[username], HASH_OPTIONS);
      this.users.set(username, {
        sub: String(index + 1),
        username,
        roles: roles[username],
        active: true,
        hash,
      });
    }
    this.dummyHash = await argon2.hash('not-a-real-password', HASH_OPTIONS);
  }

  /** Same work for unknown users (a dummy hash) as for known ones, so timing does not tell them apart. */
  async validateCredentials(username: string, password: string): Promise<DemoUser | null> {
    const user = this.users.get(username);
    const ok = await argon2.verify(user?.hash ?? this.dummyHash, password);
    return ok && user?.active ? this.public(user) : null;
  }

  findById(sub: string): DemoUser | null {
    for (const user of this.users.values())
      if (user.sub === sub && user.active) return this.public(user);
    return null;
  }

  list(): DemoUser[] {
    return [...this.users.values()].map((user) => this.public(user));
  }

  /** Disables an account or changes its roles, as an admin would (tests use it too). */
  update(username: string, change: Partial<Pick<DemoUser, 'active' | 'roles'>>): void {
    const user = this.users.get(username);
    if (user) Object.assign(user, change);
  }

  private public({ hash: _hash, ...user }: DemoUser & { hash: string }): DemoUser {
    return user;
  }
}
