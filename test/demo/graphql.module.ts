import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ConnectionAuth } from '../../src/index';

/**
 * GraphQL at /graphql, code-first: Apollo on Express, Mercurius on Fastify (the two drivers Nest
 * documents), with subscriptions over graphql-ws authenticated by TokenGuard at `connection_init`.
 */
export function demoGraphqlModule(
  adapter: 'express' | 'fastify',
  auth: DynamicModule,
): DynamicModule {
  if (adapter === 'fastify') {
    return GraphQLModule.forRootAsync<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      imports: [auth],
      inject: [ConnectionAuth],
      useFactory: (connections: ConnectionAuth) => ({
        autoSchemaFile: true,
        path: '/graphql',
        graphiql: false,
        // Mercurius would set the app-wide Fastify error handler, replacing the one that sends
        // body-parser and routing errors through Nest's filters (the demo's coded 4xx).
        errorHandler: false,
        // Queries and mutations over the socket too, as graphql-ws allows (Apollo's default).
        subscription: { ...connections.mercurius(), fullWsTransport: true },
      }),
    });
  }
  return GraphQLModule.forRootAsync<ApolloDriverConfig>({
    driver: ApolloDriver,
    imports: [auth],
    inject: [ConnectionAuth],
    useFactory: (connections: ConnectionAuth) => ({
      autoSchemaFile: true,
      path: '/graphql',
      // The landing page loads scripts from a CDN, which the demo's CSP refuses.
      playground: false,
      subscriptions: { 'graphql-ws': connections.graphqlWs() },
    }),
  });
}
