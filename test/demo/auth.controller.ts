import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { IncomingMessage } from 'node:http';
import {
  AuthError,
  AuthService,
  CurrentUser,
  extractBearerToken,
  MAX_TOKEN_LENGTH,
  Public,
  type AuthPrincipal,
  type TokenPair,
} from '../../src/index';

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

@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: LoginDto): Promise<TokenPair> {
    return this.auth.login(body.username, body.password);
  }

  /**
   * Takes the refresh token as a bearer header or as `{ refresh_token }` in the body. No body at
   * all is fine; the default keeps the DTO type, which ValidationPipe needs to check one that is sent.
   */
  @Public()
  @Post('refresh')
  @HttpCode(200)
  refresh(
    @Req() request: IncomingMessage,
    @Body() body: RefreshDto = new RefreshDto(),
  ): Promise<TokenPair> {
    const token = extractBearerToken(request) ?? body.refresh_token;
    if (!token) {
      throw new AuthError(
        'AUTH_TOKEN_MISSING',
        401,
        'A refresh token is required: Authorization: Bearer <token>',
      );
    }
    return this.auth.refresh(token);
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@CurrentUser() principal: AuthPrincipal): Promise<{ message: string }> {
    await this.auth.logout(principal);
    return { message: 'Logged out' };
  }

  @Post('logout-all')
  @HttpCode(200)
  async logoutAll(@CurrentUser() principal: AuthPrincipal): Promise<{ message: string }> {
    await this.auth.logoutAll(principal);
    return { message: 'Logged out of every session' };
  }
}
