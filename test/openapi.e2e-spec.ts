import { Controller, Get, UseGuards } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import { addAuthSchemes, AuthModule, JwtAuthGuard } from '../src/index';
import { bootApp } from './support/auth-app';
import { startDemo, type RunningDemo } from './support/demo-app';

type Operation = { security?: Record<string, string[]>[]; responses: Record<string, unknown> };
const operation = (doc: OpenAPIObject, method: string, path: string): Operation =>
  (doc.paths[path] as Record<string, Operation>)[method] as Operation;

describe('OpenAPI document of the demo (GET /openapi.json)', () => {
  let demo: RunningDemo;
  let doc: OpenAPIObject;
  beforeAll(async () => {
    demo = await startDemo();
    doc = (await demo.http.get('/openapi.json').expect(200)).body as OpenAPIObject;
  });
  afterAll(() => demo.close());

  it('declares the bearer JWT scheme', () => {
    expect(doc.components?.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
  });

  it('marks guarded routes with it and a 401, role routes with a 403, public routes with neither', () => {
    expect(operation(doc, 'get', '/protected')).toMatchObject({
      security: [{ bearer: [] }],
      responses: { 401: expect.anything() },
    });
    expect(operation(doc, 'get', '/admin/users').responses).toHaveProperty('403');
    expect(operation(doc, 'get', '/protected').responses).not.toHaveProperty('403');
    for (const [method, path] of [
      ['post', '/auth/login'],
      ['post', '/auth/refresh'],
      ['get', '/health'],
      ['get', '/.well-known/jwks.json'],
    ] as const) {
      expect(operation(doc, method, path).security).toBeUndefined();
    }
  });

  it('documents the cookie scheme under its real name when cookies are on, with either scheme accepted', async () => {
    const cookies = await startDemo({ TOKEN_LOCATION: 'headers,cookies' });
    try {
      const body = (await cookies.http.get('/openapi.json').expect(200)).body as OpenAPIObject;
      expect(body.components?.securitySchemes?.cookie).toEqual({
        type: 'apiKey',
        in: 'cookie',
        name: '__Host-tg_access',
      });
      expect(operation(body, 'get', '/protected').security).toEqual([
        { bearer: [] },
        { cookie: [] },
      ]);
    } finally {
      await cookies.close();
    }
  });
});

describe('OpenAPI without the global guards', () => {
  @Controller()
  class SomeGuarded {
    @Get('open') open() {}
    @UseGuards(JwtAuthGuard) @Get('closed') closed() {}
  }

  it('marks only the routes under JwtAuthGuard', async () => {
    const app = await bootApp(
      AuthModule.forRoot({
        secret: randomBytes(32),
        issuer: 'i',
        audience: 'a',
        globalGuards: false,
      }),
      SomeGuarded,
    );
    try {
      const doc = SwaggerModule.createDocument(
        app,
        addAuthSchemes(new DocumentBuilder(), app).build(),
      );
      expect(operation(doc, 'get', '/open').security).toBeUndefined();
      expect(operation(doc, 'get', '/closed').security).toEqual([{ bearer: [] }]);
    } finally {
      await app.close();
    }
  });
});
