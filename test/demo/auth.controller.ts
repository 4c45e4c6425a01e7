import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { IncomingMessage } from 'node:http';
import {
  AuthService,
  CookieTransport,
  type CookieSessionBody,
  CurrentUser,
  LoginEndpoint,
  RefreshEndpoint,
  NoTokenRenewal,
  Public,
  type AuthPrincipal,
  type TokenPair,
} from '../../src/index';
// The library's own bound on a token: a body field twice as long is refused before any parsing.
import { MAX_TOKEN_LENGTH } from '../../src/auth.constants';

export class LoginDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  username!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;
}

export class RefreshDto {
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TOKEN_LENGTH * 2)
  refresh_token?: string;
}

/** Responses that carry tokens must not be kept by any cache (RFC 6749 section 5.1). */
const NO_STORE = 'no-store';

@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly cookies: CookieTransport,
  ) {}

  /** In cookie mode the tokens go in HttpOnly cookies (and, unless cookie-only, in the body too). */
  @Public()
  @LoginEndpoint()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', NO_STORE)
  async login(
    @Body() body: LoginDto,
    @Req() request: IncomingMessage,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<LoginBody> {
    const pair = await this.auth.login(body.username, body.password, request);
    return this.cookies.deliver(response, pair);
  }

  /**
   * Takes the refresh token as a bearer header, as `{ refresh_token }` in the body, or from its
   * cookie (then with the CSRF token, like any cookie-authenticated POST). No body at all is
   * fine; the default keeps the DTO type, which ValidationPipe needs to check one that is sent.
   */
  @Public()
  @Post('refresh')
  @RefreshEndpoint()
  @HttpCode(200)
  @Header('Cache-Control', NO_STORE)
  refresh(
    @Req() request: IncomingMessage,
    @Res({ passthrough: true }) response: unknown,
    @Body() body: RefreshDto = new RefreshDto(),
  ): Promise<LoginBody> {
    return this.auth.refreshRequest(request, response, body.refresh_token);
  }

  @Post('logout')
  @NoTokenRenewal() // the session ends here: nothing to renew
  @HttpCode(200)
  async logout(
    @CurrentUser() principal: AuthPrincipal,
    @Req() request: IncomingMessage,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<{ message: string }> {
    await this.auth.logout(principal, request);
    this.cookies.clear(response);
    return { message: 'Logged out' };
  }

  @Post('logout-all')
  @NoTokenRenewal()
  @HttpCode(200)
  async logoutAll(
    @CurrentUser() principal: AuthPrincipal,
    @Req() request: IncomingMessage,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<{ message: string }> {
    await this.auth.logoutAll(principal, request);
    this.cookies.clear(response);
    return { message: 'Logged out of every session' };
  }

  /** The session's CSRF token, for pages that lost the readable cookie. */
  @Get('csrf-token')
  @Header('Cache-Control', NO_STORE)
  csrfToken(@CurrentUser() principal: AuthPrincipal): { csrf_token: string } {
    return { csrf_token: this.cookies.csrfToken(principal.sid) };
  }
}

type LoginBody = TokenPair | CookieSessionBody;
