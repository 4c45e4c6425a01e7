import { parseDurationSeconds } from './duration';

describe('parseDurationSeconds', () => {
  it.each([
    ['900', 900],
    ['30s', 30],
    ['15m', 900],
    ['12h', 43200],
    ['7d', 604800],
    [' 5m ', 300],
    [60, 60],
  ])('reads %j as %i seconds', (input, seconds) => {
    expect(parseDurationSeconds(input)).toBe(seconds);
  });

  it.each(['', 'abc', '15 minutes', '-5', '1.5h', '5w', 1.5, -1, Number.NaN])(
    'refuses %j',
    (input) => {
      expect(parseDurationSeconds(input)).toBeUndefined();
    },
  );
});
