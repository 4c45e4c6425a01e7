import { Reflector } from '@nestjs/core';

/** Opts a route or controller out of sliding renewal. */
export const NoTokenRenewal = Reflector.createDecorator<true>({ transform: () => true });
