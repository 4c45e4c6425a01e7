import { Clock } from '../common/clock';

/** A clock a test moves by hand (`clock: new ManualClock()`): expiry is tested without sleeping. */
export class ManualClock extends Clock {
  private current: number;

  constructor(start: number | Date = Date.now()) {
    super();
    this.current = Number(start);
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward by `seconds` (fractions allowed). */
  advance(seconds: number): void {
    this.current += Math.round(seconds * 1000);
  }

  /** Sets the time (epoch milliseconds, or a Date). */
  set(time: number | Date): void {
    this.current = Number(time);
  }
}
