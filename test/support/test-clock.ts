import { Clock } from '../../src/index';

/** A clock the test moves by hand: expiry is tested without sleeping. */
export class TestClock extends Clock {
  constructor(private current = Date.now()) {
    super();
  }

  now(): number {
    return this.current;
  }

  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}
