/** The suites' clock is the one apps get from tokenguard/testing. */
export { ManualClock as TestClock } from '../../src/testing';
