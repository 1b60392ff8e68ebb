import { describe, expect, it } from '@jest/globals';
import { robotsAllows, userAgentToken } from '../src/robots.policy.ts';

const SITE = 'https://venue.example';

const ROBOTS = `
# our own group wins over *
User-agent: *
Disallow: /

User-agent: Googlebot
User-agent: marquee
Disallow: /private
Allow: /private/events$
Disallow: /*.pdf$
Allow: /tie
Disallow: /tie
Disallow:
`;

describe('robotsAllows', () => {
  it('takes the product token of the User-Agent', () => {
    expect(userAgentToken('Marquee/0.1 (+https://github.com/marquee-events/marquee)')).toBe(
      'marquee',
    );
  });

  it('applies the group naming our token, longest match first, Allow on a tie', () => {
    const allows = (path: string) => robotsAllows(ROBOTS, `${SITE}${path}`, 'marquee');
    expect(allows('/events')).toBe(true);
    expect(allows('/private/page')).toBe(false);
    expect(allows('/private/events')).toBe(true);
    expect(allows('/private/events?page=2')).toBe(false);
    expect(allows('/docs/a.pdf')).toBe(false);
    expect(allows('/docs/a.pdf?x=1')).toBe(true);
    expect(allows('/tie')).toBe(true);
  });

  it('falls back to *, and allows everything without a matching group', () => {
    expect(robotsAllows(ROBOTS, `${SITE}/events`, 'otherbot')).toBe(false);
    expect(robotsAllows('User-agent: otherbot\nDisallow: /', `${SITE}/events`, 'marquee')).toBe(
      true,
    );
    expect(robotsAllows('', `${SITE}/anything`, 'marquee')).toBe(true);
  });

  it('matches a group named with a version, and patterns written with non-ASCII characters', () => {
    const robots = 'User-agent: Marquee/2.0\nDisallow: /café\n';
    expect(robotsAllows(robots, `${SITE}/café/agenda`, 'marquee')).toBe(false);
    expect(robotsAllows(robots, `${SITE}/cafe/agenda`, 'marquee')).toBe(true);
  });
});
