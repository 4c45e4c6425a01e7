import { Reflector } from '@nestjs/core';

/** Opens a route or controller to unauthenticated callers when the guards are global. */
export const Public = Reflector.createDecorator<true>({ transform: () => true });
